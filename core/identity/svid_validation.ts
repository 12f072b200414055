/**
 * Peer X.509-SVID validation per the SPIFFE X.509-SVID spec: exactly one URI SAN holding a
 * valid SPIFFE ID, leaf cA=false, digitalSignature set and no keyCertSign/cRLSign, validity
 * window, and RFC 5280 path validation against the bundle of the peer's own trust domain. Every
 * failed rule has its own reason code. `@peculiar/x509`'s chain builder does not enforce CA
 * flags or key usage, so all of those checks are here.
 *
 * @module
 */
import * as x509 from "./x509.ts";
import { AuthError } from "../errors.ts";
import type { BundleSet } from "./bundle.ts";
import { toBytes } from "./pem.ts";
import { parseSpiffeId, type SpiffeId, SpiffeIdError } from "./spiffe_id.ts";

/** Why a certificate is not a valid X.509-SVID; one code per rule. */
export type SvidRejectReason =
  | "no_certificate"
  | "malformed_certificate"
  | "no_uri_san"
  | "multiple_uri_sans"
  | "not_spiffe_uri"
  | "invalid_spiffe_id"
  | "leaf_is_ca"
  | "missing_digital_signature"
  | "leaf_key_cert_sign"
  | "leaf_crl_sign"
  | "wrong_trust_domain"
  | "not_yet_valid"
  | "expired"
  | "unknown_issuer"
  | "bad_signature"
  | "intermediate_not_ca"
  | "intermediate_no_key_cert_sign"
  | "chain_too_long";

/** Outcome of {@link validateX509Svid}. */
export type SvidValidation =
  | { readonly ok: true; readonly id: SpiffeId; readonly leaf: x509.X509Certificate }
  | { readonly ok: false; readonly reason: SvidRejectReason; readonly message: string };

/** A peer certificate that failed X.509-SVID validation; `reason` names the rule. */
export class SvidRejectedError extends AuthError {
  /** The failed rule. */
  readonly reason: SvidRejectReason;
  /**
   * @param reason the failed rule
   * @param message sentence-case detail
   */
  constructor(reason: SvidRejectReason, message: string) {
    super(message, { details: { reason } });
    this.reason = reason;
  }
}

/** Options of {@link validateX509Svid}. */
export interface SvidValidationOptions {
  /** Validation time; defaults to now. */
  now?: Date;
  /** When set, the peer must belong to exactly this trust domain. */
  trustDomain?: string;
  /** Maximum number of intermediates; default 4. */
  maxIntermediates?: number;
}

const reject = (reason: SvidRejectReason, message: string): SvidValidation => ({
  ok: false,
  reason,
  message,
});

const URI_SAN = "url";

const toCert = (c: Uint8Array | x509.X509Certificate): x509.X509Certificate =>
  c instanceof x509.X509Certificate ? c : new x509.X509Certificate(toBytes(c));

const keyUsage = (cert: x509.X509Certificate): number | undefined =>
  cert.getExtension(x509.KeyUsagesExtension)?.usages;

const isCa = (cert: x509.X509Certificate): boolean =>
  cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;

const window = (cert: x509.X509Certificate, now: Date, what: string): SvidValidation | null => {
  if (now < cert.notBefore) {
    return reject("not_yet_valid", `${what} is not valid before ${cert.notBefore.toISOString()}`);
  }
  if (now > cert.notAfter) {
    return reject("expired", `${what} expired at ${cert.notAfter.toISOString()}`);
  }
  return null;
};

/** Could `issuer` have issued `cert` by name and key identifier? */
const mayIssue = (issuer: x509.X509Certificate, cert: x509.X509Certificate): boolean => {
  if (issuer.subject !== cert.issuer) return false;
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  return !(aki && ski && aki !== ski);
};

// Importing an issuer's public key costs about as much as the signature check itself; bundle
// roots are long-lived objects, so keep their CryptoKeys.
const issuerKeys = new WeakMap<x509.X509Certificate, Promise<CryptoKey>>();

const signedBy = async (
  cert: x509.X509Certificate,
  issuer: x509.X509Certificate,
): Promise<boolean> => {
  let key = issuerKeys.get(issuer);
  if (!key) {
    key = issuer.publicKey.export();
    issuerKeys.set(issuer, key);
  }
  try {
    return await cert.verify({ publicKey: await key, signatureOnly: true });
  } catch {
    return false;
  }
};

/**
 * Validates a peer's certificate chain (leaf first, then intermediates) as an X.509-SVID of a
 * trust domain in `bundles`. Never throws for bad input: returns the failed rule instead.
 *
 * @param chain DER certificates or parsed ones, leaf first
 * @param bundles trusted bundles, one per trust domain
 * @param options clock, required trust domain
 */
