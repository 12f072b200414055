/**
 * Plan phase: policies map a diagnosis to an escalation chain of actions (restart service,
 * clear cache, switch route to backup, isolate link, no action), reordered so the action that
 * recovered this signature before comes first; guards then decide whether to act at all:
 * confidence floor, per-target cooldown, max actions per window, dry-run.
 *
 * @module
 */
import type { ServiceConfig } from "../config/schema.ts";
import type { Diagnosis } from "./analyze.ts";
import type { ActionStats } from "./knowledge.ts";
import type { Snapshot } from "./monitor.ts";

/** What the loop can do. */
export type ActionKind =
  | "restart_service"
  | "clear_cache"
  | "switch_route"
  | "isolate_link"
  | "no_action";

/** One step of a plan. */
export interface PlannedAction {
  kind: ActionKind;
  /** Service name, neighbour id, or node id. */
  target: string;
  reason: string;
}

/** Why a plan does not act. */
export type Guard = "confidence_floor" | "cooldown" | "rate_limit" | null;

/** The plan for one diagnosis. */
export interface Plan {
  /** Escalation chain: the next action is tried when the previous one did not heal. */
  actions: PlannedAction[];
  /** Where the order came from. */
  source: "policy" | "history" | "knowledge";
  /** The guard that stopped the plan, null when it may act. */
  guard: Guard;
  dry_run: boolean;
  reason: string;
}

/** A knowledge-base recommendation (core/knowledge's planner hook). */
export interface Recommendation {
  action: string;
  confidence: number;
}

/** Asks the knowledge base what worked for a similar symptom. */
export type Recommender = (
  symptom: string,
  signature: Record<string, number>,
) => Promise<Recommendation | null>;

/** Planner settings. */
export interface PlannerOptions {
  services: ServiceConfig[];
  confidenceFloor: number;
  cooldownMs: number;
  maxActionsPerWindow: number;
  actionWindowMs: number;
  dryRun: boolean;
  /** Whether a cache-clear command or hook is configured. */
  cacheClear: boolean;
  /** Whether isolate_link may follow a route switch that did not heal. */
  isolateLinks?: boolean;
  /** Past outcomes per action for a signature (the incident store). */
  history?: (signature: string) => Promise<Map<ActionKind, ActionStats>>;
  recommend?: Recommender;
  now?: () => number;
}

/** The planner. */
export interface Planner {
  /** Plans the response to a diagnosis given the cycle's snapshot. */
  plan(diagnosis: Diagnosis, snapshot: Snapshot): Promise<Plan>;
  /** Records that an action was taken on a target (cooldown and rate window). */
  acted(target: string): void;
}

/**
 * Share of the node's CPU use below which a service is not taken for the cause of High CPU:
 * restarting an idle service does not relieve a CPU hogged by something the agent does not run.
 */
export const CPU_CULPRIT_SHARE = 0.25;

/**
 * Cores the node is using now, from the host sample: cpu_percent of its quota (cgroup mode,
 * `cpu_limit_cores`) or of all CPUs (`cpus`); undefined when the sample does not say.
 */
function nodeCores(snapshot: Snapshot): number | undefined {
  const host = snapshot.samples.find((s) => s.collector === "host")?.values;
  const cores = host?.cpu_limit_cores ?? host?.cpus;
  if (host?.cpu_percent === undefined || cores === undefined) return undefined;
  return (host.cpu_percent / 100) * cores;
}

