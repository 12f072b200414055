import assert from "node:assert/strict";
import {
  authorizeAll,
  authorizeAny,
  authorizeId,
  authorizeMemberOf,
  authorizeOneOf,
  authorizePathPrefix,
  authorizeSome,
} from "../../../core/identity/authorize.ts";
import { parseSpiffeId } from "../../../core/identity/spiffe_id.ts";

const id = (s: string) => parseSpiffeId(s);

Deno.test("authorizers match go-spiffe semantics", () => {
  assert.ok(authorizeAny()(id("spiffe://x.test/a")));
  assert.ok(authorizeId("spiffe://mesh.test/node/a")(id("spiffe://mesh.test/node/a")));
  assert.ok(!authorizeId("spiffe://mesh.test/node/a")(id("spiffe://mesh.test/node/ab")));
  const one = authorizeOneOf("spiffe://mesh.test/a", "spiffe://mesh.test/b");
  assert.ok(one(id("spiffe://mesh.test/b")) && !one(id("spiffe://mesh.test/c")));
  assert.ok(authorizeMemberOf("mesh.test")(id("spiffe://mesh.test/any/thing")));
  assert.ok(!authorizeMemberOf("mesh.test")(id("spiffe://mesh.test.evil/a")));
  const pre = authorizePathPrefix("mesh.test", "/node");
  assert.ok(pre(id("spiffe://mesh.test/node")));
  assert.ok(pre(id("spiffe://mesh.test/node/a")));
  assert.ok(!pre(id("spiffe://mesh.test/nodes/a")), "prefix is segment-wise");
  assert.ok(!pre(id("spiffe://other.test/node/a")));
  assert.ok(authorizeAll(authorizeMemberOf("mesh.test"), pre)(id("spiffe://mesh.test/node/x")));
  assert.ok(authorizeSome(authorizeId("spiffe://a.test/x"), pre)(id("spiffe://mesh.test/node/x")));
  assert.throws(() => authorizeId("spiffe://bad/"), /trailing slash/);
  assert.throws(() => authorizePathPrefix("mesh.test", "node"), /start with/);
});
