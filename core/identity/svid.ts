/**
 * X.509-SVID issuance per the SPIFFE X.509-SVID spec: exactly one URI SAN (the SPIFFE ID),
 * cA=false, key usage digitalSignature (critical), EKU serverAuth+clientAuth.
 *
 * @module
 */
import * as x509 from "./x509.ts";
import { ValidationError } from "../errors.ts";
import { SIGNING_ALGORITHM, type TrustDomainCa } from "./ca.ts";
import { parseSpiffeId, type SpiffeId } from "./spiffe_id.ts";
import { decodePem, encodePem, toBytes } from "./pem.ts";
import { privateKeyToPem } from "./keys.ts";

/** Default X.509-SVID lifetime: one hour. */
export const DEFAULT_SVID_TTL_MS = 3600_000;
/** How far notBefore is backdated to absorb clock skew between agents. */
export const BACKDATE_MS = 10_000;

/** An X.509-SVID: the leaf first, then any intermediates; with its private key when ours. */
export interface X509Svid {
  /** The SPIFFE ID in the leaf's URI SAN. */
  readonly id: SpiffeId;
  /** Leaf first, then intermediates (never the root). */
  readonly chain: readonly x509.X509Certificate[];
  /** The leaf's private key, when this SVID is our own. */
  readonly privateKey?: CryptoKey;
}

/**
 * Issues an X.509-SVID for `spiffeId` over `publicKey`, signed by `ca`.
 *
 * @param ca the trust-domain CA; the ID must be in its trust domain
 * @param spiffeId the SPIFFE ID to certify
 * @param options subject public key, lifetime, clock
 */
export async function issueX509Svid(
  ca: TrustDomainCa,
  spiffeId: string,
  options: { publicKey: CryptoKey; ttlMs?: number; now?: Date },
): Promise<x509.X509Certificate> {
  const id = parseSpiffeId(spiffeId);
  if (id.trustDomain !== ca.trustDomain) {
    throw new ValidationError(
      `Cannot issue SVID: ${id.uri} is not in trust domain ${ca.trustDomain}`,
    );
  }
  if (id.path === "") {
    throw new ValidationError(`Cannot issue SVID: ${id.uri} has no path (workload IDs need one)`);
  }
  const ttl = options.ttlMs ?? DEFAULT_SVID_TTL_MS;
  if (!(ttl > 0)) throw new ValidationError(`Invalid SVID TTL: ${ttl} ms`);
  const now = (options.now ?? new Date()).getTime();
  // Never outlive the CA: a leaf valid past its issuer fails path validation anyway.
  const notAfter = Math.min(now + ttl, ca.cert.notAfter.getTime());
  return await x509.X509CertificateGenerator.create({
    subject: "O=x0tta6bl4",
    issuer: ca.cert.subject,
    publicKey: options.publicKey,
    signingKey: ca.keys.privateKey,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: id.uri }]),
      await x509.SubjectKeyIdentifierExtension.create(options.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
}

/**
 * Parses and checks a PKCS#10 CSR (PEM or DER): the signature must verify with the
 * enclosed key and the key must be ECDSA P-256/P-384 or RSA of at least 2048 bits. Subject and
 * requested SANs are ignored: the issuer decides the SPIFFE ID.
 *
 * @param csr PEM text or DER bytes
 */
export async function parseCsr(csr: string | Uint8Array): Promise<CryptoKey> {
  let req: x509.Pkcs10CertificateRequest;
  try {
    const der = typeof csr === "string"
      ? decodePem(csr, "CERTIFICATE REQUEST")[0]?.der
      : toBytes(csr);
    if (!der) throw new Error("no CERTIFICATE REQUEST PEM block");
    req = new x509.Pkcs10CertificateRequest(der);
  } catch (err) {
    throw new ValidationError(`Invalid CSR: ${(err as Error).message}`, { cause: err });
  }
  if (!await req.verify().catch(() => false)) {
    throw new ValidationError("Invalid CSR: signature does not verify");
  }
  const alg = req.publicKey.algorithm as EcKeyAlgorithm & RsaHashedKeyAlgorithm;
  const ok = (alg.name === "ECDSA" && ["P-256", "P-384"].includes(alg.namedCurve)) ||
    (alg.name.startsWith("RSA") && alg.modulusLength >= 2048);
  if (!ok) throw new ValidationError(`Invalid CSR: key algorithm ${alg.name} is not allowed`);
  const keyAlg = alg.name === "ECDSA"
    ? { name: "ECDSA", namedCurve: alg.namedCurve }
    : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  return await req.publicKey.export(keyAlg, ["verify"]);
}

/**
 * Creates a PKCS#10 CSR (PEM) for a key pair; agents send it with their join token.
 *
 * @param keys the agent's key pair
 */
export async function createCsr(keys: CryptoKeyPair): Promise<string> {
  const req = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "O=x0tta6bl4",
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
  });
  return req.toString("pem");
}

/** Serializes an SVID chain as concatenated PEM certificates (leaf first). */
export function chainToPem(chain: readonly x509.X509Certificate[]): string {
  return chain.map((c) => encodePem("CERTIFICATE", c.rawData)).join("");
}

/** Returns the PEM cert chain and PKCS#8 key PEM of our own SVID, as node:tls wants them. */
export async function svidToTlsPem(svid: X509Svid): Promise<{ cert: string; key: string }> {
  if (!svid.privateKey) throw new ValidationError(`SVID ${svid.id.uri} has no private key`);
  return { cert: chainToPem(svid.chain), key: await privateKeyToPem(svid.privateKey) };
}
