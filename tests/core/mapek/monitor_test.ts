import assert from "node:assert/strict";
import { createMonitor } from "../../../core/mapek/monitor.ts";

Deno.test("createMonitor() keeps a bounded history per series and reports failing collectors", async () => {
  let n = 0;
  const monitor = createMonitor([
    {
      kind: "host",
      collect: () => [{ collector: "host", target: "node", at: 0, values: { cpu_percent: n++ } }],
    },
    {
      kind: "links",
      collect: () => {
        throw new Error("mesh not ready");
      },
    },
  ], { historySize: 4 });
  for (let i = 0; i < 10; i++) await monitor.collect();
  assert.deepEqual(monitor.history("host", "node").map((s) => s.values.cpu_percent), [6, 7, 8, 9]);
  assert.deepEqual(monitor.targets("host"), ["node"]);
  assert.deepEqual(monitor.latest()!.errors, [{ collector: "links", error: "mesh not ready" }]);
  assert.deepEqual(monitor.history("links", "r2"), []);
});

Deno.test("createMonitor() gives up on a collector that hangs past its timeout", async () => {
  let release: () => void = () => {};
  const monitor = createMonitor([
    { kind: "services", collect: () => new Promise((r) => release = () => r([])) },
  ], { timeoutMs: 50 });
  const snap = await monitor.collect();
  assert.match(snap.errors[0].error, /collector services timed out after 50 ms/);
  release();
});
