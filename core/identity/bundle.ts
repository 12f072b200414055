/**
 * SPIFFE trust bundles: the set of X.509 and JWT authorities of one trust domain, in the SPIFFE
 * bundle format (a JWKS with `use` x509-svid / jwt-svid, `spiffe_sequence`,
 * `spiffe_refresh_hint`) and as PEM. Bundles of different trust domains are kept apart in a
 * {@link BundleSet}; they are never merged.
 *
 * @module
 */
import * as x509 from "./x509.ts";
import { ValidationError } from "../errors.ts";
import { decodePem, encodePem, fromBase64, toBase64, toBytes } from "./pem.ts";
import { parseTrustDomain } from "./spiffe_id.ts";

/** A JWT authority: a public JWK with its key ID. */
export interface JwtAuthority {
  /** Key ID, required in every JWT-SVID header. */
  readonly kid: string;
  /** The public key as a JWK (no private members). */
  readonly jwk: JsonWebKey;
}

/** The trust bundle of one trust domain. */
export interface TrustBundle {
  /** The trust domain name. */
  readonly trustDomain: string;
  /** Root certificates for X.509-SVID path validation. */
  readonly x509Authorities: readonly x509.X509Certificate[];
  /** Keys for JWT-SVID validation. */
  readonly jwtAuthorities: readonly JwtAuthority[];
  /** Monotonic sequence number; bumped on every change. */
  readonly sequence: number;
  /** How often consumers should re-fetch, in seconds. */
  readonly refreshHintSeconds: number;
}

/** Bundles keyed by trust domain name; one bundle per domain, never merged. */
export type BundleSet = ReadonlyMap<string, TrustBundle>;

/** Default refresh hint: five minutes. */
export const DEFAULT_REFRESH_HINT_SECONDS = 300;

/**
 * Builds a {@link BundleSet}; throws when two bundles claim the same trust domain, since
 * merging domains would let one vouch for the other.
 *
 * @param bundles the bundles, one per trust domain
 */
export function bundleSetOf(...bundles: TrustBundle[]): BundleSet {
  const set = new Map<string, TrustBundle>();
  for (const b of bundles) {
    if (set.has(b.trustDomain)) {
      throw new ValidationError(`Duplicate bundle for trust domain ${b.trustDomain}`);
    }
    set.set(b.trustDomain, b);
  }
  return set;
}

const PUBLIC_JWK_MEMBERS = ["kty", "crv", "x", "y", "n", "e"] as const;

const publicJwk = (jwk: JsonWebKey): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const k of PUBLIC_JWK_MEMBERS) if (jwk[k] !== undefined) out[k] = jwk[k];
  return out;
};

/**
 * Serializes a bundle in the SPIFFE bundle format (JWKS).
 *
 * @param bundle the bundle
 */
export async function bundleToJwks(bundle: TrustBundle): Promise<Record<string, unknown>> {
  const keys: Record<string, unknown>[] = [];
  for (const cert of bundle.x509Authorities) {
    const key = await cert.publicKey.export();
    const jwk = await crypto.subtle.exportKey("jwk", key);
    keys.push({
      use: "x509-svid",
      ...publicJwk(jwk),
      x5c: [toBase64(new Uint8Array(cert.rawData))],
    });
  }
  for (const a of bundle.jwtAuthorities) {
    keys.push({ use: "jwt-svid", kid: a.kid, ...publicJwk(a.jwk) });
  }
  return {
    keys,
    spiffe_sequence: bundle.sequence,
    spiffe_refresh_hint: bundle.refreshHintSeconds,
  };
}

/**
 * Parses a SPIFFE bundle (JWKS JSON text or object) for `trustDomain`. Keys with an unknown
 * `use` are ignored, as the spec requires; malformed x509-svid / jwt-svid keys are errors.
 *
 * @param trustDomain the trust domain the bundle belongs to
 * @param input JSON text or a parsed object
 */
