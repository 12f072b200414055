/**
 * Durable document storage as immutable segment files. Every write (a batch of upserts and
 * deletions) becomes one segment: written to a temporary file, fsynced, then renamed into
 * place, so a crash leaves either the whole batch or none of it. Compaction writes one segment
 * holding every live document and marks the older ones obsolete.
 *
 * Segment layout: magic `X0KBSEG1`, u32 header length, UTF-8 JSON header
 * `{seq, compacts, dim, puts, deletes}`, padding to 4 bytes, then `puts.length × dim` float32
 * vectors (little-endian).
 *
 * @module
 */
import { UnavailableError } from "../errors.ts";
import type { KnowledgeDocument } from "./document.ts";

const MAGIC = new TextEncoder().encode("X0KBSEG1");
const SEGMENT_RE = /^seg-(\d{12})-([0-9a-f]{8})\.kbs$/;

type StoredDoc = Omit<KnowledgeDocument, "embedding">;

interface SegmentHeader {
  seq: number;
  /** When set, this segment replaces every segment with seq <= compacts. */
  compacts?: number;
  dim: number;
  puts: StoredDoc[];
  deletes: string[];
}

/** One write to apply atomically. */
export interface StoreBatch {
  puts: readonly KnowledgeDocument[];
  deletes: readonly string[];
}

// A random suffix keeps two writers (agent and CLI on one data dir) from replacing each other's
// segment when they pick the same sequence number; order is (seq, name).
const segName = (seq: number) =>
  `seg-${String(seq).padStart(12, "0")}-${crypto.randomUUID().slice(0, 8)}.kbs`;
const seqOf = (name: string) => Number(SEGMENT_RE.exec(name)![1]);

function encodeSegment(header: SegmentHeader, vectors: readonly Float32Array[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headEnd = MAGIC.length + 4 + json.length;
  const vecStart = Math.ceil(headEnd / 4) * 4;
  const out = new Uint8Array(vecStart + vectors.length * header.dim * 4);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.length, true);
  out.set(json, MAGIC.length + 4);
  const floats = new Float32Array(out.buffer, vecStart, vectors.length * header.dim);
  vectors.forEach((v, i) => floats.set(v, i * header.dim));
  return out;
}

function decodeSegment(
  bytes: Uint8Array,
  name: string,
): { header: SegmentHeader; vectors: Float32Array } {
  const bad = (why: string) => new UnavailableError(`Corrupt knowledge segment ${name}: ${why}`);
  if (bytes.length < MAGIC.length + 4 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw bad("bad magic");
  }
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  const headEnd = MAGIC.length + 4 + len;
  if (headEnd > bytes.length) throw bad("truncated header");
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, headEnd)),
  ) as SegmentHeader;
  const vecStart = Math.ceil(headEnd / 4) * 4;
  const n = header.puts.length * header.dim;
  if (vecStart + n * 4 !== bytes.length) throw bad("vector block has the wrong size");
  const copy = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return { header, vectors: new Float32Array(copy.buffer, copy.byteOffset + vecStart, n) };
}

async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.syncData();
  } finally {
    f.close();
  }
  await Deno.rename(tmp, path);
}

/** The segment files of one knowledge base directory. */
export class DocStore {
  #dir: string;
  #dim: number;
  #nextSeq = 1;
  #segments: string[] = [];

  private constructor(dir: string, dim: number) {
    this.#dir = dir;
    this.#dim = dim;
  }

  /** Identifies the stored state (last segment written); derived indexes saved with it match. */
  get stamp(): string {
    return `${this.#segments.join(",")}`;
  }

  /** Number of segment files currently live. */
  get segmentCount(): number {
    return this.#segments.length;
  }

  /**
   * Opens the directory and replays every live segment in order, calling `onDoc` for the
   * surviving documents (latest version of each id, deletions applied).
   *
   * @param dir directory of the segments (created if missing)
   * @param dim vector length every segment must have
   */
  static async open(
    dir: string,
    dim: number,
  ): Promise<{ store: DocStore; docs: KnowledgeDocument[] }> {
    await Deno.mkdir(dir, { recursive: true });
    const store = new DocStore(dir, dim);
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && SEGMENT_RE.test(e.name)) names.push(e.name);
      else if (e.isFile && e.name.endsWith(".tmp")) await Deno.remove(`${dir}/${e.name}`);
    }
    names.sort((a, b) => seqOf(a) - seqOf(b) || (a < b ? -1 : 1));
    const live = new Map<string, KnowledgeDocument>();
    let floor = 0;
    const parsed: { name: string; header: SegmentHeader; vectors: Float32Array }[] = [];
    for (const name of names) {
      const { header, vectors } = decodeSegment(await Deno.readFile(`${dir}/${name}`), name);
      if (header.dim !== dim) {
        throw new UnavailableError(
          `Knowledge segment ${name} has ${header.dim}-dimensional vectors, the embedder makes ${dim}: re-ingest into a new data dir`,
        );
      }
      if (header.compacts !== undefined) floor = Math.max(floor, header.compacts);
      parsed.push({ name, header, vectors });
    }
    for (const { name, header, vectors } of parsed) {
      if (header.seq < floor) {
        await Deno.remove(`${dir}/${name}`).catch(() => {});
        continue;
      }
      for (const id of header.deletes) live.delete(id);
      header.puts.forEach((d, i) => {
        live.delete(d.id);
        live.set(d.id, { ...d, embedding: vectors.subarray(i * dim, (i + 1) * dim) });
      });
      store.#segments.push(name);
    }
    store.#nextSeq = (names.length ? seqOf(names.at(-1)!) : 0) + 1;
    return { store, docs: [...live.values()] };
  }

  /**
   * Writes one batch as one segment (all or nothing).
   *
   * @param batch documents to upsert and ids to delete
   */
  async write(batch: StoreBatch): Promise<void> {
    const name = await this.#writeSegment({
      seq: this.#nextSeq,
      dim: this.#dim,
      puts: batch.puts.map(stripEmbedding),
      deletes: [...batch.deletes],
    }, batch.puts.map((d) => d.embedding));
    this.#nextSeq++;
    this.#segments.push(name);
  }

  /**
   * Replaces all segments with one holding `docs` (the live set), then removes the old files.
   *
   * @param docs every live document
   */
  async compact(docs: readonly KnowledgeDocument[]): Promise<void> {
    const seq = this.#nextSeq;
    const name = await this.#writeSegment(
      { seq, compacts: seq, dim: this.#dim, puts: docs.map(stripEmbedding), deletes: [] },
      docs.map((d) => d.embedding),
    );
    this.#nextSeq++;
    const old = this.#segments;
    this.#segments = [name];
    for (const s of old) await Deno.remove(`${this.#dir}/${s}`).catch(() => {});
  }

  async #writeSegment(header: SegmentHeader, vectors: readonly Float32Array[]): Promise<string> {
    const name = segName(header.seq);
    await writeDurably(`${this.#dir}/${name}`, encodeSegment(header, vectors));
    return name;
  }
}

function stripEmbedding(d: KnowledgeDocument): StoredDoc {
  const { embedding: _e, ...rest } = d;
  return rest;
}
