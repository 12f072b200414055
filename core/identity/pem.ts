/**
 * PEM encoding and decoding of DER blobs (certificates, keys, CSRs).
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** Bytes backed by a plain ArrayBuffer, the form WebCrypto and @peculiar/x509 accept. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** Copies any byte view into {@link Bytes}. */
export function toBytes(data: Uint8Array | ArrayBuffer): Bytes {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data);
}

/** Whether two byte strings (views or buffers) hold the same bytes. */
export function bytesEqual(a: Uint8Array | ArrayBuffer, b: Uint8Array | ArrayBuffer): boolean {
  const [x, y] = [toBytes(a), toBytes(b)];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** One decoded PEM block. */
export interface PemBlock {
  /** The label between `BEGIN` and the dashes, e.g. `CERTIFICATE`. */
  readonly label: string;
  /** The decoded DER bytes. */
  readonly der: Bytes;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Encodes bytes as standard base64. */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Decodes standard base64 (whitespace ignored); throws ValidationError on bad input. */
export function fromBase64(text: string): Bytes {
  try {
    const bin = atob(text.replace(/\s+/g, ""));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch (err) {
    throw new ValidationError("Invalid base64: cannot decode", { cause: err });
  }
}

/**
 * Encodes DER bytes as one PEM block with 64-column lines.
 *
 * @param label the block label, e.g. `CERTIFICATE`
 * @param der the bytes
 */
export function encodePem(label: string, der: Uint8Array | ArrayBuffer): string {
  const b64 = toBase64(der instanceof Uint8Array ? der : new Uint8Array(der));
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Decodes every PEM block in `text`, optionally only those with `label`.
 *
 * @param text PEM text, possibly several blocks
 * @param label keep only blocks with this label
 */
export function decodePem(text: string, label?: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (label !== undefined && m[1] !== label) continue;
    out.push({ label: m[1], der: fromBase64(m[2]) });
  }
  return out;
}
