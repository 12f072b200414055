/**
 * Agent-to-agent HTTP over mutual TLS (node:https): a server that requires an X.509-SVID from
 * every client and hands authorized requests to a fetch-style handler (a Hono app's `fetch`)
 * with the peer's SPIFFE ID, and a client that presents our SVID and checks the server's
 * before reading the response.
 *
 * @module
 */
import https from "node:https";
import type http from "node:http";
import type tls from "node:tls";
import { Buffer } from "node:buffer";
import { getLogger } from "@logtape/logtape";
import { AuthError, errorMessage, ForbiddenError, UnavailableError } from "../errors.ts";
import type { Authorizer } from "./authorize.ts";
import type { BundleSource, SvidSource } from "./rotation.ts";
import type { SpiffeId } from "./spiffe_id.ts";
import { validateX509Svid } from "./svid_validation.ts";

const log = getLogger(["x0", "identity", "mtls"]);

/** Passed to the handler as its second argument (Hono: `c.env`). */
export interface MtlsPeerInfo {
  /** The authenticated, authorized client. */
  peerId: SpiffeId;
}

/**
 * The certificate chain a TLS peer presented (DER, leaf first), from `getPeerCertificate(true)`;
 * empty when it presented none.
 *
 * @param socket an established TLS socket
 */
export function presentedChain(socket: tls.TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  // deno-lint-ignore no-explicit-any
  let c: any = socket.getPeerCertificate(true);
  while (c?.raw && !seen.has(c.fingerprint256) && out.length < 10) {
    seen.add(c.fingerprint256);
    out.push(new Uint8Array(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

type Judged = { ok: true; id: SpiffeId } | { ok: false; status: 401 | 403; reason: string };

async function judge(
  socket: tls.TLSSocket,
  bundleSource: BundleSource,
  authorize: Authorizer,
): Promise<Judged> {
  const v = await validateX509Svid(presentedChain(socket), bundleSource.bundles());
  if (!v.ok) return { ok: false, status: 401, reason: v.reason };
  if (!authorize(v.id)) return { ok: false, status: 403, reason: "unauthorized" };
  return { ok: true, id: v.id };
}

/**
 * Serves `handler` over HTTPS with client certificates required and SPIFFE-authorized.
 * Unauthenticated clients get 401, unauthorized ones 403 (JSON error body).
 *
 * @param options address, identity sources, authorizer and handler
 */
export function serveMtlsHttps(options: {
  host: string;
  port: number;
  svidSource: SvidSource;
  bundleSource: BundleSource;
  authorize: Authorizer;
  handler: (req: Request, info: MtlsPeerInfo) => Response | Promise<Response>;
}): Promise<{ port: number; close(): Promise<void> }> {
  const pem = options.svidSource.tls();
  // Each TLS connection is judged once; keep-alive requests reuse the verdict.
  const verdicts = new WeakMap<tls.TLSSocket, Promise<Judged>>();
  const server = https.createServer(
    { key: pem.key, cert: pem.cert, requestCert: true, rejectUnauthorized: false },
    async (req: http.IncomingMessage, res: http.ServerResponse) => {
      try {
        const socket = req.socket as tls.TLSSocket;
        let verdict = verdicts.get(socket);
        if (!verdict) {
          verdict = judge(socket, options.bundleSource, options.authorize);
          verdicts.set(socket, verdict);
        }
        const v = await verdict;
        if (!v.ok) {
          res.writeHead(v.status, { "content-type": "application/json", connection: "close" });
          res.end(JSON.stringify({
            error: {
              code: v.status === 401 ? "unauthenticated" : "forbidden",
              message: `Peer rejected: ${v.reason}`,
            },
          }));
          return;
        }
        const chunks: Uint8Array[] = [];
        for await (const c of req) chunks.push(c as Uint8Array);
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const headers = new Headers();
        for (const [k, val] of Object.entries(req.headers)) {
          if (val !== undefined) headers.set(k, Array.isArray(val) ? val.join(", ") : val);
        }
        const url = `https://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
        const method = req.method ?? "GET";
        const response = await options.handler(
          new Request(url, {
            method,
            headers,
            body: method === "GET" || method === "HEAD" ? undefined : body,
          }),
          { peerId: v.id },
        );
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      } catch (err) {
        log.warn("mTLS HTTPS handler failed: {error}", { error: errorMessage(err) });
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "internal", message: "Internal error" } }));
      }
    },
  );
  return listenRotating(server, options);
}

/**
 * Listens with an HTTPS server whose certificate follows SVID rotation (new handshakes use the
 * new SVID, established connections stay); shared by the mTLS API and the bundle endpoint.
 *
 * @param server the HTTPS server, created with the current SVID
 * @param options address and the SVID source to follow
 */
export function listenRotating(
  server: https.Server,
  options: { host: string; port: number; svidSource: SvidSource },
): Promise<{ port: number; close(): Promise<void> }> {
  const unsubscribe = options.svidSource.subscribe((_s, next) =>
    server.setSecureContext({ key: next.key, cert: next.cert })
  );
  // closeAllConnections() knows only HTTP connections: a client stuck in (or dropped during) the
  // TLS handshake would hold close() until the handshake timeout.
  const raw = new Set<{ destroy(): void; once(e: "close", f: () => void): void }>();
  server.on("connection", (sock: { destroy(): void; once(e: "close", f: () => void): void }) => {
    raw.add(sock);
    sock.once("close", () => raw.delete(sock));
  });
  return new Promise((resolve, reject) => {
    server.once("error", (err: Error) => {
      unsubscribe();
      reject(
        new UnavailableError(`Cannot listen on ${options.host}:${options.port}: ${err.message}`),
      );
    });
    server.listen(options.port, options.host, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === "object" && addr ? addr.port : options.port,
        close: () =>
          new Promise<void>((done) => {
            unsubscribe();
            server.closeAllConnections?.();
            for (const sock of raw) sock.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Makes one HTTPS request to a peer agent with our SVID as client certificate; the server's
 * SVID is validated and authorized before the response body is read.
 *
 * @param url the peer's URL (https)
 * @param init method, headers, body (string or bytes)
 * @param identity our SVID source, bundles, and who the server may be
 */
export function mtlsFetch(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Uint8Array;
    timeoutMs?: number;
  },
  identity: { svidSource: SvidSource; bundleSource: BundleSource; authorize: Authorizer },
): Promise<Response & { peerId: SpiffeId }> {
  const pem = identity.svidSource.tls();
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: init.method ?? "GET",
      headers: init.headers,
      key: pem.key,
      cert: pem.cert,
      rejectUnauthorized: false,
      agent: false,
      timeout: init.timeoutMs ?? 10_000,
    }, async (res) => {
      const v = await judge(res.socket as tls.TLSSocket, identity.bundleSource, identity.authorize);
      if (!v.ok) {
        res.destroy();
        const E = v.status === 403 ? ForbiddenError : AuthError;
        return reject(
          new E(`Server at ${url} rejected: ${v.reason}`, { details: { reason: v.reason } }),
        );
      }
      const chunks: Uint8Array[] = [];
      res.on("data", (c: Uint8Array) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const headers = new Headers();
        for (const [k, val] of Object.entries(res.headers)) {
          if (val !== undefined) headers.set(k, Array.isArray(val) ? val.join(", ") : String(val));
        }
        const status = res.statusCode ?? 500;
        const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(Object.assign(new Response(body, { status, headers }), { peerId: v.id }));
      });
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on(
      "error",
      (err: Error) =>
        reject(new UnavailableError(`Request to ${url} failed: ${err.message}`, { cause: err })),
    );
    req.end(init.body);
  });
}
