/**
 * Test inputs for the analyzer and planner: a collector that replays scripted readings through
 * the real monitor (the readings are the input under test, not a stand-in for a subsystem).
 *
 * @module
 */
import {
  type Collector,
  createMonitor,
  type Monitor,
  type Sample,
} from "../../../core/mapek/monitor.ts";

/** One cycle's readings: host values, link loss per peer, service up/exited per name. */
export interface Reading {
  host?: Record<string, number>;
  links?: Record<string, number>;
  /** Neighbours the mesh reports OFFLINE. */
  offline?: string[];
  services?: Record<
    string,
    { up: 0 | 1; exited?: 0 | 1; cpu_percent?: number; rss_bytes?: number }
  >;
}

/** A monitor fed by scripted readings; `next(reading)` runs one collection. */
export function scriptedMonitor(): {
  monitor: Monitor;
  next: (r: Reading) => ReturnType<Monitor["collect"]>;
} {
  let current: Reading = {};
  let t = 1_700_000_000_000;
  const collector = (kind: Sample["collector"], build: (r: Reading) => Sample[]): Collector => ({
    kind,
    collect: () => build(current),
  });
  const monitor = createMonitor([
    collector(
      "host",
      (r) => (r.host ? [{ collector: "host", target: "node", at: t, values: r.host }] : []),
    ),
    collector("links", (r) =>
      Object.entries(r.links ?? {}).map(([peer, loss]) => ({
        collector: "links" as const,
        target: peer,
        at: t,
        values: { packet_loss_percent: loss, online: r.offline?.includes(peer) ? 0 : 1 },
        labels: { interface: `eth-${peer}` },
      }))),
    collector("services", (r) =>
      Object.entries(r.services ?? {}).map(([name, v]) => ({
        collector: "services" as const,
        target: name,
        at: t,
        values: { ...v },
      }))),
  ], { historySize: 50, now: () => t });
  return {
    monitor,
    next(r) {
      current = r;
      t += 1000;
      return monitor.collect();
    },
  };
}

/**
 * Polls `fn` every 100 ms until it returns a value (errors count as "not yet").
 *
 * @param fn the probe; undefined means not yet
 * @param timeoutMs how long to wait
 * @param what named in the timeout error
 */
export async function until<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out waiting for ${what}`);
}
