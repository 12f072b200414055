/**
 * Messages of the link-state control channel (TCP between neighbours): HELLO opens a session,
 * LSA carries one router's link-state advertisement, ACK acknowledges an LSA, DB_END follows the
 * database a router sends when a session opens (the receiver then holds the sender's whole
 * database: the adjacency is full, as OSPF's Full state). Every message
 * carries a version field; the parser is strict (exact keys, types, ranges) so a malformed
 * message is rejected with a reason instead of reaching the database.
 *
 * @module
 */

/** Protocol version of control messages. */
export const CONTROL_VERSION = 1;

/** Most links one LSA may list. */
export const MAX_LSA_LINKS = 256;

/**
 * Largest cost a link may advertise. A router in its stub phase (see stub_phase.ts) advertises
 * every link at this cost (RFC 6987's max metric), so transit through it costs at least this much.
 */
export const MAX_LINK_COST = 1_000_000;

/** Most LSAs a DB_END may count (far above any database the agent can hold). */
export const MAX_DB_LSAS = 1_000_000;

const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const QUALITIES = new Set(["EXCELLENT", "GOOD", "FAIR", "POOR", "BAD"]);

/** One link of an LSA: the neighbour's node id, the cost and the measured quality class. */
export interface LsaLink {
  neighbour: string;
  cost: number;
  quality: "EXCELLENT" | "GOOD" | "FAIR" | "POOR" | "BAD";
}

/** A link-state advertisement. */
export interface Lsa {
  /** Node id of the router that originated it. */
  origin: string;
  /** Increases with every origination by the same origin; newer wins. */
  seq: number;
  /** Seconds since origination when this copy was sent. */
  age: number;
  /** The origin's loopback /32 router address. */
  router_address: string;
  links: LsaLink[];
}

/** A control channel message. */
export type ControlMessage =
  | { v: 1; type: "hello"; node_id: string; router_address: string }
  | { v: 1; type: "lsa"; lsa: Lsa }
  | { v: 1; type: "ack"; origin: string; seq: number }
  | { v: 1; type: "db_end"; lsas: number };

/** Result of {@linkcode parseControlMessage}. */
export type ControlParse =
  | { ok: true; message: ControlMessage }
  | { ok: false; reason: "malformed" | "version"; detail: string };

type Obj = Record<string, unknown>;

class Malformed extends Error {}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function exactKeys(o: Obj, keys: string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw new Malformed(`${where}: unexpected key ${JSON.stringify(k)}`);
  }
  for (const k of keys) {
    if (!(k in o)) throw new Malformed(`${where}: missing key ${k}`);
  }
}

function nodeId(v: unknown, where: string): string {
  if (typeof v !== "string" || !NODE_ID.test(v)) throw new Malformed(`${where}: invalid node id`);
  return v;
}

function seqNumber(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new Malformed(`${where}: seq must be a positive safe integer`);
  }
  return v;
}

function ipv4(v: unknown, where: string): string {
  if (typeof v !== "string" || !IPV4.test(v)) throw new Malformed(`${where}: invalid IPv4`);
  return v;
}

function parseLsa(v: unknown): Lsa {
  if (!isObj(v)) throw new Malformed("lsa: not an object");
  exactKeys(v, ["origin", "seq", "age", "router_address", "links"], "lsa");
  const origin = nodeId(v.origin, "lsa.origin");
  const seq = seqNumber(v.seq, "lsa.seq");
  if (typeof v.age !== "number" || !Number.isFinite(v.age) || v.age < 0 || v.age > 86_400) {
    throw new Malformed("lsa.age: must be 0 to 86400 seconds");
  }
  const router_address = ipv4(v.router_address, "lsa.router_address");
  if (!Array.isArray(v.links) || v.links.length > MAX_LSA_LINKS) {
    throw new Malformed(`lsa.links: must be an array of at most ${MAX_LSA_LINKS}`);
  }
  const seen = new Set<string>();
  const links = v.links.map((l, i): LsaLink => {
    const where = `lsa.links[${i}]`;
    if (!isObj(l)) throw new Malformed(`${where}: not an object`);
    exactKeys(l, ["neighbour", "cost", "quality"], where);
    const neighbour = nodeId(l.neighbour, `${where}.neighbour`);
    if (neighbour === origin) throw new Malformed(`${where}: link to itself`);
    if (seen.has(neighbour)) throw new Malformed(`${where}: duplicate neighbour ${neighbour}`);
    seen.add(neighbour);
    if (
      typeof l.cost !== "number" || !Number.isFinite(l.cost) || l.cost <= 0 ||
      l.cost > MAX_LINK_COST
    ) {
      throw new Malformed(`${where}.cost: must be in (0, ${MAX_LINK_COST}]`);
    }
    if (typeof l.quality !== "string" || !QUALITIES.has(l.quality)) {
      throw new Malformed(`${where}.quality: unknown class`);
    }
    return { neighbour, cost: l.cost, quality: l.quality as LsaLink["quality"] };
  });
  return { origin, seq, age: v.age, router_address, links };
}

/**
 * Parses one control message from its JSON text, strictly.
 *
 * @param text the frame payload
 */
export function parseControlMessage(text: string): ControlParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: "malformed", detail: "not JSON" };
  }
  try {
    if (!isObj(raw)) throw new Malformed("message: not an object");
    if (raw.v !== CONTROL_VERSION) {
      return { ok: false, reason: "version", detail: `unsupported version ${String(raw.v)}` };
    }
    switch (raw.type) {
      case "hello":
        exactKeys(raw, ["v", "type", "node_id", "router_address"], "hello");
        return {
          ok: true,
          message: {
            v: 1,
            type: "hello",
            node_id: nodeId(raw.node_id, "hello.node_id"),
            router_address: ipv4(raw.router_address, "hello.router_address"),
          },
        };
      case "lsa":
        exactKeys(raw, ["v", "type", "lsa"], "lsa message");
        return { ok: true, message: { v: 1, type: "lsa", lsa: parseLsa(raw.lsa) } };
      case "ack":
        exactKeys(raw, ["v", "type", "origin", "seq"], "ack");
        return {
          ok: true,
          message: {
            v: 1,
            type: "ack",
            origin: nodeId(raw.origin, "ack.origin"),
            seq: seqNumber(raw.seq, "ack.seq"),
          },
        };
      case "db_end":
        exactKeys(raw, ["v", "type", "lsas"], "db_end");
        if (
          typeof raw.lsas !== "number" || !Number.isSafeInteger(raw.lsas) || raw.lsas < 0 ||
          raw.lsas > MAX_DB_LSAS
        ) {
          throw new Malformed(`db_end.lsas: must be an integer 0 to ${MAX_DB_LSAS}`);
        }
        return { ok: true, message: { v: 1, type: "db_end", lsas: raw.lsas } };
      default:
        throw new Malformed(`message: unknown type ${JSON.stringify(raw.type)}`);
    }
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, reason: "malformed", detail: err.message };
    throw err;
  }
}

/** Serializes a control message (the inverse of {@linkcode parseControlMessage}). */
export function encodeControlMessage(message: ControlMessage): string {
  return JSON.stringify(message);
}
