/**
 * JWT-SVIDs for API authentication (jose): minting with a trust domain's JWT-SVID key (its
 * public half is published in the bundle with `use` jwt-svid) and verifying with an alg
 * allow-list (RS/ES/PS 256/384/512), `sub` a SPIFFE ID, `aud` checked, `exp` and `kid`
 * required, and scopes read / operate / admin.
 *
 * @module
 */
import * as jose from "jose";
import { AuthError, ValidationError } from "../errors.ts";
import type { BundleSet, JwtAuthority } from "./bundle.ts";
import { isScope, type Scope } from "./scopes.ts";
import { parseSpiffeId, type SpiffeId } from "./spiffe_id.ts";

/** Signature algorithms a JWT-SVID may use; everything else (none, HS*) is rejected. */
export const JWT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "ES256",
  "ES384",
  "ES512",
  "PS256",
  "PS384",
  "PS512",
] as const;

/** A JWT-SVID signing key: private key, the public JWK published in the bundle, and its kid. */
export interface JwtSigningKey {
  /** Key ID (RFC 7638 thumbprint of the public key). */
  readonly kid: string;
  /** ES256 private key. */
  readonly privateKey: CryptoKey;
  /** The bundle entry for this key. */
  readonly authority: JwtAuthority;
}

/** The verified caller of an API request. */
export interface Principal {
  /** The caller's SPIFFE ID (the token's `sub`). */
  readonly id: SpiffeId;
  /** Granted scopes. */
  readonly scopes: readonly Scope[];
  /** Expiry, epoch seconds. */
  readonly exp: number;
}

/** Default lifetime of a minted API token: fifteen minutes. */
export const DEFAULT_JWT_TTL_SECONDS = 900;

/**
 * Wraps an ES256 key pair as a JWT-SVID signing key with a thumbprint kid.
 *
 * @param keys an ECDSA P-256 key pair
 */
export async function jwtSigningKey(keys: CryptoKeyPair): Promise<JwtSigningKey> {
  const full = await crypto.subtle.exportKey("jwk", keys.publicKey);
  const jwk: JsonWebKey = { kty: full.kty, crv: full.crv, x: full.x, y: full.y };
  const kid = await jose.calculateJwkThumbprint(jwk as jose.JWK);
  return { kid, privateKey: keys.privateKey, authority: { kid, jwk } };
}

/**
 * Mints a JWT-SVID for `sub` and audience `aud` carrying `scopes`.
 *
 * @param key the trust domain's JWT-SVID signing key
 * @param claims subject, audience, scopes and lifetime
 */
export async function mintJwtSvid(
  key: JwtSigningKey,
  claims: { sub: string; aud: string | string[]; scopes: readonly Scope[]; ttlSeconds?: number },
): Promise<string> {
  const sub = parseSpiffeId(claims.sub);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (aud.length === 0 || aud.some((a) => typeof a !== "string" || a === "")) {
    throw new ValidationError("Invalid token audience: must be one or more non-empty strings");
  }
  for (const s of claims.scopes) {
    if (!isScope(s)) throw new ValidationError(`Invalid scope: ${s} (read, operate or admin)`);
  }
  const ttl = claims.ttlSeconds ?? DEFAULT_JWT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > 86400) {
    throw new ValidationError(`Invalid token TTL: ${ttl} s (1 to 86400)`);
  }
  return await new jose.SignJWT({ scope: claims.scopes.join(" ") })
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" })
    .setSubject(sub.uri)
    .setAudience(aud.length === 1 ? aud[0] : aud)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    .sign(key.privateKey);
}

/** Options of {@link verifyJwtSvid}. */
export interface JwtVerifyOptions {
  /** Accepted audience(s); the token must name one. */
  audience: string | readonly string[];
  /** When set, `sub` must be in this trust domain. */
  trustDomain?: string;
  /** Clock skew tolerance in seconds (default 30). */
  clockToleranceSeconds?: number;
  /** Verification time (for tests). */
  now?: Date;
}

/**
 * Verifies a JWT-SVID bearer token against the JWT authorities of the bundle of its `sub`'s
 * trust domain; throws {@link AuthError} naming the failed check.
 *
 * @param token compact JWS
 * @param bundles trusted bundles, one per trust domain
 * @param options audience, trust domain, clock
 */
export async function verifyJwtSvid(
  token: string,
  bundles: BundleSet,
  options: JwtVerifyOptions,
): Promise<Principal> {
  const fail = (why: string, cause?: unknown): never => {
    throw new AuthError(`Invalid token: ${why}`, { cause });
  };
  let header: jose.ProtectedHeaderParameters;
  let unverified: jose.JWTPayload;
  try {
    header = jose.decodeProtectedHeader(token);
    unverified = jose.decodeJwt(token);
  } catch (err) {
    return fail("not a JWS compact token", err);
  }
  if (!header.alg || !(JWT_ALGORITHMS as readonly string[]).includes(header.alg)) {
    fail(`algorithm ${header.alg ?? "(none)"} is not allowed`);
  }
  if (typeof header.kid !== "string" || header.kid === "") fail("kid header is required");
  if (typeof unverified.sub !== "string") fail("sub claim is required");
  let sub: SpiffeId;
  try {
    sub = parseSpiffeId(unverified.sub!);
  } catch (err) {
    return fail("sub is not a SPIFFE ID", err);
  }
  if (options.trustDomain !== undefined && sub.trustDomain !== options.trustDomain) {
    fail(`sub ${sub.uri} is not in trust domain ${options.trustDomain}`);
  }
  const bundle = bundles.get(sub.trustDomain);
  const authority = bundle?.jwtAuthorities.find((a) => a.kid === header.kid);
  if (!authority) fail(`no JWT authority ${header.kid} for trust domain ${sub.trustDomain}`);
  let payload: jose.JWTPayload;
  try {
    const key = await jose.importJWK(authority!.jwk as jose.JWK, header.alg);
    ({ payload } = await jose.jwtVerify(token, key, {
      algorithms: [...JWT_ALGORITHMS],
      audience: [...(typeof options.audience === "string" ? [options.audience] : options.audience)],
      requiredClaims: ["exp", "sub", "aud"],
      clockTolerance: options.clockToleranceSeconds ?? 30,
      currentDate: options.now,
    }));
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    const why = code === "ERR_JWT_EXPIRED"
      ? "expired"
      : code === "ERR_JWT_CLAIM_VALIDATION_FAILED"
      ? `claim check failed: ${(err as Error).message}`
      : code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
      ? "signature does not verify"
      : (err as Error).message;
    return fail(why, err);
  }
  const raw = typeof payload.scope === "string" ? payload.scope.split(" ") : [];
  return { id: sub!, scopes: raw.filter(isScope), exp: payload.exp! };
}

/** Verifies a bearer token and returns the caller; throws AuthError when it is not valid. */
export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * Binds {@link verifyJwtSvid} to a live bundle source and fixed options.
 *
 * @param bundles returns the current bundles (so bundle rotation applies at once)
 * @param options audience and trust domain
 */
export function createTokenVerifier(
  bundles: () => BundleSet,
  options: JwtVerifyOptions,
): TokenVerifier {
  return (token) => verifyJwtSvid(token, bundles(), options);
}