export async function validateX509Svid(
  chain: readonly (Uint8Array | x509.X509Certificate)[],
  bundles: BundleSet,
  options: SvidValidationOptions = {},
): Promise<SvidValidation> {
  if (chain.length === 0) return reject("no_certificate", "Peer presented no certificate");
  let certs: x509.X509Certificate[];
  let uris: string[];
  try {
    certs = chain.map(toCert);
    const san = certs[0].getExtension(x509.SubjectAlternativeNameExtension);
    uris = (san?.names.items ?? []).filter((n) => n.type === URI_SAN).map((n) => n.value);
  } catch (err) {
    return reject(
      "malformed_certificate",
      `Certificate cannot be parsed: ${(err as Error).message}`,
    );
  }
  const leaf = certs[0];
  const now = options.now ?? new Date();
  const maxIntermediates = options.maxIntermediates ?? 4;

  if (uris.length === 0) return reject("no_uri_san", "Leaf has no URI SAN");
  if (uris.length > 1) {
    return reject("multiple_uri_sans", `Leaf has ${uris.length} URI SANs; exactly one is allowed`);
  }
  if (!/^spiffe:/i.test(uris[0])) {
    return reject("not_spiffe_uri", `Leaf URI SAN is not a SPIFFE ID: ${uris[0]}`);
  }
  let id: SpiffeId;
  try {
    id = parseSpiffeId(uris[0]);
  } catch (err) {
    const rule = err instanceof SpiffeIdError ? err.rule : "unknown";
    return reject(
      "invalid_spiffe_id",
      `Leaf URI SAN is not a valid SPIFFE ID (${rule}): ${uris[0]}`,
    );
  }
  if (id.path === "") {
    return reject("invalid_spiffe_id", `Leaf SPIFFE ID has no path: ${id.uri}`);
  }
  if (isCa(leaf)) return reject("leaf_is_ca", "Leaf has cA=true");
  const usage = keyUsage(leaf);
  if (usage === undefined || !(usage & x509.KeyUsageFlags.digitalSignature)) {
    return reject("missing_digital_signature", "Leaf key usage lacks digitalSignature");
  }
  if (usage & x509.KeyUsageFlags.keyCertSign) {
    return reject("leaf_key_cert_sign", "Leaf key usage has keyCertSign");
  }
  if (usage & x509.KeyUsageFlags.cRLSign) {
    return reject("leaf_crl_sign", "Leaf key usage has cRLSign");
  }

  if (options.trustDomain !== undefined && id.trustDomain !== options.trustDomain) {
    return reject(
      "wrong_trust_domain",
      `Peer ${id.uri} is not in trust domain ${options.trustDomain}`,
    );
  }
  const bundle = bundles.get(id.trustDomain);
  if (!bundle || bundle.x509Authorities.length === 0) {
    return reject("wrong_trust_domain", `No bundle for the peer's trust domain ${id.trustDomain}`);
  }
  const leafWindow = window(leaf, now, "Leaf");
  if (leafWindow) return leafWindow;

  // Path validation: walk issuers through the presented intermediates up to a bundle root.
  const intermediates = certs.slice(1);
  let current = leaf;
  for (let depth = 0; depth <= maxIntermediates; depth++) {
    const roots = bundle.x509Authorities.filter((r) => mayIssue(r, current));
    const inters = intermediates.filter((c) => c !== current && mayIssue(c, current));
    if (roots.length === 0 && inters.length === 0) {
      return reject(
        "unknown_issuer",
        `No authority of ${id.trustDomain} issued ${current.subject}`,
      );
    }
    for (const root of roots) {
      if (await signedBy(current, root)) {
        return window(root, now, "Trust domain authority") ?? { ok: true, id, leaf };
      }
    }
    let next: x509.X509Certificate | undefined;
    for (const c of inters) {
      if (await signedBy(current, c)) {
        next = c;
        break;
      }
    }
    if (!next) return reject("bad_signature", `Signature of ${current.subject} does not verify`);
    if (!isCa(next)) {
      return reject("intermediate_not_ca", `Intermediate ${next.subject} is not a CA`);
    }
    if (!((keyUsage(next) ?? 0) & x509.KeyUsageFlags.keyCertSign)) {
      return reject(
        "intermediate_no_key_cert_sign",
        `Intermediate ${next.subject} lacks keyCertSign`,
      );
    }
    const w = window(next, now, `Intermediate ${next.subject}`);
    if (w) return w;
    current = next;
  }
  return reject("chain_too_long", `Chain has more than ${maxIntermediates} intermediates`);
}

/**
 * Like {@link validateX509Svid} but throws {@link SvidRejectedError} on failure.
 *
 * @param chain DER certificates, leaf first
 * @param bundles trusted bundles
 * @param options clock, required trust domain
 */
export async function verifyX509Svid(
  chain: readonly (Uint8Array | x509.X509Certificate)[],
  bundles: BundleSet,
  options: SvidValidationOptions = {},
): Promise<{ id: SpiffeId; leaf: x509.X509Certificate }> {
  const r = await validateX509Svid(chain, bundles, options);
  if (!r.ok) throw new SvidRejectedError(r.reason, `Invalid X.509-SVID: ${r.message}`);
  return { id: r.id, leaf: r.leaf };
}
