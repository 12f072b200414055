/**
 * What an external mesh fabric (Yggdrasil, batman-adv) looks like to the agent after one read:
 * this node, the nodes it knows, its direct neighbours, its routes. Both adapters map their
 * daemon's or kernel's tables into this one shape; the topology (MeshNode / MeshLink), the
 * MeshView and the MAPE-K link samples are derived from it.
 *
 * @module
 */

/** Which fabric a snapshot came from. */
export type FabricBackend = "yggdrasil" | "batman";

/** Scalar detail values a backend reports about this node. */
export type FabricDetail = string | number | boolean | null | number[] | string[];

/** This node as the fabric sees it. */
export interface FabricSelf {
  /** Stable id in the fabric: the Yggdrasil public key, the batman-adv originator MAC. */
  id: string;
  /** Address in the fabric: Yggdrasil IPv6, batman-adv originator MAC. */
  address: string | null;
  /** Backend-specific facts (subnet, coords, algorithm, interfaces, ...). */
  details: Record<string, FabricDetail>;
}

/**
 * A remote node this node knows of. The optional fields are present only when the backend
 * knows them (latency: Yggdrasil >= 0.5; tq: batman-adv IV; throughput: batman-adv V; bytes:
 * Yggdrasil peers).
 */
export interface FabricPeer {
  id: string;
  address: string | null;
  /** Whether the peer is a direct (one-hop) neighbour. */
  direct: boolean;
  /** Local network interface the peer is reached over (batman-adv hard interface), if known. */
  interface: string | null;
  /** Transport URI of the peering (Yggdrasil `remote`, e.g. tcp://10.0.0.2:41234). */
  remote?: string;
  latency_ms?: number;
  tq?: number;
  throughput_kbps?: number;
  /** Next-hop neighbour towards the peer (batman-adv); the peer itself when direct. */
  next_hop?: string;
  /** Milliseconds since the peer was last heard from. */
  last_seen_ms?: number;
  bytes_sent?: number;
  bytes_recvd?: number;
  uptime_s?: number;
}

/** A route the fabric has towards a destination. */
export interface FabricRoute {
  destination: string;
  next_hop: string | null;
  interface: string | null;
  /** Backend cost: hop count (Yggdrasil), 255 - TQ or 1e6 / throughput (batman-adv). */
  cost: number;
  backup_next_hop: string | null;
  backup_interface: string | null;
  /** The node ids known along the path, from this node to the destination. */
  path: string[];
}

/** One complete read of a fabric. */
export interface FabricSnapshot {
  backend: FabricBackend;
  /** Epoch milliseconds of the read. */
  at: number;
  self: FabricSelf;
  /** Every remote node known (Yggdrasil peers; batman-adv originators, best next hop each). */
  peers: FabricPeer[];
  /** Direct links only (Yggdrasil peers; batman-adv single-hop neighbours). */
  neighbours: FabricPeer[];
  routes: FabricRoute[];
  /** Size of the fabric's node database (Yggdrasil DHT entries, batman-adv originators). */
  known_nodes: number;
}

/** A node of the topology. */
export interface MeshNode {
  id: string;
  address: string | null;
  self: boolean;
}

/** A directed link of the topology, from this node to a direct neighbour. */
export interface MeshLink {
  from: string;
  to: string;
  interface: string | null;
  latency_ms: number | null;
  tq: number | null;
  throughput_kbps: number | null;
  bytes_sent: number | null;
  bytes_recvd: number | null;
}

/** Nodes and links of a snapshot. */
export interface FabricTopology {
  nodes: MeshNode[];
  links: MeshLink[];
}

/**
 * Maps a snapshot into topology nodes (this node, every known peer) and links (this node to
 * each direct neighbour).
 *
 * @param s the snapshot
 */
export function snapshotTopology(s: FabricSnapshot): FabricTopology {
  const nodes = new Map<string, MeshNode>();
  nodes.set(s.self.id, { id: s.self.id, address: s.self.address, self: true });
  for (const p of [...s.neighbours, ...s.peers]) {
    if (!nodes.has(p.id)) nodes.set(p.id, { id: p.id, address: p.address, self: false });
  }
  const links = s.neighbours.map((p): MeshLink => ({
    from: s.self.id,
    to: p.id,
    interface: p.interface,
    latency_ms: p.latency_ms ?? null,
    tq: p.tq ?? null,
    throughput_kbps: p.throughput_kbps ?? null,
    bytes_sent: p.bytes_sent ?? null,
    bytes_recvd: p.bytes_recvd ?? null,
  }));
  return { nodes: [...nodes.values()], links };
}

/** The peer fields of the `fabric show --json` contract, in contract order. */
export const PEER_JSON_FIELDS = [
  "id",
  "address",
  "latency_ms",
  "tq",
  "throughput_kbps",
  "next_hop",
  "last_seen_ms",
] as const;

/**
 * The `fabric show --json` document: `self` with its details flattened, and the peers with the
 * contract's fields that the backend knows (unknown fields are left out, not null).
 *
 * @param s the snapshot
 * @param table which peers to list: all known nodes (default) or direct neighbours
 */
export function snapshotJson(
  s: FabricSnapshot,
  table: "peers" | "neighbours" = "peers",
): { self: Record<string, FabricDetail>; peers: Record<string, string | number | null>[] } {
  const peers = (table === "peers" ? s.peers : s.neighbours).map((p) => {
    const out: Record<string, string | number | null> = {};
    for (const k of PEER_JSON_FIELDS) {
      const v = p[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  });
  return {
    self: { id: s.self.id, address: s.self.address, backend: s.backend, ...s.self.details },
    peers,
  };
}
