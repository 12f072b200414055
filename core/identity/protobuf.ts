/**
 * A minimal protobuf wire-format codec (varints and length-delimited fields), enough for the
 * SPIFFE Workload API messages without a protobuf dependency.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import type { Bytes } from "./pem.ts";

/** One decoded field: varints as bigint, length-delimited as bytes. */
export type ProtoField =
  | { readonly field: number; readonly wire: 0; readonly value: bigint }
  | { readonly field: number; readonly wire: 2; readonly value: Bytes }
  | { readonly field: number; readonly wire: 1 | 5; readonly value: Bytes };

const bad = (why: string): never => {
  throw new ValidationError(`Invalid protobuf message: ${why}`);
};

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (pos >= buf.length) bad("truncated varint");
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
  }
  return bad("varint longer than 10 bytes");
}

/**
 * Decodes the top-level fields of a message, in wire order (repeated fields repeat).
 *
 * @param buf the encoded message
 */
export function decodeFields(buf: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) bad("field number 0");
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      out.push({ field, wire, value: v });
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      const end = p2 + Number(len);
      if (end > buf.length) bad(`field ${field} overruns the message`);
      out.push({ field, wire, value: buf.slice(p2, end) });
      pos = end;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) bad(`field ${field} truncated`);
      out.push({ field, wire, value: buf.slice(pos, pos + n) });
      pos += n;
    } else {
      bad(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

function writeVarint(out: number[], v: number): void {
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Builds a message from length-delimited fields (strings, bytes, embedded messages). */
export function encodeFields(
  fields: readonly { field: number; value: Uint8Array | string }[],
): Bytes {
  const out: number[] = [];
  for (const f of fields) {
    const v = typeof f.value === "string" ? new TextEncoder().encode(f.value) : f.value;
    writeVarint(out, (f.field << 3) | 2);
    writeVarint(out, v.length);
    for (const b of v) out.push(b);
  }
  return new Uint8Array(out);
}

/** Returns the UTF-8 text of a length-delimited field. */
export function fieldText(f: ProtoField): string {
  if (f.wire !== 2) bad(`field ${f.field} is not length-delimited`);
  return new TextDecoder("utf-8", { fatal: true }).decode(f.value as Bytes);
}

/** Returns the bytes of a length-delimited field. */
export function fieldBytes(f: ProtoField): Bytes {
  if (f.wire !== 2) bad(`field ${f.field} is not length-delimited`);
  return f.value as Bytes;
}
