/**
 * `deno task bench:healing`: injects >= 50 faults (CPU hog, memory leak, killed service, lossy
 * link) into a netns router with its own cgroup and lets the MAPE-K loop heal them; reports
 * recovery rate and MTTR p50/p95 per fault kind (from injection to verified recovery, and from
 * detection to recovery), then counts actions during a window of normal operation (default
 * 5 minutes). Baseline in the same run: a plain watchdog (restart a service whose health check
 * fails, polled every second, no diagnosis) on the same killed-service faults — the only kind
 * it can heal at all. Writes bench/results/healing.json; the last line is that JSON.
 *
 * Environment: X0_BENCH_FAULTS (default 52), X0_BENCH_NORMAL_S (default 300).
 *
 * @module
 */
import { checkService } from "../core/mapek/collectors/services.ts";
import {
  EXPECTED_TYPE,
  type FaultKind,
  type Rig,
  rigUp,
} from "../tests/core/mapek/fixtures/healing_rig.ts";
import { labMissing } from "../tests/core/mapek/fixtures/router_lab.ts";
import { configSchema } from "../core/config/schema.ts";

const FAULTS = Number(Deno.env.get("X0_BENCH_FAULTS") ?? 52);
const NORMAL_S = Number(Deno.env.get("X0_BENCH_NORMAL_S") ?? 300);
const BASELINE_FAULTS = Number(Deno.env.get("X0_BENCH_BASELINE_FAULTS") ?? 8);
const COOLDOWN_MS = 2000;
const KINDS: FaultKind[] = ["service_kill", "cpu_hog", "memory_hog", "lossy_link"];

function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return Math.round((s[lo] + (s[hi] - s[lo]) * (pos - lo)) * 1000) / 1000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => console.error(`[bench:healing] ${msg}`);

const missing = await labMissing();
if (missing) {
  console.error(`Cannot run bench:healing: needs ${missing}`);
  Deno.exit(1);
}

// Faults arrive here at about 11 per minute, above the default guard of 10 actions per minute;
// the bench raises the guard (and reports it) and also waits past any guard that still holds.
const MAX_ACTIONS = 30;
const rig: Rig = await rigUp({
  mapek: { cooldown_ms: COOLDOWN_MS, max_actions_per_window: MAX_ACTIONS },
});
const perKind = Object.fromEntries(KINDS.map((k) => [k, {
  faults: 0,
  recovered: 0,
  wrong: 0,
  mttrInject: [] as number[],
  mttrDetect: [] as number[],
}]));
let normalActions: string[] = [];
const baseline = { faults: 0, recovered: 0, mttr: [] as number[] };
try {
  // Warm-up: let the forest see healthy cycles before the first fault.
  await sleep(25_000);
  for (let i = 0; i < FAULTS; i++) {
    const kind = KINDS[i % KINDS.length];
    const service = Math.floor(i / KINDS.length) % 2 === 0 ? "alpha" : "beta";
    const stats = perKind[kind];
    stats.faults++;
    const { at } = await rig.inject(kind, service);
    const inc = await rig.waitIncident(EXPECTED_TYPE[kind], at, 60_000, { pastGuards: true });
    const ok = inc?.outcome === "recovered";
    const right = ok &&
      (kind === "lossy_link"
        ? inc!.diagnosis.target.kind === "link" && inc!.diagnosis.target.peer === "r2"
        : kind === "service_kill"
        ? inc!.target === service
        : inc!.actions.at(-1)?.target === service);
    if (ok && right) {
      stats.recovered++;
      stats.mttrInject.push((Date.parse(inc!.recovered_at!) - at) / 1000);
      stats.mttrDetect.push(inc!.mttr_s!);
    } else if (ok) {
      stats.wrong++;
    }
    log(
      `${i + 1}/${FAULTS} ${kind} on ${kind === "lossy_link" ? "r1|r2" : service}: ${
        inc
          ? `${inc.outcome} via ${inc.actions.map((a) => `${a.kind}:${a.result}`).join(",")}`
          : "no incident"
      }${ok ? ` in ${((Date.parse(inc!.recovered_at!) - at) / 1000).toFixed(2)} s` : ""}`,
    );
    if (!ok || !right) {
      // Put the rig back so the next fault starts clean.
      for (const s of ["alpha", "beta"]) await rig.mapek.supervisor.restart(s).catch(() => {});
    }
    await rig.clear(kind);
    await sleep(COOLDOWN_MS + 500);
    await rig.waitHealthy();
  }

  log(`normal window: ${NORMAL_S} s without faults`);
  const since = Date.now();
  await sleep(NORMAL_S * 1000);
  normalActions = (await rig.actionsSince(since)).map((i) => `${i.type}:${i.target}`);

  // Baseline: the MAPE-K loop stops (and with it its services, which the watchdog restarts
  // under the same supervisor); a watchdog restarts failed services.
  await rig.scheduler.stop(10_000);
  for (const s of rig.services) await rig.mapek.supervisor.restart(s.name);
  await sleep(2000);
  const services = configSchema.parse({
    services: rig.services.map((s) => ({ name: s.name, http_url: `${s.url}/health` })),
  }).services;
  for (let i = 0; i < BASELINE_FAULTS; i++) {
    const svc = services[i % services.length];
    await sleep(500);
    const pid = rig.mapek.supervisor.status(svc.name)!.pid!;
    const at = Date.now();
    Deno.kill(pid, "SIGKILL");
    baseline.faults++;
    const deadline = at + 40_000;
    let restarted = false;
    // The watchdog ticks once a second, like the loop, and restarts on a failed check.
    while (Date.now() < deadline) {
      await sleep(1000);
      if (!restarted && !(await checkService(svc, rig.mapek.supervisor)).up) {
        await rig.mapek.supervisor.restart(svc.name);
        restarted = true;
      }
      if (restarted && (await checkService(svc, rig.mapek.supervisor)).up) {
        baseline.recovered++;
        baseline.mttr.push((Date.now() - at) / 1000);
        break;
      }
    }
  }
} finally {
  await rig.mapek.supervisor.stop();
  await rig.stop();
}

