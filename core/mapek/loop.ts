/**
 * The MAPE-K loop: every cycle (default 1 s, on the agent's scheduler, never overlapping)
 * Monitor → Analyze → Plan → Execute over the incident Knowledge, in one OTel span with a child
 * span per phase. Each new diagnosis opens an incident that records the plan, every action and
 * the verified outcome with its time to recover.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { Config } from "../config/schema.ts";
import { errorMessage } from "../errors.ts";
import type { MeshView } from "../mesh/view.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { withSpan } from "../telemetry/tracing.ts";
import { createOnlineForest, type ForestFit, type OnlineForest } from "./anomaly.ts";
import { createAnalyzer, type Diagnosis, FEATURES } from "./analyze.ts";
import { ebpfCollector } from "./collectors/ebpf.ts";
import { hostCollector } from "./collectors/host.ts";
import { linksCollector } from "./collectors/links.ts";
import { checkService, servicesCollector } from "./collectors/services.ts";
import { createActionRunner, executePlan, type Verifier } from "./execute.ts";
import { type RouteControl, routeControl } from "./executors/route.ts";
import { createSupervisor, type Supervisor } from "./executors/supervisor.ts";
import {
  type Incident,
  type IncidentStore,
  incidentStore,
  metricsSnapshot,
  newIncidentId,
} from "./knowledge.ts";
import { cycleDuration, healingEvents, healingMttr } from "./metrics.ts";
import { type Collector, createMonitor, type Snapshot } from "./monitor.ts";
import type { LinkLoss } from "./neighbourhood.ts";
import { createPlanner, type Recommender } from "./plan.ts";

const log = getLogger(["x0", "mapek"]);

/** What the loop uses from the agent. */
export interface MapekDeps {
  nodeId: string;
  kv: Deno.Kv;
  mesh: MeshView;
  /** When given, the loop runs as the scheduler task "mapek". */
  scheduler?: Scheduler;
  /** Isolation Forest trainer; default: the WASM core. Null disables the forest. */
  forestFit?: ForestFit | null;
  /** Knowledge-base planner hook (core/knowledge; see knowledge_hook.ts). */
  recommend?: Recommender;
  /** Called with every finished incident (e.g. to add it to the knowledge base). */
  onIncident?: (incident: Incident) => void | Promise<void>;
  /** Links measured elsewhere in the mesh, for localisation. */
  remoteLinks?: () => LinkLoss[];
  /** Network namespace of kernel routes the route executor edits (tests). */
  routeNetns?: string;
  /** Extra collectors (tests, adapters). */
  collectors?: Collector[];
  now?: () => number;
}

/** A running loop. */
export interface Mapek {
  store: IncidentStore;
  supervisor: Supervisor;
  routes: RouteControl;
  /** Runs one cycle now; resolves with the incidents it opened. */
  cycle(signal?: AbortSignal): Promise<Incident[]>;
  /** Stops supervised services and frees the forest. */
  stop(): Promise<void>;
}

async function defaultForestFit(trees: number): Promise<ForestFit | null> {
  try {
    const { loadCore } = await import("../../wasm/core.ts");
    const core = await loadCore();
    return (rows) => core.fitForest(rows, { trees, seed: 7 });
  } catch (err) {
    log.warning("Isolation Forest unavailable ({error}); analysing with rules only", {
      error: errorMessage(err),
    });
    return null;
  }
}

/**
 * Builds the loop from the configuration, starts the supervised services and, with a
 * scheduler, schedules the cycle.
 *
 * @param config the agent configuration (mapek and services sections)
 * @param deps agent subsystems
 */
