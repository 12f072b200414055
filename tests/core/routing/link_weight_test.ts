import assert from "node:assert/strict";
import { ValidationError } from "../../../core/errors.ts";
import { linkWeight, qualityScore } from "../../../core/routing/link_weight.ts";

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

Deno.test("linkWeight() is 100/6 for a perfect link and 100 for a dead one", () => {
  assert.equal(qualityScore({ rtt_ms: 0, loss_percent: 0, jitter_ms: 0 }), 5);
  assert.ok(close(linkWeight({ rtt_ms: 0, loss_percent: 0, jitter_ms: 0 }), 100 / 6));
  assert.equal(linkWeight({ rtt_ms: 5, loss_percent: 100, jitter_ms: 1 }), 100);
  assert.equal(linkWeight({ rtt_ms: Infinity, loss_percent: 0, jitter_ms: 0 }), 100);
  assert.equal(linkWeight({ rtt_ms: 0, loss_percent: 0, jitter_ms: Infinity }), 100);
});

Deno.test("qualityScore() halves at 100 ms RTT, at 50 ms jitter and at 29.3 % loss", () => {
  const base = { rtt_ms: 0, loss_percent: 0, jitter_ms: 0 };
  assert.ok(close(qualityScore({ ...base, rtt_ms: 100 }), 2.5));
  assert.ok(close(qualityScore({ ...base, jitter_ms: 50 }), 2.5));
  // delivery^2 = 1/2 at loss = 1 - 1/sqrt(2)
  assert.ok(close(qualityScore({ ...base, loss_percent: 100 * (1 - Math.SQRT1_2) }), 2.5));
});

Deno.test("linkWeight() grows strictly with RTT, loss and jitter, inside [100/6, 100]", () => {
  const base = { rtt_ms: 20, loss_percent: 1, jitter_ms: 3 };
  const w0 = linkWeight(base);
  for (const key of ["rtt_ms", "loss_percent", "jitter_ms"] as const) {
    let prev = w0;
    for (const step of [0.5, 5, 20, 60]) {
      const w = linkWeight({ ...base, [key]: Math.min(100, base[key] + step) });
      assert.ok(w > prev, `${key} +${step}: ${w} <= ${prev}`);
      assert.ok(w >= 100 / 6 && w <= 100);
      prev = w;
    }
  }
});

Deno.test("linkWeight() rejects NaN, negative and out-of-range measurements", () => {
  const base = { rtt_ms: 10, loss_percent: 0, jitter_ms: 1 };
  for (
    const bad of [
      { rtt_ms: NaN },
      { rtt_ms: -1 },
      { loss_percent: 100.5 },
      { loss_percent: -0.1 },
      {
        jitter_ms: NaN,
      },
    ]
  ) {
    assert.throws(
      () => linkWeight({ ...base, ...bad }),
      (e) => e instanceof ValidationError && /Invalid link measurement/.test(e.message),
      JSON.stringify(bad),
    );
  }
});
