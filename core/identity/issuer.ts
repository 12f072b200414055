/**
 * The built-in issuer, the embedded default for meshes without SPIRE: a trust-domain CA held by
 * a designated issuer node that turns a one-time join token plus a CSR into an X.509-SVID,
 * renews SVIDs for holders of a valid one, and publishes the trust bundle.
 *
 * @module
 */
import type * as x509 from "./x509.ts";
import { AuthError, ValidationError } from "../errors.ts";
import { decodePem, toBytes } from "./pem.ts";
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
   * Re-certifies the holder of a currently valid SVID of this domain under the same ID; `proof`
   * (see {@link renewalProof}) shows possession of the current SVID's private key.
   */
  renew(
    presented: readonly Uint8Array[],
    csr: string | Uint8Array,
    proof: Uint8Array,
  ): Promise<IssuedSvid>;
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
    async renew(presented, csr, proof) {
      const publicKey = await parseCsr(csr);
      const { id, leaf } = await verifyX509Svid(presented, bundleSetOf(bundle), {
        trustDomain: td,
      });
      const ok = await crypto.subtle.verify(
        { name: "ECDSA", hash: "SHA-256" },
        await leaf.publicKey.export({ name: "ECDSA", namedCurve: "P-256" }, ["verify"]),
        toBytes(proof),
        await renewalMessage(csr),
      ).catch(() => false);
      if (!ok) throw new AuthError("Renewal refused: proof of possession does not verify");
      const cert = await issue(id.uri, publicKey);
      return { spiffeId: id.uri, cert, bundle };
    },
    issue,
    mintToken: (claims) => mintJwtSvid(jwtKey, claims),
  };
}

const csrDer = (csr: string | Uint8Array): Uint8Array => {
  if (typeof csr !== "string") return csr;
  const der = decodePem(csr, "CERTIFICATE REQUEST")[0]?.der;
  if (!der) throw new ValidationError("Invalid CSR: no CERTIFICATE REQUEST PEM block");
  return der;
};

/** The bytes a renewal proof signs: a context label and the SHA-256 of the CSR's DER. */
async function renewalMessage(csr: string | Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const label = new TextEncoder().encode("x0tta6bl4 svid renewal v1\n");
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", toBytes(csrDer(csr))),
  );
  const msg = new Uint8Array(label.length + digest.length);
  msg.set(label);
  msg.set(digest, label.length);
  return msg;
}

/**
 * Signs a renewal request with the current SVID's private key (ECDSA P-256, SHA-256), proving
 * possession: the certificate alone is public and must not be enough to renew.
 *
 * @param currentKey the current SVID's private key
 * @param csr the CSR for the new key (PEM or DER)
 */
export async function renewalProof(
  currentKey: CryptoKey,
  csr: string | Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      currentKey,
      await renewalMessage(csr),
    ),
  );
}
