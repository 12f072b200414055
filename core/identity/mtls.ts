/**
 * Mutual TLS between agents over node:tls (Deno.listenTls cannot request client
 * certificates). Both sides present X.509-SVIDs; TLS runs with `rejectUnauthorized: false` and
 * each side then validates the peer's chain itself (SPIFFE rules, bundle of the peer's trust
 * domain) and authorizes the peer's SPIFFE ID. A short preamble inside the channel tells the
 * client whether it was accepted (so "cannot connect" is observable) and carries the nonces the
 * per-neighbour probe HMAC key is derived from.
 *
 * Preamble: client → `X0M1` nonce(32); server → `X0M1` 0x00 nonce(32) on accept, or
 * `X0M1` 0x01 len(1) reason on reject (then closes).
 *
 * SVID rotation replaces the listener's secure context: new handshakes use the new
 * certificate, established sessions are untouched.
 *
 * @module
 */
import tls from "node:tls";
import { Buffer } from "node:buffer";
import { getLogger } from "@logtape/logtape";
import { AuthError, errorMessage, ForbiddenError, UnavailableError } from "../errors.ts";
import { Counter, metric, registry } from "../telemetry/metrics.ts";
import type { Authorizer } from "./authorize.ts";
import type { Bytes } from "./pem.ts";
import { deriveProbeKey, PROBE_NONCE_BYTES } from "./probe_auth.ts";
import type { BundleSource, SvidSource } from "./rotation.ts";
import type { SpiffeId } from "./spiffe_id.ts";
import { validateX509Svid } from "./svid_validation.ts";

const log = getLogger(["x0", "identity", "mtls"]);
const MAGIC = new TextEncoder().encode("X0M1");

const handshakes = metric(
  "x0_mtls_handshakes_total",
  () =>
    new Counter({
      name: "x0_mtls_handshakes_total",
      help: "mTLS handshakes between agents by side and outcome (ok or the rejection reason)",
      labelNames: ["side", "outcome"],
      registers: [registry],
    }),
);

/** An authenticated, authorized mTLS session with a peer agent. */
export interface MtlsSession {
  /** The peer's SPIFFE ID (validated and authorized). */
  readonly peerId: SpiffeId;
  /** Our own SPIFFE ID at handshake time. */
  readonly localId: SpiffeId;
  /** The peer's certificate chain as presented (DER, leaf first). */
  readonly peerChain: readonly Bytes[];
  /** The underlying node:tls socket (a Duplex), for stream-style use. */
  readonly socket: tls.TLSSocket;
  /** Web stream of incoming bytes (created on first access; then do not read `socket`). */
  readonly readable: ReadableStream<Uint8Array>;
  /** Web stream for outgoing bytes. */
  readonly writable: WritableStream<Uint8Array>;
  /** HMAC key for UDP probes to and from this peer, agreed inside this session. */
  readonly probeKey: CryptoKey;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  /** Ends the session. */
  close(): void;
}

/** Options shared by {@link listen} and {@link connect}. */
export interface MtlsCommonOptions {
  /** Host to bind or dial. */
  host: string;
  /** Port to bind (0 for any) or dial. */
  port: number;
  /** Our SVID (rotates). */
  svidSource: SvidSource;
  /** Bundles to validate peers with. */
  bundleSource: BundleSource;
  /** Which validated peers are allowed. */
  authorize: Authorizer;
  /** Preamble deadline in ms (default 10 000). */
  handshakeTimeoutMs?: number;
}

/** Options of {@link listen}. */
export interface MtlsListenOptions extends MtlsCommonOptions {
  /** Called for each accepted session. */
  onConnection(stream: MtlsSession, peerId: SpiffeId): void | Promise<void>;
  /** Called for each rejected peer (reason code and remote address). */
  onReject?(info: { reason: string; remoteAddress?: string }): void;
}

/** A listening mTLS endpoint. */
export interface MtlsServer {
  /** The bound port. */
  readonly port: number;
  /** Number of established sessions. */
  sessionCount(): number;
  /** Stops listening and ends every session. */
  close(): Promise<void>;
}

