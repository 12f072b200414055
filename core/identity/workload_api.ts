/**
 * SPIFFE Workload API client (X.509-SVID profile) for SPIRE interop: gRPC over HTTP/2
 * (node:http2) on the unix socket named by `SPIFFE_ENDPOINT_SOCKET`, with the required
 * `workload.spiffe.io: true` metadata, and hand-written decoding of `X509SVIDResponse` from the
 * published workload.proto:
 *
 *   X509SVIDResponse { repeated X509SVID svids = 1; repeated bytes crl = 2;
 *                      map<string, bytes> federated_bundles = 3; }
 *   X509SVID { string spiffe_id = 1; bytes x509_svid = 2; bytes x509_svid_key = 3;
 *              bytes bundle = 4; string hint = 5; }
 *
 * @module
 */
import http2 from "node:http2";
import net from "node:net";
import { Buffer } from "node:buffer";
import { getLogger } from "@logtape/logtape";
import { ConfigError, errorMessage, UnavailableError, ValidationError } from "../errors.ts";
import { type BundleSet, bundleSetOf, parseConcatenatedDer, type TrustBundle } from "./bundle.ts";
import { importKeyPair } from "./keys.ts";
import type { Bytes } from "./pem.ts";
import { decodeFields, fieldBytes, fieldText } from "./protobuf.ts";
import { type BundleSource, staticSvidSource, type SvidSource } from "./rotation.ts";
import { parseSpiffeId } from "./spiffe_id.ts";
import type { X509Svid } from "./svid.ts";
import { verifyX509Svid } from "./svid_validation.ts";

const log = getLogger(["x0", "identity", "workload_api"]);

/** gRPC path of FetchX509SVID (the proto declares no package). */
export const FETCH_X509_SVID_PATH = "/SpiffeWorkloadAPI/FetchX509SVID";

/** One update from the Workload API: our SVIDs and every bundle, one per trust domain. */
export interface X509Context {
  /** SVIDs, the default one first. */
  readonly svids: readonly X509Svid[];
  /** Our bundle and federated bundles. */
  readonly bundles: BundleSet;
}

/**
 * Parses `SPIFFE_ENDPOINT_SOCKET` (`unix:///path` or `unix:/path`) into a socket path.
 *
 * @param endpoint the endpoint address
 */
export function parseEndpointSocket(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigError(`Invalid SPIFFE_ENDPOINT_SOCKET: ${endpoint} is not a URI`);
  }
  if (url.protocol !== "unix:") {
    throw new ConfigError(
      `Invalid SPIFFE_ENDPOINT_SOCKET: ${endpoint} (only unix:// is supported)`,
    );
  }
  if (url.host !== "" || url.pathname === "" || url.search || url.hash) {
    throw new ConfigError(`Invalid SPIFFE_ENDPOINT_SOCKET: ${endpoint} (expected unix:///path)`);
  }
  return url.pathname;
}

const tdFromKey = (key: string) => {
  const id = parseSpiffeId(key.startsWith("spiffe://") ? key : `spiffe://${key}`);
  return id.trustDomain;
};

/**
 * Decodes an `X509SVIDResponse` into an {@link X509Context}; each SVID's chain is checked
 * against its own trust domain's bundle.
 *
 * @param msg the protobuf message bytes
 */
export async function decodeX509SvidResponse(msg: Uint8Array): Promise<X509Context> {
  const svids: X509Svid[] = [];
  const bundles: TrustBundle[] = [];
  const own = new Map<string, TrustBundle>();
  for (const f of decodeFields(msg)) {
    if (f.field === 1) {
      let id = "",
        chainDer: Bytes | undefined,
        keyDer: Bytes | undefined,
        bundleDer: Bytes | undefined;
      for (const s of decodeFields(fieldBytes(f))) {
        if (s.field === 1) id = fieldText(s);
        else if (s.field === 2) chainDer = fieldBytes(s);
        else if (s.field === 3) keyDer = fieldBytes(s);
        else if (s.field === 4) bundleDer = fieldBytes(s);
      }
      const spiffeId = parseSpiffeId(id);
      if (!chainDer || !keyDer || !bundleDer) {
        throw new ValidationError(`Workload API SVID ${id} lacks its chain, key or bundle`);
      }
      const chain = parseConcatenatedDer(chainDer);
      const { privateKey } = await importKeyPair(keyDer);
      const bundle: TrustBundle = {
        trustDomain: spiffeId.trustDomain,
        x509Authorities: parseConcatenatedDer(bundleDer),
        jwtAuthorities: [],
        sequence: 0,
        refreshHintSeconds: 300,
      };
      if (!own.has(bundle.trustDomain)) own.set(bundle.trustDomain, bundle);
      await verifyX509Svid(chain, bundleSetOf(bundle));
      svids.push({ id: spiffeId, chain, privateKey });
    } else if (f.field === 3) {
      let key = "", value: Bytes | undefined;
      for (const e of decodeFields(fieldBytes(f))) {
        if (e.field === 1) key = fieldText(e);
        else if (e.field === 2) value = fieldBytes(e);
      }
      const td = tdFromKey(key);
      if (value && !own.has(td)) {
        bundles.push({
          trustDomain: td,
          x509Authorities: parseConcatenatedDer(value),
          jwtAuthorities: [],
          sequence: 0,
          refreshHintSeconds: 300,
        });
      }
    }
  }
  if (svids.length === 0) throw new ValidationError("Workload API response holds no SVID");
  return { svids, bundles: bundleSetOf(...own.values(), ...bundles) };
}

