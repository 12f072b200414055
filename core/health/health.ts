/**
 * Health of the agent as the worst of its subsystems' checks. A failing critical subsystem
 * makes the node unhealthy; a failing optional one (eBPF, an external fabric) degrades it.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";

/** Overall or per-subsystem health. */
export type HealthStatus = "ok" | "degraded" | "unhealthy";

/** What one check reports. */
export interface CheckResult {
  ok: boolean;
  /** Why the subsystem is not ok; required when ok is false. */
  reason?: string;
}

/** A subsystem's health check. */
export interface HealthCheck {
  name: string;
  /** Critical subsystems make the node unhealthy when failing; others degrade it. */
  critical: boolean;
  check: () => CheckResult | Promise<CheckResult>;
}

/** The outcome of checking every subsystem. */
export interface HealthReport {
  status: HealthStatus;
  reasons: string[];
}

/** Numeric encoding of a status for the node_health_status gauge (1 ok, 0.5 degraded, 0 unhealthy). */
export function healthValue(status: HealthStatus): number {
  return status === "ok" ? 1 : status === "degraded" ? 0.5 : 0;
}

/** A set of subsystem checks. */
export interface HealthRegistry {
  /** Adds or replaces the check named `check.name`. */
  register(check: HealthCheck): void;
  /** Removes a check. */
  unregister(name: string): void;
  /** Runs every check (a throwing or slow check counts as failing). */
  evaluate(options?: { timeoutMs?: number }): Promise<HealthReport>;
}

/** Creates an empty health registry. */
export function createHealthRegistry(): HealthRegistry {
  const checks = new Map<string, HealthCheck>();
  return {
    register(check) {
      checks.set(check.name, check);
    },
    unregister(name) {
      checks.delete(name);
    },
    async evaluate({ timeoutMs = 1000 } = {}) {
      const results = await Promise.all([...checks.values()].map(async (c) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          const timeout = new Promise<CheckResult>((resolve) => {
            timer = setTimeout(
              () => resolve({ ok: false, reason: `check timed out after ${timeoutMs} ms` }),
              timeoutMs,
            );
          });
          return { c, r: await Promise.race([Promise.resolve(c.check()), timeout]) };
        } catch (err) {
          return { c, r: { ok: false, reason: errorMessage(err) } };
        } finally {
          clearTimeout(timer);
        }
      }));
      let status: HealthStatus = "ok";
      const reasons: string[] = [];
      for (const { c, r } of results) {
        if (r.ok) continue;
        reasons.push(`${c.name}: ${r.reason ?? "failing"}`);
        if (c.critical) status = "unhealthy";
        else if (status === "ok") status = "degraded";
      }
      return { status, reasons };
    },
  };
}