/** The policy chain for a diagnosis, before history and guards. */
export function policyChain(
  diagnosis: Diagnosis,
  snapshot: Snapshot,
  options: Pick<PlannerOptions, "services" | "cacheClear" | "isolateLinks">,
): PlannedAction[] {
  const restartable = new Set(
    options.services.filter((s) => s.restart !== "none").map((s) => s.name),
  );
  const top = (key: string) => {
    const candidates = snapshot.samples.filter((s) =>
      s.collector === "services" && restartable.has(s.target) && s.values[key] !== undefined
    );
    candidates.sort((a, b) => b.values[key] - a.values[key]);
    return candidates[0]?.target;
  };
  const none = (reason: string): PlannedAction[] => [{
    kind: "no_action",
    target: diagnosis.target.id,
    reason,
  }];
  switch (diagnosis.type) {
    case "service_down":
      return restartable.has(diagnosis.target.id)
        ? [{
          kind: "restart_service",
          target: diagnosis.target.id,
          reason: "service failed its checks",
        }]
        : none("service has no restart method");
    case "high_cpu": {
      const svc = top("cpu_percent");
      const used = nodeCores(snapshot);
      const svcCores =
        (snapshot.samples.find((s) => s.collector === "services" && s.target === svc)?.values
          .cpu_percent ?? 0) / 100;
      if (svc && used !== undefined && used > 0 && svcCores / used < CPU_CULPRIT_SHARE) {
        return none(
          `no restartable service is the cause: ${svc} uses ${
            Math.round((svcCores / used) * 100)
          } % of the node's CPU`,
        );
      }
      return svc
        ? [{ kind: "restart_service", target: svc, reason: "highest CPU consumer" }]
        : none("no restartable service to relieve CPU");
    }
    case "high_memory": {
      const chain: PlannedAction[] = [];
      if (options.cacheClear) {
        chain.push({
          kind: "clear_cache",
          target: diagnosis.target.id,
          reason: "free cache memory",
        });
      }
      const svc = top("rss_bytes");
      if (svc) {
        chain.push({ kind: "restart_service", target: svc, reason: "largest resident memory" });
      }
      return chain.length ? chain : none("no cache hook and no restartable service");
    }
    case "network_loss": {
      const peer = diagnosis.target.peer;
      if (diagnosis.target.kind === "node" || !peer) {
        return none("loss on every link of this node: not a link fault");
      }
      const chain: PlannedAction[] = [
        { kind: "switch_route", target: peer, reason: "move routes off the lossy link to backups" },
      ];
      if (options.isolateLinks) {
        chain.push({ kind: "isolate_link", target: peer, reason: "stop using the lossy link" });
      }
      return chain;
    }
    case "anomaly":
      return none("anomaly without a matching rule: observe only");
  }
}

/**
 * Creates a planner.
 *
 * @param options policies' inputs, guards, history and knowledge hooks
 */
export function createPlanner(options: PlannerOptions): Planner {
  const now = options.now ?? Date.now;
  const lastAction = new Map<string, number>();
  let window: number[] = [];

  return {
    async plan(diagnosis, snapshot) {
      let actions = policyChain(diagnosis, snapshot, options);
      let source: Plan["source"] = "policy";
      const reasons: string[] = [];
      if (actions.length > 1 && options.history) {
        const stats = await options.history(diagnosis.signature);
        const rate = (k: ActionKind) => {
          const s = stats.get(k);
          return s && s.success > 0 ? s.success / (s.success + s.failure) : 0;
        };
        const best = [...actions].sort((a, b) => rate(b.kind) - rate(a.kind))[0];
        if (rate(best.kind) > rate(actions[0].kind)) {
          actions = [best, ...actions.filter((a) => a !== best)];
          source = "history";
          reasons.push(`${best.kind} recovered ${diagnosis.signature} before`);
        }
      }
      if (source === "policy" && actions.length > 1 && options.recommend) {
        const rec = await options.recommend(
          diagnosis.symptom,
          (diagnosis.evidence.metrics ?? {}) as Record<string, number>,
        ).catch(() => null);
        const pick = rec && rec.confidence >= options.confidenceFloor
          ? actions.find((a) => a.kind === rec.action)
          : undefined;
        if (pick && pick !== actions[0]) {
          actions = [pick, ...actions.filter((a) => a !== pick)];
          source = "knowledge";
          reasons.push(`knowledge base recommends ${pick.kind} (${rec!.confidence})`);
        }
      }
      const plan: Plan = { actions, source, guard: null, dry_run: options.dryRun, reason: "" };
      const acting = actions.some((a) => a.kind !== "no_action");
      if (acting) {
        const t = now();
        window = window.filter((w) => t - w < options.actionWindowMs);
        const last = lastAction.get(actions[0].target);
        if (diagnosis.confidence < options.confidenceFloor) {
          plan.guard = "confidence_floor";
          reasons.push(`confidence ${diagnosis.confidence} below floor ${options.confidenceFloor}`);
        } else if (last !== undefined && t - last < options.cooldownMs) {
          plan.guard = "cooldown";
          reasons.push(
            `${actions[0].target} acted on ${t - last} ms ago (cooldown ${options.cooldownMs} ms)`,
          );
        } else if (window.length >= options.maxActionsPerWindow) {
          plan.guard = "rate_limit";
          reasons.push(`${window.length} actions in the last ${options.actionWindowMs} ms`);
        }
      }
      reasons.unshift(actions.map((a) => `${a.kind}(${a.target})`).join(" -> "));
      if (plan.dry_run) reasons.push("dry run: nothing is executed");
      plan.reason = reasons.join("; ");
      return plan;
    },
    acted(target) {
      const t = now();
      lastAction.set(target, t);
      window.push(t);
    },
  };
}
