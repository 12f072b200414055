/**
 * The built-in issuer, the embedded default for meshes without SPIRE: a trust-domain CA held by
 * a designated issuer node that turns a one-time join token plus a CSR into an X.509-SVID,
 * renews SVIDs for holders of a valid one, and publishes the trust bundle.
 *
 * @module
 */
import type * as x509 from "./x509.ts";
import { getLogger } from "@logtape/logtape";
import type { TrustDomainCa } from "./ca.ts";
import { bundleSetOf, DEFAULT_REFRESH_HINT_SECONDS, type TrustBundle } from "./bundle.ts";
import { consumeJoinToken, type CreatedJoinToken, createJoinToken } from "./join_tokens.ts";
import { type JwtSigningKey, mintJwtSvid } from "./jwt.ts";
import type { Scope } from "./scopes.ts";
import { parsePathSegment, spiffeIdFromParts } from "./spiffe_id.ts";
import { DEFAULT_SVID_TTL_MS, issueX509Svid, parseCsr } from "./svid.ts";
import { verifyX509Svid } from "./svid_validation.ts";

const log = getLogger(["x0", "identity"]);

/** The answer to a successful attestation or renewal. */
export interface IssuedSvid {
  /** The SPIFFE ID certified. */
  readonly spiffeId: string;
  /** The new leaf certificate. */
  readonly cert: x509.X509Certificate;
  /** The trust bundle to trust peers with. */
  readonly bundle: TrustBundle;
}

/** A running built-in issuer. */
export interface BuiltinIssuer {
  /** The trust domain name. */
  readonly trustDomain: string;
  /** The CA (certificate and keys). */
  readonly ca: TrustDomainCa;
  /** The JWT-SVID signing key. */
  readonly jwtKey: JwtSigningKey;
  /** The current trust bundle. */
  bundle(): TrustBundle;
  /** Creates a one-time join token for `spiffe://<td>/node/<nodeName>`. */
  createJoinToken(options: { nodeName: string; ttlMs?: number }): Promise<CreatedJoinToken>;
  /** Consumes a join token and certifies the CSR's key (the CSR is checked first). */
  attest(token: string, csr: string | Uint8Array): Promise<IssuedSvid>;
  /**
   * Re-certifies the holder of a currently valid SVID of this domain under the same ID.
   * `authenticated` must be the chain the client presented in a TLS handshake with us: the
   * handshake's CertificateVerify proved possession of its private key (the certificate alone
   * is public and must never be enough), see core/identity/issuer_endpoint.ts.
   */
  renew(authenticated: readonly Uint8Array[], csr: string | Uint8Array): Promise<IssuedSvid>;
  /** Issues an SVID directly (the issuer node's own identity). */
  issue(spiffeId: string, publicKey: CryptoKey): Promise<x509.X509Certificate>;
  /** Mints an API token (JWT-SVID). */
  mintToken(
    claims: { sub: string; aud: string | string[]; scopes: Scope[]; ttlSeconds?: number },
  ): Promise<string>;
}

/** Options of {@link createBuiltinIssuer}. */
export interface BuiltinIssuerOptions {
  /** The trust-domain CA. */
  ca: TrustDomainCa;
  /** The JWT-SVID signing key. */
  jwtKey: JwtSigningKey;
  /** Deno KV holding join tokens. */
  kv: Deno.Kv;
  /** SVID lifetime (default 1 h). */
  svidTtlMs?: number;
  /** Bundle sequence number (persisted by the caller). */
  sequence?: number;
  /** Bundle refresh hint in seconds (default 300). */
  refreshHintSeconds?: number;
  /** Further X.509 authorities kept during CA rotation (old roots). */
  extraAuthorities?: x509.X509Certificate[];
}

/**
 * Creates a built-in issuer over a CA, a JWT-SVID key and a KV store for join tokens.
 *
 * @param options CA, JWT key, KV and lifetimes
 */
export function createBuiltinIssuer(options: BuiltinIssuerOptions): BuiltinIssuer {
  const { ca, jwtKey, kv } = options;
  const td = ca.trustDomain;
  const ttlMs = options.svidTtlMs ?? DEFAULT_SVID_TTL_MS;
  const bundle: TrustBundle = {
    trustDomain: td,
    x509Authorities: [ca.cert, ...(options.extraAuthorities ?? [])],
    jwtAuthorities: [jwtKey.authority],
    sequence: options.sequence ?? 1,
    refreshHintSeconds: options.refreshHintSeconds ?? DEFAULT_REFRESH_HINT_SECONDS,
  };
  const issue = (spiffeId: string, publicKey: CryptoKey) =>
    issueX509Svid(ca, spiffeId, { publicKey, ttlMs });

  return {
    trustDomain: td,
    ca,
    jwtKey,
    bundle: () => bundle,
    async createJoinToken({ nodeName, ttlMs: tokenTtl }) {
      parsePathSegment(nodeName);
      return await createJoinToken(kv, spiffeIdFromParts(td, "node", nodeName).uri, {
        ttlMs: tokenTtl,
      });
    },
    async attest(token, csr) {
      const publicKey = await parseCsr(csr);
      const record = await consumeJoinToken(kv, token);
      const cert = await issue(record.spiffeId, publicKey);
      log.info("Attested {id} with a join token", { id: record.spiffeId });
      return { spiffeId: record.spiffeId, cert, bundle };
    },
    async renew(authenticated, csr) {
      const publicKey = await parseCsr(csr);
      const { id } = await verifyX509Svid(authenticated, bundleSetOf(bundle), {
        trustDomain: td,
      });
      const cert = await issue(id.uri, publicKey);
      log.info("Renewed {id}", { id: id.uri });
      return { spiffeId: id.uri, cert, bundle };
    },
    issue,
    mintToken: (claims) => mintJwtSvid(jwtKey, claims),
  };
}
