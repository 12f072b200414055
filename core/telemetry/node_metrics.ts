/**
 * Node-level gauges: health and uptime.
 *
 * @module
 */
import { Gauge, metric, registry } from "./metrics.ts";

/** 1 ok, 0.5 degraded, 0 unhealthy; updated by health checks. */
export const nodeHealthStatus = metric("node_health_status", () =>
  new Gauge({
    name: "node_health_status",
    help: "Node health: 1 ok, 0.5 degraded, 0 unhealthy",
    registers: [registry],
  }));

/**
 * Registers node_uptime_seconds, read at scrape time from the agent's start.
 *
 * @param startedAt performance.now() at agent start
 */
export function registerUptime(startedAt: number): void {
  const existing = registry.getSingleMetric("node_uptime_seconds");
  if (existing) registry.removeSingleMetric("node_uptime_seconds");
  new Gauge({
    name: "node_uptime_seconds",
    help: "Seconds since the agent started",
    registers: [registry],
    collect() {
      this.set((performance.now() - startedAt) / 1000);
    },
  });
}
