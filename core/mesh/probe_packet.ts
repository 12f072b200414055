/**
 * The UDP probe packet neighbours exchange on every mesh interface: a compact, versioned binary
 * frame. A probe asks for an echo; the reply carries the probe's send time back so the sender
 * measures the round trip with its own clock. Anything that is not exactly such a frame is
 * rejected with a reason (garbage from the network must never reach the state machine).
 *
 * Layout (big endian): magic "X0P" · version u8 · kind u8 (1 probe, 2 reply, 3 probe asking
 * for a reply) · seq u32 · sent_at f64 ·
 * router_address u32 · control_port u16 · id_len u8 · node id (ASCII).
 *
 * @module
 */

/** Protocol version of probe frames. */
export const PROBE_VERSION = 1;

const MAGIC = [0x58, 0x30, 0x50]; // "X0P"
const HEADER = 3 + 1 + 1 + 4 + 8 + 4 + 2 + 1;
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Kind of probe frame. */
export type ProbeKind = "probe" | "reply";

/** A decoded probe frame. */
export interface ProbePacket {
  kind: ProbeKind;
  /** Sender's probe sequence number (a reply echoes the probe's). */
  seq: number;
  /** On a probe: whether the receiver should answer with a reply (RTT sample). */
  echo?: boolean;
  /** The prober's clock (ms) when the probe left; echoed unchanged in the reply. */
  sentAt: number;
  /** Node id of the frame's sender. */
  nodeId: string;
  /** Router address (dotted quad) of the frame's sender. */
  routerAddress: string;
  /** TCP port of the sender's control channel. */
  controlPort: number;
}

/** Why a frame was rejected. */
export type ProbeRejectReason = "short" | "magic" | "version" | "kind" | "length" | "node_id";

/** Result of {@linkcode decodeProbe}. */
export type ProbeDecode =
  | { ok: true; packet: ProbePacket }
  | { ok: false; reason: ProbeRejectReason };

/** Packs a dotted quad into an unsigned 32-bit integer; throws TypeError on a malformed one. */
export function ipv4ToInt(address: string): number {
  const parts = address.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new TypeError(`Invalid IPv4 address: ${address}`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Unpacks an unsigned 32-bit integer into a dotted quad. */
export function intToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/**
 * Encodes a probe frame.
 *
 * @param packet the frame; nodeId must be 1-64 of [A-Za-z0-9._-]
 */
export function encodeProbe(packet: ProbePacket): Uint8Array {
  if (!NODE_ID.test(packet.nodeId)) throw new TypeError(`Invalid node id: ${packet.nodeId}`);
  const id = new TextEncoder().encode(packet.nodeId);
  const buf = new Uint8Array(HEADER + id.length);
  const view = new DataView(buf.buffer);
  buf.set(MAGIC, 0);
  view.setUint8(3, PROBE_VERSION);
  view.setUint8(4, packet.kind === "reply" ? 2 : packet.echo ? 3 : 1);
  view.setUint32(5, packet.seq >>> 0);
  view.setFloat64(9, packet.sentAt);
  view.setUint32(17, ipv4ToInt(packet.routerAddress));
  view.setUint16(21, packet.controlPort);
  view.setUint8(23, id.length);
  buf.set(id, HEADER);
  return buf;
}

/**
 * Decodes a probe frame strictly: exact length, magic, version, kind and node id syntax.
 *
 * @param data the datagram as received
 */
export function decodeProbe(data: Uint8Array): ProbeDecode {
  if (data.length < HEADER) return { ok: false, reason: "short" };
  if (data[0] !== MAGIC[0] || data[1] !== MAGIC[1] || data[2] !== MAGIC[2]) {
    return { ok: false, reason: "magic" };
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint8(3) !== PROBE_VERSION) return { ok: false, reason: "version" };
  const kindByte = view.getUint8(4);
  if (kindByte < 1 || kindByte > 3) return { ok: false, reason: "kind" };
  const idLen = view.getUint8(23);
  if (data.length !== HEADER + idLen) return { ok: false, reason: "length" };
  const sentAt = view.getFloat64(9);
  if (!Number.isFinite(sentAt)) return { ok: false, reason: "length" };
  let nodeId: string;
  try {
    nodeId = new TextDecoder("ascii", { fatal: true }).decode(data.subarray(HEADER));
  } catch {
    return { ok: false, reason: "node_id" };
  }
  if (!NODE_ID.test(nodeId)) return { ok: false, reason: "node_id" };
  return {
    ok: true,
    packet: {
      kind: kindByte === 2 ? "reply" : "probe",
      seq: view.getUint32(5),
      echo: kindByte === 3,
      sentAt,
      nodeId,
      routerAddress: intToIpv4(view.getUint32(17)),
      controlPort: view.getUint16(21),
    },
  };
}
