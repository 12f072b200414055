/**
 * The issuer endpoint keeps its SVID between starts (identity_store's issuer_endpoint.pem): a
 * restart serves the stored one while it is current, so an issuer does not mint a key pair and
 * sign at every start; anything not current for this issuer and node is replaced.
 */
import assert from "node:assert/strict";
import { createCa, type TrustDomainCa } from "../../../core/identity/ca.ts";
import { createBuiltinIssuer } from "../../../core/identity/issuer.ts";
import { REUSE_MIN_LEFT_MS, serveIssuerEndpoint } from "../../../core/identity/issuer_endpoint.ts";
import {
  identityFile,
  loadEndpointSvid,
  saveEndpointSvid,
} from "../../../core/identity/identity_store.ts";
import { generateKeyPair, privateKeyToPem } from "../../../core/identity/keys.ts";
import { jwtSigningKey } from "../../../core/identity/jwt.ts";
import { issueX509Svid, type X509Svid } from "../../../core/identity/svid.ts";
import { parseSpiffeId } from "../../../core/identity/spiffe_id.ts";

const ID = "spiffe://mesh.test/issuer/r1";
const der = (s: X509Svid) => new Uint8Array(s.chain[0].rawData).join(",");

Deno.test("issuer endpoint SVID store: reused while current, replaced otherwise", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0-iep-" });
  await Deno.mkdir(`${dir}/identity`);
  const kv = await Deno.openKv(":memory:");
  const store = {
    load: () => loadEndpointSvid(dir),
    save: (s: X509Svid) => saveEndpointSvid(dir, s),
  };
  const issuerOf = async (ca: TrustDomainCa) =>
    createBuiltinIssuer({ ca, jwtKey: await jwtSigningKey(await generateKeyPair()), kv });
  /** Starts the endpoint once, returns the SVID it served, and stops it. */
  const serve = async (ca: TrustDomainCa, nodeName = "r1") => {
    const ep = await serveIssuerEndpoint({
      host: "127.0.0.1",
      port: 0,
      issuer: await issuerOf(ca),
      nodeName,
      store,
    });
    const svid = ep.svidSource.current();
    await ep.close();
    return svid;
  };
  const ca = await createCa("mesh.test");
  try {
    let first: X509Svid;
    await t.step("the first start mints one and stores it, key and chain, mode 0600", async () => {
      first = await serve(ca);
      assert.equal(first.id.uri, ID);
      const stat = await Deno.stat(identityFile(dir, "issuerEndpoint"));
      assert.equal(stat.mode! & 0o777, 0o600);
      const stored = await loadEndpointSvid(dir);
      assert.equal(der(stored!), der(first));
      assert.equal(stored!.chain.length, 2);
    });

    await t.step("a restart serves the stored SVID again", async () => {
      assert.equal(der(await serve(ca)), der(first));
    });

    await t.step("under another CA (rotated or replaced) a new one is minted", async () => {
      const other = await createCa("mesh.test");
      const svid = await serve(other);
      assert.notEqual(der(svid), der(first));
      assert.equal(svid.chain[1].serialNumber, other.cert.serialNumber);
      assert.equal(der((await loadEndpointSvid(dir))!), der(svid));
      await serve(ca); // back to the first CA for the next steps
    });

    await t.step("another node name gets its own ID, not the stored one", async () => {
      const svid = await serve(ca, "r2");
      assert.equal(svid.id.uri, "spiffe://mesh.test/issuer/r2");
      await serve(ca);
    });

    /** Stores an SVID for ID that `signer` signed, presented with our CA `ca`. */
    const store1 = async (signer: TrustDomainCa, ttlMs: number) => {
      const keys = await generateKeyPair();
      const leaf = await issueX509Svid(signer, ID, { publicKey: keys.publicKey, ttlMs });
      const svid = { id: parseSpiffeId(ID), chain: [leaf, ca.cert], privateKey: keys.privateKey };
      await saveEndpointSvid(dir, svid);
      return svid;
    };

    await t.step("one with less than REUSE_MIN_LEFT_MS to live is replaced", async () => {
      const short = await store1(ca, REUSE_MIN_LEFT_MS / 2);
      const svid = await serve(ca);
      assert.notEqual(der(svid), der(short));
      assert.ok(svid.chain[0].notAfter.getTime() - Date.now() > REUSE_MIN_LEFT_MS);
    });

    await t.step("a leaf another CA signed, presented with our CA, is not served", async () => {
      const forged = await store1(await createCa("mesh.test"), 3600_000);
      const svid = await serve(ca);
      assert.notEqual(der(svid), der(forged));
      assert.ok(await svid.chain[0].verify({ publicKey: ca.cert.publicKey, signatureOnly: true }));
    });

    await t.step("a damaged file, or a key that is not the leaf's, counts as none", async () => {
      const path = identityFile(dir, "issuerEndpoint");
      const good = await Deno.readTextFile(path);
      await Deno.writeTextFile(path, good.slice(0, good.length / 2));
      assert.equal(await loadEndpointSvid(dir), null);
      const svid = await serve(ca);
      assert.equal(svid.id.uri, ID);
      // Chain of one SVID with the key of another.
      const other = (await Deno.readTextFile(path)).split("-----BEGIN PRIVATE KEY-----")[0];
      const keys = await generateKeyPair();
      await Deno.writeTextFile(path, other + await privateKeyToPem(keys.privateKey));
      assert.equal(await loadEndpointSvid(dir), null);
      await Deno.writeTextFile(path, "not pem at all");
      assert.equal(await loadEndpointSvid(dir), null);
      assert.equal((await serve(ca)).id.uri, ID);
    });
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
