/**
 * Strict zod schemas of the Yggdrasil 0.4.x admin replies, in both shapes: 0.4.0–0.4.4 answer
 * with maps keyed by IPv6 address (`{"peers": {"200:..": {...}}}`), 0.4.5+ with flat objects and
 * lists (`{"peers": [{"address": "200:..", ...}]}`). Each parser accepts either shape and
 * returns one normalized, typed value; anything else is rejected with the path of the first
 * offending field.
 *
 * @module
 */
import { z } from "zod";
import { UnavailableError } from "../../errors.ts";

const key = z.string().regex(/^[0-9a-f]{64}$/, { message: "a 64-hex-digit public key" });
/** Yggdrasil addresses live in 200::/7. */
const address = z.ipv6().regex(/^[23][0-9a-f]{2}:/i, { message: "an address in 200::/7" });
const counter = z.number().int().nonnegative();
const coords = z.array(z.number().int().nonnegative());
const port = z.number().int().nonnegative();

/** This node (getSelf). */
export interface YggSelf {
  key: string;
  address: string;
  subnet: string;
  coords: number[];
  build_name: string;
  build_version: string;
}

/** One directly connected peer (getPeers). */
export interface YggPeer {
  key: string;
  address: string;
  port: number;
  coords: number[];
  remote: string;
  bytes_recvd: number;
  bytes_sent: number;
  uptime_s: number;
  /** Only from daemons that measure it (0.5+ report nanoseconds); null on 0.4.x. */
  latency_ms: number | null;
}

/** One established path through this node (getPaths). */
export interface YggPath {
  key: string;
  address: string;
  /** Switch ports from this node towards the destination. */
  path: number[];
}

/** One DHT entry (getDHT). */
export interface YggDhtEntry {
  key: string;
  address: string;
  port: number;
  rest: number;
}

/** One traffic session (getSessions). */
export interface YggSession {
  key: string;
  address: string;
  bytes_recvd: number | null;
  bytes_sent: number | null;
  uptime_s: number | null;
}

const selfEntry = z.object({
  build_name: z.string(),
  build_version: z.string(),
  key,
  coords: coords.default([]),
  subnet: z.string().regex(/^[23][0-9a-f]{2}:[0-9a-f:]*\/64$/i, { message: "a /64 subnet" }),
});
const selfFlat = selfEntry.extend({ address });
const selfKeyed = z.object({ self: z.record(address, selfEntry) });

const peerEntry = z.object({
  key,
  port,
  coords: coords.default([]),
  remote: z.string(),
  bytes_recvd: counter,
  bytes_sent: counter,
  uptime: z.number().nonnegative(),
  latency: z.number().nonnegative().optional(),
});
const peersFlat = z.object({ peers: z.array(peerEntry.extend({ address })) });
const peersKeyed = z.object({ peers: z.record(address, peerEntry) });

const pathEntry = z.object({ key, path: z.array(port) });
const pathsFlat = z.object({ paths: z.array(pathEntry.extend({ address })) });
const pathsKeyed = z.object({ paths: z.record(address, pathEntry) });

const dhtEntry = z.object({ key, port, rest: port });
const dhtFlat = z.object({ dht: z.array(dhtEntry.extend({ address })) });
const dhtKeyed = z.object({ dht: z.record(address, dhtEntry) });

const sessionEntry = z.object({
  key,
  bytes_recvd: counter.optional(),
  bytes_sent: counter.optional(),
  uptime: z.number().nonnegative().optional(),
});
const sessionsFlat = z.object({ sessions: z.array(sessionEntry.extend({ address })) });
const sessionsKeyed = z.object({ sessions: z.record(address, sessionEntry) });

/** Which 0.4.x shape a reply had. */
export type ReplyShape = "keyed" | "flat";

