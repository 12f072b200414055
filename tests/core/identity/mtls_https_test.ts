import assert from "node:assert/strict";
import https from "node:https";
import { Hono } from "hono";
import { mtlsFetch, type MtlsPeerInfo, serveMtlsHttps } from "../../../core/identity/mtls_https.ts";
import { authorizeId, authorizeMemberOf } from "../../../core/identity/authorize.ts";
import { staticSvidSource } from "../../../core/identity/rotation.ts";
import type { AuthError } from "../../../core/errors.ts";
import { fixedBundles, testDomain } from "./fixtures.ts";

Deno.test("agent-to-agent HTTPS over mTLS: SPIFFE-authorized both ways", async (t) => {
  const mesh = await testDomain("mesh.test");
  const other = await testDomain("other.test");
  const bundles = fixedBundles(mesh.bundle, other.bundle);
  const app = new Hono<{ Bindings: MtlsPeerInfo }>();
  app.post("/echo", async (c) => c.json({ peer: c.env.peerId.uri, body: await c.req.text() }));
  const server = await serveMtlsHttps({
    host: "127.0.0.1",
    port: 0,
    svidSource: await staticSvidSource(await mesh.svid("node/server")),
    bundleSource: bundles,
    authorize: authorizeMemberOf("mesh.test"),
    handler: (req, info) => app.fetch(req, info),
  });
  const url = `https://127.0.0.1:${server.port}/echo`;
  const as = async (
    svidPath: string,
    domain = mesh,
    authorize = authorizeId("spiffe://mesh.test/node/server"),
  ) => ({
    svidSource: await staticSvidSource(await domain.svid(svidPath)),
    bundleSource: bundles,
    authorize,
  });
  try {
    await t.step("an authorized member gets the handler, which sees its SPIFFE ID", async () => {
      const res = await mtlsFetch(url, { method: "POST", body: "hi" }, await as("node/a"));
      assert.equal(res.status, 200);
      assert.equal(res.peerId.uri, "spiffe://mesh.test/node/server");
      assert.deepEqual(await res.json(), { peer: "spiffe://mesh.test/node/a", body: "hi" });
    });
    await t.step("a member of another (trusted) domain is forbidden", async () => {
      const res = await mtlsFetch(url, { method: "POST", body: "x" }, await as("node/b", other));
      assert.equal(res.status, 403);
      await res.body?.cancel();
    });
    await t.step("a client without a certificate is unauthenticated", async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = https.request(
          url,
          { method: "POST", rejectUnauthorized: false, agent: false },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end("x");
      });
      assert.equal(status, 401);
    });
    await t.step("the client refuses a server that is not the expected ID", async () => {
      await assert.rejects(
        mtlsFetch(
          url,
          { method: "POST", body: "x" },
          await as("node/a", mesh, authorizeId("spiffe://mesh.test/node/other")),
        ),
        (e: AuthError) => e.details?.reason === "unauthorized",
      );
    });
  } finally {
    await server.close();
  }
});
