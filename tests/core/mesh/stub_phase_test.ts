/**
 * The stub phase's end condition: neighbours synced (every heard neighbour usable with a full
 * session, at least one) and the table computed after the latest database exchange installed;
 * otherwise the cap. Real timers for the cap (short), a counter clock for durations.
 */
import assert from "node:assert/strict";
import {
  neighboursSynced,
  startStubPhase,
  type StubEndReason,
  type StubLink,
} from "../../../core/mesh/stub_phase.ts";
import { registry } from "../../../core/telemetry/metrics.ts";

const link = (over: Partial<StubLink> = {}): StubLink => ({
  state: "ONLINE",
  vetoed: false,
  usable: true,
  full: true,
  twoWay: true,
  ...over,
});

async function metricValue(name: string, label = ""): Promise<number> {
  const text = await registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(name) && l.includes(label));
  return line ? Number(line.split(" ").at(-1)) : NaN;
}

Deno.test("neighboursSynced() needs one full adjacency and no heard neighbour left behind", () => {
  assert.equal(neighboursSynced([]), false, "no neighbour: nothing synced yet");
  assert.equal(neighboursSynced([link({ state: null, usable: false, full: false })]), false);
  assert.equal(neighboursSynced([link()]), true);
  assert.equal(neighboursSynced([link(), link({ full: false })]), false, "session not full");
  assert.equal(
    neighboursSynced([link(), link({ twoWay: false })]),
    false,
    "its LSA does not list us yet: our table does not route over it",
  );
  assert.equal(
    neighboursSynced([
      link(),
      link({ state: "INITIALIZING", usable: false, full: false, twoWay: false }),
    ]),
    false,
    "a neighbour still coming up holds the phase",
  );
  assert.equal(
    neighboursSynced([link(), link({ state: "OFFLINE", usable: false, full: false })]),
    true,
    "a dead neighbour does not",
  );
  assert.equal(
    neighboursSynced([link(), link({ vetoed: true, usable: false, full: false })]),
    true,
    "nor one the liveness helper declared down",
  );
  assert.equal(neighboursSynced([link({ state: "DEGRADED" })]), true);
  assert.equal(neighboursSynced([link({ state: null, usable: false, full: false }), link()]), true);
});

Deno.test("property: neighboursSynced() agrees with its definition on random interface sets", () => {
  let seed = 6987;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const states = [null, "INITIALIZING", "ONLINE", "DEGRADED", "OFFLINE"] as const;
  for (let i = 0; i < 2000; i++) {
    const links = Array.from({ length: Math.floor(rand() * 5) }, (): StubLink => {
      const state = states[Math.floor(rand() * states.length)];
      const vetoed = rand() < 0.2;
      const usable = (state === "ONLINE" || state === "DEGRADED") && !vetoed;
      return { state, vetoed, usable, full: usable && rand() < 0.7, twoWay: rand() < 0.8 };
    });
    const heard = links.filter((l) => l.state !== null && l.state !== "OFFLINE" && !l.vetoed);
    const want = heard.length > 0 && heard.every((l) => l.usable && l.full && l.twoWay);
    assert.equal(neighboursSynced(links), want, JSON.stringify(links));
  }
});

Deno.test("stub phase ends on convergence: synced neighbours and the table after the last sync installed", async (t) => {
  let clock = 0;
  const ended: Array<[StubEndReason, number]> = [];
  const phase = startStubPhase(60_000, {
    now: () => clock,
    onEnd: (reason, ms) => ended.push([reason, ms]),
  });
  try {
    await t.step("active from the start, and the gauge says so", async () => {
      assert.equal(phase.active(), true);
      assert.equal(await metricValue("mesh_stub_router"), 1);
    });
    await t.step("nothing installed after a sync: stays", () => {
      phase.check(true);
      assert.equal(phase.active(), true, "no database exchange yet");
      phase.noteSync();
      const before = phase.noteComputed();
      phase.noteSync();
      phase.noteInstalled(before);
      phase.check(true);
      assert.equal(phase.active(), true, "the installed table predates the second exchange");
    });
    await t.step("a table computed after the last sync but not yet installed: stays", () => {
      const token = phase.noteComputed();
      phase.check(true);
      assert.equal(phase.active(), true);
      phase.noteInstalled(token);
      phase.check(false);
      assert.equal(phase.active(), true, "a neighbour is not synced");
    });
    await t.step("installed and neighbours synced: ends once, with its duration", async () => {
      clock = 1234;
      const endedBefore = await metricValue("mesh_stub_phase_total", 'reason="converged"');
      phase.check(true);
      assert.equal(phase.active(), false);
      assert.deepEqual(ended, [["converged", 1234]]);
      phase.check(true);
      assert.equal(ended.length, 1);
      assert.equal(await metricValue("mesh_stub_router"), 0);
      assert.equal(await metricValue("mesh_stub_phase_seconds"), 1.234);
      assert.equal(
        await metricValue("mesh_stub_phase_total", 'reason="converged"'),
        (Number.isNaN(endedBefore) ? 0 : endedBefore) + 1,
      );
    });
  } finally {
    phase.stop();
  }
});

Deno.test("stub phase ends on the cap when convergence never comes", async () => {
  const ended: StubEndReason[] = [];
  const started = performance.now();
  const phase = startStubPhase(80, { onEnd: (reason) => ended.push(reason) });
  try {
    phase.noteSync();
    phase.check(true); // no table installed: not converged
    assert.equal(phase.active(), true);
    while (phase.active() && performance.now() - started < 2000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(ended, ["cap"]);
    assert.ok(performance.now() - started >= 75, "not before the cap");
    phase.noteInstalled(phase.noteComputed());
    phase.check(true);
    assert.deepEqual(ended, ["cap"], "ends once");
  } finally {
    phase.stop();
  }
});

Deno.test("stub phase with a cap of 0 is disabled", () => {
  const ended: StubEndReason[] = [];
  const phase = startStubPhase(0, { onEnd: (reason) => ended.push(reason) });
  assert.equal(phase.active(), false);
  phase.noteSync();
  phase.noteInstalled(phase.noteComputed());
  phase.check(true);
  assert.deepEqual(ended, []);
  phase.stop();
});
