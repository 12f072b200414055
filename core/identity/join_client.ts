/**
 * The agent side of the built-in issuer's HTTP API: attest with a join token (first start of a
 * member node) and renew with proof of possession of the current SVID.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import * as x509 from "./x509.ts";
import { AuthError, UnavailableError, ValidationError } from "../errors.ts";
import { bundleSetOf, parseJwksBundle, type TrustBundle } from "./bundle.ts";
import { renewalProof } from "./issuer.ts";
import { generateKeyPair } from "./keys.ts";
import { decodePem, toBase64 } from "./pem.ts";
import { parseSpiffeId } from "./spiffe_id.ts";
import { chainToPem, createCsr, type X509Svid } from "./svid.ts";
import { verifyX509Svid } from "./svid_validation.ts";

const log = getLogger(["x0", "identity"]);

/** An SVID obtained from the issuer, with the bundle that came with it. */
export interface ObtainedSvid {
  /** Our new SVID with its private key. */
  readonly svid: X509Svid;
  /** The trust domain's bundle. */
  readonly bundle: TrustBundle;
}

const hex = (b: ArrayBuffer) =>
  Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");

async function post(
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new UnavailableError(`Issuer unreachable at ${url}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const json = await res.json().catch(() => ({})) as Record<string, unknown>;
  if (!res.ok) {
    const msg = (json.error as { message?: string } | undefined)?.message ?? res.statusText;
    if (res.status === 401 || res.status === 403) throw new AuthError(`Issuer refused: ${msg}`);
    if (res.status === 400) throw new ValidationError(`Issuer refused: ${msg}`);
    throw new UnavailableError(`Issuer answered ${res.status}: ${msg}`);
  }
  return json;
}

async function accept(
  json: Record<string, unknown>,
  keys: CryptoKeyPair,
  trusted?: TrustBundle,
): Promise<ObtainedSvid> {
  if (typeof json.spiffe_id !== "string" || typeof json.svid !== "string") {
    throw new ValidationError("Issuer response lacks spiffe_id or svid");
  }
  const id = parseSpiffeId(json.spiffe_id);
  const bundle = parseJwksBundle(id.trustDomain, json.bundle);
  const chainDer = decodePem(json.svid, "CERTIFICATE").map((b) => b.der);
  // Check the new SVID against the bundle we already trust (renewal) or the one received.
  const { leaf } = await verifyX509Svid(chainDer, bundleSetOf(trusted ?? bundle));
  const got = await crypto.subtle.exportKey("jwk", await leaf.publicKey.export());
  const want = await crypto.subtle.exportKey("jwk", keys.publicKey);
  if (got.x !== want.x || got.y !== want.y) {
    throw new ValidationError("Issuer returned an SVID for a different key");
  }
  return {
    svid: {
      id,
      chain: chainDer.map((d) => new x509.X509Certificate(d)),
      privateKey: keys.privateKey,
    },
    bundle,
  };
}

/**
 * Attests to the issuer with a one-time join token and a fresh key pair.
 *
 * @param issuerUrl base URL of the issuer's API, e.g. `http://10.0.0.1:8080`
 * @param token the join token
 * @param options `caSha256` pins the bundle (hex SHA-256 of a root's DER); without it the
 *   first bundle is trusted on first use and a warning is logged
 */
export async function attestWithJoinToken(
  issuerUrl: string,
  token: string,
  options: { caSha256?: string; timeoutMs?: number } = {},
): Promise<ObtainedSvid> {
  const keys = await generateKeyPair();
  const csr = await createCsr(keys);
  const json = await post(
    new URL("/identity/attest", issuerUrl).href,
    { token, csr },
    options.timeoutMs ?? 10_000,
  );
  const obtained = await accept(json, keys);
  if (options.caSha256) {
    const pins = await Promise.all(
      obtained.bundle.x509Authorities.map(async (c) =>
        hex(await crypto.subtle.digest("SHA-256", c.rawData))
      ),
    );
    if (!pins.includes(options.caSha256.toLowerCase())) {
      throw new AuthError("Issuer's bundle does not contain the pinned CA (caSha256 mismatch)");
    }
  } else {
    log.warn("Trusting the issuer's bundle on first use: pass the CA's SHA-256 to pin it");
  }
  return obtained;
}

/**
 * Renews an SVID at the issuer, proving possession of the current key.
 *
 * @param issuerUrl base URL of the issuer's API
 * @param current our current SVID (with private key)
 * @param trusted our current bundle; the new SVID must validate against it
 */
export async function renewWithIssuer(
  issuerUrl: string,
  current: X509Svid,
  trusted: TrustBundle,
  options: { timeoutMs?: number } = {},
): Promise<ObtainedSvid> {
  if (!current.privateKey) throw new ValidationError("Cannot renew an SVID without its key");
  const keys = await generateKeyPair();
  const csr = await createCsr(keys);
  const proof = toBase64(await renewalProof(current.privateKey, csr));
  const json = await post(
    new URL("/identity/renew", issuerUrl).href,
    { svid: chainToPem(current.chain), csr, proof },
    options.timeoutMs ?? 10_000,
  );
  return await accept(json, keys, trusted);
}
