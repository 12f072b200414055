/**
 * The agent side of the built-in issuer's TLS endpoint (core/identity/issuer_endpoint.ts):
 * attest with a join token over server-authenticated TLS, the issuer checked against the pinned
 * CA before the token is sent (first start of a member), and renew over mutual TLS with the
 * current SVID. Plain HTTP to an issuer is refused.
 *
 * @module
 */
import tls from "node:tls";
import { Buffer } from "node:buffer";
import { getLogger } from "@logtape/logtape";
import * as x509 from "./x509.ts";
import {
  AuthError,
  ConfigError,
  ForbiddenError,
  UnavailableError,
  ValidationError,
} from "../errors.ts";
import { authorizePathPrefix } from "./authorize.ts";
import { bundleSetOf, parseJwksBundle, type TrustBundle } from "./bundle.ts";
import { ISSUER_PATH_PREFIX } from "./issuer_endpoint.ts";
import { generateKeyPair } from "./keys.ts";
import { presentedChain } from "./mtls_https.ts";
import { decodePem, toBytes } from "./pem.ts";
import type { TlsPem } from "./rotation.ts";
import { parseSpiffeId, parseTrustDomain } from "./spiffe_id.ts";
import { createCsr, svidToTlsPem, type X509Svid } from "./svid.ts";
import { validateX509Svid, verifyX509Svid } from "./svid_validation.ts";

const log = getLogger(["x0", "identity"]);

/** An SVID obtained from the issuer, with the bundle that came with it. */
export interface ObtainedSvid {
  /** Our new SVID with its private key. */
  readonly svid: X509Svid;
  /** The trust domain's bundle. */
  readonly bundle: TrustBundle;
}

/** Largest issuer response read (an SVID and a bundle are a few KiB). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

const hex = (b: ArrayBuffer) =>
  Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * Parses an issuer URL; only `https://host:port` is accepted (plain HTTP to an issuer was
 * removed: join tokens and renewals travel over TLS only).
 *
 * @param issuerUrl e.g. `https://10.0.0.1:8081`
 */
export function parseIssuerUrl(issuerUrl: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(issuerUrl);
  } catch {
    throw new ConfigError(`Invalid issuer URL: ${issuerUrl}`);
  }
  if (url.protocol !== "https:") {
    throw new ConfigError(
      `Invalid issuer URL: ${issuerUrl} (the issuer endpoint is TLS only: use https://HOST:PORT)`,
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: url.port ? Number(url.port) : 443 };
}

/**
 * POSTs JSON to the issuer over TLS. `verifyServer` sees the server's presented chain right
 * after the handshake and must throw to refuse it: nothing (no token) is sent before it passes.
 */
function issuerPost(
  issuerUrl: string,
  path: string,
  body: unknown,
  options: {
    clientPem?: TlsPem;
    verifyServer(chain: Uint8Array[]): Promise<void>;
    timeoutMs: number;
  },
): Promise<Record<string, unknown>> {
  const { host, port } = parseIssuerUrl(issuerUrl);
  return new Promise((resolve, reject) => {
    let settled = false;
    const socket = tls.connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(options.clientPem ? { key: options.clientPem.key, cert: options.clientPem.cert } : {}),
    });
    const finish = (err: Error | null, value?: Record<string, unknown>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(
      () => finish(new UnavailableError(`Issuer at ${issuerUrl} did not answer in time`)),
      options.timeoutMs,
    );
    const parts: Uint8Array[] = [];
    let size = 0;
    socket.on("error", (err: Error) =>
      finish(
        new UnavailableError(`Issuer unreachable at ${issuerUrl}: ${err.message}`, { cause: err }),
      ));
    socket.once("secureConnect", async () => {
      try {
        await options.verifyServer(presentedChain(socket));
      } catch (err) {
        return finish(err as Error);
      }
      const payload = Buffer.from(JSON.stringify(body));
      socket.on("data", (d: Uint8Array) => {
        size += d.length;
        if (size > MAX_RESPONSE_BYTES) finish(new ValidationError("Issuer response over 1 MiB"));
        else parts.push(d);
      });
      // The server closes after its answer (connection: close); a close without a clean end
      // (reset) is parsed too rather than left to the timeout.
      const done = () => {
        try {
          finish(null, parseResponse(issuerUrl, Buffer.concat(parts)));
        } catch (err) {
          finish(err as Error);
        }
      };
      socket.on("end", done);
      socket.on("close", done);
      // One write: headers and body in separate segments would meet Nagle and delayed ACKs.
      socket.write(Buffer.concat([
        Buffer.from(
          `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\n` +
            `content-length: ${payload.length}\r\nconnection: close\r\n\r\n`,
        ),
        payload,
      ]));
    });
  });
}

/** Parses an HTTP/1.1 response (content-length or chunked) and maps errors to X0Errors. */
function parseResponse(issuerUrl: string, raw: Uint8Array): Record<string, unknown> {
  const text = new TextDecoder().decode(raw);
  const split = text.indexOf("\r\n\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1]);
  if (split < 0 || !status) {
    throw new UnavailableError(`Issuer at ${issuerUrl} sent no HTTP answer`);
  }
  const head = text.slice(0, split).toLowerCase();
  let bodyText = text.slice(split + 4);
  if (/^transfer-encoding:\s*chunked/m.test(head)) {
    let out = "";
    let rest = bodyText;
    while (true) {
      const nl = rest.indexOf("\r\n");
      const n = parseInt(rest.slice(0, nl), 16);
      if (!(n > 0)) break;
      out += rest.slice(nl + 2, nl + 2 + n);
      rest = rest.slice(nl + 2 + n + 2);
    }
    bodyText = out;
  }
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(bodyText);
  } catch {
    if (status === 200) throw new ValidationError("Issuer response is not JSON");
  }
  if (status === 200) return json;
  const msg = (json.error as { message?: string } | undefined)?.message ?? `status ${status}`;
  const details = (json.error as { details?: Record<string, unknown> } | undefined)?.details;
  if (status === 401) throw new AuthError(`Issuer refused: ${msg}`, { details });
  if (status === 403) throw new ForbiddenError(`Issuer refused: ${msg}`, { details });
  if (status === 400) throw new ValidationError(`Issuer refused: ${msg}`, { details });
  throw new UnavailableError(`Issuer answered ${status}: ${msg}`);
}

