/**
 * One-time join tokens for node attestation: stored hashed (SHA-256) in Deno KV with a TTL,
 * each consumable exactly once through an atomic check-and-delete, so a replayed or raced
 * token is rejected.
 *
 * @module
 */
import { AuthError, ValidationError } from "../errors.ts";
import { Counter, metric, registry } from "../telemetry/metrics.ts";
import { parseSpiffeId } from "./spiffe_id.ts";

/** What a join token entitles its bearer to. */
export interface JoinTokenRecord {
  /** The SPIFFE ID the attesting node receives. */
  readonly spiffeId: string;
  /** Creation time, epoch ms. */
  readonly createdAt: number;
  /** Expiry time, epoch ms. */
  readonly expiresAt: number;
}

/** A freshly created token: the secret is shown once and never stored. */
export interface CreatedJoinToken extends JoinTokenRecord {
  /** The secret token (base64url, 256 bits). */
  readonly token: string;
}

/** Default join token lifetime: ten minutes. */
export const DEFAULT_JOIN_TOKEN_TTL_MS = 10 * 60_000;
/** Longest allowed join token lifetime: seven days. */
export const MAX_JOIN_TOKEN_TTL_MS = 7 * 24 * 3600_000;

const PREFIX = ["identity", "join_token"] as const;

const tokenEvents = metric(
  "x0_identity_join_tokens_total",
  () =>
    new Counter({
      name: "x0_identity_join_tokens_total",
      help: "Join token events by outcome (created, consumed, rejected)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
);

const b64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** Returns the hex SHA-256 of a token: the only form that is stored. */
export async function hashJoinToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Creates a join token bound to `spiffeId`, valid for `ttlMs`.
 *
 * @param kv the Deno KV store
 * @param spiffeId the ID the attesting node will receive
 * @param options lifetime and clock
 */
export async function createJoinToken(
  kv: Deno.Kv,
  spiffeId: string,
  options: { ttlMs?: number; now?: number } = {},
): Promise<CreatedJoinToken> {
  const id = parseSpiffeId(spiffeId);
  const ttlMs = options.ttlMs ?? DEFAULT_JOIN_TOKEN_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_JOIN_TOKEN_TTL_MS) {
    throw new ValidationError(
      `Invalid join token TTL: ${ttlMs} ms (expected 1 ms to ${MAX_JOIN_TOKEN_TTL_MS} ms)`,
    );
  }
  const token = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const now = options.now ?? Date.now();
  const record: JoinTokenRecord = { spiffeId: id.uri, createdAt: now, expiresAt: now + ttlMs };
  const key = [...PREFIX, await hashJoinToken(token)];
  const res = await kv.atomic().check({ key, versionstamp: null }).set(key, record, {
    expireIn: ttlMs,
  }).commit();
  if (!res.ok) throw new ValidationError("Join token collision: retry");
  tokenEvents.inc({ outcome: "created" });
  return { token, ...record };
}

/**
 * Consumes a join token: succeeds once for an unexpired token and deletes it in the same atomic
 * operation; every later or concurrent attempt fails with {@link AuthError}.
 *
 * @param kv the Deno KV store
 * @param token the secret token
 * @param options clock
 */
export async function consumeJoinToken(
  kv: Deno.Kv,
  token: string,
  options: { now?: number } = {},
): Promise<JoinTokenRecord> {
  const rejectToken = (why: string): never => {
    tokenEvents.inc({ outcome: "rejected" });
    throw new AuthError(`Join token rejected: ${why}`);
  };
  if (typeof token !== "string" || !/^[A-Za-z0-9_-]{16,128}$/.test(token)) {
    rejectToken("malformed");
  }
  const key = [...PREFIX, await hashJoinToken(token)];
  const entry = await kv.get<JoinTokenRecord>(key);
  if (entry.value === null) rejectToken("unknown, already used or expired");
  const record = entry.value!;
  const now = options.now ?? Date.now();
  if (now >= record.expiresAt) {
    await kv.atomic().check(entry).delete(key).commit();
    rejectToken("expired");
  }
  const res = await kv.atomic().check(entry).delete(key).commit();
  if (!res.ok) rejectToken("already used");
  tokenEvents.inc({ outcome: "consumed" });
  return record;
}

/** Lists unexpired token records (hashes only; secrets are never stored). */
export async function listJoinTokens(
  kv: Deno.Kv,
  options: { now?: number } = {},
): Promise<(JoinTokenRecord & { hash: string })[]> {
  const now = options.now ?? Date.now();
  const out: (JoinTokenRecord & { hash: string })[] = [];
  for await (const e of kv.list<JoinTokenRecord>({ prefix: [...PREFIX] })) {
    if (e.value.expiresAt > now) out.push({ ...e.value, hash: String(e.key[2]) });
  }
  return out;
}
