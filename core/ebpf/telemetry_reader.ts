/**
 * Reads the telemetry and chaos maps into plain counters: from maps this process loaded, or,
 * for a later process (the CLI), from whatever x0tta6bl4 program is attached to an interface,
 * found by program id → map ids (no bpffs pinning needed).
 *
 * @module
 */
import type { Libbpf, MapHandle } from "../../ffi/libbpf.ts";
import {
  type ChaosConfig,
  decodeChaosConfig,
  decodeChaosStats,
  decodeIfaceStats,
  decodeNeighStats,
  keyZero,
  macFromKey,
  SIZE_BUCKETS,
} from "./layout.ts";
import { type AttachedProgram, findAttached } from "./program_loader.ts";
import { findAttachedTc } from "./tc_loader.ts";
import { readProcNetDev } from "./proc_net_dev.ts";

/** Counters of one neighbour, keyed by its source MAC. */
export interface NeighbourCounters {
  mac: string;
  packets: number;
  bytes: number;
  drops: number;
}

/** Receive counters of one interface, from eBPF or the /proc/net/dev fallback. */
export interface InterfaceCounters {
  iface: string;
  netns: string | null;
  source: "ebpf" | "procfs";
  rxPackets: number;
  rxBytes: number;
  /** eBPF: packets the chaos injector dropped; procfs: the kernel's rx drop counter. */
  drops: number;
  /** eBPF only: packets by EtherType. */
  ethertypes?: { ipv4: number; ipv6: number; arp: number; other: number };
  /** eBPF only: packets by IP protocol (IPv4 protocol / IPv6 next header). */
  protocols?: { udp: number; tcp: number; icmp: number };
  /** eBPF only: packets per frame-size bucket (non-cumulative; `le` null = larger). */
  sizeHistogram?: { le: number | null; packets: number }[];
  /** eBPF only: per source MAC. */
  neighbours?: NeighbourCounters[];
}

/** The telemetry program's maps. */
export interface TelemetryMaps {
  iface_stats: MapHandle;
  neigh_stats: MapHandle;
  chaos_cfg: MapHandle;
}

/** Chaos state of an interface. */
export interface ChaosState {
  config: ChaosConfig;
  /** Only from the standalone chaos program. */
  seen?: number;
  dropped?: number;
}

/** Reads the telemetry maps into InterfaceCounters. */
export function readTelemetryMaps(
  libbpf: Libbpf,
  maps: TelemetryMaps,
  where: { iface: string; netns?: string },
): InterfaceCounters {
  const raw = libbpf.lookup(maps.iface_stats, keyZero());
  const st = raw ? decodeIfaceStats(raw) : null;
  const neighbours: NeighbourCounters[] = [];
  for (const { key, value } of libbpf.entries(maps.neigh_stats)) {
    neighbours.push({ mac: macFromKey(key), ...decodeNeighStats(value) });
  }
  neighbours.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  return {
    iface: where.iface,
    netns: where.netns ?? null,
    source: "ebpf",
    rxPackets: st?.packets ?? 0,
    rxBytes: st?.bytes ?? 0,
    drops: st?.drops ?? 0,
    ethertypes: {
      ipv4: st?.ipv4 ?? 0,
      ipv6: st?.ipv6 ?? 0,
      arp: st?.arp ?? 0,
      other: st?.other ?? 0,
    },
    protocols: { udp: st?.udp ?? 0, tcp: st?.tcp ?? 0, icmp: st?.icmp ?? 0 },
    sizeHistogram: [...SIZE_BUCKETS, null].map((le, i) => ({ le, packets: st?.sizeHist[i] ?? 0 })),
    neighbours,
  };
}

/** Reads a chaos configuration map. */
export function readChaosConfig(libbpf: Libbpf, map: MapHandle): ChaosConfig {
  const raw = libbpf.lookup(map, keyZero());
  return raw ? decodeChaosConfig(raw) : { dropPpm: 0 };
}

