import assert from "node:assert/strict";
import {
  decodeProbe,
  encodeProbe,
  intToIpv4,
  ipv4ToInt,
  type ProbePacket,
} from "../../../core/mesh/probe_packet.ts";

const probe: ProbePacket = {
  kind: "probe",
  seq: 4_000_000_000,
  echo: true,
  sentAt: 12345.678,
  nodeId: "router-7.a_b",
  routerAddress: "10.255.3.200",
  controlPort: 6971,
};

Deno.test("encodeProbe()/decodeProbe() round-trip probes and replies", () => {
  for (
    const p of [probe, { ...probe, echo: false }, { ...probe, kind: "reply" as const, echo: false }]
  ) {
    const d = decodeProbe(encodeProbe(p));
    assert.ok(d.ok);
    assert.deepEqual(d.packet, p);
  }
});

Deno.test("decodeProbe() rejects garbage with a reason and never throws", async (t) => {
  const good = encodeProbe(probe);
  await t.step(
    "short",
    () => assert.deepEqual(decodeProbe(good.slice(0, 10)), { ok: false, reason: "short" }),
  );
  await t.step("magic", () => {
    const b = good.slice();
    b[0] = 0;
    assert.deepEqual(decodeProbe(b), { ok: false, reason: "magic" });
  });
  await t.step("version", () => {
    const b = good.slice();
    b[3] = 9;
    assert.deepEqual(decodeProbe(b), { ok: false, reason: "version" });
  });
  await t.step("kind", () => {
    const b = good.slice();
    b[4] = 7;
    assert.deepEqual(decodeProbe(b), { ok: false, reason: "kind" });
  });
  await t.step("length", () => {
    const b = new Uint8Array(good.length + 1);
    b.set(good);
    assert.deepEqual(decodeProbe(b), { ok: false, reason: "length" });
  });
  await t.step("node id", () => {
    const b = good.slice();
    b[b.length - 1] = 0x20;
    assert.deepEqual(decodeProbe(b), { ok: false, reason: "node_id" });
  });
  await t.step("random bytes", () => {
    let seed = 99;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(rand() * 80);
      const b = Uint8Array.from({ length: len }, () => Math.floor(rand() * 256));
      if (rand() < 0.5 && len > 4) b.set([0x58, 0x30, 0x50, 1], 0);
      const d = decodeProbe(b);
      if (d.ok) assert.deepEqual(decodeProbe(encodeProbe(d.packet)), d);
    }
  });
});

Deno.test("ipv4ToInt() and intToIpv4() are inverse and reject malformed addresses", () => {
  for (const a of ["0.0.0.0", "10.255.0.1", "255.255.255.255", "192.0.2.33"]) {
    assert.equal(intToIpv4(ipv4ToInt(a)), a);
  }
  for (const bad of ["1.2.3", "1.2.3.256", "a.b.c.d", "1.2.3.4.5", ""]) {
    assert.throws(() => ipv4ToInt(bad), TypeError);
  }
});