export async function startMapek(config: Config, deps: MapekDeps): Promise<Mapek> {
  const cfg = config.mapek;
  const now = deps.now ?? Date.now;
  const store = incidentStore(deps.kv);
  const supervisor = createSupervisor(config.services, {
    cgroup: cfg.cgroup,
    cgroupRoot: cfg.cgroup_root,
    kv: deps.kv,
  });
  try {
    await supervisor.start();
  } catch (err) {
    log.error("Cannot start supervised services: {error}", { error: errorMessage(err) });
  }
  const routes = routeControl(deps.mesh, {
    netns: deps.routeNetns,
    protocol: config.mesh.route_protocol,
  });

  const host = hostCollector({ cgroup: cfg.cgroup, cgroupRoot: cfg.cgroup_root, now });
  const collectors: Collector[] = [
    host,
    linksCollector(deps.mesh, { now }),
    servicesCollector(config.services, { supervisor, now }),
    ebpfCollector(
      () =>
        config.mesh.interfaces.length
          ? config.mesh.interfaces
          : [...new Set(deps.mesh.peers().flatMap((p) => (p.interface ? [p.interface] : [])))],
      { now },
    ),
    ...(deps.collectors ?? []),
  ];
  const monitor = createMonitor(collectors, { historySize: cfg.history_size, now });

  const fit = deps.forestFit === undefined
    ? await defaultForestFit(cfg.forest_trees)
    : deps.forestFit;
  const forest: OnlineForest | undefined = fit
    ? createOnlineForest(fit, { cols: FEATURES.length, minSamples: cfg.forest_min_samples })
    : undefined;
  const analyzer = createAnalyzer({
    nodeId: deps.nodeId,
    cpuPercent: cfg.cpu_percent,
    memoryPercent: cfg.memory_percent,
    packetLossPercent: cfg.packet_loss_percent,
    anomalyScore: cfg.anomaly_score,
    sustainCycles: cfg.sustain_cycles,
    serviceFailures: cfg.service_failures,
    forest,
    remoteLinks: deps.remoteLinks,
  });
  const planner = createPlanner({
    services: config.services,
    confidenceFloor: cfg.confidence_floor,
    cooldownMs: cfg.cooldown_ms,
    maxActionsPerWindow: cfg.max_actions_per_window,
    actionWindowMs: cfg.action_window_ms,
    dryRun: cfg.dry_run,
    cacheClear: cfg.cache_clear_command.length > 0 || cfg.cache_clear_url !== null,
    isolateLinks: cfg.isolate_links,
    history: (sig) => store.actionStats(sig),
    recommend: deps.recommend,
    now,
  });
  const run = createActionRunner({ config: cfg, services: config.services, supervisor, routes });

  // A separate host reader for re-measurement, so verification does not disturb the deltas
  // the monitor's own host collector keeps.
  const verifyHost = hostCollector({ cgroup: cfg.cgroup, cgroupRoot: cfg.cgroup_root, now });
  const serviceUp = async (name: string) => {
    const svc = config.services.find((s) => s.name === name);
    return svc ? (await checkService(svc, supervisor)).up : false;
  };
  const symptomGone = async (d: Diagnosis): Promise<boolean> => {
    switch (d.type) {
      case "service_down":
        return await serviceUp(d.target.id);
      case "high_cpu":
      case "high_memory": {
        const key = d.type === "high_cpu" ? "cpu_percent" : "memory_percent";
        const limit = d.type === "high_cpu" ? cfg.cpu_percent : cfg.memory_percent;
        const v = verifyHost.collect()[0]?.values[key];
        return v !== undefined && v <= limit;
      }
      case "network_loss":
        return d.target.peer ? await routes.avoids(d.target.peer) : false;
      case "anomaly":
        return true;
    }
  };
  // A restart heals only when the symptom is gone and the restarted service answers again.
  const verify: Verifier = async (d, action) =>
    await symptomGone(d) &&
    (action.kind !== "restart_service" || d.type === "service_down" ||
      await serviceUp(action.target));

  /** Open symptoms: key → incident and the time of its last attempt. */
  const active = new Map<
    string,
    { id: string; outcome: string; at: number; diagnosis: Diagnosis }
  >();
  const keyOf = (d: Diagnosis) => `${d.type}:${d.target.kind}:${d.target.id}`;

  const handle = async (d: Diagnosis, snapshot: Snapshot, signal?: AbortSignal) => {
    const detected = now();
    const incident: Incident = {
      id: newIncidentId(detected),
      node_id: deps.nodeId,
      detected_at: new Date(detected).toISOString(),
      type: d.type,
      target: d.target.id,
      signature: d.signature,
      metrics: metricsSnapshot(snapshot.samples),
      diagnosis: d,
      plan: null,
      actions: [],
      outcome: "open",
      recovered_at: null,
      mttr_s: null,
    };
    await store.create(incident);
    log.info("Incident {id}: {symptom} (confidence {confidence})", {
      id: incident.id,
      symptom: d.symptom,
      confidence: d.confidence,
    });
    const plan = await withSpan("mapek.plan", () => planner.plan(d, snapshot), {
      attributes: { "mapek.type": d.type, "mapek.target": d.target.id },
    });
    await store.update(incident.id, (i) => ({ ...i, plan }));
    let final: Incident;
    if (plan.guard) {
      final = await store.update(incident.id, (i) => ({ ...i, outcome: "suppressed" }));
    } else {
      const result = await withSpan("mapek.execute", () =>
        executePlan(d, plan, {
          run,
          verify,
          verifyTimeoutMs: cfg.verify_timeout_ms,
          signal,
          now,
          beforeAction: (a) => planner.acted(a.target),
          onAction: async (rec) => {
            await store.update(incident.id, (i) => ({ ...i, actions: [...i.actions, rec] }));
          },
        }), { attributes: { "mapek.type": d.type, "mapek.actions": plan.actions.length } });
      const recoveredAt = result.recoveredAt;
      final = await store.update(incident.id, (i) => ({
        ...i,
        outcome: result.outcome,
        recovered_at: recoveredAt === null ? null : new Date(recoveredAt).toISOString(),
        mttr_s: recoveredAt === null ? null : Math.round(recoveredAt - detected) / 1000,
      }));
      if (final.mttr_s !== null) healingMttr.observe({ type: d.type }, final.mttr_s);
    }
    healingEvents.inc({ type: d.type, result: final.outcome });
    log.info("Incident {id} {outcome}: {reason}", {
      id: final.id,
      outcome: final.outcome,
      reason: plan.reason,
    });
    active.set(keyOf(d), { id: final.id, outcome: final.outcome, at: now(), diagnosis: d });
    try {
      await deps.onIncident?.(final);
    } catch (err) {
      log.warning("Incident hook failed for {id}: {error}", {
        id: final.id,
        error: errorMessage(err),
      });
    }
    return final;
  };

  const cycle = (signal?: AbortSignal) =>
    withSpan("mapek.cycle", async (span) => {
      const started = performance.now();
      try {
        const snapshot = await withSpan("mapek.monitor", () => monitor.collect());
        const analysis = await withSpan("mapek.analyze", () => analyzer.analyze(snapshot, monitor));
        span.setAttribute("mapek.diagnoses", analysis.diagnoses.length);
        if (analysis.anomalyScore !== null) {
          span.setAttribute("mapek.anomaly_score", analysis.anomalyScore);
        }
        const seen = new Set(analysis.diagnoses.map(keyOf));
        await releaseCleared(seen);
        const opened: Incident[] = [];
        for (const d of analysis.diagnoses) {
          if (signal?.aborted) {
            break;
          }
          const prev = active.get(keyOf(d));
          // A link moved off and still lossy is mitigated, not a new fault; other symptoms get
          // a new attempt once the cooldown has passed.
          if (prev && d.type === "network_loss" && prev.outcome === "recovered") continue;
          if (prev && now() - prev.at < cfg.cooldown_ms) continue;
          opened.push(await handle(d, snapshot, signal));
        }
        return opened;
      } finally {
        cycleDuration.observe((performance.now() - started) / 1000);
      }
    });

  /** Forgets symptoms that are gone; a link stays mitigated until it is healthy for a while. */
  const releaseCleared = async (seen: Set<string>) => {
    for (const [key, entry] of active) {
      if (seen.has(key)) continue;
      const d = entry.diagnosis;
      if (d.type === "network_loss" && entry.outcome === "recovered" && d.target.peer) {
        const recent = monitor.history("links", d.target.peer).slice(-cfg.sustain_cycles);
        const healthy = recent.length === cfg.sustain_cycles &&
          recent.every((s) => (s.values.packet_loss_percent ?? 100) <= cfg.packet_loss_percent);
        if (!healthy) continue;
        await routes.restore(d.target.peer).catch((err) =>
          log.warning("Cannot restore routes via {peer}: {error}", {
            peer: d.target.peer,
            error: errorMessage(err),
          })
        );
        log.info("Link to {peer} healthy again: routes restored", { peer: d.target.peer });
      }
      active.delete(key);
    }
  };

  // On process exit (Deno.exit after a signal) nothing can be awaited: terminate the children.
  const onUnload = () => supervisor.signalAll("SIGTERM");
  globalThis.addEventListener("unload", onUnload);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    globalThis.removeEventListener("unload", onUnload);
    await supervisor.stop();
    forest?.free();
  };

  if (deps.scheduler) {
    let hooked = false;
    deps.scheduler.add({
      name: "mapek",
      intervalMs: cfg.interval_ms,
      run: async (signal) => {
        if (!hooked) {
          hooked = true;
          // The scheduler aborts this signal when the agent stops: stop the services with it.
          signal.addEventListener("abort", () => void stop(), { once: true });
        }
        if (!stopped) await cycle(signal);
      },
    });
  }
  log.info(
    "MAPE-K loop ready: {services} services ({supervised} supervised), host scope {scope}, forest {forest}",
    {
      services: config.services.length,
      supervised: supervisor.names().length,
      scope: host.scope,
      forest: forest ? "on" : "off",
    },
  );
  return { store, supervisor, routes, cycle, stop };
}
