/**
 * Byte layouts of the structs shared with bpf/x0_common.h, bpf/xdp_telemetry.c and
 * bpf/xdp_chaos.c, and the per-CPU summing of their values. Keep in sync with the C sources.
 *
 * @module
 */

/** Upper bounds (bytes, inclusive) of the packet-size histogram buckets; the last is open. */
export const SIZE_BUCKETS: readonly number[] = [64, 128, 256, 512, 1024, 1518, 4096];

/** Per-interface receive counters as the telemetry program keeps them. */
export interface IfaceStats {
  packets: number;
  bytes: number;
  drops: number;
  ipv4: number;
  ipv6: number;
  arp: number;
  other: number;
  udp: number;
  tcp: number;
  icmp: number;
  /** Non-cumulative counts per bucket of SIZE_BUCKETS, plus one for larger frames. */
  sizeHist: number[];
}

/** Per-neighbour (source MAC) counters. */
export interface NeighStats {
  packets: number;
  bytes: number;
  drops: number;
}

/** Chaos injector configuration (struct x0_chaos_cfg). */
export interface ChaosConfig {
  /** Drop probability in parts per million (0 disables). */
  dropPpm: number;
  /** Only drop this EtherType (host order), when set. */
  ethertype?: number;
  /** Only drop this IP protocol / IPv6 next header, when set. */
  ipProto?: number;
}

/** What the standalone chaos program counted. */
export interface ChaosStats {
  seen: number;
  dropped: number;
}

const IFACE_FIELDS = 10;
/** sizeof(struct x0_iface_stats). */
export const IFACE_STATS_SIZE = (IFACE_FIELDS + SIZE_BUCKETS.length + 1) * 8;
/** sizeof(struct x0_neigh_stats). */
export const NEIGH_STATS_SIZE = 24;
/** sizeof(struct x0_chaos_cfg). */
export const CHAOS_CFG_SIZE = 16;
/** sizeof(struct x0_chaos_stats). */
export const CHAOS_STATS_SIZE = 16;
/** Key size of the neighbour map (6-byte MAC, 2 bytes padding). */
export const NEIGH_KEY_SIZE = 8;

const FILTER_ETHERTYPE = 1;
const FILTER_IPPROTO = 2;

/**
 * Sums `fields` u64 values across per-CPU slots of `stride` bytes. Reads each u64 as two u32
 * halves (exact below 2^53, the range of a JS number) to stay off the slow BigInt path.
 */
export function sumPerCpu(bytes: Uint8Array, fields: number, stride: number): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cpus = Math.floor(bytes.length / stride);
  const out = new Array<number>(fields).fill(0);
  for (let cpu = 0; cpu < cpus; cpu++) {
    const base = cpu * stride;
    for (let f = 0; f < fields; f++) {
      const at = base + f * 8;
      out[f] += v.getUint32(at, true) + v.getUint32(at + 4, true) * 0x1_0000_0000;
    }
  }
  return out;
}

/** Decodes a per-CPU iface_stats value (all CPUs summed). */
export function decodeIfaceStats(bytes: Uint8Array): IfaceStats {
  const f = sumPerCpu(bytes, IFACE_STATS_SIZE / 8, IFACE_STATS_SIZE);
  return {
    packets: f[0],
    bytes: f[1],
    drops: f[2],
    ipv4: f[3],
    ipv6: f[4],
    arp: f[5],
    other: f[6],
    udp: f[7],
    tcp: f[8],
    icmp: f[9],
    sizeHist: f.slice(IFACE_FIELDS),
  };
}

/** Decodes a per-CPU neigh_stats value (all CPUs summed). */
export function decodeNeighStats(bytes: Uint8Array): NeighStats {
  const [packets, bytesCount, drops] = sumPerCpu(bytes, 3, NEIGH_STATS_SIZE);
  return { packets, bytes: bytesCount, drops };
}

/** Decodes a per-CPU chaos_stats value (all CPUs summed). */
export function decodeChaosStats(bytes: Uint8Array): ChaosStats {
  const [seen, dropped] = sumPerCpu(bytes, 2, CHAOS_STATS_SIZE);
  return { seen, dropped };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Formats a neighbour key as "aa:bb:cc:dd:ee:ff". */
export function macFromKey(key: Uint8Array): string {
  return `${HEX[key[0]]}:${HEX[key[1]]}:${HEX[key[2]]}:${HEX[key[3]]}:${HEX[key[4]]}:${
    HEX[key[5]]
  }`;
}

/** Encodes a chaos configuration as struct x0_chaos_cfg. */
export function encodeChaosConfig(cfg: ChaosConfig): Uint8Array {
  const out = new Uint8Array(CHAOS_CFG_SIZE);
  const v = new DataView(out.buffer);
  let flags = 0;
  if (cfg.ethertype !== undefined) flags |= FILTER_ETHERTYPE;
  if (cfg.ipProto !== undefined) flags |= FILTER_IPPROTO;
  v.setUint32(0, cfg.dropPpm, true);
  v.setUint32(4, flags, true);
  v.setUint16(8, cfg.ethertype ?? 0, true);
  v.setUint8(10, cfg.ipProto ?? 0);
  return out;
}

/** Decodes struct x0_chaos_cfg. */
export function decodeChaosConfig(bytes: Uint8Array): ChaosConfig {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = v.getUint32(4, true);
  const cfg: ChaosConfig = { dropPpm: v.getUint32(0, true) };
  if (flags & FILTER_ETHERTYPE) cfg.ethertype = v.getUint16(8, true);
  if (flags & FILTER_IPPROTO) cfg.ipProto = v.getUint8(10);
  return cfg;
}

/** A u32 key 0 (the only key of the one-entry array maps). */
export function keyZero(): Uint8Array {
  return new Uint8Array(4);
}
