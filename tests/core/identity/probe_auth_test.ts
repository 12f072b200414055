import assert from "node:assert/strict";
import {
  createProbeKeyring,
  deriveProbeKey,
  signProbe,
  verifyProbe,
} from "../../../core/identity/probe_auth.ts";
import { registry } from "../../../core/telemetry/metrics.ts";

const n = (b: number) => new Uint8Array(32).fill(b);
const ids = { client: "spiffe://mesh.test/node/a", server: "spiffe://mesh.test/node/b" };
const rejected = async () => {
  const m = await registry.getSingleMetric("x0_probe_auth_rejected_total")?.get();
  return (m?.values ?? []).reduce((s, v) => s + v.value, 0);
};

Deno.test("probe HMAC: same nonces and IDs give the same key; forged probes are dropped and counted", async () => {
  const a = await deriveProbeKey({ client: n(1), server: n(2) }, ids);
  const b = await deriveProbeKey({ client: n(1), server: n(2) }, ids);
  const c = await deriveProbeKey({ client: n(1), server: n(3) }, ids);
  const d = await deriveProbeKey({ client: n(1), server: n(2) }, {
    ...ids,
    client: "spiffe://mesh.test/node/x",
  });
  const payload = new TextEncoder().encode("seq=1 t=123");
  const sealed = await signProbe(a, payload);
  assert.deepEqual(await verifyProbe(b, sealed), payload);
  const before = await rejected();
  assert.equal(await verifyProbe(c, sealed), null, "other nonce → other key");
  assert.equal(await verifyProbe(d, sealed), null, "other identity → other key");
  const tampered = sealed.slice();
  tampered[0] ^= 1;
  assert.equal(await verifyProbe(b, tampered), null);
  assert.equal(await verifyProbe(b, new Uint8Array(3)), null);
  assert.equal(await rejected(), before + 4);
  await assert.rejects(deriveProbeKey({ client: n(1).subarray(1), server: n(2) }, ids), RangeError);
});

Deno.test("ProbeKeyring keeps the previous key for a grace period after a reconnect", async () => {
  let clock = 0;
  const ring = createProbeKeyring({ graceMs: 100, now: () => clock });
  const k1 = await deriveProbeKey({ client: n(1), server: n(2) }, ids);
  const k2 = await deriveProbeKey({ client: n(3), server: n(4) }, ids);
  ring.set(ids.server, k1);
  const old = await ring.seal(ids.server, new Uint8Array([1, 2]));
  ring.set(ids.server, k2);
  assert.ok(await ring.open(ids.server, old), "old key accepted within grace");
  clock = 101;
  assert.equal(await ring.open(ids.server, old), null, "old key refused after grace");
  assert.ok(await ring.open(ids.server, await ring.seal(ids.server, new Uint8Array([3]))));
  assert.equal(await ring.open("spiffe://mesh.test/node/unknown", old), null);
  await assert.rejects(ring.seal("spiffe://mesh.test/node/unknown", new Uint8Array(1)), RangeError);
});
