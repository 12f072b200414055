/**
 * The batman-adv generic netlink vocabulary (linux/batman_adv.h) and decoders that turn one
 * reply message into a typed record. Decoding is strict: a reply that lacks a required
 * attribute, or carries one of the wrong size, is rejected with a ValidationError naming it.
 *
 * @module
 */
import { attr, type GenlMessage, type NlAttr } from "../../../ffi/genl_wire.ts";
import { ValidationError } from "../../errors.ts";

/** Generic netlink family name of batman-adv. */
export const BATADV_FAMILY = "batadv";

/** `enum batadv_nl_commands` values used here. */
export const BATADV_CMD = {
  GET_MESH: 1,
  GET_HARDIF: 5,
  GET_ORIGINATORS: 8,
  GET_NEIGHBORS: 9,
} as const;

/** `enum batadv_nl_attrs` values used here. */
export const BATADV_ATTR = {
  VERSION: 1,
  ALGO_NAME: 2,
  MESH_IFINDEX: 3,
  MESH_IFNAME: 4,
  MESH_ADDRESS: 5,
  HARD_IFINDEX: 6,
  HARD_IFNAME: 7,
  HARD_ADDRESS: 8,
  ORIG_ADDRESS: 9,
  ACTIVE: 15,
  FLAG_BEST: 22,
  LAST_SEEN_MSECS: 23,
  NEIGH_ADDRESS: 24,
  TQ: 25,
  THROUGHPUT: 26,
} as const;

/** The batman-adv soft interface (GET_MESH). */
export interface BatmanMeshInfo {
  meshif: string;
  ifindex: number;
  /** MAC address of the soft interface. */
  address: string;
  /** batman-adv module version, e.g. "2022.3". */
  version: string;
  /** Routing algorithm: "BATMAN_IV" or "BATMAN_V". */
  algo: string;
  /** Primary hard interface and its MAC (the originator address of this node), if any. */
  primary_if: string | null;
  primary_address: string | null;
}

/** One hard interface enslaved to the mesh (GET_HARDIF). */
export interface BatmanHardIf {
  ifindex: number;
  ifname: string;
  address: string;
  active: boolean;
}

/** One (originator, next-hop neighbour) entry of the originator table (GET_ORIGINATORS). */
export interface BatmanOriginator {
  originator: string;
  neighbour: string;
  hard_ifindex: number;
  last_seen_ms: number;
  /** Transmit quality 0-255 (BATMAN_IV), null under BATMAN_V. */
  tq: number | null;
  /** Estimated throughput in kbit/s (BATMAN_V), null under BATMAN_IV. */
  throughput_kbps: number | null;
  /** Whether this neighbour is the chosen next hop towards the originator. */
  best: boolean;
}

/** One single-hop neighbour (GET_NEIGHBORS). */
export interface BatmanNeighbour {
  neighbour: string;
  hard_ifindex: number;
  last_seen_ms: number;
  throughput_kbps: number | null;
}

type Index = Map<number, NlAttr>;

const index = (m: GenlMessage): Index => {
  const out: Index = new Map();
  for (const a of m.attrs) if (!out.has(a.type)) out.set(a.type, a);
  return out;
};

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(BATADV_ATTR).map(([k, v]) => [v, k]),
);

function decodeWith<T>(what: string, m: GenlMessage, f: (a: Index) => T): T {
  try {
    return f(index(m));
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(
      `Malformed batman-adv ${what} reply: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

function req(a: Index, type: number, what: string): NlAttr {
  const v = a.get(type);
  if (!v) {
    throw new ValidationError(`Malformed batman-adv ${what} reply: missing ${NAMES[type] ?? type}`);
  }
  return v;
}

/** Throughput attribute (units of 100 kbit/s) in kbit/s. */
const throughput = (a: Index): number | null => {
  const t = a.get(BATADV_ATTR.THROUGHPUT);
  return t ? attr.u32(t) * 100 : null;
};

/**
 * Decodes a GET_MESH reply.
 *
 * @param m the reply
 */
export function decodeMesh(m: GenlMessage): BatmanMeshInfo {
  return decodeWith("mesh", m, (a) => {
    const hardName = a.get(BATADV_ATTR.HARD_IFNAME);
    const hardAddr = a.get(BATADV_ATTR.HARD_ADDRESS);
    return {
      meshif: attr.string(req(a, BATADV_ATTR.MESH_IFNAME, "mesh")),
      ifindex: attr.u32(req(a, BATADV_ATTR.MESH_IFINDEX, "mesh")),
      address: attr.mac(req(a, BATADV_ATTR.MESH_ADDRESS, "mesh")),
      version: attr.string(req(a, BATADV_ATTR.VERSION, "mesh")),
      algo: attr.string(req(a, BATADV_ATTR.ALGO_NAME, "mesh")),
      primary_if: hardName ? attr.string(hardName) : null,
      primary_address: hardAddr ? attr.mac(hardAddr) : null,
    };
  });
}

/**
 * Decodes one GET_HARDIF dump entry.
 *
 * @param m the reply
 */
export function decodeHardIf(m: GenlMessage): BatmanHardIf {
  return decodeWith("hardif", m, (a) => ({
    ifindex: attr.u32(req(a, BATADV_ATTR.HARD_IFINDEX, "hardif")),
    ifname: attr.string(req(a, BATADV_ATTR.HARD_IFNAME, "hardif")),
    address: attr.mac(req(a, BATADV_ATTR.HARD_ADDRESS, "hardif")),
    active: a.has(BATADV_ATTR.ACTIVE),
  }));
}

/**
 * Decodes one GET_ORIGINATORS dump entry.
 *
 * @param m the reply
 */
export function decodeOriginator(m: GenlMessage): BatmanOriginator {
  return decodeWith("originator", m, (a) => {
    const tq = a.get(BATADV_ATTR.TQ);
    return {
      originator: attr.mac(req(a, BATADV_ATTR.ORIG_ADDRESS, "originator")),
      neighbour: attr.mac(req(a, BATADV_ATTR.NEIGH_ADDRESS, "originator")),
      hard_ifindex: attr.u32(req(a, BATADV_ATTR.HARD_IFINDEX, "originator")),
      last_seen_ms: attr.u32(req(a, BATADV_ATTR.LAST_SEEN_MSECS, "originator")),
      tq: tq ? attr.u8(tq) : null,
      throughput_kbps: throughput(a),
      best: a.has(BATADV_ATTR.FLAG_BEST),
    };
  });
}

/**
 * Decodes one GET_NEIGHBORS dump entry.
 *
 * @param m the reply
 */
export function decodeNeighbour(m: GenlMessage): BatmanNeighbour {
  return decodeWith("neighbour", m, (a) => ({
    neighbour: attr.mac(req(a, BATADV_ATTR.NEIGH_ADDRESS, "neighbour")),
    hard_ifindex: attr.u32(req(a, BATADV_ATTR.HARD_IFINDEX, "neighbour")),
    last_seen_ms: attr.u32(req(a, BATADV_ATTR.LAST_SEEN_MSECS, "neighbour")),
    throughput_kbps: throughput(a),
  }));
}
