/**
 * The built-in issuer's TLS endpoint (node:https), the only way agents reach an issuer:
 *
 * - `POST /identity/attest {token, csr}`: the bootstrap. The joining node has no certificate
 *   yet, so only the server authenticates: it presents `spiffe://<td>/issuer/<node>` plus the CA
 *   certificate, and the client checks that CA against its pin (`ca_sha256`) before it sends the
 *   one-time token (as SPIRE's join-token node attestation: server-authenticated TLS first).
 * - `POST /identity/renew {csr}`: mutual TLS. The client presents its current SVID; the TLS
 *   handshake proves possession of its key; the ID must be valid in our trust domain and pass the
 *   authorizer (default: under `/node`), and the new SVID is issued for exactly that ID.
 *
 * Members never receive an `/issuer` ID (join tokens name `/node/<name>`, renewal keeps the ID),
 * so a member's SVID cannot impersonate the issuer to another joining node.
 *
 * @module
 */
import https from "node:https";
import type http from "node:http";
import type tls from "node:tls";
import { Buffer } from "node:buffer";
import { getLogger } from "@logtape/logtape";
import {
  AuthError,
  errorMessage,
  ForbiddenError,
  HTTP_STATUS,
  NotFoundError,
  ValidationError,
  X0Error,
} from "../errors.ts";
import { Counter, metric, registry } from "../telemetry/metrics.ts";
import { authorizePathPrefix, type Authorizer } from "./authorize.ts";
import { bundleSetOf, bundleToJwks } from "./bundle.ts";
import type { BuiltinIssuer, IssuedSvid } from "./issuer.ts";
import type { TrustDomainCa } from "./ca.ts";
import { bytesEqual } from "./pem.ts";
import { generateKeyPair } from "./keys.ts";
import { listenRotating, presentedChain } from "./mtls_https.ts";
import { type RotatingSvidSource, rotatingSvidSource } from "./rotation.ts";
import { spiffeIdFromParts } from "./spiffe_id.ts";
import { chainToPem, DEFAULT_SVID_TTL_MS, issueX509Svid, type X509Svid } from "./svid.ts";
import { SvidRejectedError, validateX509Svid } from "./svid_validation.ts";

const log = getLogger(["x0", "identity", "issuer"]);

/** Path segment of the IDs issuer endpoints present; clients require it. */
export const ISSUER_PATH_PREFIX = "/issuer";

/** Largest request body the endpoint reads (a CSR and a token are well under 8 KiB). */
const MAX_BODY_BYTES = 64 * 1024;

const requests = metric(
  "x0_identity_issuer_requests_total",
  () =>
    new Counter({
      name: "x0_identity_issuer_requests_total",
      help: "Requests to the issuer's TLS endpoint by operation and outcome (ok or error code)",
      labelNames: ["op", "outcome"],
      registers: [registry],
    }),
);

/** A running issuer endpoint. */
export interface IssuerEndpoint {
  /** The bound port. */
  readonly port: number;
  /** The endpoint's own SVID (`spiffe://<td>/issuer/<node>`, chain leaf + CA). */
  readonly svidSource: RotatingSvidSource;
  /** Stops listening and rotating. */
  close(): Promise<void>;
}

/** Options of {@link serveIssuerEndpoint}. */
export interface IssuerEndpointOptions {
  /** Address to bind. */
  host: string;
  /** Port to bind (0 for any). */
  port: number;
  /** The built-in issuer. */
  issuer: BuiltinIssuer;
  /** This node's name: the endpoint presents `spiffe://<td>/issuer/<nodeName>`. */
  nodeName: string;
  /** Who may renew (default: IDs under `/node` in the issuer's trust domain). */
  authorizeRenewal?: Authorizer;
  /**
   * Where the endpoint's SVID is kept between starts (default: minted at every start). One still
   * current (same ID, signed by the CA we hold now, at least {@link REUSE_MIN_LEFT_MS} left) is
   * served again; each new one is saved.
   */
  store?: {
    load(): Promise<X509Svid | null>;
    save(svid: X509Svid): Promise<void>;
  };
}

/** A stored endpoint SVID is served again only with at least this long left to live. */
export const REUSE_MIN_LEFT_MS = 10 * 60_000;

/** The ID an issuer node's endpoint presents: `spiffe://<td>/issuer/<nodeName>`. */
const endpointId = (trustDomain: string, nodeName: string) =>
  spiffeIdFromParts(trustDomain, ISSUER_PATH_PREFIX.slice(1), nodeName);

/**
 * Mints the SVID an issuer node's endpoint presents, with the CA as second certificate (also
 * used to provision one ahead of the first start). Rotated at half-life, it lives 1 h whatever
 * the SVID lifetime of members (the node holds the CA key anyway, so a shorter one buys
 * nothing), which keeps the issuer from signing for itself every few seconds in meshes with very
 * short SVIDs.
 *
 * @param ca the trust domain's CA
 * @param nodeName the issuer node's name
 */
export async function mintEndpointSvid(ca: TrustDomainCa, nodeName: string): Promise<X509Svid> {
  const id = endpointId(ca.trustDomain, nodeName);
  const keys = await generateKeyPair();
  const leaf = await issueX509Svid(ca, id.uri, {
    publicKey: keys.publicKey,
    ttlMs: DEFAULT_SVID_TTL_MS,
  });
  // The CA travels with the leaf: a joining node has nothing but the CA's hash to check.
  return { id, chain: [leaf, ca.cert], privateKey: keys.privateKey };
}