const by = <T>(f: (k: FaultKind) => T) => Object.fromEntries(KINDS.map((k) => [k, f(k)]));
const totalFaults = KINDS.reduce((a, k) => a + perKind[k].faults, 0);
const totalRecovered = KINDS.reduce((a, k) => a + perKind[k].recovered, 0);
const serviceP50 = quantile(perKind.service_kill.mttrInject, 0.5);
const baselineP50 = quantile(baseline.mttr, 0.5);
const result = {
  bench: "healing",
  at: new Date().toISOString(),
  interval_ms: 1000,
  cooldown_ms: COOLDOWN_MS,
  max_actions_per_window: MAX_ACTIONS,
  faults: by((k) => perKind[k].faults),
  recovered: by((k) => perKind[k].recovered),
  recovery_rate: by((k) =>
    perKind[k].faults ? Math.round((perKind[k].recovered / perKind[k].faults) * 1000) / 1000 : null
  ),
  wrong_target: by((k) => perKind[k].wrong),
  faults_total: totalFaults,
  recovered_total: totalRecovered,
  recovery_rate_total: Math.round((totalRecovered / Math.max(1, totalFaults)) * 1000) / 1000,
  false_actions: normalActions.length,
  false_action_targets: normalActions,
  normal_window_s: NORMAL_S,
  mttr_p50_s: by((k) => quantile(perKind[k].mttrInject, 0.5)),
  mttr_p95_s: by((k) => quantile(perKind[k].mttrInject, 0.95)),
  mttr_detect_p50_s: by((k) => quantile(perKind[k].mttrDetect, 0.5)),
  mttr_detect_p95_s: by((k) => quantile(perKind[k].mttrDetect, 0.95)),
  baseline_watchdog: {
    faults: baseline.faults,
    recovered: baseline.recovered,
    service_kill_mttr_p50_s: baselineP50,
    service_kill_mttr_p95_s: quantile(baseline.mttr, 0.95),
  },
  service_kill_mttr_p50_vs_watchdog: serviceP50 !== null && baselineP50
    ? Math.round((serviceP50 / baselineP50) * 1000) / 1000
    : null,
};
console.log(
  `faults ${totalFaults}, recovered ${totalRecovered} (${
    (result.recovery_rate_total * 100).toFixed(1)
  } %), false actions ${result.false_actions} in ${NORMAL_S} s`,
);
for (const k of KINDS) {
  console.log(
    `  ${k.padEnd(13)} ${perKind[k].recovered}/${perKind[k].faults}  MTTR p50 ${
      result.mttr_p50_s[k]
    } s  p95 ${result.mttr_p95_s[k]} s (from injection)`,
  );
}
console.log(
  `  service_kill MTTR p50 vs watchdog baseline (${baselineP50} s): ${result.service_kill_mttr_p50_vs_watchdog}x`,
);
const json = JSON.stringify(result);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/healing.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
console.log(json);
