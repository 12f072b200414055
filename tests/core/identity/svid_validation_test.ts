import assert from "node:assert/strict";
import * as x509 from "../../../core/identity/x509.ts";
import { SIGNING_ALGORITHM, type TrustDomainCa } from "../../../core/identity/ca.ts";
import { bundleSetOf, bundleToPem } from "../../../core/identity/bundle.ts";
import { generateKeyPair } from "../../../core/identity/keys.ts";
import { chainToPem } from "../../../core/identity/svid.ts";
import { type SvidRejectReason, validateX509Svid } from "../../../core/identity/svid_validation.ts";
import { testDomain } from "./fixtures.ts";

const HOUR = 3600_000;
const KU = x509.KeyUsageFlags;

interface LeafSpec {
  uris?: string[];
  ca?: boolean;
  usage?: number | null;
  notBefore?: Date;
  notAfter?: Date;
  signer?: TrustDomainCa;
  issuerName?: string;
}

/** Builds a leaf with exactly the given deviations from a valid X.509-SVID. */
async function leaf(signer: TrustDomainCa, spec: LeafSpec = {}): Promise<x509.X509Certificate> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(spec.ca ?? false, undefined, true),
    new x509.ExtendedKeyUsageExtension([
      x509.ExtendedKeyUsage.serverAuth,
      x509.ExtendedKeyUsage.clientAuth,
    ]),
    new x509.SubjectAlternativeNameExtension(
      (spec.uris ?? ["spiffe://mesh.test/node/a"]).map((value) => ({
        type: "url" as const,
        value,
      })),
    ),
  ];
  if (spec.usage !== null) {
    extensions.push(new x509.KeyUsagesExtension(spec.usage ?? KU.digitalSignature, true));
  }
  const by = spec.signer ?? signer;
  return await x509.X509CertificateGenerator.create({
    subject: "O=test",
    issuer: spec.issuerName ?? signer.cert.subject,
    publicKey: keys.publicKey,
    signingKey: by.keys.privateKey,
    notBefore: spec.notBefore ?? new Date(now - 60_000),
    notAfter: spec.notAfter ?? new Date(now + HOUR),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
}

/** Flips one bit inside the signature value (the last byte of the DER). */
const corruptSignature = (cert: x509.X509Certificate): Uint8Array => {
  const der = new Uint8Array(cert.rawData).slice();
  der[der.length - 1] ^= 0x01;
  return der;
};

Deno.test("validateX509Svid() conformance: each bad certificate is rejected with its own reason", async (t) => {
  const mesh = await testDomain("mesh.test");
  const other = await testDomain("other.test");
  const impostor = await testDomain("mesh.test");
  const bundles = bundleSetOf(mesh.bundle, other.bundle);
  const past = Date.now() - 10 * HOUR;
  const future = Date.now() + 10 * HOUR;
  const table: [string, () => Promise<Uint8Array | x509.X509Certificate>, SvidRejectReason][] = [
    [
      "two URI SANs",
      () => leaf(mesh.ca, { uris: ["spiffe://mesh.test/a", "spiffe://mesh.test/b"] }),
      "multiple_uri_sans",
    ],
    ["no URI SAN", () => leaf(mesh.ca, { uris: [] }), "no_uri_san"],
    ["CA leaf", () => leaf(mesh.ca, { ca: true }), "leaf_is_ca"],
    [
      "keyCertSign on a leaf",
      () => leaf(mesh.ca, { usage: KU.digitalSignature | KU.keyCertSign }),
      "leaf_key_cert_sign",
    ],
    [
      "cRLSign on a leaf",
      () => leaf(mesh.ca, { usage: KU.digitalSignature | KU.cRLSign }),
      "leaf_crl_sign",
    ],
    [
      "missing digitalSignature",
      () => leaf(mesh.ca, { usage: KU.keyEncipherment }),
      "missing_digital_signature",
    ],
    [
      "missing key usage extension",
      () => leaf(mesh.ca, { usage: null }),
      "missing_digital_signature",
    ],
    [
      "wrong trust domain",
      () => leaf(mesh.ca, { uris: ["spiffe://third.test/node/a"] }),
      "wrong_trust_domain",
    ],
    [
      "expired",
      () => leaf(mesh.ca, { notBefore: new Date(past - HOUR), notAfter: new Date(past) }),
      "expired",
    ],
    [
      "not yet valid",
      () => leaf(mesh.ca, { notBefore: new Date(future), notAfter: new Date(future + HOUR) }),
      "not_yet_valid",
    ],
    [
      "unknown issuer (name not in bundle)",
      () => leaf(mesh.ca, { issuerName: "CN=nobody" }),
      "unknown_issuer",
    ],
    [
      "signed by another domain's CA",
      () => leaf(other.ca, { uris: ["spiffe://mesh.test/node/a"] }),
      "unknown_issuer",
    ],
    ["bad signature", async () => corruptSignature(await leaf(mesh.ca)), "bad_signature"],
    [
      "non-spiffe URI",
      () => leaf(mesh.ca, { uris: ["https://mesh.test/node/a"] }),
      "not_spiffe_uri",
    ],
    [
      "invalid SPIFFE ID",
      () => leaf(mesh.ca, { uris: ["spiffe://mesh.test/a/../b"] }),
      "invalid_spiffe_id",
    ],
    [
      "trust-domain ID without a path",
      () => leaf(mesh.ca, { uris: ["spiffe://mesh.test"] }),
      "invalid_spiffe_id",
    ],
    [
      "garbage bytes",
      () => Promise.resolve(new Uint8Array([0x30, 0x03, 1, 2, 3])),
      "malformed_certificate",
    ],
  ];
  const seen = new Set<string>();
  for (const [name, make, reason] of table) {
    await t.step(`${name} → ${reason}`, async () => {
      const r = await validateX509Svid([await make()], bundles);
      assert.equal(r.ok, false, `${name} was accepted`);
      if (!r.ok) {
        assert.equal(r.reason, reason, r.message);
        assert.ok(r.message.length > 0);
      }
      seen.add(reason);
    });
  }
  await t.step("an empty chain → no_certificate", async () => {
    const r = await validateX509Svid([], bundles);
    assert.equal(r.ok ? "ok" : r.reason, "no_certificate");
  });
  await t.step(
    "the same leaf built correctly passes (the table's deviations are the only cause)",
    async () => {
      const r = await validateX509Svid([await leaf(mesh.ca)], bundles);
      assert.equal(r.ok, true, r.ok ? "" : r.message);
    },
  );
  await t.step("a required trust domain rejects members of other trusted domains", async () => {
    const r = await validateX509Svid(
      [await leaf(other.ca, { uris: ["spiffe://other.test/x"] })],
      bundles,
      {
        trustDomain: "mesh.test",
      },
    );
    assert.equal(r.ok ? "ok" : r.reason, "wrong_trust_domain");
  });
  await t.step(
    "an impostor CA with our CA's name but another key → unknown_issuer (AKI differs)",
    async () => {
      const r = await validateX509Svid((await impostor.svid("node/a")).chain, bundles);
      assert.equal(r.ok ? "ok" : r.reason, "unknown_issuer");
    },
  );
  await t.step(
    "the same impostor leaf without AKI → bad_signature (name matches, key does not)",
    async () => {
      const r = await validateX509Svid([await leaf(impostor.ca)], bundles);
      assert.equal(r.ok ? "ok" : r.reason, "bad_signature");
    },
  );
});

Deno.test("validateX509Svid() walks intermediates and enforces their CA rules", async (t) => {
  const mesh = await testDomain("mesh.test");
  const bundles = bundleSetOf(mesh.bundle);
  const makeIntermediate = async (ca: boolean, usage: number) => {
    const keys = await generateKeyPair();
    const cert = await x509.X509CertificateGenerator.create({
      subject: `CN=inter-${ca}-${usage}`,
      issuer: mesh.ca.cert.subject,
      publicKey: keys.publicKey,
      signingKey: mesh.ca.keys.privateKey,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + HOUR),
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(ca, undefined, true),
        new x509.KeyUsagesExtension(usage, true),
      ],
    });
    return { trustDomain: "mesh.test", cert, keys } as TrustDomainCa;
  };
  await t.step("a proper intermediate chains to the root", async () => {
    const inter = await makeIntermediate(true, KU.keyCertSign);
    const r = await validateX509Svid([await leaf(inter), inter.cert], bundles);
    assert.equal(r.ok, true, r.ok ? "" : r.message);
  });
  await t.step("an intermediate with cA=false is rejected", async () => {
    const inter = await makeIntermediate(false, KU.keyCertSign);
    const r = await validateX509Svid([await leaf(inter), inter.cert], bundles);
    assert.equal(r.ok ? "ok" : r.reason, "intermediate_not_ca");
  });
  await t.step("an intermediate without keyCertSign is rejected", async () => {
    const inter = await makeIntermediate(true, KU.digitalSignature);
    const r = await validateX509Svid([await leaf(inter), inter.cert], bundles);
    assert.equal(r.ok ? "ok" : r.reason, "intermediate_no_key_cert_sign");
  });
  await t.step("a leaf without its intermediate is rejected", async () => {
    const inter = await makeIntermediate(true, KU.keyCertSign);
    const r = await validateX509Svid([await leaf(inter)], bundles);
    assert.equal(r.ok ? "ok" : r.reason, "unknown_issuer");
  });
});

