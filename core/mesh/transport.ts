/**
 * The control channel transport between neighbours, kept to one small interface (listen and
 * connect giving byte connections) so the identity layer can wrap it in mutual TLS without the
 * link-state code changing. `tcpTransport` is the plain TCP implementation; frames on top are a
 * 4-byte big-endian length and a payload of at most {@linkcode MAX_FRAME} bytes.
 *
 * @module
 */

/** Largest control frame payload accepted. */
export const MAX_FRAME = 256 * 1024;

/** A connected control channel. */
export interface ControlConn {
  /** Address of the remote end (IPv4 dotted quad). */
  readonly remoteAddress: string;
  /** Bytes from the remote end. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Writes all bytes (resolves when queued in the kernel). */
  write(data: Uint8Array): Promise<void>;
  /** Closes both directions; safe to call more than once. */
  close(): void;
}

/** Accepts incoming control connections until closed. */
export interface ControlListener extends AsyncIterable<ControlConn> {
  close(): void;
}

/** What the link-state protocol needs from a transport. */
export interface ControlTransport {
  listen(options: { hostname: string; port: number }): ControlListener;
  connect(options: { hostname: string; port: number; timeoutMs: number }): Promise<ControlConn>;
}

function wrapTcp(conn: Deno.TcpConn): ControlConn {
  conn.setNoDelay(true);
  let closed = false;
  const writer = conn.writable.getWriter();
  return {
    remoteAddress: (conn.remoteAddr as Deno.NetAddr).hostname,
    readable: conn.readable,
    write: (data) => writer.write(data),
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // Already closed by the peer or by the stream machinery.
      }
    },
  };
}

/** The plain TCP transport (no authentication; the identity issue wraps it in mTLS). */
export const tcpTransport: ControlTransport = {
  listen({ hostname, port }) {
    const listener = Deno.listen({ hostname, port, transport: "tcp" });
    return {
      async *[Symbol.asyncIterator]() {
        for await (const conn of listener) yield wrapTcp(conn);
      },
      close() {
        try {
          listener.close();
        } catch {
          // Closed already.
        }
      },
    };
  },
  async connect({ hostname, port, timeoutMs }) {
    const pending = Deno.connect({ hostname, port, transport: "tcp" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) =>
      timer = setTimeout(() => r("timeout"), timeoutMs)
    );
    try {
      const result = await Promise.race([pending, timeout]);
      if (result === "timeout") {
        // A silent link swallows the SYN; close the socket if it ever connects.
        pending.then((c) => c.close(), () => {});
        throw new Error(`Connect to ${hostname}:${port} timed out after ${timeoutMs} ms`);
      }
      return wrapTcp(result);
    } finally {
      clearTimeout(timer);
    }
  },
};

/** Frames a payload with its 4-byte big-endian length. */
export function frame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_FRAME) throw new RangeError(`Frame too large: ${payload.length} bytes`);
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

/**
 * Splits a byte stream into frame payloads; throws RangeError on a frame larger than
 * {@linkcode MAX_FRAME} (the caller closes the connection).
 *
 * @param readable the byte stream
 */
export async function* readFrames(
  readable: ReadableStream<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(0);
  for await (const chunk of readable) {
    const joined = new Uint8Array(buf.length + chunk.length);
    joined.set(buf, 0);
    joined.set(chunk, buf.length);
    buf = joined;
    while (buf.length >= 4) {
      const len = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
      if (len > MAX_FRAME) throw new RangeError(`Frame too large: ${len} bytes`);
      if (buf.length < 4 + len) break;
      yield buf.slice(4, 4 + len);
      buf = buf.slice(4 + len);
    }
  }
}
