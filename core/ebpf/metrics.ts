/**
 * Prometheus series for eBPF telemetry, registered in the agent's registry and filled at scrape
 * time from every running telemetry session: `ebpf_rx_packets_total{iface}`,
 * `ebpf_rx_bytes_total{iface}`, `ebpf_drops_total{iface}`, per-neighbour
 * `ebpf_neighbour_rx_packets_total{iface,mac}` (and bytes, drops), a cumulative size histogram
 * `ebpf_rx_frame_size_packets_total{iface,le}` and `ebpf_telemetry_active`.
 *
 * @module
 */
import type client from "prom-client";
import { Counter, Gauge, metric, registry } from "../telemetry/metrics.ts";
import type { InterfaceCounters } from "./telemetry_reader.ts";

type Source = () => InterfaceCounters[];
const sources = new Set<Source>();

function ebpfSnapshot(): InterfaceCounters[] {
  const out: InterfaceCounters[] = [];
  for (const source of sources) {
    try {
      out.push(...source().filter((c) => c.source === "ebpf"));
    } catch {
      // A session stopping mid-scrape: its series disappear on this scrape.
    }
  }
  return out;
}

function ifaceCounter(name: string, help: string, pick: (c: InterfaceCounters) => number) {
  return metric(name, () =>
    new Counter({
      name,
      help,
      labelNames: ["iface"],
      registers: [registry],
      collect(this: client.Counter<"iface">) {
        this.reset();
        for (const c of ebpfSnapshot()) this.inc({ iface: c.iface }, pick(c));
      },
    }));
}

function neighbourCounter(name: string, help: string, field: "packets" | "bytes" | "drops") {
  return metric(name, () =>
    new Counter({
      name,
      help,
      labelNames: ["iface", "mac"],
      registers: [registry],
      collect(this: client.Counter<"iface" | "mac">) {
        this.reset();
        for (const c of ebpfSnapshot()) {
          for (const n of c.neighbours ?? []) this.inc({ iface: c.iface, mac: n.mac }, n[field]);
        }
      },
    }));
}

/** Creates the eBPF series once (idempotent; safe across re-imports). */
export function ensureEbpfMetrics(): void {
  ifaceCounter("ebpf_rx_packets_total", "Packets received, counted by XDP", (c) => c.rxPackets);
  ifaceCounter("ebpf_rx_bytes_total", "Bytes received, counted by XDP", (c) => c.rxBytes);
  ifaceCounter("ebpf_drops_total", "Packets dropped by the XDP chaos injector", (c) => c.drops);
  neighbourCounter(
    "ebpf_neighbour_rx_packets_total",
    "Packets received per neighbour source MAC",
    "packets",
  );
  neighbourCounter(
    "ebpf_neighbour_rx_bytes_total",
    "Bytes received per neighbour source MAC",
    "bytes",
  );
  neighbourCounter(
    "ebpf_neighbour_drops_total",
    "Packets dropped per neighbour source MAC",
    "drops",
  );
  metric("ebpf_rx_frame_size_packets_total", () =>
    new Counter({
      name: "ebpf_rx_frame_size_packets_total",
      help: "Packets received with frame length <= le bytes (cumulative)",
      labelNames: ["iface", "le"],
      registers: [registry],
      collect(this: client.Counter<"iface" | "le">) {
        this.reset();
        for (const c of ebpfSnapshot()) {
          let cumulative = 0;
          for (const b of c.sizeHistogram ?? []) {
            cumulative += b.packets;
            this.inc({ iface: c.iface, le: b.le === null ? "+Inf" : String(b.le) }, cumulative);
          }
        }
      },
    }));
  metric("ebpf_telemetry_active", () =>
    new Gauge({
      name: "ebpf_telemetry_active",
      help: "Interfaces whose counters come from eBPF (0: /proc/net/dev fallback)",
      registers: [registry],
      collect(this: client.Gauge) {
        this.set(ebpfSnapshot().length);
      },
    }));
}

/**
 * Adds a counter source to the scrape; returns the function that removes it.
 *
 * @param source returns the current counters of a telemetry session
 */
export function registerCounterSource(source: Source): () => void {
  ensureEbpfMetrics();
  sources.add(source);
  return () => sources.delete(source);
}
