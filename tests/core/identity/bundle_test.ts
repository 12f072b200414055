import assert from "node:assert/strict";
import {
  bundleSetOf,
  bundleToJwks,
  bundleToPem,
  parseConcatenatedDer,
  parseJwksBundle,
  parsePemBundle,
} from "../../../core/identity/bundle.ts";
import { generateKeyPair } from "../../../core/identity/keys.ts";
import { jwtSigningKey } from "../../../core/identity/jwt.ts";
import { ValidationError } from "../../../core/errors.ts";
import { testDomain } from "./fixtures.ts";

Deno.test("SPIFFE bundle format round-trips and carries the required members", async (t) => {
  const mesh = await testDomain("mesh.test");
  const jwt = await jwtSigningKey(await generateKeyPair());
  const bundle = {
    ...mesh.bundle,
    jwtAuthorities: [jwt.authority],
    sequence: 7,
    refreshHintSeconds: 60,
  };
  const jwks = await bundleToJwks(bundle) as
    & { keys: Record<string, unknown>[] }
    & Record<string, unknown>;
  await t.step("keys use x509-svid (with one x5c) and jwt-svid (with kid)", () => {
    assert.equal(jwks.spiffe_sequence, 7);
    assert.equal(jwks.spiffe_refresh_hint, 60);
    const x = jwks.keys.filter((k) => k.use === "x509-svid");
    const j = jwks.keys.filter((k) => k.use === "jwt-svid");
    assert.equal(x.length, 1);
    assert.equal((x[0].x5c as string[]).length, 1);
    assert.equal(x[0].kty, "EC");
    assert.equal(j.length, 1);
    assert.equal(j[0].kid, jwt.kid);
    assert.equal(j[0].d, undefined, "no private member leaks");
  });
  await t.step("parse(serialize(b)) = b", () => {
    const back = parseJwksBundle("mesh.test", JSON.stringify(jwks));
    assert.equal(back.sequence, 7);
    assert.equal(back.refreshHintSeconds, 60);
    assert.deepEqual(
      new Uint8Array(back.x509Authorities[0].rawData),
      new Uint8Array(mesh.ca.cert.rawData),
    );
    assert.equal(back.jwtAuthorities[0].kid, jwt.kid);
  });
  await t.step("keys with an unknown use are ignored", () => {
    const b = parseJwksBundle("mesh.test", { keys: [...jwks.keys, { use: "future", kty: "EC" }] });
    assert.equal(b.x509Authorities.length + b.jwtAuthorities.length, 2);
  });
  await t.step("malformed bundles are rejected with a clear error", () => {
    assert.throws(() => parseJwksBundle("mesh.test", "{"), ValidationError);
    assert.throws(() => parseJwksBundle("mesh.test", { keys: 1 }), /keys must be an array/);
    assert.throws(
      () => parseJwksBundle("mesh.test", { keys: [{ use: "x509-svid", x5c: [] }] }),
      /exactly one/,
    );
    assert.throws(
      () => parseJwksBundle("mesh.test", { keys: [{ use: "jwt-svid", kty: "EC" }] }),
      /kid/,
    );
    assert.throws(
      () => parseJwksBundle("mesh.test", { keys: [], spiffe_sequence: -1 }),
      /spiffe_sequence/,
    );
  });
  await t.step("PEM export round-trips the X.509 authorities", () => {
    const pem = bundleToPem(bundle);
    assert.match(pem, /^-----BEGIN CERTIFICATE-----\n/);
    const back = parsePemBundle("mesh.test", pem);
    assert.deepEqual(
      new Uint8Array(back.x509Authorities[0].rawData),
      new Uint8Array(mesh.ca.cert.rawData),
    );
    assert.throws(() => parsePemBundle("mesh.test", "nothing"), ValidationError);
  });
  await t.step("concatenated DER splits into the same certificates", async () => {
    const other = await testDomain("other.test");
    const a = new Uint8Array(mesh.ca.cert.rawData);
    const b = new Uint8Array(other.ca.cert.rawData);
    const both = new Uint8Array([...a, ...b]);
    const certs = parseConcatenatedDer(both);
    assert.equal(certs.length, 2);
    assert.equal(certs[1].subject, other.ca.cert.subject);
    assert.throws(() => parseConcatenatedDer(both.subarray(0, both.length - 3)), /truncated/);
  });
});

Deno.test("bundleSetOf() never merges two bundles of one trust domain", async () => {
  const a = await testDomain("mesh.test");
  const b = await testDomain("mesh.test");
  assert.throws(() => bundleSetOf(a.bundle, b.bundle), /Duplicate bundle/);
});
