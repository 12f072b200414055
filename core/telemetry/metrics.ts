/**
 * The agent's Prometheus registry. Every subsystem registers its metrics here so /metrics
 * serves one consistent exposition.
 *
 * @module
 */
import client from "prom-client";

/** The process-wide metrics registry (never prom-client's global default). */
export const registry: client.Registry = new client.Registry();

/** prom-client's constructors, re-exported so subsystems import metrics from one place. */
export const { Counter, Gauge, Histogram, Summary } = client;

/**
 * Returns the metric named `name` from the registry, creating it with `create` the first time;
 * lets modules that may be loaded more than once (tests) share one series.
 *
 * @example
 * const c = metric("failover_total", () => new Counter({ name: "failover_total", help: "...", registers: [registry] }));
 */
export function metric<T extends client.Metric>(name: string, create: () => T): T {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as unknown as T;
  return create();
}
