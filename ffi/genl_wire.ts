/**
 * The generic netlink wire format, pure and bounds-checked: netlink message headers, the genl
 * header, attributes (type/length/value, padded to four bytes) and their value decoders, and
 * the encoder for requests. A truncated or malformed buffer raises `NetlinkFormatError` and is
 * never read past its end. No FFI here; ffi/genl.ts sends and receives the bytes.
 *
 * @module
 */

/** A netlink buffer that does not follow the wire format (truncated, bad lengths). */
export class NetlinkFormatError extends Error {
  /**
   * @param message what was wrong and where
   */
  constructor(message: string) {
    super(message);
    this.name = "NetlinkFormatError";
  }
}

/** Netlink constants (linux/netlink.h, linux/genetlink.h). */
export const NL = {
  AF_NETLINK: 16,
  SOCK_RAW: 3,
  SOCK_CLOEXEC: 0o2000000,
  NETLINK_GENERIC: 16,
  SOL_SOCKET: 1,
  SO_RCVTIMEO: 20,
  NLM_F_REQUEST: 0x1,
  NLM_F_MULTI: 0x2,
  NLM_F_ACK: 0x4,
  NLM_F_DUMP: 0x300,
  NLMSG_NOOP: 1,
  NLMSG_ERROR: 2,
  NLMSG_DONE: 3,
  NLMSG_OVERRUN: 4,
  GENL_ID_CTRL: 0x10,
  CTRL_CMD_GETFAMILY: 3,
  CTRL_ATTR_FAMILY_ID: 1,
  CTRL_ATTR_FAMILY_NAME: 2,
  CTRL_ATTR_VERSION: 3,
  NLA_F_NESTED: 0x8000,
  NLA_F_NET_BYTEORDER: 0x4000,
  NLA_TYPE_MASK: 0x3fff,
  NLMSG_HDRLEN: 16,
  GENL_HDRLEN: 4,
  NLA_HDRLEN: 4,
} as const;

/** One netlink message: header fields and the payload after the 16-byte header. */
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}

/** One attribute: its type (flags masked off), whether it is nested, and its value bytes. */
export interface NlAttr {
  type: number;
  nested: boolean;
  data: Uint8Array;
}

/** A generic netlink message: command, family version and top-level attributes. */
export interface GenlMessage {
  cmd: number;
  version: number;
  attrs: NlAttr[];
}

/** An attribute to encode in a request. */
export interface NlAttrInput {
  type: number;
  data: Uint8Array;
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * Splits a receive buffer into netlink messages. Every length is checked against the buffer:
 * a header that does not fit, or a length smaller than the header or beyond the end, throws.
 *
 * @param buf bytes returned by one recv()
 */
export function parseMessages(buf: Uint8Array): NlMessage[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NlMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NL.NLMSG_HDRLEN) {
      throw new NetlinkFormatError(
        `Truncated netlink header at offset ${off}: ${buf.length - off} of 16 bytes`,
      );
    }
    const len = view.getUint32(off, true);
    if (len < NL.NLMSG_HDRLEN || len > buf.length - off) {
      throw new NetlinkFormatError(
        `Bad netlink message length at offset ${off}: ${len} (${buf.length - off} bytes left)`,
      );
    }
    out.push({
      type: view.getUint16(off + 4, true),
      flags: view.getUint16(off + 6, true),
      seq: view.getUint32(off + 8, true),
      pid: view.getUint32(off + 12, true),
      payload: buf.subarray(off + NL.NLMSG_HDRLEN, off + len),
    });
    off = Math.min(buf.length, off + align4(len));
  }
  return out;
}

/**
 * Parses a run of attributes (top level or the inside of a nested one). Lengths are checked
 * against the run: a header that does not fit or a length outside [4, bytes left] throws.
 *
 * @param buf the attribute bytes
 */
export function parseAttributes(buf: Uint8Array): NlAttr[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NlAttr[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NL.NLA_HDRLEN) {
      throw new NetlinkFormatError(
        `Truncated attribute header at offset ${off}: ${buf.length - off} of 4 bytes`,
      );
    }
    const len = view.getUint16(off, true);
    const rawType = view.getUint16(off + 2, true);
    if (len < NL.NLA_HDRLEN || len > buf.length - off) {
      throw new NetlinkFormatError(
        `Bad attribute length at offset ${off}: ${len} (${buf.length - off} bytes left)`,
      );
    }
    out.push({
      type: rawType & NL.NLA_TYPE_MASK,
      nested: (rawType & NL.NLA_F_NESTED) !== 0,
      data: buf.subarray(off + NL.NLA_HDRLEN, off + len),
    });
    off = Math.min(buf.length, off + align4(len));
  }
  return out;
}

