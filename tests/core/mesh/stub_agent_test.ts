/**
 * The native agent's stub phase end to end in one process (no root: no kernel routes, an
 * interface that does not exist, so no neighbour ever syncs): /mesh/status says `stub: true`
 * until the cap ends the phase, and `mesh.stub_on_start_ms: 0` disables it. The end on
 * convergence with real neighbours is in tests/testbed/mesh_restart_test.ts.
 */
import assert from "node:assert/strict";
import { configSchema } from "../../../core/config/schema.ts";
import { startNativeMesh } from "../../../core/mesh/native_agent.ts";
import { registry } from "../../../core/telemetry/metrics.ts";

async function capEnds(): Promise<number> {
  const text = await registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith('mesh_stub_phase_total{reason="cap"}'));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

function isolatedConfig(stubMs: number) {
  const port = 42000 + Math.floor(Math.random() * 10000);
  return configSchema.parse({
    mesh: {
      router_address: "10.255.77.1",
      interfaces: ["x0-nosuchif"],
      install_routes: false,
      probe_port: port,
      control_port: port + 1,
      stub_on_start_ms: stubMs,
    },
  });
}

Deno.test("an agent with no neighbour to sync with stays a stub until the cap", async (t) => {
  const before = await capEnds();
  const started = performance.now();
  const mesh = await startNativeMesh(isolatedConfig(400), { nodeId: "stub-cap" });
  try {
    await t.step("status reports the stub phase (and keeps its other fields)", () => {
      const s = mesh.view.status();
      assert.equal(s.stub, true);
      assert.equal(s.state, "isolated");
      assert.equal(s.node_id, "stub-cap");
    });
    await t.step("the cap ends it, counted as such", async () => {
      while (mesh.view.status().stub && performance.now() - started < 5000) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const ms = performance.now() - started;
      assert.equal(mesh.view.status().stub, false);
      assert.ok(ms >= 390 && ms < 3000, `ended after ${ms.toFixed(0)} ms, cap 400`);
      assert.equal(await capEnds(), before + 1);
    });
  } finally {
    await mesh.stop();
  }
});

Deno.test("mesh.stub_on_start_ms 0 disables the stub phase", async () => {
  const mesh = await startNativeMesh(isolatedConfig(0), { nodeId: "stub-off" });
  try {
    assert.equal(mesh.view.status().stub, false);
  } finally {
    await mesh.stop();
  }
});

Deno.test("mesh.stub_on_start_ms defaults to 5000 and rejects negative values", () => {
  assert.equal(configSchema.parse({}).mesh.stub_on_start_ms, 5000);
  assert.equal(configSchema.safeParse({ mesh: { stub_on_start_ms: -1 } }).success, false);
  assert.equal(configSchema.safeParse({ mesh: { stub_on_start_ms: 1.5 } }).success, false);
});
