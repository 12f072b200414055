/**
 * `deno task bench:healing`: on the shared netns testbed (a triangle r1–r2–r3 of real agents,
 * each router in its own cgroup: 0.5 core, 512 MiB, weight 8), injects >= 50 faults (CPU hog,
 * memory leak, killed service, lossy link) into r1 and lets its agent's MAPE-K loop heal them;
 * reports recovery rate and MTTR p50/p95 per fault kind (from injection to verified recovery,
 * and from detection to recovery). A fault counts as recovered when the loop heals it within
 * 60 s; a failed first attempt healed by the retry after the cooldown is included (its time is
 * in the MTTR) and counted in `failed_attempts`. Also reported: actions the other routers took
 * meanwhile, and actions on any router during a window of normal operation (default 5 minutes).
 * Baseline in the same run: a plain watchdog (restart a service whose health check fails,
 * polled every second, no diagnosis) on the same killed-service faults, with its service in
 * r1's namespace and cgroup — the only kind it can heal at all. Writes
 * bench/results/healing.json; the last line is that JSON.
 *
 * Environment: X0_BENCH_FAULTS (default 52), X0_BENCH_NORMAL_S (default 300),
 * X0_BENCH_BASELINE_FAULTS (default 8).
 *
 * @module
 */
import {
  EXPECTED_TYPE,
  type FaultKind,
  RIG_CGROUP,
  rigMissing,
  type TestbedRig,
  testbedRigUp,
} from "../tests/core/mapek/fixtures/testbed_rig.ts";
import { execInRouter } from "../tests/testbed/testbed.ts";

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

const missing = await rigMissing();
if (missing) {
  console.error(`Cannot run bench:healing: needs ${missing}`);
  Deno.exit(1);
}

