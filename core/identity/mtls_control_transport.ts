/**
 * The mesh control channel's transport shape (listen / connect giving byte connections, as in
 * core/mesh/transport.ts) over mutual TLS: every connection is an authenticated, authorized
 * {@link MtlsSession}, and carries the peer's SPIFFE ID and the per-neighbour probe key. The
 * shape is matched structurally so identity does not depend on the mesh layer.
 *
 * @module
 */
import type { Authorizer } from "./authorize.ts";
import { connect, listen, type MtlsServer, type MtlsSession } from "./mtls.ts";
import type { BundleSource, SvidSource } from "./rotation.ts";
import type { SpiffeId } from "./spiffe_id.ts";

/** A control connection over mTLS (a superset of the mesh's ControlConn). */
export interface MtlsControlConn {
  /** Address of the remote end. */
  readonly remoteAddress: string;
  /** Bytes from the remote end. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Writes all bytes. */
  write(data: Uint8Array): Promise<void>;
  /** Closes both directions; safe to call more than once. */
  close(): void;
  /** The authenticated peer. */
  readonly peerId: SpiffeId;
  /** HMAC key for UDP probes with this peer. */
  readonly probeKey: CryptoKey;
  /** The underlying session. */
  readonly session: MtlsSession;
}

/** Accepts incoming mTLS control connections until closed. */
export interface MtlsControlListener extends AsyncIterable<MtlsControlConn> {
  /** Stops listening and ends accepted sessions. */
  close(): void;
}

/** Identity inputs of the transport. */
export interface MtlsControlTransportOptions {
  /** Our SVID (rotates without dropping sessions). */
  svidSource: SvidSource;
  /** Bundles to validate peers with. */
  bundleSource: BundleSource;
  /** Which peers may connect or be connected to. */
  authorize: Authorizer;
  /** Called for every established session, both directions (e.g. install the probe key). */
  onSession?(conn: MtlsControlConn): void;
}

/**
 * The session's incoming bytes, as a stream that ends even if the socket closed before anyone
 * read it. The session's own stream listens for the socket's `end` and `close` events from its
 * first use; a peer that closes right after the handshake (the mesh listener refusing a
 * neighbour its prober does not see yet) can fire both before that, and the stream then never
 * ended: the mesh session waited for a HELLO until its sync timeout.
 *
 * @param session an established mTLS session (only its socket state and readable are used)
 */
export function sessionReadable(
  session: Pick<MtlsSession, "socket" | "readable">,
): ReadableStream<Uint8Array> {
  const { socket } = session;
  // Ended: every byte was read already (by the preamble). Destroyed: nothing more is delivered.
  if (socket.readableEnded || socket.destroyed) {
    return new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  }
  return session.readable;
}

function wrap(session: MtlsSession): MtlsControlConn {
  let closed = false;
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  return {
    remoteAddress: (session.socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
    // Taken at once, so the session's stream listens for the socket's events from here on.
    readable: sessionReadable(session),
    write: (data) => (writer ??= session.writable.getWriter()).write(data),
    close() {
      if (closed) return;
      closed = true;
      session.socket.destroy();
    },
    peerId: session.peerId,
    probeKey: session.probeKey,
    session,
  };
}

/**
 * Builds a control transport over mTLS with the mesh's listen/connect shape.
 *
 * @param options SVID and bundle sources, authorizer, session callback
 * @example
 * const transport = mtlsControlTransport({ svidSource, bundleSource,
 *   authorize: authorizePathPrefix(td, "/node"),
 *   onSession: (c) => probes.set(c.peerId.uri, c.probeKey) });
 */
export function mtlsControlTransport(options: MtlsControlTransportOptions) {
  return {
    listen({ hostname, port }: { hostname: string; port: number }): MtlsControlListener {
      const ready: MtlsControlConn[] = [];
      const waiting: ((r: IteratorResult<MtlsControlConn>) => void)[] = [];
      const accepted = new Set<MtlsControlConn>();
      let closed = false;
      let failure: Error | undefined;
      const push = (conn: MtlsControlConn) => {
        accepted.add(conn);
        conn.session.closed.then(() => accepted.delete(conn));
        options.onSession?.(conn);
        const w = waiting.shift();
        if (w) w({ value: conn, done: false });
        else ready.push(conn);
      };
      const serverP: Promise<MtlsServer | undefined> = listen({
        host: hostname,
        port,
        svidSource: options.svidSource,
        bundleSource: options.bundleSource,
        authorize: options.authorize,
        onConnection: (session) => {
          if (closed) session.socket.destroy();
          else push(wrap(session));
        },
      }).catch((err) => {
        failure = err;
        for (const w of waiting.splice(0)) w({ value: undefined, done: true });
        return undefined;
      });
      return {
        [Symbol.asyncIterator]() {
          return {
            next(): Promise<IteratorResult<MtlsControlConn>> {
              if (failure) return Promise.reject(failure);
              const conn = ready.shift();
              if (conn) return Promise.resolve({ value: conn, done: false });
              if (closed) return Promise.resolve({ value: undefined, done: true });
              return new Promise((resolve) => waiting.push(resolve));
            },
            return(): Promise<IteratorResult<MtlsControlConn>> {
              return Promise.resolve({ value: undefined, done: true });
            },
          };
        },
        close() {
          if (closed) return;
          closed = true;
          for (const w of waiting.splice(0)) w({ value: undefined, done: true });
          for (const c of [...accepted, ...ready]) c.close();
          serverP.then((s) => s?.close());
        },
      };
    },
    async connect(
      { hostname, port, timeoutMs }: { hostname: string; port: number; timeoutMs: number },
    ): Promise<MtlsControlConn> {
      const session = await connect({
        host: hostname,
        port,
        svidSource: options.svidSource,
        bundleSource: options.bundleSource,
        authorize: options.authorize,
        handshakeTimeoutMs: timeoutMs,
      });
      const conn = wrap(session);
      options.onSession?.(conn);
      return conn;
    },
  };
}
