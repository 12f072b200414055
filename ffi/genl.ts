/**
 * Generic netlink over raw `AF_NETLINK` sockets, reached through libc with Deno FFI: open and
 * bind a `NETLINK_GENERIC` socket, resolve a family id with `CTRL_CMD_GETFAMILY`, send a request
 * (plain or dump) and collect the replies, parsed with the bounds-checked decoders of
 * ffi/genl_wire.ts. Calls are synchronous with a receive timeout (SO_RCVTIMEO): the kernel
 * answers generic netlink requests at once, and errno is only meaningful on the calling thread.
 *
 * Standalone on purpose (imports nothing from core/): a failing call or a kernel error reply
 * throws `NetlinkError` with the errno; a malformed reply throws `NetlinkFormatError`.
 *
 * @module
 */
import {
  attr,
  encodeRequest,
  type GenlMessage,
  messageErrno,
  NetlinkFormatError,
  NL,
  type NlAttrInput,
  parseGenl,
  parseMessages,
  stringBytes,
} from "./genl_wire.ts";

/** A netlink call failed or the kernel answered with an error; `errno` is positive. */
export class NetlinkError extends Error {
  /** Positive errno value (ENOENT = 2, EPERM = 1, EAGAIN = 11 for a timeout, ...). */
  readonly errno: number;
  /**
   * @param message sentence-case message, detail after a colon
   * @param errno positive errno
   */
  constructor(message: string, errno: number) {
    super(message);
    this.name = "NetlinkError";
    this.errno = errno;
  }
}

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>;
let lib: Lib | undefined;