/** The trust domain a CA certificate names in its `spiffe://<td>` URI SAN, if any. */
function caTrustDomain(ca: x509.X509Certificate): string | undefined {
  const san = ca.getExtension(x509.SubjectAlternativeNameExtension);
  const uri = san?.names.items.find((n) => n.type === "url")?.value;
  const m = uri ? /^spiffe:\/\/([^/]+)$/.exec(uri) : null;
  return m?.[1];
}

/** Checks the issuer presents the pinned CA and an `/issuer` SVID that CA signed. */
async function verifyPinnedIssuer(
  chain: Uint8Array[],
  caSha256: string,
  trustDomain: string | undefined,
): Promise<void> {
  if (chain.length === 0) throw new AuthError("Issuer presented no certificate");
  let ca: x509.X509Certificate | undefined;
  for (const der of chain.slice(1)) {
    if (hex(await crypto.subtle.digest("SHA-256", toBytes(der))) === caSha256.toLowerCase()) {
      ca = new x509.X509Certificate(toBytes(der));
    }
  }
  if (!ca) {
    throw new AuthError(
      "Issuer did not present the pinned CA (caSha256 mismatch): refusing to send the join token",
      { details: { reason: "ca_pin_mismatch" } },
    );
  }
  const td = caTrustDomain(ca) ?? parseSpiffeId(
    new x509.X509Certificate(toBytes(chain[0])).getExtension(
      x509.SubjectAlternativeNameExtension,
    )?.names.items.find((n) => n.type === "url")?.value ?? "",
  ).trustDomain;
  if (trustDomain && td !== trustDomain) {
    throw new AuthError(`Issuer's pinned CA is for ${td}, not ${trustDomain}`, {
      details: { reason: "wrong_trust_domain" },
    });
  }
  await verifyIssuerServer(chain, {
    trustDomain: td,
    x509Authorities: [ca],
    jwtAuthorities: [],
    sequence: 0,
    refreshHintSeconds: 300,
  });
}

/** Validates the issuer endpoint's leaf against `bundle` and requires an `/issuer` ID. */
async function verifyIssuerServer(chain: Uint8Array[], bundle: TrustBundle): Promise<void> {
  const v = await validateX509Svid(chain.slice(0, 1), bundleSetOf(bundle), {
    trustDomain: bundle.trustDomain,
  });
  if (!v.ok) {
    throw new AuthError(`Issuer's certificate is invalid: ${v.message}`, {
      details: { reason: v.reason },
    });
  }
  if (!authorizePathPrefix(bundle.trustDomain, ISSUER_PATH_PREFIX)(v.id)) {
    throw new ForbiddenError(`Issuer presented ${v.id.uri}, which is not an issuer ID`, {
      details: { reason: "not_an_issuer" },
    });
  }
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
 * Attests to the issuer with a one-time join token and a fresh key pair, over TLS: the issuer
 * must present the pinned CA and an `/issuer` SVID signed by it before the token is sent.
 *
 * @param issuerUrl the issuer endpoint, e.g. `https://10.0.0.1:8081`
 * @param token the join token
 * @param options `caSha256` (hex SHA-256 of the CA's DER, required), expected trust domain
 */
export async function attestWithJoinToken(
  issuerUrl: string,
  token: string,
  options: { caSha256: string; trustDomain?: string; timeoutMs?: number },
): Promise<ObtainedSvid> {
  if (!/^[0-9a-fA-F]{64}$/.test(options.caSha256 ?? "")) {
    throw new ConfigError("Joining needs the CA pin: caSha256 must be 64 hex digits");
  }
  if (options.trustDomain) parseTrustDomain(options.trustDomain);
  const keys = await generateKeyPair();
  const csr = await createCsr(keys);
  const json = await issuerPost(issuerUrl, "/identity/attest", { token, csr }, {
    verifyServer: (chain) => verifyPinnedIssuer(chain, options.caSha256, options.trustDomain),
    timeoutMs: options.timeoutMs ?? 10_000,
  });
  const obtained = await accept(json, keys);
  const pins = await Promise.all(
    obtained.bundle.x509Authorities.map(async (c) =>
      hex(await crypto.subtle.digest("SHA-256", c.rawData))
    ),
  );
  if (!pins.includes(options.caSha256.toLowerCase())) {
    throw new AuthError("Issuer's bundle does not contain the pinned CA (caSha256 mismatch)");
  }
  log.info("Attested as {id}", { id: obtained.svid.id.uri });
  return obtained;
}

/**
 * Renews an SVID at the issuer over mutual TLS: we present the current SVID (the handshake
 * proves we hold its key) and check the issuer's `/issuer` SVID against our bundle.
 *
 * @param issuerUrl the issuer endpoint
 * @param current our current SVID (with private key)
 * @param trusted our current bundle; the issuer and the new SVID must validate against it
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
  const json = await issuerPost(issuerUrl, "/identity/renew", { csr }, {
    clientPem: await svidToTlsPem(current),
    verifyServer: (chain) => verifyIssuerServer(chain, trusted),
    timeoutMs: options.timeoutMs ?? 10_000,
  });
  return await accept(json, keys, trusted);
}
