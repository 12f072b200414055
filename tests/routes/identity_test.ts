import assert from "node:assert/strict";
import { Hono } from "hono";
import { OpenAPIHono } from "@hono/zod-openapi";
import { identityAuth, identityRoutes, requireScope } from "../../routes/identity.ts";
import { onError } from "../../routes/errors.ts";
import { createCa } from "../../core/identity/ca.ts";
import { generateKeyPair } from "../../core/identity/keys.ts";
import { createTokenVerifier, jwtSigningKey, mintJwtSvid } from "../../core/identity/jwt.ts";
import { createBuiltinIssuer } from "../../core/identity/issuer.ts";
import { bundleSetOf, parseJwksBundle } from "../../core/identity/bundle.ts";
import { listJoinTokens } from "../../core/identity/join_tokens.ts";

const AUD = "x0tta6bl4-api";

async function setup() {
  const kv = await Deno.openKv(":memory:");
  const issuer = createBuiltinIssuer({
    ca: await createCa("mesh.test"),
    jwtKey: await jwtSigningKey(await generateKeyPair()),
    kv,
  });
  const verifier = createTokenVerifier(() => bundleSetOf(issuer.bundle()), {
    audience: AUD,
    trustDomain: "mesh.test",
  });
  const app = new OpenAPIHono();
  app.route("/", identityRoutes({ bundle: issuer.bundle, issuer, verifier }));
  app.onError(onError);
  const token = (scope: "read" | "operate" | "admin", aud = AUD) =>
    issuer.mintToken({ sub: "spiffe://mesh.test/operator/test", aud, scopes: [scope] });
  return { kv, issuer, app, verifier, token };
}

const json = (body: unknown, bearer?: string): RequestInit => ({
  method: "POST",
  headers: {
    "content-type": "application/json",
    ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
  },
  body: JSON.stringify(body),
});

Deno.test("identity routes: bundle and admin-only join tokens; no plain-HTTP attestation", async (t) => {
  const { kv, issuer, app, token } = await setup();
  try {
    await t.step("GET /identity/bundle serves the SPIFFE bundle and PEM", async () => {
      const res = await app.request("/identity/bundle");
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.spiffe_sequence, 1);
      const b = parseJwksBundle("mesh.test", body);
      assert.equal(b.x509Authorities.length, 1);
      assert.equal(b.jwtAuthorities[0].kid, issuer.jwtKey.kid);
      const pem = await app.request("/identity/bundle?format=pem");
      assert.match(await pem.text(), /BEGIN CERTIFICATE/);
      assert.equal((await app.request("/identity/bundle?format=xml")).status, 400);
    });

    await t.step("POST /identity/join-tokens needs an admin token", async () => {
      const noAuth = await app.request("/identity/join-tokens", json({ node: "r1" }));
      assert.equal(noAuth.status, 401);
      assert.match(noAuth.headers.get("www-authenticate") ?? "", /Bearer/);
      assert.equal(
        (await app.request("/identity/join-tokens", json({ node: "r1" }, await token("operate"))))
          .status,
        403,
      );
      assert.equal(
        (await app.request(
          "/identity/join-tokens",
          json({ node: "r1" }, await token("admin", "other")),
        )).status,
        401,
      );
      assert.equal(
        (await app.request("/identity/join-tokens", json({ node: "r1" }, "abc.def.ghi"))).status,
        401,
      );
      assert.equal((await listJoinTokens(kv)).length, 0, "refused requests created nothing");
    });

    await t.step("bad join-token input → 400, nothing created", async () => {
      const admin = await token("admin");
      for (const body of [{ node: "a/b" }, { node: ".." }, { node: "r1", ttl_s: 0 }, {}]) {
        const res = await app.request("/identity/join-tokens", json(body, admin));
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal((await res.json()).error.code, "invalid_input");
      }
      assert.equal((await listJoinTokens(kv)).length, 0);
    });

    await t.step(
      "attest and renew are not served over plain HTTP (only the issuer's TLS endpoint)",
      async () => {
        for (const path of ["/identity/attest", "/identity/renew"]) {
          const res = await app.request(path, json({ token: "t", csr: "c" }));
          assert.equal(res.status, 404, path);
          await res.body?.cancel();
        }
      },
    );
  } finally {
    kv.close();
  }
});

Deno.test("requireScope() guards any route: 401 without/invalid token, 403 below scope, app-wide verifier", async () => {
  const { kv, verifier, token, issuer } = await setup();
  try {
    const app = new Hono();
    app.use("*", identityAuth(verifier));
    app.post(
      "/routes/recompute",
      requireScope("operate"),
      (c) => c.json({ by: c.get("principal" as never) }),
    );
    app.get("/open", (c) => c.text("ok"));
    app.onError(onError);
    const post = (bearer?: string) =>
      app.request("/routes/recompute", {
        method: "POST",
        headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
      });
    assert.equal((await app.request("/open")).status, 200);
    assert.equal((await post()).status, 401);
    assert.equal((await post(await token("read"))).status, 403);
    assert.equal((await post(await token("operate"))).status, 200);
    assert.equal((await post(await token("admin"))).status, 200);
    const stranger = await jwtSigningKey(await generateKeyPair());
    const forged = await mintJwtSvid({ ...stranger, kid: issuer.jwtKey.kid }, {
      sub: "spiffe://mesh.test/x",
      aud: AUD,
      scopes: ["admin"],
    });
    assert.equal((await post(forged)).status, 401);

    const bare = new Hono();
    bare.get("/x", requireScope("read"), (c) => c.text("never"));
    bare.onError(onError);
    assert.equal((await bare.request("/x")).status, 503, "no verifier configured → fail closed");
  } finally {
    kv.close();
  }
});