/**
 * Parses the payload of a generic netlink message (4-byte genl header, then attributes).
 *
 * @param payload a message payload from parseMessages()
 */
export function parseGenl(payload: Uint8Array): GenlMessage {
  if (payload.length < NL.GENL_HDRLEN) {
    throw new NetlinkFormatError(`Truncated generic netlink header: ${payload.length} of 4 bytes`);
  }
  return {
    cmd: payload[0],
    version: payload[1],
    attrs: parseAttributes(payload.subarray(NL.GENL_HDRLEN)),
  };
}

/**
 * The errno of an NLMSG_ERROR or NLMSG_DONE payload: 0 for an ACK, positive otherwise.
 *
 * @param msg the message
 */
export function messageErrno(msg: NlMessage): number {
  if (msg.type === NL.NLMSG_DONE && msg.payload.length === 0) return 0;
  if (msg.payload.length < 4) {
    throw new NetlinkFormatError(
      `Truncated netlink error payload: ${msg.payload.length} of 4 bytes`,
    );
  }
  const code = new DataView(msg.payload.buffer, msg.payload.byteOffset, 4).getInt32(0, true);
  return code < 0 ? -code : code;
}

/** Attribute value decoders that check the length before reading. */
export const attr = {
  /** An unsigned 8-bit value. */
  u8(a: NlAttr): number {
    need(a, 1);
    return a.data[0];
  },
  /** An unsigned 16-bit host-order value. */
  u16(a: NlAttr): number {
    need(a, 2);
    return new DataView(a.data.buffer, a.data.byteOffset, 2).getUint16(0, true);
  },
  /** An unsigned 32-bit host-order value. */
  u32(a: NlAttr): number {
    need(a, 4);
    return new DataView(a.data.buffer, a.data.byteOffset, 4).getUint32(0, true);
  },
  /** An unsigned 64-bit host-order value as a bigint. */
  u64(a: NlAttr): bigint {
    need(a, 8);
    return new DataView(a.data.buffer, a.data.byteOffset, 8).getBigUint64(0, true);
  },
  /** A NUL-terminated string (the terminator is optional on the wire). */
  string(a: NlAttr): string {
    const end = a.data.indexOf(0);
    return new TextDecoder("utf-8", { fatal: true }).decode(
      end < 0 ? a.data : a.data.subarray(0, end),
    );
  },
  /** A 6-byte MAC address as lower-case colon-separated hex. */
  mac(a: NlAttr): string {
    need(a, 6);
    return [...a.data.subarray(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");
  },
};

function need(a: NlAttr, n: number): void {
  if (a.data.length < n) {
    throw new NetlinkFormatError(`Attribute ${a.type} too short: ${a.data.length} of ${n} bytes`);
  }
}

/** Encodes a u32 attribute value. */
export function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

/** Encodes a NUL-terminated string attribute value. */
export function stringBytes(s: string): Uint8Array {
  const e = new TextEncoder().encode(s);
  const b = new Uint8Array(e.length + 1);
  b.set(e);
  return b;
}

/**
 * Encodes one generic netlink request: netlink header, genl header, attributes (each padded to
 * four bytes).
 *
 * @param familyId resolved family id (GENL_ID_CTRL for the controller)
 * @param msg command, version, flags, sequence number and attributes
 */
export function encodeRequest(
  familyId: number,
  msg: { cmd: number; version: number; flags: number; seq: number; attrs?: NlAttrInput[] },
): Uint8Array {
  const attrs = msg.attrs ?? [];
  let len = NL.NLMSG_HDRLEN + NL.GENL_HDRLEN;
  for (const a of attrs) {
    if (a.data.length + NL.NLA_HDRLEN > 0xffff) {
      throw new RangeError(`Attribute ${a.type} too long: ${a.data.length} bytes`);
    }
    len += align4(NL.NLA_HDRLEN + a.data.length);
  }
  const buf = new Uint8Array(len);
  const v = new DataView(buf.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, familyId, true);
  v.setUint16(6, msg.flags, true);
  v.setUint32(8, msg.seq, true);
  v.setUint32(12, 0, true);
  buf[16] = msg.cmd;
  buf[17] = msg.version;
  let off = NL.NLMSG_HDRLEN + NL.GENL_HDRLEN;
  for (const a of attrs) {
    v.setUint16(off, NL.NLA_HDRLEN + a.data.length, true);
    v.setUint16(off + 2, a.type, true);
    buf.set(a.data, off + NL.NLA_HDRLEN);
    off += align4(NL.NLA_HDRLEN + a.data.length);
  }
  return buf;
}
