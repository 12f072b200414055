/**
 * The trust-domain certificate authority of the built-in issuer: a self-signed ECDSA P-256
 * signing certificate (cA=true, keyCertSign+cRLSign) whose URI SAN names the trust domain.
 *
 * @module
 */
import * as x509 from "./x509.ts";
import { generateKeyPair } from "./keys.ts";
import { parseTrustDomain, trustDomainId } from "./spiffe_id.ts";

/** A trust-domain CA: its certificate and key pair. */
export interface TrustDomainCa {
  /** The trust domain the CA signs for. */
  readonly trustDomain: string;
  /** The self-signed CA certificate. */
  readonly cert: x509.X509Certificate;
  /** The CA key pair (ECDSA P-256). */
  readonly keys: CryptoKeyPair;
}

/** ECDSA with SHA-256, the signature algorithm of every certificate we issue. */
export const SIGNING_ALGORITHM: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

/** Default CA lifetime: one year. */
export const DEFAULT_CA_TTL_MS = 365 * 24 * 3600_000;

/**
 * Creates a new trust-domain CA.
 *
 * @param trustDomain the trust domain name
 * @param options lifetime, clock and an existing key pair
 */
export async function createCa(
  trustDomain: string,
  options: { ttlMs?: number; now?: Date; keys?: CryptoKeyPair } = {},
): Promise<TrustDomainCa> {
  parseTrustDomain(trustDomain);
  const keys = options.keys ?? await generateKeyPair();
  const now = options.now ?? new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `O=x0tta6bl4, CN=${trustDomain} CA`,
    keys,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (options.ttlMs ?? DEFAULT_CA_TTL_MS)),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      new x509.SubjectAlternativeNameExtension([{
        type: "url",
        value: trustDomainId(trustDomain),
      }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { trustDomain, cert, keys };
}
