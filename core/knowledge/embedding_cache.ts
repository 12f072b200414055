/**
 * A persisted embedding cache keyed by content hash, one file per embedder id, so re-ingesting
 * the same text (or asking the same question) never calls the embedder twice. Records are
 * fixed-size (32-byte SHA-256 + dim float32) and appended with one write per batch; a torn
 * tail left by a crash is cut off at the last whole record when the file is opened.
 *
 * The cache is bounded: it keeps the `maxEntries` most recently used vectors (default 100,000,
 * about 150 MiB at 384 dimensions). The file may hold up to twice that many records (appends are
 * cheap); past that it is rewritten with the live entries only (write-then-rename, so a crash
 * leaves either the old or the new file). Hits are not written, so after a reopen recency is the
 * order in which vectors were added (or kept by the last rewrite).
 *
 * @module
 */
import { EMBED_BATCH_SIZE, type Embedder } from "./embedder.ts";
import { UnavailableError } from "../errors.ts";

const hexToBytes = (hex: string) => {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
};
const bytesToHex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Default bound of an embedding cache, in entries. */
export const EMBED_CACHE_MAX_ENTRIES = 100_000;

/** Cache of hash → vector for one embedder, backed by an append-only file. */
export class EmbeddingCache {
  #path: string | undefined;
  #dim: number;
  #max: number;
  /** Least recently used first (a hit moves its entry to the end). */
  #map = new Map<string, Float32Array>();
  /** Records in the file (live or evicted). */
  #fileRecords = 0;
  #hits = 0;
  #misses = 0;

  private constructor(path: string | undefined, dim: number, max: number) {
    this.#path = path;
    this.#dim = dim;
    this.#max = max;
  }

  /**
   * Opens (or creates) the cache file for `embedder` in `dir`; `dir` undefined keeps the cache
   * in memory only.
   *
   * @param dir directory of cache files
   * @param embedder the embedder whose outputs are cached
   * @param options `maxEntries`: how many vectors to keep (default 100,000)
   */
  static async open(
    dir: string | undefined,
    embedder: Embedder,
    options: { maxEntries?: number } = {},
  ): Promise<EmbeddingCache> {
    const max = options.maxEntries ?? EMBED_CACHE_MAX_ENTRIES;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    }
    if (dir === undefined) return new EmbeddingCache(undefined, embedder.dimensions, max);
    await Deno.mkdir(dir, { recursive: true });
    const safe = embedder.id.replace(/[^A-Za-z0-9._-]/g, "_");
    const cache = new EmbeddingCache(`${dir}/${safe}.bin`, embedder.dimensions, max);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(cache.#path!);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return cache;
      throw new UnavailableError(
        `Cannot read embedding cache ${cache.#path}: ${(err as Error).message}`,
      );
    }
    const rec = 32 + 4 * embedder.dimensions;
    const whole = Math.floor(bytes.length / rec);
    if (whole * rec !== bytes.length) await Deno.truncate(cache.#path!, whole * rec);
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    for (let i = 0; i < whole; i++) {
      const off = aligned.byteOffset + i * rec;
      const key = bytesToHex(aligned.subarray(i * rec, i * rec + 32));
      cache.#map.delete(key); // a later record of the same key is the more recent one
      cache.#map.set(key, new Float32Array(aligned.buffer, off + 32, embedder.dimensions));
    }
    cache.#fileRecords = whole;
    cache.#evict();
    return cache;
  }

  /** Entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** Hits and misses since open. */
  get stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /**
   * Returns the cached vector for a content hash.
   *
   * @param hash hex SHA-256 of the content
   */
  get(hash: string): Float32Array | undefined {
    return this.#touch(hash);
  }

  /** Looks up a vector and marks it most recently used. */
  #touch(hash: string): Float32Array | undefined {
    const v = this.#map.get(hash);
    if (v) {
      this.#map.delete(hash);
      this.#map.set(hash, v);
    }
    return v;
  }

  /** Drops least recently used entries beyond the bound (from memory; the file follows later). */
  #evict(): void {
    let over = this.#map.size - this.#max;
    for (const key of this.#map.keys()) {
      if (over-- <= 0) break;
      this.#map.delete(key);
    }
  }

  /**
   * Embeds `texts` (with their content hashes), taking cached vectors where present and calling
   * the embedder for the rest in batches of its batch size (32 by default); new vectors are
   * appended to the file before they are returned.
   *
   * @param embedder the embedder this cache belongs to
   * @param items texts and their hashes
   */
  async embed(
    embedder: Embedder,
    items: readonly { text: string; hash: string }[],
  ): Promise<Float32Array[]> {
    const out: (Float32Array | undefined)[] = items.map((it) => this.#touch(it.hash));
    const missing: number[] = [];
    const firstOf = new Map<string, number>();
    out.forEach((v, i) => {
      if (v) this.#hits++;
      else if (!firstOf.has(items[i].hash)) {
        firstOf.set(items[i].hash, i);
        missing.push(i);
      }
    });
    const batch = embedder.batchSize || EMBED_BATCH_SIZE;
    const fresh: { hash: string; vec: Float32Array }[] = [];
    for (let s = 0; s < missing.length; s += batch) {
      const idx = missing.slice(s, s + batch);
      const vecs = await embedder.embed(idx.map((i) => items[i].text));
      if (vecs.length !== idx.length) {
        throw new UnavailableError(
          `Embedder ${embedder.id} returned ${vecs.length} vectors for ${idx.length} texts`,
        );
      }
      vecs.forEach((v, j) => {
        if (v.length !== this.#dim) {
          throw new UnavailableError(
            `Embedder ${embedder.id} returned ${v.length} dimensions, expected ${this.#dim}`,
          );
        }
        fresh.push({ hash: items[idx[j]].hash, vec: v });
      });
    }
    this.#misses += missing.length;
    await this.#append(fresh);
    const byHash = new Map(fresh.map((f) => [f.hash, f.vec]));
    const result = out.map((v, i) => v ?? byHash.get(items[i].hash)!);
    for (const f of fresh) this.#map.set(f.hash, f.vec);
    this.#evict();
    if (this.#fileRecords > 2 * this.#max) await this.#rewrite();
    return result;
  }

  /** Rewrites the file with the live entries only (write-then-rename). */
  async #rewrite(): Promise<void> {
    if (!this.#path) return;
    const tmp = `${this.#path}.tmp`;
    await Deno.remove(tmp).catch(() => {});
    const entries = [...this.#map].map(([hash, vec]) => ({ hash, vec }));
    await this.#write(tmp, entries);
    await Deno.rename(tmp, this.#path);
    this.#fileRecords = entries.length;
  }

  async #append(entries: readonly { hash: string; vec: Float32Array }[]): Promise<void> {
    if (!this.#path || entries.length === 0) return;
    await this.#write(this.#path, entries);
    this.#fileRecords += entries.length;
  }

  async #write(path: string, entries: readonly { hash: string; vec: Float32Array }[]) {
    const rec = 32 + 4 * this.#dim;
    const buf = new Uint8Array(rec * entries.length);
    entries.forEach((e, i) => {
      buf.set(hexToBytes(e.hash), i * rec);
      buf.set(new Uint8Array(e.vec.buffer, e.vec.byteOffset, this.#dim * 4), i * rec + 32);
    });
    const f = await Deno.open(path, { append: true, create: true });
    try {
      let off = 0;
      while (off < buf.length) off += await f.write(buf.subarray(off));
      await f.syncData();
    } finally {
      f.close();
    }
  }
}