/** Opens the maps of a loaded program by id; call `close()` when done. */
export function openProgramMaps(
  libbpf: Libbpf,
  progId: number,
): { maps: Map<string, MapHandle>; close(): void } {
  const info = libbpf.programById(progId);
  const maps = new Map<string, MapHandle>();
  const close = () => maps.forEach((m) => libbpf.closeFd(m.fd));
  try {
    for (const id of info?.mapIds ?? []) {
      const m = libbpf.mapById(id);
      maps.set(m.name, m);
    }
  } catch (err) {
    close();
    throw err;
  }
  return { maps, close };
}

/** What `readInterfaceStats` reports for one interface. */
export interface InterfaceStats {
  iface: string;
  netns: string | null;
  /** The x0tta6bl4 program attached (null: none, counters come from /proc/net/dev). */
  program: string | null;
  progId: number | null;
  counters: InterfaceCounters;
  chaos: ChaosState | null;
}

/** Counters of an interface from /proc/net/dev, in InterfaceCounters form. */
export function procfsCounters(iface: string, netns?: string): InterfaceCounters | null {
  const dev = readProcNetDev({ netns }).get(iface);
  if (!dev) return null;
  return {
    iface,
    netns: netns ?? null,
    source: "procfs",
    rxPackets: dev.rxPackets,
    rxBytes: dev.rxBytes,
    drops: dev.rxDrops,
  };
}

/** Our telemetry program on an interface: XDP first, else the TC ingress variant. */
export function findTelemetry(
  libbpf: Libbpf,
  iface: string,
  netns?: string,
): AttachedProgram | null {
  const xdp = findAttached(libbpf, iface, netns);
  if (xdp?.name === "x0_telemetry") return xdp;
  const tc = findAttachedTc(libbpf, iface, netns);
  return tc?.name === "x0_telemetry_tc" ? tc : null;
}

function withMaps<T>(libbpf: Libbpf, progId: number, fn: (maps: Map<string, MapHandle>) => T): T {
  const { maps, close } = openProgramMaps(libbpf, progId);
  try {
    return fn(maps);
  } finally {
    close();
  }
}

/**
 * Reads an interface's counters from whatever x0tta6bl4 programs are attached to it (any
 * process may have attached them): telemetry (XDP or TC) for the counters, the XDP chaos
 * injector for chaos state; /proc/net/dev counters when no telemetry program is attached.
 */
export function readInterfaceStats(libbpf: Libbpf, iface: string, netns?: string): InterfaceStats {
  const base = { iface, netns: netns ?? null };
  const telemetry = findTelemetry(libbpf, iface, netns);
  const xdp = telemetry?.mode !== "tc" && telemetry
    ? telemetry
    : findAttached(libbpf, iface, netns);
  const injector = xdp?.name === "x0_chaos" ? xdp : null;

  let counters: InterfaceCounters | null = null;
  let chaos: ChaosState | null = null;
  if (telemetry) {
    withMaps(libbpf, telemetry.progId, (maps) => {
      const iface_stats = maps.get("iface_stats");
      const neigh_stats = maps.get("neigh_stats");
      const chaos_cfg = maps.get("chaos_cfg");
      if (!iface_stats || !neigh_stats || !chaos_cfg) {
        throw new Error(`Program ${telemetry.progId} lacks its maps`);
      }
      counters = readTelemetryMaps(libbpf, { iface_stats, neigh_stats, chaos_cfg }, {
        iface,
        netns,
      });
      const config = readChaosConfig(libbpf, chaos_cfg);
      if (config.dropPpm > 0) chaos = { config };
    });
  }
  if (injector) {
    chaos = withMaps(libbpf, injector.progId, (maps) => {
      const cfg = maps.get("chaos_cfg");
      const statsMap = maps.get("chaos_stats");
      const raw = statsMap ? libbpf.lookup(statsMap, keyZero()) : null;
      const stats = raw ? decodeChaosStats(raw) : { seen: 0, dropped: 0 };
      return { config: cfg ? readChaosConfig(libbpf, cfg) : { dropPpm: 0 }, ...stats };
    });
  }
  const primary = telemetry ?? injector;
  return {
    ...base,
    program: primary?.name ?? null,
    progId: primary?.progId ?? null,
    counters: counters ?? procfsCounters(iface, netns) ??
      { ...base, source: "procfs", rxPackets: 0, rxBytes: 0, drops: 0 },
    chaos,
  };
}