export function parseJwksBundle(trustDomain: string, input: string | unknown): TrustBundle {
  parseTrustDomain(trustDomain);
  let doc: unknown = input;
  if (typeof input === "string") {
    try {
      doc = JSON.parse(input);
    } catch (err) {
      throw new ValidationError("Invalid bundle: not JSON", { cause: err });
    }
  }
  const obj = doc as Record<string, unknown>;
  if (typeof obj !== "object" || obj === null || !Array.isArray(obj.keys)) {
    throw new ValidationError("Invalid bundle: keys must be an array");
  }
  const x509Authorities: x509.X509Certificate[] = [];
  const jwtAuthorities: JwtAuthority[] = [];
  obj.keys.forEach((k: Record<string, unknown>, i: number) => {
    if (typeof k !== "object" || k === null) {
      throw new ValidationError(`Invalid bundle: keys[${i}]`);
    }
    if (k.use === "x509-svid") {
      if (!Array.isArray(k.x5c) || k.x5c.length !== 1 || typeof k.x5c[0] !== "string") {
        throw new ValidationError(`Invalid bundle: keys[${i}].x5c must hold exactly one cert`);
      }
      try {
        x509Authorities.push(new x509.X509Certificate(fromBase64(k.x5c[0])));
      } catch (err) {
        throw new ValidationError(`Invalid bundle: keys[${i}].x5c is not a certificate`, {
          cause: err,
        });
      }
    } else if (k.use === "jwt-svid") {
      if (typeof k.kid !== "string" || k.kid === "") {
        throw new ValidationError(`Invalid bundle: keys[${i}] jwt-svid key has no kid`);
      }
      if (typeof k.kty !== "string") {
        throw new ValidationError(`Invalid bundle: keys[${i}] has no kty`);
      }
      const { use: _u, kid, ...rest } = k;
      jwtAuthorities.push({ kid, jwk: rest as JsonWebKey });
    }
  });
  const seq = obj.spiffe_sequence;
  const hint = obj.spiffe_refresh_hint;
  if (seq !== undefined && (!Number.isSafeInteger(seq) || (seq as number) < 0)) {
    throw new ValidationError("Invalid bundle: spiffe_sequence must be a non-negative integer");
  }
  if (hint !== undefined && (!Number.isSafeInteger(hint) || (hint as number) <= 0)) {
    throw new ValidationError("Invalid bundle: spiffe_refresh_hint must be a positive integer");
  }
  return {
    trustDomain,
    x509Authorities,
    jwtAuthorities,
    sequence: (seq as number | undefined) ?? 0,
    refreshHintSeconds: (hint as number | undefined) ?? DEFAULT_REFRESH_HINT_SECONDS,
  };
}

/** Serializes the X.509 authorities of a bundle as concatenated PEM certificates. */
export function bundleToPem(bundle: TrustBundle): string {
  return bundle.x509Authorities.map((c) => encodePem("CERTIFICATE", c.rawData)).join("");
}

/**
 * Parses a PEM bundle (X.509 authorities only) for `trustDomain`.
 *
 * @param trustDomain the trust domain the bundle belongs to
 * @param pem concatenated PEM certificates
 */
export function parsePemBundle(trustDomain: string, pem: string): TrustBundle {
  parseTrustDomain(trustDomain);
  const blocks = decodePem(pem, "CERTIFICATE");
  if (blocks.length === 0) throw new ValidationError("Invalid bundle: no CERTIFICATE PEM block");
  const x509Authorities = blocks.map((b, i) => {
    try {
      return new x509.X509Certificate(b.der);
    } catch (err) {
      throw new ValidationError(`Invalid bundle: certificate ${i} cannot be parsed`, {
        cause: err,
      });
    }
  });
  return {
    trustDomain,
    x509Authorities,
    jwtAuthorities: [],
    sequence: 0,
    refreshHintSeconds: DEFAULT_REFRESH_HINT_SECONDS,
  };
}

/** Parses DER certificates concatenated back to back (the Workload API's bundle encoding). */
export function parseConcatenatedDer(der: Uint8Array): x509.X509Certificate[] {
  const certs: x509.X509Certificate[] = [];
  let off = 0;
  while (off < der.length) {
    if (der[off] !== 0x30) throw new ValidationError(`Invalid DER: expected SEQUENCE at ${off}`);
    let len = der[off + 1];
    let hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) throw new ValidationError(`Invalid DER: bad length at ${off}`);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[off + 2 + i];
      hdr += n;
    }
    const end = off + hdr + len;
    if (end > der.length) throw new ValidationError("Invalid DER: truncated certificate");
    certs.push(new x509.X509Certificate(toBytes(der.subarray(off, end))));
    off = end;
  }
  return certs;
}
