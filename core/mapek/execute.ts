/**
 * Execute phase: carries out a plan's actions for real (supervisor, systemd, Kubernetes, cache
 * hook, route switch), re-measures after each one until the symptom is gone or the verify
 * timeout passes, and escalates to the next action of the chain when it is not.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { MapekConfig, ServiceConfig } from "../config/schema.ts";
import { errorMessage, NotFoundError, UnavailableError } from "../errors.ts";
import type { Diagnosis } from "./analyze.ts";
import { clearCache } from "./executors/cache.ts";
import { deletePod } from "./executors/kubernetes.ts";
import type { RouteControl } from "./executors/route.ts";
import type { Supervisor } from "./executors/supervisor.ts";
import { restartUnit } from "./executors/systemd.ts";
import type { ActionRecord } from "./knowledge.ts";
import type { Plan, PlannedAction } from "./plan.ts";

const log = getLogger(["x0", "mapek", "execute"]);

/** Carries out one action; returns what was done, throws when it could not be done. */
export type ActionRunner = (action: PlannedAction) => Promise<string>;

/** True when the diagnosed symptom is gone after `action`. */
export type Verifier = (diagnosis: Diagnosis, action: PlannedAction) => Promise<boolean>;

/** What the real executors need. */
export interface ExecutorDeps {
  config: MapekConfig;
  services: ServiceConfig[];
  supervisor?: Supervisor;
  routes?: RouteControl;
}

/**
 * The action runner over the real executors.
 *
 * @param deps configuration, supervisor and route control
 */
export function createActionRunner(deps: ExecutorDeps): ActionRunner {
  const { config } = deps;
  return async (action) => {
    switch (action.kind) {
      case "restart_service": {
        const svc = deps.services.find((s) => s.name === action.target);
        if (!svc) throw new NotFoundError(`No such service: ${action.target}`);
        switch (svc.restart) {
          case "supervisor": {
            if (!deps.supervisor?.status(svc.name)) {
              throw new UnavailableError(`Service ${svc.name} is not supervised (no command)`);
            }
            const p = await deps.supervisor.restart(svc.name);
            return `restarted ${svc.name} as pid ${p.pid}`;
          }
          case "systemd":
            return await restartUnit(svc.systemd_unit ?? `${svc.name}.service`, {
              systemctl: config.systemctl,
            });
          case "kubernetes":
            return await deletePod(svc.kubernetes_pod ?? svc.name, {
              apiUrl: config.kubernetes_api,
              namespace: config.kubernetes_namespace,
              tokenPath: config.kubernetes_token_path,
              caPath: config.kubernetes_ca_path,
            });
          case "none":
            throw new UnavailableError(`Service ${svc.name} has no restart method`);
        }
        break;
      }
      case "clear_cache":
        return await clearCache({
          command: config.cache_clear_command,
          url: config.cache_clear_url,
        });
      case "switch_route":
        if (!deps.routes) throw new UnavailableError("No route control: the node has no mesh");
        return await deps.routes.switchToBackup(action.target);
      case "isolate_link":
        if (!deps.routes) throw new UnavailableError("No route control: the node has no mesh");
        return await deps.routes.isolate(action.target);
      case "no_action":
        return "no action";
    }
  };
}

/** The outcome of executing a plan. */
export interface ExecuteResult {
  outcome: "recovered" | "failed" | "no_action" | "dry_run";
  actions: ActionRecord[];
  /** Epoch ms when recovery was verified. */
  recoveredAt: number | null;
}

/** Options of executePlan. */
export interface ExecuteOptions {
  run: ActionRunner;
  verify: Verifier;
  verifyTimeoutMs: number;
  /** Time between re-measurements. */
  pollMs?: number;
  /** Called after each action (to persist progress), and before it for rate accounting. */
  onAction?: (record: ActionRecord) => Promise<void> | void;
  beforeAction?: (action: PlannedAction) => void;
  signal?: AbortSignal;
  now?: () => number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Executes a plan's chain until one action is verified to have healed the symptom.
 *
 * @param diagnosis what is being healed
 * @param plan the chain (unguarded plans only; guarded ones are not executed)
 * @param options runner, verifier, timeouts and progress hook
 */
export async function executePlan(
  diagnosis: Diagnosis,
  plan: Plan,
  options: ExecuteOptions,
): Promise<ExecuteResult> {
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 200;
  const records: ActionRecord[] = [];
  const acting = plan.actions.filter((a) => a.kind !== "no_action");
  if (acting.length === 0) return { outcome: "no_action", actions: records, recoveredAt: null };
  for (const action of acting) {
    if (options.signal?.aborted) break;
    const started = now();
    if (plan.dry_run) {
      const rec: ActionRecord = {
        kind: action.kind,
        target: action.target,
        started_at: iso(started),
        finished_at: iso(started),
        result: "dry_run",
        detail: `would ${action.kind.replace("_", " ")} ${action.target}: ${action.reason}`,
      };
      records.push(rec);
      await options.onAction?.(rec);
      continue;
    }
    options.beforeAction?.(action);
    let detail: string;
    let result: ActionRecord["result"];
    try {
      detail = await options.run(action);
      const deadline = now() + options.verifyTimeoutMs;
      let healed = false;
      while (!options.signal?.aborted) {
        healed = await options.verify(diagnosis, action).catch(() => false);
        if (healed || now() >= deadline) break;
        await new Promise((r) => setTimeout(r, pollMs));
      }
      result = healed ? "success" : "failure";
      if (!healed) detail += `; symptom still present after ${options.verifyTimeoutMs} ms`;
    } catch (err) {
      result = "error";
      detail = errorMessage(err);
      log.warning("Action {kind} on {target} failed: {error}", {
        kind: action.kind,
        target: action.target,
        error: detail,
      });
    }
    const finished = now();
    const rec: ActionRecord = {
      kind: action.kind,
      target: action.target,
      started_at: iso(started),
      finished_at: iso(finished),
      result,
      detail,
    };
    records.push(rec);
    await options.onAction?.(rec);
    if (result === "success") {
      return { outcome: "recovered", actions: records, recoveredAt: finished };
    }
  }
  return { outcome: plan.dry_run ? "dry_run" : "failed", actions: records, recoveredAt: null };
}