function pick<F, K>(
  request: string,
  value: unknown,
  member: string,
  flat: z.ZodType<F>,
  keyed: z.ZodType<K>,
): { shape: "flat"; data: F } | { shape: "keyed"; data: K } {
  const inner = typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[member]
    : undefined;
  // The list form is 0.4.5+; an object under the member is the 0.4.0-0.4.4 map form.
  const useFlat = member === ""
    ? !(value && typeof value === "object" && "self" in value)
    : Array.isArray(inner);
  const r = useFlat ? flat.safeParse(value) : keyed.safeParse(value);
  if (r.success) {
    return useFlat ? { shape: "flat", data: r.data as F } : { shape: "keyed", data: r.data as K };
  }
  const issue = r.error.issues[0];
  const path = issue.path.length ? issue.path.join(".") : "(reply)";
  throw new UnavailableError(
    `Yggdrasil answered ${request} with an unexpected shape: ${path}: ${issue.message}`,
    { details: { request } },
  );
}

/**
 * Parses a getSelf response (`{...}` flat, or `{"self": {addr: {...}}}` keyed).
 *
 * @param value the `response` member
 */
export function parseSelf(value: unknown): YggSelf {
  const r = pick("getSelf", value, "", selfFlat, selfKeyed);
  if (r.shape === "flat") {
    const { address, ...rest } = r.data;
    return { ...rest, address };
  }
  const entries = Object.entries(r.data.self);
  if (entries.length !== 1) {
    throw new UnavailableError(
      `Yggdrasil answered getSelf with an unexpected shape: self: ${entries.length} entries, expected 1`,
    );
  }
  const [addr, e] = entries[0];
  return { ...e, address: addr };
}

const peerOf = (address: string, e: z.infer<typeof peerEntry>): YggPeer => ({
  key: e.key,
  address,
  port: e.port,
  coords: e.coords,
  remote: e.remote,
  bytes_recvd: e.bytes_recvd,
  bytes_sent: e.bytes_sent,
  uptime_s: e.uptime,
  latency_ms: e.latency === undefined ? null : e.latency / 1e6,
});

/**
 * Parses a getPeers response.
 *
 * @param value the `response` member
 */
export function parsePeers(value: unknown): YggPeer[] {
  const r = pick("getPeers", value, "peers", peersFlat, peersKeyed);
  return r.shape === "flat"
    ? r.data.peers.map((p) => peerOf(p.address, p))
    : Object.entries(r.data.peers).map(([a, p]) => peerOf(a, p));
}

/**
 * Parses a getPaths response.
 *
 * @param value the `response` member
 */
export function parsePaths(value: unknown): YggPath[] {
  const r = pick("getPaths", value, "paths", pathsFlat, pathsKeyed);
  return r.shape === "flat"
    ? r.data.paths.map((p) => ({ key: p.key, address: p.address, path: p.path }))
    : Object.entries(r.data.paths).map(([a, p]) => ({ key: p.key, address: a, path: p.path }));
}

/**
 * Parses a getDHT response.
 *
 * @param value the `response` member
 */
export function parseDht(value: unknown): YggDhtEntry[] {
  const r = pick("getDHT", value, "dht", dhtFlat, dhtKeyed);
  return r.shape === "flat"
    ? r.data.dht.map((d) => ({ key: d.key, address: d.address, port: d.port, rest: d.rest }))
    : Object.entries(r.data.dht).map(([a, d]) => ({
      key: d.key,
      address: a,
      port: d.port,
      rest: d.rest,
    }));
}

const sessionOf = (address: string, s: z.infer<typeof sessionEntry>): YggSession => ({
  key: s.key,
  address,
  bytes_recvd: s.bytes_recvd ?? null,
  bytes_sent: s.bytes_sent ?? null,
  uptime_s: s.uptime ?? null,
});

/**
 * Parses a getSessions response.
 *
 * @param value the `response` member
 */
export function parseSessions(value: unknown): YggSession[] {
  const r = pick("getSessions", value, "sessions", sessionsFlat, sessionsKeyed);
  return r.shape === "flat"
    ? r.data.sessions.map((s) => sessionOf(s.address, s))
    : Object.entries(r.data.sessions).map(([a, s]) => sessionOf(a, s));
}
