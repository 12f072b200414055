import assert from "node:assert/strict";
import {
  checkDead,
  classifyQuality,
  evaluate,
  isUsable,
  linkStats,
  type Neighbour,
  newNeighbour,
  type ProbeTimers,
  recordHeard,
  recordProbeReceived,
  recordRtt,
} from "../../../core/mesh/neighbour.ts";
import type { NeighbourState } from "../../../core/mesh/view.ts";

const timers: ProbeTimers = { intervalMs: 50, deadProbes: 3, upProbes: 3 };

/**
 * Simulates a link at 1 ms resolution: the neighbour sends a probe every interval; `lost(k)`
 * says whether its k-th probe is lost. The state machine is evaluated every interval (offset by
 * half an interval) and the dead deadline is checked every millisecond, as the prober's timers
 * do. Returns every state the neighbour passed through.
 */
function simulate(probes: number, lost: (k: number) => boolean): NeighbourState[] {
  const n = newNeighbour({ nodeId: "r2", routerAddress: "10.255.0.2", controlPort: 6971 });
  const states: NeighbourState[] = [n.state];
  const note = () => {
    if (states[states.length - 1] !== n.state) states.push(n.state);
  };
  for (let t = 0; t < probes * timers.intervalMs; t++) {
    if (t % timers.intervalMs === 0) {
      const k = t / timers.intervalMs;
      if (!lost(k)) {
        recordHeard(n, t, t);
        recordProbeReceived(n, k, timers);
        recordRtt(n, 1);
      }
    }
    if (t % timers.intervalMs === timers.intervalMs / 2) evaluate(n, t, timers);
    checkDead(n, t, timers);
    note();
  }
  return states;
}

/** Reference: the longest run of consecutive lost probes after the link first came up. */
function longestLossRun(probes: number, lost: (k: number) => boolean): number {
  let run = 0, best = 0;
  for (let k = 0; k < probes; k++) {
    run = lost(k) ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

Deno.test("neighbour state machine", async (t) => {
  await t.step("a clean link goes INITIALIZING -> ONLINE and stays there", () => {
    assert.deepEqual(simulate(200, () => false), ["INITIALIZING", "ONLINE"]);
  });

  await t.step("one lost probe never flaps an ONLINE neighbour", () => {
    for (let at = 10; at < 60; at++) {
      assert.deepEqual(simulate(100, (k) => k === at), ["INITIALIZING", "ONLINE"]);
    }
  });

  await t.step(
    "dead_probes silent intervals make it OFFLINE, and it returns only after up_probes",
    () => {
      const states = simulate(200, (k) => k >= 80 && k < 90);
      assert.deepEqual(states, ["INITIALIZING", "ONLINE", "OFFLINE", "ONLINE"]);
    },
  );

  await t.step(
    "property: OFFLINE exactly when dead_probes or more consecutive probes are lost",
    () => {
      let seed = 1;
      const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
      for (let trial = 0; trial < 300; trial++) {
        const p = rand() * 0.5;
        // Losses start after the first adjacency's probation (60 intervals).
        const pattern = Array.from({ length: 180 }, (_, k) => k >= 70 && rand() < p);
        const lost = (k: number) => pattern[k];
        const states = simulate(180, lost);
        // Probes arrive every interval, so the gap before probe k+run+1 is (run+1) intervals:
        // a run of dead_probes - 1 lost probes leaves exactly dead_probes intervals of silence.
        const expectOffline = longestLossRun(180, lost) >= timers.deadProbes;
        assert.equal(
          states.includes("OFFLINE"),
          expectOffline,
          `loss ${p.toFixed(2)}: ${states.join(",")} (longest run ${longestLossRun(180, lost)})`,
        );
      }
    },
  );

  await t.step(
    "a first adjacency is on probation: a short outage just after it is tolerated",
    () => {
      // Five silent intervals right after coming up (a starting router stalls): no flap...
      assert.ok(!simulate(100, (k) => k >= 6 && k < 11).includes("OFFLINE"));
      // ...while the same silence after the probation window takes the neighbour down.
      assert.deepEqual(
        simulate(200, (k) => k >= 100 && k < 105),
        ["INITIALIZING", "ONLINE", "OFFLINE", "ONLINE"],
      );
    },
  );

  await t.step("heavy scattered loss degrades the neighbour without taking it down", () => {
    const states = simulate(200, (k) => k > 70 && k % 3 === 0);
    assert.ok(states.includes("DEGRADED"), states.join(","));
    assert.ok(!states.includes("OFFLINE"), states.join(","));
  });
});

Deno.test("linkStats() measures loss from sequence gaps and RTT/jitter from samples", () => {
  const n: Neighbour = newNeighbour({ nodeId: "r2", routerAddress: "10.0.0.2", controlPort: 1 });
  for (let k = 0; k < 20; k++) if (k % 5 !== 2) recordProbeReceived(n, k, timers);
  for (const r of [2, 4, 2, 4]) recordRtt(n, r);
  const s = linkStats(n, timers);
  assert.ok(Math.abs(s.loss! - 0.2) < 1e-9, String(s.loss));
  assert.equal(s.rttMs, 3);
  assert.equal(s.jitterMs, 2);
});

Deno.test("classifyQuality() applies the documented thresholds", () => {
  assert.equal(classifyQuality({ loss: 0, rttMs: 1, jitterMs: 0.5 }), "EXCELLENT");
  assert.equal(classifyQuality({ loss: 0.03, rttMs: 1, jitterMs: 0.5 }), "GOOD");
  assert.equal(classifyQuality({ loss: 0, rttMs: 120, jitterMs: 1 }), "FAIR");
  assert.equal(classifyQuality({ loss: 0.3, rttMs: 1, jitterMs: 1 }), "POOR");
  assert.equal(classifyQuality({ loss: 0.5, rttMs: 1, jitterMs: 1 }), "BAD");
});

Deno.test("isUsable() is true only for ONLINE and DEGRADED", () => {
  const n = newNeighbour({ nodeId: "r2", routerAddress: "10.0.0.2", controlPort: 1 });
  const expect: Record<NeighbourState, boolean> = {
    INITIALIZING: false,
    ONLINE: true,
    DEGRADED: true,
    OFFLINE: false,
  };
  for (const [state, usable] of Object.entries(expect)) {
    n.state = state as NeighbourState;
    assert.equal(isUsable(n), usable);
  }
});
