import assert from "node:assert/strict";
import { createBuiltinIssuer } from "../../../core/identity/issuer.ts";
import { createCa } from "../../../core/identity/ca.ts";
import { generateKeyPair } from "../../../core/identity/keys.ts";
import { jwtSigningKey } from "../../../core/identity/jwt.ts";
import { createCsr } from "../../../core/identity/svid.ts";
import { listJoinTokens } from "../../../core/identity/join_tokens.ts";
import { AuthError, ValidationError } from "../../../core/errors.ts";

async function issuerWith(kv: Deno.Kv, svidTtlMs?: number) {
  return createBuiltinIssuer({
    ca: await createCa("mesh.test"),
    jwtKey: await jwtSigningKey(await generateKeyPair()),
    kv,
    svidTtlMs,
  });
}

Deno.test("built-in issuer: attestation, renewal of a valid SVID under the same ID, and refusals that change nothing", async (t) => {
  const kv = await Deno.openKv(":memory:");
  try {
    const issuer = await issuerWith(kv);
    await t.step("join token names the node; attest certifies the CSR key", async () => {
      const { token, spiffeId } = await issuer.createJoinToken({ nodeName: "r1" });
      assert.equal(spiffeId, "spiffe://mesh.test/node/r1");
      const keys = await generateKeyPair();
      const got = await issuer.attest(token, await createCsr(keys));
      assert.equal(got.spiffeId, spiffeId);
      assert.equal(got.bundle.x509Authorities.length, 1);
      await assert.rejects(issuer.attest(token, await createCsr(keys)), AuthError);
    });
    await t.step("invalid node names are refused before anything is stored", async () => {
      for (const n of ["", "a/b", "..", "a b"]) {
        await assert.rejects(issuer.createJoinToken({ nodeName: n }), ValidationError, n);
      }
      assert.equal((await listJoinTokens(kv)).length, 0);
    });
    await t.step("a bad CSR does not spend the token", async () => {
      const { token } = await issuer.createJoinToken({ nodeName: "r2" });
      await assert.rejects(issuer.attest(token, "junk"), ValidationError);
      const ok = await issuer.attest(token, await createCsr(await generateKeyPair()));
      assert.equal(ok.spiffeId, "spiffe://mesh.test/node/r2");
    });
    await t.step("renew re-certifies a valid SVID of our domain under the same ID", async () => {
      const keys = await generateKeyPair();
      const cert = await issuer.issue("spiffe://mesh.test/node/r3", keys.publicKey);
      const next = await generateKeyPair();
      const ok = await issuer.renew([new Uint8Array(cert.rawData)], await createCsr(next));
      assert.equal(ok.spiffeId, "spiffe://mesh.test/node/r3");
      const got = await crypto.subtle.exportKey("jwk", await ok.cert.publicKey.export());
      const want = await crypto.subtle.exportKey("jwk", next.publicKey);
      assert.equal(got.x, want.x, "the new SVID certifies the CSR's key");
      const foreign = await createBuiltinIssuer({
        ca: await createCa("other.test"),
        jwtKey: await jwtSigningKey(await generateKeyPair()),
        kv,
      }).issue("spiffe://other.test/node/r3", keys.publicKey);
      await assert.rejects(
        issuer.renew([new Uint8Array(foreign.rawData)], await createCsr(next)),
        AuthError,
        "an SVID of another trust domain is not renewed",
      );
    });
    await t.step("an expired SVID cannot be renewed (re-attest with a new token)", async () => {
      const shortLived = await issuerWith(kv, 1);
      const keys = await generateKeyPair();
      const cert = await shortLived.issue("spiffe://mesh.test/node/r4", keys.publicKey);
      await new Promise((r) => setTimeout(r, 1100));
      const csr = await createCsr(await generateKeyPair());
      await assert.rejects(
        shortLived.renew([new Uint8Array(cert.rawData)], csr),
        (e: AuthError) => e.details?.reason === "expired",
      );
    });
  } finally {
    kv.close();
  }
});
