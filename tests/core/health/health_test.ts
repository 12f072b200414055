import assert from "node:assert/strict";
import { createHealthRegistry, healthValue } from "../../../core/health/health.ts";

Deno.test("health is ok with no failing checks", async () => {
  const h = createHealthRegistry();
  h.register({ name: "a", critical: true, check: () => ({ ok: true }) });
  assert.deepEqual(await h.evaluate(), { status: "ok", reasons: [] });
});

Deno.test("a failing optional check degrades and a failing critical one makes unhealthy", async () => {
  const h = createHealthRegistry();
  h.register({ name: "ebpf", critical: false, check: () => ({ ok: false, reason: "no libbpf" }) });
  assert.deepEqual(await h.evaluate(), { status: "degraded", reasons: ["ebpf: no libbpf"] });
  h.register({
    name: "storage",
    critical: true,
    check: () => Promise.reject(new Error("kv closed")),
  });
  const r = await h.evaluate();
  assert.equal(r.status, "unhealthy");
  assert.deepEqual(r.reasons.sort(), ["ebpf: no libbpf", "storage: kv closed"]);
  h.unregister("storage");
  assert.equal((await h.evaluate()).status, "degraded");
});

Deno.test("a check slower than the timeout counts as failing", async () => {
  const h = createHealthRegistry();
  let timer: ReturnType<typeof setTimeout> | undefined;
  h.register({
    name: "slow",
    critical: true,
    check: () => new Promise((r) => timer = setTimeout(() => r({ ok: true }), 500)),
  });
  const r = await h.evaluate({ timeoutMs: 20 });
  clearTimeout(timer);
  assert.equal(r.status, "unhealthy");
  assert.match(r.reasons[0], /slow: check timed out after 20 ms/);
});

Deno.test("healthValue() encodes statuses for the gauge", () => {
  assert.equal(healthValue("ok"), 1);
  assert.equal(healthValue("degraded"), 0.5);
  assert.equal(healthValue("unhealthy"), 0);
});
