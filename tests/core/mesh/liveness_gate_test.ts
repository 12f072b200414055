import assert from "node:assert/strict";
import { configSchema } from "../../../core/config/schema.ts";
import { ConfigError } from "../../../core/errors.ts";
import {
  checkLivenessConfig,
  HELPER_SILENT_S,
  openGate,
  startLivenessGate,
} from "../../../core/mesh/liveness_gate.ts";
import { newNeighbour } from "../../../core/mesh/neighbour.ts";
import { probeDeadProbes } from "../../../core/mesh/fast_liveness.ts";
import { ensureLivenessBinary } from "../../../native/ensure_built.ts";
import {
  encodeLiveness,
  livenessPeer,
  LOCAL,
  LOOPBACK_LINK as link,
  PEER,
} from "../../native/liveness_peer.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("checkLivenessConfig() refuses a helper port equal to the probe or control port", async () => {
  for (const port of [6970, 6971]) {
    const mesh = configSchema.parse({ mesh: { fast_liveness: { enabled: true, port } } }).mesh;
    await assert.rejects(
      checkLivenessConfig(mesh, "/nonexistent"),
      (e) => e instanceof ConfigError && /mesh\.fast_liveness\.port/.test(e.message),
    );
  }
  // Disabled: nothing is checked, not even the binary.
  await checkLivenessConfig(configSchema.parse({}).mesh, "/nonexistent");
});

Deno.test("the open gate (fast liveness off) never vetoes", async () => {
  assert.equal(openGate.vetoed(link), false);
  assert.deepEqual(openGate.tick([{ iface: link, neighbour: null }]), []);
  assert.equal(
    await startLivenessGate([link], { mesh: configSchema.parse({}).mesh, onChange() {} }),
    openGate,
  );
});

Deno.test("the gate vetoes a neighbour the helper declared down, and lifts the veto when probes see it for 5 s", async (t) => {
  await ensureLivenessBinary();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const mesh = configSchema.parse({
    mesh: { fast_liveness: { enabled: true, interval_ms: 10, dead_ms: 30, port } },
  }).mesh;
  const changes: string[] = [];
  const gate = await startLivenessGate([link], {
    mesh,
    onChange: (iface) => changes.push(iface.name),
  });
  const peer = await livenessPeer(PEER, port);
  try {
    await t.step("down after the peer's hellos stop: vetoed", async () => {
      for (let seq = 1; seq <= 15; seq++) {
        await peer.send(
          await encodeLiveness({ hear: true, session: 7, seq }, {
            from: PEER,
            to: LOCAL,
          }),
          LOCAL,
        );
        await sleep(10);
      }
      await sleep(150);
      assert.equal(gate.vetoed(link), true);
      assert.deepEqual(changes, ["lo", "lo"]);
    });
    await t.step(`probes see it ONLINE for ${HELPER_SILENT_S} s: the veto is lifted`, () => {
      const n = newNeighbour({ nodeId: "r2", routerAddress: "10.255.0.2", controlPort: 6971 });
      n.state = "ONLINE";
      for (let i = 1; i < HELPER_SILENT_S; i++) {
        assert.deepEqual(gate.tick([{ iface: link, neighbour: n }]), []);
      }
      assert.deepEqual(gate.tick([{ iface: link, neighbour: n }]), [link]);
      assert.equal(gate.vetoed(link), false);
    });
  } finally {
    await gate.stop();
    await peer.close();
  }
});

Deno.test("probeDeadProbes(): the probes' dead interval is mesh.dead_probes, relaxed to fast_liveness.probe_dead_ms only with the helper on", () => {
  const mesh = (over: Record<string, unknown>, fast: Record<string, unknown> = {}) =>
    configSchema.parse({ mesh: { ...over, fast_liveness: fast } }).mesh;
  // Reference: the silence the prober tolerates, in ms, rounded up to whole intervals.
  for (const interval of [5, 20, 50, 333]) {
    for (const dead of [2, 3, 7]) {
      for (const probeDeadMs of [0, 40, 1000, 2500]) {
        const off = mesh({ probe_interval_ms: interval, dead_probes: dead }, {
          probe_dead_ms: probeDeadMs,
        });
        assert.equal(probeDeadProbes(off), dead);
        const on = mesh({ probe_interval_ms: interval, dead_probes: dead }, {
          enabled: true,
          probe_dead_ms: probeDeadMs,
        });
        const got = probeDeadProbes(on);
        assert.ok(got >= dead, `${got} < dead_probes ${dead}`);
        assert.ok(got * interval >= probeDeadMs, `${got} x ${interval} ms < ${probeDeadMs} ms`);
        assert.ok(got === dead || (got - 1) * interval < probeDeadMs, "not the smallest count");
      }
    }
  }
  // Defaults: 3 x 50 ms without the helper, 1 s (20 probes) with it.
  assert.equal(probeDeadProbes(mesh({})), 3);
  assert.equal(probeDeadProbes(mesh({}, { enabled: true })), 20);
});