function load(): Lib {
  if (lib) return lib;
  try {
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch (err) {
    throw new NetlinkError(
      `Cannot load libc.so.6 for netlink: ${err instanceof Error ? err.message : String(err)}`,
      38,
    );
  }
  return lib;
}

function errnoNow(l: Lib): number {
  const p = l.symbols.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** The message libc has for an errno. */
export function strerror(errno: number): string {
  const p = load().symbols.strerror(errno);
  return p === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(p);
}

/**
 * Interface index for a name in the calling thread's network namespace, or 0 when none.
 *
 * @param name interface name (1-15 bytes)
 */
export function ifNameToIndex(name: string): number {
  const bytes = stringBytes(name);
  if (bytes.indexOf(0) !== bytes.length - 1) throw new TypeError("Interface name contains NUL");
  return load().symbols.if_nametoindex(bytes);
}

/** An open, bound NETLINK_GENERIC socket. */
export interface GenlSocket {
  /** Resolves a family name to its id and version; throws NetlinkError(ENOENT) when absent. */
  resolveFamily(name: string): { id: number; version: number };
  /**
   * Sends one request and returns every reply message of it (all parts of a dump). A kernel
   * error reply throws NetlinkError with its errno.
   */
  request(
    familyId: number,
    msg: { cmd: number; version: number; attrs?: NlAttrInput[]; dump?: boolean },
  ): GenlMessage[];
  /** Closes the socket (idempotent). */
  close(): void;
}

const MAX_RECVS = 100_000;

/**
 * Opens a generic netlink socket with a receive timeout.
 *
 * @param options receive timeout in milliseconds (default 2000)
 */
export function openGenlSocket(options: { timeoutMs?: number } = {}): GenlSocket {
  const l = load();
  const s = l.symbols;
  const fd = s.socket(NL.AF_NETLINK, NL.SOCK_RAW | NL.SOCK_CLOEXEC, NL.NETLINK_GENERIC);
  if (fd < 0) {
    const e = errnoNow(l);
    throw new NetlinkError(`Cannot open a generic netlink socket: ${strerror(e)}`, e);
  }
  const sockaddr = new Uint8Array(12);
  new DataView(sockaddr.buffer).setUint16(0, NL.AF_NETLINK, true);
  if (s.bind(fd, sockaddr, sockaddr.length) !== 0) {
    const e = errnoNow(l);
    s.close(fd);
    throw new NetlinkError(`Cannot bind the generic netlink socket: ${strerror(e)}`, e);
  }
  const timeoutMs = options.timeoutMs ?? 2000;
  const tv = new Uint8Array(16);
  const tvv = new DataView(tv.buffer);
  tvv.setBigInt64(0, BigInt(Math.floor(timeoutMs / 1000)), true);
  tvv.setBigInt64(8, BigInt((timeoutMs % 1000) * 1000), true);
  if (s.setsockopt(fd, NL.SOL_SOCKET, NL.SO_RCVTIMEO, tv, tv.length) !== 0) {
    const e = errnoNow(l);
    s.close(fd);
    throw new NetlinkError(`Cannot set the netlink receive timeout: ${strerror(e)}`, e);
  }
  let open = true;
  let seq = Math.floor(Math.random() * 0x7fffffff);
  const recvBuf = new Uint8Array(65536);

  const request: GenlSocket["request"] = (familyId, msg) => {
    if (!open) throw new NetlinkError("Netlink socket is closed", 9);
    seq = (seq + 1) >>> 0;
    const mySeq = seq;
    const flags = NL.NLM_F_REQUEST | NL.NLM_F_ACK | (msg.dump ? NL.NLM_F_DUMP : 0);
    const req = encodeRequest(familyId, { ...msg, flags, seq: mySeq });
    const sent = Number(s.sendto(fd, req, BigInt(req.length), 0, sockaddr, sockaddr.length));
    if (sent < 0) {
      const e = errnoNow(l);
      throw new NetlinkError(`Cannot send netlink request: ${strerror(e)}`, e);
    }
    const replies: GenlMessage[] = [];
    for (let i = 0; i < MAX_RECVS; i++) {
      const n = Number(s.recv(fd, recvBuf, BigInt(recvBuf.length), 0));
      if (n < 0) {
        const e = errnoNow(l);
        if (e === 4) continue; // EINTR
        throw new NetlinkError(
          e === 11
            ? `Netlink reply timed out after ${timeoutMs} ms`
            : `Cannot receive netlink reply: ${strerror(e)}`,
          e,
        );
      }
      for (const m of parseMessages(recvBuf.slice(0, n))) {
        if (m.seq !== mySeq) continue; // a late reply to an earlier, timed-out request
        if (m.type === NL.NLMSG_ERROR) {
          const e = messageErrno(m);
          if (e !== 0) throw new NetlinkError(`Netlink request failed: ${strerror(e)}`, e);
          if (!msg.dump) return replies;
          continue;
        }
        if (m.type === NL.NLMSG_DONE) {
          const e = messageErrno(m);
          if (e !== 0) throw new NetlinkError(`Netlink dump failed: ${strerror(e)}`, e);
          return replies;
        }
        if (m.type === NL.NLMSG_NOOP) continue;
        if (m.type === NL.NLMSG_OVERRUN) throw new NetlinkError("Netlink dump overrun", 75);
        if (m.type !== familyId) {
          throw new NetlinkFormatError(`Unexpected netlink message type ${m.type}`);
        }
        replies.push(parseGenl(m.payload));
      }
    }
    throw new NetlinkError(`Netlink reply did not end after ${MAX_RECVS} reads`, 75);
  };

  return {
    resolveFamily(name) {
      let replies: GenlMessage[];
      try {
        replies = request(NL.GENL_ID_CTRL, {
          cmd: NL.CTRL_CMD_GETFAMILY,
          version: 1,
          attrs: [{ type: NL.CTRL_ATTR_FAMILY_NAME, data: stringBytes(name) }],
        });
      } catch (err) {
        if (err instanceof NetlinkError && err.errno === 2) {
          throw new NetlinkError(`Generic netlink family not found: ${name}`, 2);
        }
        throw err;
      }
      for (const r of replies) {
        const id = r.attrs.find((a) => a.type === NL.CTRL_ATTR_FAMILY_ID);
        const ver = r.attrs.find((a) => a.type === NL.CTRL_ATTR_VERSION);
        if (id) return { id: attr.u16(id), version: ver ? attr.u32(ver) : 1 };
      }
      throw new NetlinkFormatError(`Controller reply for ${name} has no family id`);
    },
    request,
    close() {
      if (!open) return;
      open = false;
      s.close(fd);
    },
  };
}