/** A running FetchX509SVID stream. */
export interface X509Watch {
  /** Closes the stream and the HTTP/2 session. */
  close(): void;
  /** Resolves when the stream ends (server end, error or close). */
  readonly done: Promise<void>;
}

/**
 * Opens the FetchX509SVID server stream and calls `onUpdate` for every response.
 *
 * @param socketPath the Workload API unix socket
 * @param handlers update and error callbacks
 */
export function watchX509Context(
  socketPath: string,
  handlers: { onUpdate(ctx: X509Context): void | Promise<void>; onError?(err: Error): void },
): X509Watch {
  const session = http2.connect("http://localhost", {
    createConnection: () => net.connect(socketPath),
  });
  let finished = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => resolveDone = r);
  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    if (err) handlers.onError?.(err);
    session.close();
    if (!session.destroyed) session.destroy();
    resolveDone();
  };
  session.on(
    "error",
    (err: Error) =>
      finish(new UnavailableError(`Workload API at ${socketPath} unreachable: ${err.message}`)),
  );
  const req = session.request({
    ":method": "POST",
    ":path": FETCH_X509_SVID_PATH,
    "content-type": "application/grpc+proto",
    te: "trailers",
    "workload.spiffe.io": "true",
  });
  let buf = new Uint8Array(0);
  let chain = Promise.resolve();
  const grpcStatus = (h: Record<string, unknown>) => {
    const status = h["grpc-status"];
    if (status !== undefined && String(status) !== "0") {
      const msg = decodeURIComponent(String(h["grpc-message"] ?? ""));
      finish(new UnavailableError(`Workload API error: grpc-status ${status}: ${msg}`));
    }
  };
  req.on("response", (h: Record<string, unknown>) => grpcStatus(h));
  req.on("trailers", (h: Record<string, unknown>) => grpcStatus(h));
  req.on("data", (chunk: Uint8Array) => {
    const next = new Uint8Array(buf.length + chunk.length);
    next.set(buf);
    next.set(chunk, buf.length);
    buf = next;
    while (buf.length >= 5) {
      const len = new DataView(buf.buffer, buf.byteOffset).getUint32(1);
      if (buf[0] !== 0) {
        return finish(new ValidationError("Compressed gRPC messages are not supported"));
      }
      if (buf.length < 5 + len) break;
      const msg = buf.slice(5, 5 + len);
      buf = buf.slice(5 + len);
      chain = chain.then(async () => {
        if (finished) return;
        try {
          await handlers.onUpdate(await decodeX509SvidResponse(msg));
        } catch (err) {
          finish(err instanceof Error ? err : new Error(errorMessage(err)));
        }
      });
    }
  });
  req.on("end", () => void chain.then(() => finish()));
  req.on("error", (err: Error) => finish(err));
  // An empty X509SVIDRequest: one uncompressed frame of length 0.
  req.end(Buffer.from([0, 0, 0, 0, 0]));
  return { close: () => finish(), done };
}

/**
 * Fetches the current X.509 context once.
 *
 * @param socketPath the Workload API unix socket
 * @param options timeout (default 10 s)
 */
export function fetchX509Context(
  socketPath: string,
  options: { timeoutMs?: number } = {},
): Promise<X509Context> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      watch.close();
      if (!settled) reject(new UnavailableError("Workload API did not answer in time"));
      settled = true;
    }, options.timeoutMs ?? 10_000);
    const watch = watchX509Context(socketPath, {
      onUpdate(ctx) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        watch.close();
        resolve(ctx);
      },
      onError(err) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      },
    });
    watch.done.then(() => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(new UnavailableError("Workload API stream ended without an SVID"));
      }
    });
  });
}

/**
 * SVID and bundle sources fed by the Workload API stream: the agent's identity when
 * `SPIFFE_ENDPOINT_SOCKET` is set. Resolves after the first update; later updates rotate the
 * SVID (subscribers, e.g. the mTLS listener, are told) and replace the bundles.
 *
 * @param socketPath the Workload API unix socket
 * @param options timeout for the first update, first reconnect delay (default 1 s)
 */
export async function workloadApiSources(
  socketPath: string,
  options: { timeoutMs?: number; retryMinMs?: number } = {},
): Promise<{ svidSource: SvidSource; bundleSource: BundleSource; close(): void }> {
  const first = await fetchX509Context(socketPath, options);
  const svid = await staticSvidSource(first.svids[0]);
  let bundles = first.bundles;
  let closed = false;
  let watch: X509Watch | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let backoffMs = options.retryMinMs ?? 1000;
  const open = () => {
    watch = watchX509Context(socketPath, {
      async onUpdate(ctx) {
        backoffMs = options.retryMinMs ?? 1000;
        bundles = ctx.bundles;
        if (ctx.svids[0].chain[0].serialNumber !== svid.current().chain[0].serialNumber) {
          await svid.set(ctx.svids[0]);
          log.info("Workload API rotated SVID {id}", { id: ctx.svids[0].id.uri });
        }
      },
      onError: (err) => log.warn("Workload API stream failed: {error}", { error: err.message }),
    });
    // The stream should never end; when it does (agent restart), reconnect with backoff and
    // keep serving the last SVID meanwhile.
    watch.done.then(() => {
      if (closed) return;
      retry = setTimeout(open, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 30_000);
    });
  };
  open();
  return {
    svidSource: svid,
    bundleSource: { bundles: () => bundles },
    close: () => {
      closed = true;
      clearTimeout(retry);
      watch?.close();
    },
  };
}
