/**
 * eBPF collector: per-interface packet and drop rates from the eBPF telemetry program when it
 * runs, else from /proc/net/dev (core/ebpf decides), as deltas between cycles.
 *
 * @module
 */
import { interfaceCounters } from "../../ebpf/telemetry.ts";
import { type Collector, finiteValues, type Sample } from "../monitor.ts";

/**
 * Creates the eBPF counters collector.
 *
 * @param interfaces interfaces to read; a function so the list can follow the mesh
 * @param options a clock
 */
export function ebpfCollector(
  interfaces: () => string[],
  options: { now?: () => number } = {},
): Collector {
  const now = options.now ?? Date.now;
  const prev = new Map<string, { packets: number; bytes: number; drops: number; at: number }>();
  return {
    kind: "ebpf",
    collect(): Sample[] {
      const names = interfaces();
      if (names.length === 0) return [];
      const at = now();
      return interfaceCounters(names).map((c) => {
        const p = prev.get(c.iface);
        prev.set(c.iface, { packets: c.rxPackets, bytes: c.rxBytes, drops: c.drops, at });
        const dt = p ? (at - p.at) / 1000 : 0;
        const rate = (cur: number, old: number | undefined) =>
          dt > 0 && old !== undefined && cur >= old ? (cur - old) / dt : undefined;
        return {
          collector: "ebpf" as const,
          target: c.iface,
          at,
          values: finiteValues({
            rx_pps: rate(c.rxPackets, p?.packets),
            rx_bps: rate(c.rxBytes, p?.bytes),
            drops_per_s: rate(c.drops, p?.drops),
          }),
          labels: { source: c.source },
        };
      });
    },
  };
}
