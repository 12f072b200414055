/**
 * A deterministic incident history for the recommended-action benchmark: incidents of every
 * fault kind the MAPE-K loop handles, recorded the way the loop records them (diagnosis,
 * metric snapshot, actions, outcome), with realistic mistakes (an action that failed before the
 * one that worked). The labeled queries in bench/data/kb_incident_queries.jsonl are written
 * independently, in other words.
 *
 * @module
 */
import type { IncidentRecord } from "../core/knowledge/incident.ts";
import { prng } from "./kb_corpus.ts";

interface Kind {
  type: string;
  /** The action that fixes it. */
  action: string;
  /** An action sometimes tried first, which fails. */
  wrong: string;
  summaries: string[];
  metrics: (r: () => number) => Record<string, number>;
}

const PROCS = [
  "babeld",
  "yggdrasil",
  "telegraf",
  "nginx",
  "mosquitto",
  "dnsmasq",
  "collectd",
  "olsrd",
];

const KINDS: Kind[] = [
  {
    type: "high_cpu",
    action: "restart_service",
    wrong: "clear_cache",
    summaries: [
      "cpu_percent above threshold for {s} s; {p} using most of one core",
      "load average high, {p} spinning in a retry loop; probe RTT up on every link",
      "runaway {p} process saturating the cpu after config reload",
    ],
    metrics: (r) => ({
      cpu_percent: 91 + Math.round(r() * 8),
      load1: 4 + Math.round(r() * 80) / 10,
    }),
  },
  {
    type: "high_memory",
    action: "clear_cache",
    wrong: "restart_service",
    summaries: [
      "memory_percent above threshold, page cache and {p} cache filling RAM",
      "swap in use and growing; application cache of {p} holds most memory",
      "memory pressure, kernel reclaiming; cache of {p} grew without bound",
    ],
    metrics: (r) => ({
      memory_percent: 86 + Math.round(r() * 12),
      swap_used_mb: Math.round(r() * 900),
    }),
  },
  {
    type: "service_down",
    action: "restart_service",
    wrong: "switch_route",
    summaries: [
      "health check failed: {p} process exited with signal 11",
      "{p} not listening on its TCP port, connection refused",
      "HTTP health endpoint of {p} returns 503; supervisor reports exit code 1",
    ],
    metrics: (r) => ({ service_up: 0, restarts_10m: Math.round(r() * 2) }),
  },
  {
    type: "network_loss",
    action: "switch_route",
    wrong: "isolate_link",
    summaries: [
      "packet_loss_percent on link to {n} above 5 %, other links clean",
      "lossy radio link to {n}, probes dropped, jitter high",
      "probe loss towards {n} while RTT stays normal; errors on the interface",
    ],
    metrics: (r) => ({
      packet_loss_percent: 6 + Math.round(r() * 40),
      rtt_ms: 5 + Math.round(r() * 40),
    }),
  },
  {
    type: "link_down",
    action: "switch_route",
    wrong: "restart_service",
    summaries: [
      "neighbour {n} OFFLINE after missed probes, carrier lost on the interface",
      "link to {n} down, NO-CARRIER; traffic moved to backup next hop",
      "probes to {n} unanswered, neighbour declared dead",
    ],
    metrics: (r) => ({ neighbor_up: 0, probes_missed: 3 + Math.round(r() * 5) }),
  },
  {
    type: "router_failure",
    action: "switch_route",
    wrong: "isolate_link",
    summaries: [
      "router {n} failed: all its links offline at once, LSA not refreshed",
      "every neighbour of {n} lost it simultaneously; power loss suspected",
      "{n} stopped forwarding and its agent stopped flooding LSAs",
    ],
    metrics: (r) => ({
      neighbors_lost: 2 + Math.round(r() * 4),
      lsa_age_s: 20 + Math.round(r() * 40),
    }),
  },
  {
    type: "link_flapping",
    action: "isolate_link",
    wrong: "switch_route",
    summaries: [
      "link to {n} flapping, neighbour state changed repeatedly within minutes",
      "unstable link to {n}: ONLINE/OFFLINE oscillation causing route churn",
      "neighbour {n} bounces up and down, LSAs re-originated constantly",
    ],
    metrics: (r) => ({
      state_changes_5m: 4 + Math.round(r() * 12),
      packet_loss_percent: Math.round(r() * 20),
    }),
  },
  {
    type: "disk_full",
    action: "clear_cache",
    wrong: "restart_service",
    summaries: [
      "disk_used_percent at limit, writes fail with ENOSPC; logs and cache directories large",
      "filesystem full, rotated logs and {p} cache files fill the data partition",
      "no space left on device, agent cannot append incidents",
    ],
    metrics: (r) => ({ disk_used_percent: 95 + Math.round(r() * 5) }),
  },
];

/** The fault kinds and the action that fixes each (the benchmark's ground truth). */
export const FAULT_ACTIONS: Record<string, string> = Object.fromEntries(
  KINDS.map((k) => [k.type, k.action]),
);

/**
 * `perKind` incidents of every kind, deterministic in `seed`. About one in five first tried the
 * wrong action (recorded as a failed incident of its own), as happens in real histories.
 *
 * @param perKind incidents per fault kind
 * @param seed PRNG seed
 */
export function incidentHistory(perKind = 30, seed = 7): IncidentRecord[] {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const out: IncidentRecord[] = [];
  let n = 0;
  for (const kind of KINDS) {
    for (let i = 0; i < perKind; i++) {
      const node = `r${1 + Math.floor(r() * 60)}`;
      const peer = `r${1 + Math.floor(r() * 60)}`;
      const summary = pick(kind.summaries).replace("{p}", pick(PROCS)).replace("{n}", peer)
        .replace("{s}", String(30 + Math.floor(r() * 120)));
      const failedFirst = r() < 0.2;
      const base = {
        detected_at: Date.UTC(2026, 5, 1) + n * 3_600_000,
        diagnosis: { type: kind.type, target: node, confidence: 0.8 + r() * 0.2 },
        metrics: kind.metrics(r),
        summary,
        node_id: node,
      };
      if (failedFirst) {
        out.push({
          ...base,
          id: `h${n++}`,
          actions: [{ action: kind.wrong }],
          outcome: "failure",
          mttr_s: undefined,
        });
      }
      out.push({
        ...base,
        id: `h${n++}`,
        actions: [{ action: kind.action }],
        outcome: "success",
        mttr_s: Math.round((0.5 + r() * 4) * 10) / 10,
      });
    }
  }
  return out;
}
