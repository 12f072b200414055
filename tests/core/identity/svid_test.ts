import assert from "node:assert/strict";
import * as x509 from "../../../core/identity/x509.ts";
import { createCa } from "../../../core/identity/ca.ts";
import { generateKeyPair } from "../../../core/identity/keys.ts";
import { createCsr, issueX509Svid, parseCsr } from "../../../core/identity/svid.ts";
import { ValidationError } from "../../../core/errors.ts";

Deno.test("issueX509Svid() follows the X.509-SVID profile", async (t) => {
  const ca = await createCa("mesh.test");
  const keys = await generateKeyPair();
  const now = new Date();
  const cert = await issueX509Svid(ca, "spiffe://mesh.test/node/a", {
    publicKey: keys.publicKey,
    now,
  });
  await t.step("exactly one URI SAN holding the SPIFFE ID", () => {
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
    const uris = san.names.items.filter((n) => n.type === "url").map((n) => n.value);
    assert.deepEqual(uris, ["spiffe://mesh.test/node/a"]);
  });
  await t.step("cA=false in a critical basic constraints extension", () => {
    const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
    assert.equal(bc.ca, false);
    assert.equal(bc.critical, true);
  });
  await t.step("key usage is exactly digitalSignature and critical", () => {
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature);
    assert.equal(ku.critical, true);
  });
  await t.step("EKU serverAuth and clientAuth", () => {
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)!;
    assert.deepEqual(
      [...eku.usages].sort(),
      [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth].sort(),
    );
  });
  await t.step("default lifetime is one hour (plus the clock-skew backdate)", () => {
    const life = cert.notAfter.getTime() - now.getTime();
    assert.ok(life <= 3600_000 && life > 3600_000 - 1000, `lifetime ${life} ms`);
    assert.ok(cert.notBefore.getTime() <= now.getTime());
  });
  await t.step("signed by the CA", async () => {
    assert.ok(await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }));
  });
  await t.step("refuses IDs of other trust domains and IDs without a path", async () => {
    await assert.rejects(
      issueX509Svid(ca, "spiffe://other.test/a", { publicKey: keys.publicKey }),
      ValidationError,
    );
    await assert.rejects(
      issueX509Svid(ca, "spiffe://mesh.test", { publicKey: keys.publicKey }),
      ValidationError,
    );
  });
  await t.step("never outlives the CA", async () => {
    const shortCa = await createCa("mesh.test", { ttlMs: 60_000 });
    const c = await issueX509Svid(shortCa, "spiffe://mesh.test/a", { publicKey: keys.publicKey });
    assert.ok(c.notAfter.getTime() <= shortCa.cert.notAfter.getTime());
  });
});

Deno.test("parseCsr() accepts a signed CSR and rejects tampered or garbage ones", async () => {
  const keys = await generateKeyPair();
  const pem = await createCsr(keys);
  const pub = await parseCsr(pem);
  const want = await crypto.subtle.exportKey("jwk", keys.publicKey);
  const got = await crypto.subtle.exportKey("jwk", pub);
  assert.equal(got.x, want.x);
  await assert.rejects(parseCsr("not a csr"), ValidationError);
  const der = new x509.Pkcs10CertificateRequest(pem).rawData;
  const bad = new Uint8Array(der).slice();
  bad[bad.length - 1] ^= 1;
  await assert.rejects(parseCsr(bad), /signature|Invalid CSR/);
});
