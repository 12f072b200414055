/**
 * A liveness peer written against the wire format in TypeScript with WebCrypto (not the Rust
 * code): tests use it to cross-check the helper's packet layout and HMAC, and to send garbage.
 *
 * @module
 */
import dgram from "node:dgram";
import type { MeshInterface } from "../../core/mesh/interfaces.ts";

/** The helper's side of a loopback test link. */
export const LOCAL = "127.0.0.1";
/** The TypeScript peer's side of a loopback test link. */
export const PEER = "127.0.0.2";
/** A loopback "link" between the helper (LOCAL) and a TypeScript peer (PEER). */
export const LOOPBACK_LINK: MeshInterface = {
  name: "lo",
  localAddress: LOCAL,
  peerAddress: PEER,
  prefixLength: 31,
};

/** Encodes a liveness packet; with a key it carries the 16-byte HMAC-SHA-256 tag. */
export async function encodeLiveness(
  p: { hear: boolean; session: number; seq: number },
  options: { key?: Uint8Array; from: string; to: string },
): Promise<Uint8Array> {
  const h = new Uint8Array(16);
  h.set(new TextEncoder().encode("X0LV"), 0);
  h[4] = 1;
  h[5] = (options.key ? 1 : 0) | (p.hear ? 2 : 0);
  const v = new DataView(h.buffer);
  v.setUint32(8, p.session >>> 0);
  v.setUint32(12, p.seq >>> 0);
  if (!options.key) return h;
  const ip = (a: string) => a.split(".").map(Number);
  const msg = new Uint8Array([...h, ...ip(options.from), ...ip(options.to)]);
  const k = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(options.key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const tag = new Uint8Array(await crypto.subtle.sign("HMAC", k, msg)).subarray(0, 16);
  return new Uint8Array([...h, ...tag]);
}

/** A UDP peer bound to `address:port` that sends hellos to the helper on demand. */
export async function livenessPeer(address: string, port: number) {
  const socket = dgram.createSocket({ type: "udp4" });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, address, () => resolve());
  });
  const received: Uint8Array[] = [];
  socket.on("message", (m: Uint8Array) => received.push(new Uint8Array(m)));
  return {
    received,
    send: (data: Uint8Array, to: string, toPort = port) =>
      new Promise<void>((resolve) => socket.send(data, toPort, to, () => resolve())),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** Parses hex into bytes. */
export function fromHex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));
}