/** Returns the presented chain from `getPeerCertificate(true)` as DER, leaf first. */
function peerChain(socket: tls.TLSSocket): Bytes[] {
  const out: Bytes[] = [];
  const seen = new Set<string>();
  // deno-lint-ignore no-explicit-any
  let c: any = socket.getPeerCertificate(true);
  while (c && c.raw && !seen.has(c.fingerprint256) && out.length < 10) {
    seen.add(c.fingerprint256);
    out.push(new Uint8Array(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

/**
 * Reads exactly `n` bytes in paused mode (`readable` + `read(n)`), so the stream returns to
 * its initial flowing state afterwards and whoever attaches a `data` listener next gets
 * every later byte.
 */
function readExact(socket: tls.TLSSocket, n: number, timeoutMs: number): Promise<Bytes> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("readable", tryRead);
      socket.off("close", onClose);
      socket.off("error", onError);
    };
    const onClose = () => {
      cleanup();
      reject(new AuthError("Peer closed the connection during the identity handshake"));
    };
    function tryRead() {
      const chunk = socket.read(n) as Uint8Array | null;
      if (chunk === null) return;
      if (chunk.length < n) return onClose();
      cleanup();
      resolve(new Uint8Array(chunk));
    }
    const onError = (err: Error) => {
      cleanup();
      reject(new UnavailableError(`mTLS connection failed: ${err.message}`, { cause: err }));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new UnavailableError(`Identity handshake timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("readable", tryRead);
    socket.on("close", onClose);
    socket.on("error", onError);
    tryRead();
  });
}

const equals = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

function makeSession(
  socket: tls.TLSSocket,
  parts: { peerId: SpiffeId; localId: SpiffeId; chain: Bytes[]; probeKey: CryptoKey },
): MtlsSession {
  const closed = new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once("close", () => resolve());
  });
  let readable: ReadableStream<Uint8Array> | undefined;
  let writable: WritableStream<Uint8Array> | undefined;
  return {
    ...parts,
    peerChain: parts.chain,
    socket,
    probeKey: parts.probeKey,
    closed,
    close: () => socket.end(),
    get readable() {
      let detach = () => {};
      readable ??= new ReadableStream<Uint8Array>({
        start(controller) {
          let done = false;
          const onData = (chunk: Uint8Array) => {
            if (done) return;
            controller.enqueue(new Uint8Array(chunk));
            if ((controller.desiredSize ?? 1) <= 0) socket.pause();
          };
          const finish = () => {
            if (done) return;
            done = true;
            detach();
            controller.close();
          };
          const onError = (err: Error) => {
            if (done) return;
            done = true;
            detach();
            controller.error(err);
          };
          detach = () => {
            socket.off("data", onData);
            socket.off("end", finish);
            socket.off("close", finish);
            socket.off("error", onError);
          };
          socket.on("data", onData);
          socket.on("end", finish);
          socket.on("close", finish);
          socket.on("error", onError);
          socket.resume();
        },
        pull: () => void socket.resume(),
        // Cancelling the read side (e.g. `break` out of for-await) stops reading but keeps the
        // session open for writing; close() or the writable's close() ends it.
        cancel: () => {
          detach();
          socket.pause();
        },
      }, { highWaterMark: 16 });
      return readable;
    },
    get writable() {
      writable ??= new WritableStream<Uint8Array>({
        write: (chunk) =>
          new Promise<void>((resolve, reject) =>
            socket.write(chunk, (err?: Error | null) => (err ? reject(err) : resolve()))
          ),
        close: () => new Promise<void>((resolve) => socket.end(() => resolve())),
        abort: () => void socket.destroy(),
      });
      return writable;
    },
  };
}

type Verdict = { ok: true; id: SpiffeId; chain: Bytes[] } | {
  ok: false;
  reason: string;
  message: string;
};

async function judgePeer(socket: tls.TLSSocket, opts: MtlsCommonOptions): Promise<Verdict> {
  const chain = peerChain(socket);
  const v = await validateX509Svid(chain, opts.bundleSource.bundles());
  if (!v.ok) return { ok: false, reason: v.reason, message: v.message };
  if (!opts.authorize(v.id)) {
    return { ok: false, reason: "unauthorized", message: `Peer ${v.id.uri} is not authorized` };
  }
  return { ok: true, id: v.id, chain };
}

/**
 * Listens for mTLS sessions from peer agents; every client must present a valid X.509-SVID
 * accepted by `authorize`.
 *
 * @param options address, SVID and bundle sources, authorizer, callbacks
 * @example
 * const server = await listen({ host: "127.0.0.1", port: 7443, svidSource, bundleSource,
 *   authorize: authorizeMemberOf("mesh.test"), onConnection: (s, peer) => handle(s, peer) });
 */
export function listen(options: MtlsListenOptions): Promise<MtlsServer> {
  const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const sockets = new Set<tls.TLSSocket>();
  let established = 0;
  const pem = options.svidSource.tls();
  const server = tls.createServer({
    key: pem.key,
    cert: pem.cert,
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: timeoutMs,
  });
  const unsubscribe = options.svidSource.subscribe((_svid, next) => {
    server.setSecureContext({ key: next.key, cert: next.cert });
  });

  const reject = (socket: tls.TLSSocket, reason: string, message: string) => {
    handshakes.inc({ side: "server", outcome: reason });
    log.warn("Rejected mTLS peer {remote}: {message}", {
      remote: socket.remoteAddress,
      message,
    });
    options.onReject?.({ reason, remoteAddress: socket.remoteAddress });
    const r = new TextEncoder().encode(reason.slice(0, 255));
    socket.end(Buffer.from([...MAGIC, 1, r.length, ...r]));
  };

  server.on("secureConnection", async (socket: tls.TLSSocket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on(
      "error",
      (err: Error) => log.debug("mTLS socket error: {error}", { error: err.message }),
    );
    try {
      const verdict = await judgePeer(socket, options);
      if (!verdict.ok) return reject(socket, verdict.reason, verdict.message);
      const hello = await readExact(socket, MAGIC.length + PROBE_NONCE_BYTES, timeoutMs);
      if (!equals(hello.subarray(0, MAGIC.length), MAGIC)) {
        return reject(socket, "bad_preamble", "Peer did not speak the x0 mTLS preamble");
      }
      const serverNonce = crypto.getRandomValues(new Uint8Array(PROBE_NONCE_BYTES));
      const localId = options.svidSource.current().id;
      const probeKey = await deriveProbeKey(
        { client: hello.subarray(MAGIC.length), server: serverNonce },
        { client: verdict.id.uri, server: localId.uri },
      );
      socket.write(Buffer.from([...MAGIC, 0, ...serverNonce]));
      handshakes.inc({ side: "server", outcome: "ok" });
      established++;
      socket.once("close", () => established--);
      const session = makeSession(socket, {
        peerId: verdict.id,
        localId,
        chain: verdict.chain,
        probeKey,
      });
      await options.onConnection(session, verdict.id);
    } catch (err) {
      log.warn("mTLS session setup failed: {error}", { error: errorMessage(err) });
      socket.destroy();
    }
  });

  return new Promise((resolve, rejectListen) => {
    server.once(
      "error",
      (err: Error) =>
        rejectListen(
          new UnavailableError(`Cannot listen on ${options.host}:${options.port}: ${err.message}`),
        ),
    );
    server.listen(options.port, options.host, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === "object" && addr ? addr.port : options.port,
        sessionCount: () => established,
        close: () =>
          new Promise<void>((done) => {
            unsubscribe();
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Opens an mTLS session to a peer agent, presenting our current SVID; the peer must present a
 * valid X.509-SVID accepted by `authorize`, and must accept us. Rejects with
 * {@link AuthError} / {@link ForbiddenError} (with `details.reason`) otherwise.
 *
 * @param options address, SVID and bundle sources, authorizer
 */
export function connect(options: MtlsCommonOptions): Promise<MtlsSession> {
  const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const pem = options.svidSource.tls();
  const localId = options.svidSource.current().id;
  return new Promise((resolve, rejectConnect) => {
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      key: pem.key,
      cert: pem.cert,
      rejectUnauthorized: false,
    });
    const deadline = setTimeout(
      () =>
        fail(
          new UnavailableError(
            `mTLS handshake with ${options.host}:${options.port} timed out after ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(deadline);
      socket.destroy();
      rejectConnect(err);
    };
    const onEarlyError = (err: Error) =>
      fail(
        new UnavailableError(`Cannot connect to ${options.host}:${options.port}: ${err.message}`, {
          cause: err,
        }),
      );
    socket.once("error", onEarlyError);
    socket.once("secureConnect", async () => {
      try {
        const verdict = await judgePeer(socket, options);
        if (!verdict.ok) {
          handshakes.inc({ side: "client", outcome: verdict.reason });
          const E = verdict.reason === "unauthorized" ? ForbiddenError : AuthError;
          return fail(
            new E(`Server rejected: ${verdict.message}`, { details: { reason: verdict.reason } }),
          );
        }
        const clientNonce = crypto.getRandomValues(new Uint8Array(PROBE_NONCE_BYTES));
        socket.write(Buffer.from([...MAGIC, ...clientNonce]));
        const head = await readExact(socket, MAGIC.length + 1, timeoutMs);
        if (!equals(head.subarray(0, MAGIC.length), MAGIC)) {
          return fail(new AuthError("Server did not speak the x0 mTLS preamble"));
        }
        if (head[MAGIC.length] !== 0) {
          const len = (await readExact(socket, 1, timeoutMs))[0];
          const reason = new TextDecoder().decode(await readExact(socket, len, timeoutMs));
          handshakes.inc({ side: "client", outcome: "rejected_by_peer" });
          return fail(
            new AuthError(`Peer rejected our identity: ${reason}`, { details: { reason } }),
          );
        }
        const serverNonce = await readExact(socket, PROBE_NONCE_BYTES, timeoutMs);
        const probeKey = await deriveProbeKey(
          { client: clientNonce, server: serverNonce },
          { client: localId.uri, server: verdict.id.uri },
        );
        socket.off("error", onEarlyError);
        socket.on(
          "error",
          (err: Error) => log.debug("mTLS socket error: {error}", { error: err.message }),
        );
        handshakes.inc({ side: "client", outcome: "ok" });
        clearTimeout(deadline);
        resolve(
          makeSession(socket, { peerId: verdict.id, localId, chain: verdict.chain, probeKey }),
        );
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
