/**
 * Per-neighbour HMAC keys for UDP probes. Deno's node:tls has no `exportKeyingMaterial`, so
 * both ends exchange 32-byte random nonces inside the authenticated mTLS channel and derive the
 * key with HKDF-SHA-256 over both nonces, bound to both SPIFFE IDs. Probes carry a 16-byte
 * truncated HMAC-SHA-256 tag; forged probes are dropped and counted.
 *
 * @module
 */
import { Counter, metric, registry } from "../telemetry/metrics.ts";
import type { Bytes } from "./pem.ts";

/** Length of the probe tag in bytes (HMAC-SHA-256 truncated, RFC 2104 §5). */
export const PROBE_TAG_BYTES = 16;
/** Length of each side's nonce. */
export const PROBE_NONCE_BYTES = 32;

const forged = metric(
  "x0_probe_auth_rejected_total",
  () =>
    new Counter({
      name: "x0_probe_auth_rejected_total",
      help: "UDP probes dropped because their HMAC tag did not verify, by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
);

const te = new TextEncoder();

/**
 * Derives the probe HMAC key of one mTLS session.
 *
 * @param nonces client and server nonces (32 bytes each)
 * @param ids client and server SPIFFE IDs
 */
export async function deriveProbeKey(
  nonces: { client: Uint8Array; server: Uint8Array },
  ids: { client: string; server: string },
): Promise<CryptoKey> {
  if (nonces.client.length !== PROBE_NONCE_BYTES || nonces.server.length !== PROBE_NONCE_BYTES) {
    throw new RangeError(`Probe nonces must be ${PROBE_NONCE_BYTES} bytes`);
  }
  const ikm = new Uint8Array(PROBE_NONCE_BYTES * 2);
  ikm.set(nonces.client, 0);
  ikm.set(nonces.server, PROBE_NONCE_BYTES);
  const base = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveKey"]);
  return await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: te.encode("x0tta6bl4 probe hmac v1"),
      info: te.encode(`${ids.client}\n${ids.server}`),
    },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/**
 * Returns `payload || tag`.
 *
 * @param key the neighbour's probe key
 * @param payload probe bytes (should carry a sequence number or timestamp against replay)
 */
export async function signProbe(key: CryptoKey, payload: Uint8Array): Promise<Bytes> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new Uint8Array(payload)));
  const out = new Uint8Array(payload.length + PROBE_TAG_BYTES);
  out.set(payload, 0);
  out.set(mac.subarray(0, PROBE_TAG_BYTES), payload.length);
  return out;
}

const check = async (key: CryptoKey, packet: Uint8Array): Promise<Bytes | null> => {
  if (packet.length < PROBE_TAG_BYTES) return null;
  const payload = packet.slice(0, packet.length - PROBE_TAG_BYTES);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, payload));
  const tag = packet.subarray(packet.length - PROBE_TAG_BYTES);
  let diff = 0;
  for (let i = 0; i < PROBE_TAG_BYTES; i++) diff |= mac[i] ^ tag[i];
  return diff === 0 ? payload : null;
};

/**
 * Checks a signed probe and returns its payload, or null (counted) when the tag is wrong.
 *
 * @param key the neighbour's probe key
 * @param packet `payload || tag` as received
 */
export async function verifyProbe(key: CryptoKey, packet: Uint8Array): Promise<Bytes | null> {
  const p = await check(key, packet);
  if (!p) forged.inc({ reason: packet.length < PROBE_TAG_BYTES ? "short" : "bad_tag" });
  return p;
}

/**
 * Probe keys by neighbour SPIFFE ID. A new session's key replaces the old one, which is kept
 * for verification only until `graceMs` passes, so probes in flight survive a reconnect.
 */
export interface ProbeKeyring {
  /** Installs the key agreed with `peer` (from an mTLS session). */
  set(peer: string, key: CryptoKey): void;
  /** Forgets a neighbour. */
  delete(peer: string): void;
  /** Signs a probe for `peer`; throws when no key is agreed yet. */
  seal(peer: string, payload: Uint8Array): Promise<Bytes>;
  /** Verifies a probe from `peer`; null (counted) when unknown peer or bad tag. */
  open(peer: string, packet: Uint8Array): Promise<Bytes | null>;
  /** Whether a key for `peer` exists. */
  has(peer: string): boolean;
}

/**
 * Creates an empty {@link ProbeKeyring}.
 *
 * @param options grace period for the previous key (default 10 s) and clock
 */
export function createProbeKeyring(
  options: { graceMs?: number; now?: () => number } = {},
): ProbeKeyring {
  const graceMs = options.graceMs ?? 10_000;
  const now = options.now ?? Date.now;
  const keys = new Map<string, { key: CryptoKey; prev?: CryptoKey; prevUntil: number }>();
  return {
    set(peer, key) {
      const old = keys.get(peer);
      keys.set(peer, { key, prev: old?.key, prevUntil: now() + graceMs });
    },
    delete: (peer) => void keys.delete(peer),
    has: (peer) => keys.has(peer),
    async seal(peer, payload) {
      const k = keys.get(peer);
      if (!k) throw new RangeError(`No probe key agreed with ${peer}`);
      return await signProbe(k.key, payload);
    },
    async open(peer, packet) {
      const k = keys.get(peer);
      if (!k) {
        forged.inc({ reason: "unknown_peer" });
        return null;
      }
      let p = await check(k.key, packet);
      if (!p && k.prev && now() <= k.prevUntil) p = await check(k.prev, packet);
      if (!p) forged.inc({ reason: packet.length < PROBE_TAG_BYTES ? "short" : "bad_tag" });
      return p;
    },
  };
}
