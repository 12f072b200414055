/**
 * The MAPE-K loop's Prometheus metrics.
 *
 * @module
 */
import { Counter, Histogram, metric, registry } from "../telemetry/metrics.ts";

/** Duration of one Monitor→Analyze→Plan→Execute cycle. */
export const cycleDuration = metric("mape_k_cycle_duration_seconds", () =>
  new Histogram({
    name: "mape_k_cycle_duration_seconds",
    help: "Duration of one MAPE-K cycle in seconds",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  }));

/** Incidents by diagnosis type and outcome. */
export const healingEvents = metric("self_healing_events_total", () =>
  new Counter({
    name: "self_healing_events_total",
    help:
      "Self-healing incidents by diagnosis type and result (recovered, failed, no_action, dry_run, suppressed)",
    labelNames: ["type", "result"] as const,
    registers: [registry],
  }));

/** Time from detection to verified recovery. */
export const healingMttr = metric("self_healing_mttr_seconds", () =>
  new Histogram({
    name: "self_healing_mttr_seconds",
    help: "Time from detection to verified recovery in seconds, by diagnosis type",
    labelNames: ["type"] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300],
    registers: [registry],
  }));