/** The stored endpoint SVID when it is still current for this issuer and node, else null. */
async function storedEndpointSvid(
  options: IssuerEndpointOptions,
): Promise<X509Svid | null> {
  const { issuer, nodeName, store } = options;
  const svid = await store?.load().catch((err) => {
    log.warn("Issuer endpoint SVID not read: {error}", { error: errorMessage(err) });
    return null;
  });
  if (!svid || svid.chain.length !== 2) return null;
  const [leaf, ca] = svid.chain;
  // Presented with the CA we hold now, and valid under it as any peer's SVID would have to be
  // (the store is outside our process: the signature is checked, not just the names).
  if (!bytesEqual(ca.rawData, issuer.ca.cert.rawData)) return null;
  if (leaf.notAfter.getTime() - Date.now() < REUSE_MIN_LEFT_MS) return null;
  const v = await validateX509Svid(svid.chain, bundleSetOf(issuer.bundle()), {
    trustDomain: issuer.trustDomain,
  });
  return v.ok && v.id.uri === endpointId(issuer.trustDomain, nodeName).uri ? svid : null;
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Uint8Array).length;
    if (size > MAX_BODY_BYTES) throw new ValidationError("Request body too large: over 64 KiB");
    parts.push(chunk as Uint8Array);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.concat(parts).toString("utf8"));
  } catch {
    throw new ValidationError("Request body is not JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ValidationError("Request body must be a JSON object");
  }
  return doc as Record<string, unknown>;
}

const field = (body: Record<string, unknown>, name: string): string => {
  const v = body[name];
  if (typeof v !== "string" || v === "") {
    throw new ValidationError(`Invalid request: ${name} must be a non-empty string`);
  }
  return v;
};

async function issuedJson(issued: IssuedSvid): Promise<Record<string, unknown>> {
  return {
    spiffe_id: issued.spiffeId,
    svid: chainToPem([issued.cert]),
    expires_at: issued.cert.notAfter.toISOString(),
    bundle: await bundleToJwks(issued.bundle),
  };
}

/**
 * Serves the issuer's attest (server-authenticated TLS) and renew (mutual TLS) operations.
 *
 * @param options address, issuer, node name, renewal authorizer
 */
export async function serveIssuerEndpoint(
  options: IssuerEndpointOptions,
): Promise<IssuerEndpoint> {
  const { issuer } = options;
  const td = issuer.trustDomain;
  const authorizeRenewal = options.authorizeRenewal ?? authorizePathPrefix(td, "/node");
  const save = async (svid: X509Svid) => {
    await options.store?.save(svid).catch((err) => {
      log.warn("Issuer endpoint SVID not saved: {error}", { error: errorMessage(err) });
    });
  };
  let initial = await storedEndpointSvid(options);
  if (!initial) {
    initial = await mintEndpointSvid(issuer.ca, options.nodeName);
    await save(initial);
  }
  const svidSource = await rotatingSvidSource(initial, {
    renew: () => mintEndpointSvid(issuer.ca, options.nodeName),
    onRotate: save,
  });

  const renew = async (socket: tls.TLSSocket, csr: string): Promise<IssuedSvid> => {
    const chain = presentedChain(socket);
    if (chain.length === 0) {
      throw new AuthError("Renewal needs the current SVID as TLS client certificate", {
        details: { reason: "no_certificate" },
      });
    }
    const v = await validateX509Svid(chain, bundleSetOf(issuer.bundle()), { trustDomain: td });
    if (!v.ok) throw new SvidRejectedError(v.reason, `Renewal refused: ${v.message}`);
    if (!authorizeRenewal(v.id)) {
      throw new ForbiddenError(`Renewal refused: ${v.id.uri} is not authorized`, {
        details: { reason: "unauthorized" },
      });
    }
    // The ID comes only from the handshake's certificate: the new SVID names the same ID.
    return await issuer.renew(chain, csr);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    const op = path === "/identity/attest" ? "attest" : path === "/identity/renew" ? "renew" : "";
    const reply = (status: number, body: unknown) => {
      const bytes = Buffer.from(JSON.stringify(body));
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": String(bytes.length),
        connection: "close",
      });
      res.end(bytes);
    };
    try {
      if (!op) throw new NotFoundError(`No such issuer operation: ${path}`);
      if (req.method !== "POST") {
        throw new X0Error("method_not_allowed", `${req.method} not allowed: use POST`);
      }
      const body = await readJson(req);
      const csr = field(body, "csr");
      const issued = op === "attest"
        ? await issuer.attest(field(body, "token"), csr)
        : await renew(req.socket as tls.TLSSocket, csr);
      requests.inc({ op, outcome: "ok" });
      reply(200, await issuedJson(issued));
    } catch (err) {
      const x0 = err instanceof X0Error ? err : null;
      const code = x0?.code ?? "internal";
      requests.inc({ op: op || "unknown", outcome: code });
      log.warn("Issuer {op} from {remote} refused: {error}", {
        op: op || path,
        remote: req.socket.remoteAddress,
        error: errorMessage(err),
      });
      reply(HTTP_STATUS[code], {
        error: {
          code,
          message: x0 ? x0.message : "Internal error",
          ...(x0?.details ? { details: x0.details } : {}),
        },
      });
    }
  };

  const pem = svidSource.tls();
  const server = https.createServer(
    {
      key: pem.key,
      cert: pem.cert,
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: 10_000,
    },
    (req, res) => void handle(req, res),
  );
  try {
    const listening = await listenRotating(server, { ...options, svidSource });
    log.info("Issuer endpoint for {td} on {host}:{port}", {
      td,
      host: options.host,
      port: listening.port,
    });
    return {
      port: listening.port,
      svidSource,
      close: async () => {
        svidSource.stop();
        await listening.close();
      },
    };
  } catch (err) {
    svidSource.stop();
    throw err;
  }
}