// Faults arrive here at about 11 per minute, above the default guard of 10 actions per minute;
// the bench raises the guard (and reports it) and also waits past any guard that still holds.
const MAX_ACTIONS = 30;
const rig: TestbedRig = await testbedRigUp({
  mapek: { cooldown_ms: COOLDOWN_MS, max_actions_per_window: MAX_ACTIONS },
});
const r1 = rig.target;
const perKind = Object.fromEntries(KINDS.map((k) => [k, {
  faults: 0,
  recovered: 0,
  wrong: 0,
  mttrInject: [] as number[],
  mttrDetect: [] as number[],
  failedAttempts: 0,
}]));
let normalActions: string[] = [];
const otherActions: string[] = [];
const baseline = { faults: 0, recovered: 0, mttr: [] as number[] };
const faultsStarted = Date.now();
try {
  // Warm-up: let the forest see healthy cycles before the first fault.
  await sleep(25_000);
  for (let i = 0; i < FAULTS; i++) {
    const kind = KINDS[i % KINDS.length];
    const service = Math.floor(i / KINDS.length) % 2 === 0 ? "alpha" : "beta";
    const stats = perKind[kind];
    stats.faults++;
    const { at } = await rig.inject(kind, service);
    // Recovery is the loop healing the fault within a minute; an attempt that failed (and the
    // retry after the cooldown) counts in the MTTR, and is reported as a failed attempt.
    const inc = await rig.waitIncident(r1, EXPECTED_TYPE[kind], at, 60_000, {
      pastGuards: true,
      pastFailures: true,
    });
    const attempts = (await rig.incidents(r1, at)).filter((i) =>
      i.type === EXPECTED_TYPE[kind] && i.outcome === "failed" &&
      (!inc || Date.parse(i.detected_at) < Date.parse(inc.detected_at))
    );
    stats.failedAttempts += attempts.length;
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
      }${ok ? ` in ${((Date.parse(inc!.recovered_at!) - at) / 1000).toFixed(2)} s` : ""}${
        attempts.length
          ? ` after ${attempts.length} failed attempt(s): ${
            attempts.flatMap((i) => i.actions.map((a) => a.detail)).join(" | ")
          }`
          : ""
      }${
        inc && !ok ? `: ${inc.actions.map((a) => a.detail).join(" | ") || inc.plan?.reason}` : ""
      }`,
    );
    if (!ok || !right) {
      // Put the router back so the next fault starts clean: its agent restarts killed services.
      for (const s of ["alpha", "beta"]) {
        const pid = await rig.servicePid(r1, s);
        if (pid) Deno.kill(pid, "SIGKILL");
      }
      await sleep(COOLDOWN_MS + 3000);
    }
    await rig.clear(kind);
    await sleep(COOLDOWN_MS + 500);
    await rig.waitHealthy();
  }

  // Actions the other routers took while r1 was being broken: the lossy link is seen from both
  // ends (r2 moving its own routes off it is right); anything else is a false action.
  for (const a of await rig.actionsSince(faultsStarted)) {
    if (a.router === r1.name) continue;
    if (a.router === rig.peer.name && a.incident.type === "network_loss") continue;
    otherActions.push(`${a.router}:${a.incident.type}:${a.incident.target}`);
  }

  log(`normal window: ${NORMAL_S} s without faults`);
  const since = Date.now();
  await sleep(NORMAL_S * 1000);
  normalActions = (await rig.actionsSince(since)).map((a) =>
    `${a.router}:${a.incident.type}:${a.incident.target}`
  );

  // Baseline: a watchdog in this process health-checks a third service, started in r1's
  // namespace and cgroup (not known to the agent), and restarts it when a check fails.
  const port = rig.services.at(-1)!.port + 1;
  const url = `${r1.api.replace(/:\d+$/, "")}:${port}/health`;
  const service = new URL("../tests/core/mapek/fixtures/fault_service.ts", import.meta.url)
    .pathname;
  const startGamma = () =>
    execInRouter(rig.state, r1.name, [Deno.execPath(), "run", "--allow-net", service, `${port}`], {
      stdout: "null",
      stderr: "null",
    });
  const healthy = async () => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(500) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  };
  let gamma = startGamma();
  try {
    for (let i = 0; i < 150 && !(await healthy()); i++) await sleep(100);
    for (let i = 0; i < BASELINE_FAULTS; i++) {
      await sleep(500);
      const at = Date.now();
      gamma.kill("SIGKILL");
      await gamma.status;
      baseline.faults++;
      const deadline = at + 40_000;
      let restarted = false;
      // The watchdog ticks once a second, like the loop, and restarts on a failed check.
      while (Date.now() < deadline) {
        await sleep(1000);
        if (!restarted && !(await healthy())) {
          gamma = startGamma();
          restarted = true;
        }
        if (restarted && (await healthy())) {
          baseline.recovered++;
          baseline.mttr.push((Date.now() - at) / 1000);
          break;
        }
      }
    }
  } finally {
    try {
      gamma.kill("SIGKILL");
    } catch { /* gone */ }
    await gamma.status;
  }
} finally {
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
  testbed: "ring:3 netns testbed, one agent per router, faults in r1",
  router_cgroup: RIG_CGROUP,
  interval_ms: 1000,
  cooldown_ms: COOLDOWN_MS,
  max_actions_per_window: MAX_ACTIONS,
  faults: by((k) => perKind[k].faults),
  recovered: by((k) => perKind[k].recovered),
  recovery_rate: by((k) =>
    perKind[k].faults ? Math.round((perKind[k].recovered / perKind[k].faults) * 1000) / 1000 : null
  ),
  wrong_target: by((k) => perKind[k].wrong),
  failed_attempts: by((k) => perKind[k].failedAttempts),
  faults_total: totalFaults,
  recovered_total: totalRecovered,
  recovery_rate_total: Math.round((totalRecovered / Math.max(1, totalFaults)) * 1000) / 1000,
  false_actions: normalActions.length,
  false_action_targets: normalActions,
  other_router_actions: otherActions.length,
  other_router_action_targets: otherActions,
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
  } %), false actions ${result.false_actions} in ${NORMAL_S} s, other routers acted ${otherActions.length}x`,
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