Deno.test("issued SVIDs pass Debian openssl verify against the exported PEM bundle", async (t) => {
  const openssl = await new Deno.Command("openssl", {
    args: ["version"],
    stdout: "null",
    stderr: "null",
  })
    .output().catch(() => null);
  if (!openssl?.success) {
    if (Deno.env.get("CI") === "true") throw new Error("openssl is missing");
    console.warn("SKIP: openssl is not installed");
    return;
  }
  const mesh = await testDomain("mesh.test");
  const dir = await Deno.makeTempDir({ prefix: "x0-identity-openssl-" });
  try {
    const bundlePath = `${dir}/bundle.pem`;
    await Deno.writeTextFile(bundlePath, bundleToPem(mesh.bundle));
    const verify = async (pem: string, purpose: string) => {
      const p = `${dir}/leaf.pem`;
      await Deno.writeTextFile(p, pem);
      const out = await new Deno.Command("openssl", {
        args: ["verify", "-CAfile", bundlePath, "-purpose", purpose, p],
      }).output();
      return {
        ok: out.success,
        text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
      };
    };
    await t.step("a freshly issued SVID verifies for TLS client and server use", async () => {
      const svid = await mesh.svid("node/a");
      for (const purpose of ["sslclient", "sslserver"]) {
        const r = await verify(chainToPem(svid.chain), purpose);
        assert.ok(r.ok, r.text);
        assert.match(r.text, /OK/);
      }
    });
    await t.step("openssl rejects an SVID of another CA (the check can fail)", async () => {
      const other = await testDomain("mesh.test");
      const r = await verify(chainToPem((await other.svid("node/a")).chain), "sslclient");
      assert.equal(r.ok, false);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
