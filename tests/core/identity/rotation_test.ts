import assert from "node:assert/strict";
import { rotatingSvidSource, rotationDelayMs } from "../../../core/identity/rotation.ts";
import type { X509Svid } from "../../../core/identity/svid.ts";
import { testDomain } from "./fixtures.ts";

Deno.test("rotationDelayMs() lands within half-life ± 10 % for any random draw", () => {
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 48271) % 2147483647;
    const r = seed / 2147483647;
    const nb = new Date(1_000_000 + i * 1000);
    const life = 1000 + (seed % 10_000_000);
    const na = new Date(nb.getTime() + life);
    const d = rotationDelayMs(nb, na, { now: nb.getTime(), random: () => r });
    // Reference: the spec'd window, computed independently.
    assert.ok(d >= life * 0.45 - 1e-6 && d <= life * 0.55 + 1e-6, `delay ${d} of ${life}`);
    assert.ok(Math.abs(d - life * (0.45 + 0.1 * r)) < 1e-6);
  }
  // Past the rotation point: rotate immediately.
  assert.equal(rotationDelayMs(new Date(0), new Date(1000), { now: 5000, random: () => 0.5 }), 0);
});

Deno.test("rotatingSvidSource() renews before expiry and notifies subscribers", async () => {
  const mesh = await testDomain("mesh.test");
  const first = await mesh.svid("node/a", { ttlMs: 20_000 });
  let renewals = 0;
  const seen: X509Svid[] = [];
  // Backdated notBefore (10 s) plus 20 s TTL → half-life is ~5 s from now; use rotateNow for speed.
  const src = await rotatingSvidSource(first, {
    renew: async () => {
      renewals++;
      return await mesh.svid("node/a", { ttlMs: 20_000 });
    },
  });
  const unsubscribe = src.subscribe((s) => seen.push(s));
  try {
    const next = await src.rotateNow();
    assert.equal(renewals, 1);
    assert.equal(seen.length, 1);
    assert.equal(src.current(), next);
    assert.notEqual(next.chain[0].serialNumber, first.chain[0].serialNumber);
    assert.match(src.tls().cert, /BEGIN CERTIFICATE/);
    assert.match(src.tls().key, /BEGIN PRIVATE KEY/);
  } finally {
    unsubscribe();
    src.stop();
  }
});

Deno.test("rotatingSvidSource() fires on its own timer at half-life", async () => {
  const mesh = await testDomain("mesh.test");
  // notBefore is backdated 10 s; with a 10.6 s TTL the half-life point is ~0.3 s from now.
  const first = await mesh.svid("node/a", { ttlMs: 10_600 });
  let resolveRenew!: () => void;
  const renewed = new Promise<void>((r) => resolveRenew = r);
  const src = await rotatingSvidSource(first, {
    random: () => 0.5,
    renew: async () => {
      resolveRenew();
      return await mesh.svid("node/a", { ttlMs: 3600_000 });
    },
  });
  try {
    const t0 = Date.now();
    await renewed;
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    src.stop();
  }
});
