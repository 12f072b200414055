/**
 * The knowledge base: validated documents, durably stored as segments, indexed for full text
 * (BM25) and vectors (HNSW), searched with hybrid ranking. One instance owns one directory.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { NotFoundError, UnavailableError, ValidationError } from "../errors.ts";
import { Gauge, Histogram, metric, registry } from "../telemetry/metrics.ts";
import {
  contentHash,
  type DocumentType,
  type DocumentView,
  documentView,
  type KnowledgeDocument,
  parseDocuments,
} from "./document.ts";
import { DocStore } from "./doc_store.ts";
import { cosine, type Embedder, l2Normalize } from "./embedder.ts";
import { EmbeddingCache } from "./embedding_cache.ts";
import { type DocFilter, isActive } from "./filter.ts";
import { FilterIndex, type SlotMask } from "./filter_index.ts";
import { fuse, type Fused, type FusionOptions } from "./fusion.ts";
import { hashEmbedder } from "./hash_embedder.ts";
import { HnswIndex, type HnswParams } from "./hnsw_index.ts";
import { pushTopK, type ScoredSlot } from "./bm25_index.ts";
import { type MetricSignature, signatureOf, signatureSimilarity } from "./signature.ts";
import { bm25TextIndex, type TextEngine, type TextIndex } from "./text_index.ts";
import { type OramaTextIndex, oramaTextIndex } from "./orama_index.ts";

const log = getLogger(["x0", "knowledge"]);

const docsGauge = metric(
  "knowledge_documents",
  () =>
    new Gauge({
      name: "knowledge_documents",
      help: "Documents in the knowledge base",
      registers: [registry],
    }),
);
const searchSeconds = metric("knowledge_search_duration_seconds", () =>
  new Histogram({
    name: "knowledge_search_duration_seconds",
    help: "Knowledge base search latency by mode",
    labelNames: ["mode"],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [registry],
  }));

/** Vectors inserted into HNSW per background step (~30 ms of work on this machine kind). */
const INDEX_CHUNK = 32;

/** efSearch of the hybrid vector leg when the similarity threshold is >= 0.5. */
export const GATED_EF = 64;

/** Filtered vector searches matching at most this many documents scan them exactly. */
const EXACT_SCAN_MAX = 8192;

/**
 * Below this many vectors the base scans them exactly and never loads hnswlib-wasm (about 140 ms
 * of CPU at start on this machine kind, which 20 testbed agents on 2 cores pay at once). An exact
 * scan of 1,024 384-dimension vectors takes well under a millisecond.
 */
export const HNSW_MIN_VECTORS = 1024;

/**
 * Takes the exclusive lock of a knowledge directory (created if missing) or fails at once.
 *
 * @param dir the knowledge directory
 * @returns the open lock file; closing it releases the lock
 */
async function lockDir(dir: string): Promise<Deno.FsFile> {
  await Deno.mkdir(dir, { recursive: true });
  const file = await Deno.open(`${dir}/LOCK`, { create: true, write: true });
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } finally {
    if (!locked) file.close();
  }
  if (!locked) {
    throw new UnavailableError(
      `Knowledge base ${dir} is open in another process: stop the agent that uses this data dir, or use its /knowledge API`,
    );
  }
  return file;
}

/** Dot product of two unit vectors (their cosine). */
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Default minimum cosine similarity for a vector-only candidate. */
export const DEFAULT_MIN_SIMILARITY = 0.7;

/** Settings of a knowledge base. */
export interface KnowledgeBaseOptions {
  /** Embedder (default: the built-in hashed n-gram embedder, 384 dimensions). */
  embedder?: Embedder;
  /** Full-text engine (default `bm25`). */
  textEngine?: TextEngine;
  /** Hybrid ranking (default RRF, k = 60). */
  fusion?: Partial<FusionOptions>;
  /** Vector-only candidates below this cosine similarity are dropped (default 0.7). */
  minSimilarity?: number;
  /** HNSW parameters. */
  hnsw?: Partial<HnswParams>;
  /** Vectors scanned exactly before HNSW is built (default {@link HNSW_MIN_VECTORS}). */
  hnswMinVectors?: number;
  /** Persist the embedding cache (default true). */
  cache?: boolean;
  /** Compact when this many segment files exist (default 64). */
  compactAfterSegments?: number;
  /** Clock for default created_at. */
  now?: () => number;
}

/** Search modes: both legs fused, or one leg alone. */
export type SearchMode = "hybrid" | "text" | "vector";

/** One search request. */
export interface SearchRequest extends DocFilter {
  q: string;
  /** Hits to return, 1..1000 (default 5). */
  k?: number;
  mode?: SearchMode;
  minSimilarity?: number;
  fusion?: Partial<FusionOptions>;
  /** When set, candidates are re-ranked by metric-signature similarity (incidents). */
  signature?: MetricSignature;
  /** Share of the final score given to the signature similarity (default 0.5). */
  signatureWeight?: number;
  /** HNSW candidate list size for this query (recall/latency trade-off). */
  efSearch?: number;
}

/** One search result. */
export interface SearchHit {
  id: string;
  score: number;
  document_type: DocumentType;
  tags: string[];
  metadata: Record<string, unknown>;
  language: string;
  source: string;
  created_at: string;
  /** Cosine similarity to the query, when a vector was computed. */
  similarity?: number;
  /** BM25 score, when the text leg found the document. */
  text_score?: number;
  /** Signature similarity, when re-ranked. */
  signature_similarity?: number;
}

/** Result of an ingest. */
export interface IngestResult {
  ids: string[];
  created: number;
  replaced: number;
}

/** A knowledge base bound to one directory; open with {@link KnowledgeBase.open}. */
export class KnowledgeBase {
  #dir: string;
  #lock: Deno.FsFile | undefined;
  #store: DocStore;
  #embedder: Embedder;
  #openCache: () => Promise<EmbeddingCache>;
  #cache: Promise<EmbeddingCache> | undefined;
  #openMs: Record<string, number> = {};
  #loadedCache: EmbeddingCache | undefined;
  #text: TextIndex;
  /** Built once the base holds `hnswMinVectors` vectors; until then every vector is pending. */
  #hnsw: HnswIndex | undefined;
  #useHnsw = false;
  #dims: number;
  #opts: KnowledgeBaseOptions;
  #slots: (KnowledgeDocument | undefined)[] = [];
  #byId = new Map<string, number>();
  #filters = new FilterIndex();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Slots whose vectors are not in HNSW yet (FIFO from #pendingHead); searched exactly. */
  #pending: number[] = [];
  #pendingHead = 0;
  #indexer: Promise<void> | undefined;

  private constructor(
    dir: string,
    parts: {
      store: DocStore;
      embedder: Embedder;
      cache: () => Promise<EmbeddingCache>;
      text: TextIndex;
    },
    opts: KnowledgeBaseOptions,
  ) {
    this.#dir = dir;
    this.#store = parts.store;
    this.#embedder = parts.embedder;
    this.#openCache = parts.cache;
    this.#text = parts.text;
    this.#dims = parts.embedder.dimensions;
    this.#opts = opts;
  }

  /**
   * Opens the knowledge base in `dir` (created if missing): replays the stored segments,
   * restores or rebuilds the full-text index and rebuilds HNSW from the stored vectors. One
   * process at a time: the directory is locked (`LOCK`, an advisory file lock the kernel drops
   * when the process dies) until {@link close}, so a CLI cannot write segments under a running
   * agent.
   *
   * @throws UnavailableError when another process (or another open base) holds the directory
   *
   * @param dir the knowledge directory (the agent uses `<data-dir>/knowledge`)
   * @param options embedder, engines and ranking settings
   */
  static async open(dir: string, options: KnowledgeBaseOptions = {}): Promise<KnowledgeBase> {
    const lock = await lockDir(dir);
    try {
      const kb = await KnowledgeBase.#open(dir, options);
      kb.#lock = lock;
      return kb;
    } catch (err) {
      lock.close();
      throw err;
    }
  }

  static async #open(dir: string, options: KnowledgeBaseOptions): Promise<KnowledgeBase> {
    const t0 = performance.now();
    const embedder = options.embedder ?? hashEmbedder();
    const { store, docs } = await DocStore.open(`${dir}/segments`, embedder.dimensions);
    const t1 = performance.now();
    // The cache is only needed to embed new content: load it on the first ingest, not at start.
    const cacheDir = options.cache === false ? undefined : `${dir}/embed_cache`;
    const cache = () => EmbeddingCache.open(cacheDir, embedder);
    const engine = options.textEngine ?? "bm25";
    const ref: { kb?: KnowledgeBase } = {};
    const text = engine === "orama"
      ? await oramaTextIndex(`${dir}/orama.json`, docs, {
        stamp: store.stamp,
        slotOf: (id) => ref.kb!.#byId.get(id),
      })
      : bm25TextIndex();
    const t2 = performance.now();
    const kb = new KnowledgeBase(dir, { store, embedder, cache, text }, options);
    ref.kb = kb;
    kb.#index(docs, engine !== "orama");
    docsGauge.set(kb.size);
    kb.#openMs = {
      segments: Math.round(t1 - t0),
      text_restore: Math.round(t2 - t1),
      index: Math.round(performance.now() - t2),
    };
    log.info("Knowledge base opened: {count} documents from {dir} in {ms} ms", {
      count: docs.length,
      dir,
      ms: Math.round(performance.now() - t0),
    });
    return kb;
  }

  /** Number of live documents. */
  get size(): number {
    return this.#byId.size;
  }

  /** The embedder in use. */
  get embedder(): Embedder {
    return this.#embedder;
  }

  /** Counts by type, segment files, cache entries, and how the text index came up. */
  stats(): {
    documents: number;
    by_type: Record<string, number>;
    segments: number;
    /** Null until the cache is first needed (it loads on the first ingest). */
    cached_embeddings: number | null;
    /** Milliseconds spent at open: segment replay, text index restore, indexing. */
    open_ms: Record<string, number>;
    text_engine: TextEngine;
    text_state: "built" | "restored" | "rebuilt";
  } {
    const byType: Record<string, number> = {};
    for (const slot of this.#byId.values()) {
      const t = this.#slots[slot]!.document_type;
      byType[t] = (byType[t] ?? 0) + 1;
    }
    const restored = (this.#text as Partial<OramaTextIndex>).restored;
    return {
      documents: this.size,
      by_type: byType,
      segments: this.#store.segmentCount,
      cached_embeddings: this.#loadedCache?.size ?? null,
      open_ms: this.#openMs,
      text_engine: this.#text.engine,
      text_state: restored === undefined ? "built" : restored ? "restored" : "rebuilt",
    };
  }

  /**
   * Validates, embeds, stores and indexes a batch (one document or many). The batch is written
   * whole or not at all: any bad document throws a ValidationError naming it and nothing
   * changes. A document whose id exists replaces it.
   *
   * @param inputs raw documents (JSON values)
   */
  add(inputs: readonly unknown[]): Promise<IngestResult> {
    return this.#serial(async () => {
      this.#assertOpen();
      const parsed = parseDocuments(inputs, {
        dimensions: this.#embedder.dimensions,
        now: this.#opts.now,
      });
      const docs = parsed.map((d) => ({ ...d, content_hash: contentHash(d.content) }));
      for (const d of docs) {
        if (d.embedding && !d.embedding.some((x) => x !== 0)) {
          throw new ValidationError(`Invalid document ${d.id}: embedding: must not be all zeros`);
        }
      }
      const need = docs.filter((d) => !d.embedding);
      this.#cache ??= this.#openCache().then((c) => (this.#loadedCache = c));
      const cache = await this.#cache.catch((err) => {
        this.#cache = undefined;
        throw err;
      });
      const vecs = await cache.embed(
        this.#embedder,
        need.map((d) => ({ text: d.content, hash: d.content_hash })),
      );
      need.forEach((d, i) => (d.embedding = vecs[i]));
      const full: KnowledgeDocument[] = docs.map((d) => ({
        ...d,
        embedding: l2Normalize(Float32Array.from(d.embedding!)),
      }));
      await this.#store.write({ puts: full, deletes: [] });
      let replaced = 0;
      for (const d of full) {
        if (this.#byId.has(d.id)) {
          this.#unindex(d.id);
          replaced++;
        }
      }
      this.#index(full, true);
      docsGauge.set(this.size);
      await this.#maybeCompact();
      return { ids: full.map((d) => d.id), created: full.length - replaced, replaced };
    });
  }

  /**
   * The document with this id, as the API shows it.
   *
   * @param id document id
   */
  get(id: string): DocumentView | undefined {
    const slot = this.#byId.get(id);
    return slot === undefined ? undefined : documentView(this.#slots[slot]!);
  }

  /**
   * The stored document (with its vector), for callers inside core/.
   *
   * @param id document id
   */
  document(id: string): KnowledgeDocument | undefined {
    const slot = this.#byId.get(id);
    return slot === undefined ? undefined : this.#slots[slot];
  }

  /**
   * Deletes a document durably; throws NotFoundError when there is none.
   *
   * @param id document id
   */
  delete(id: string): Promise<void> {
    return this.#serial(async () => {
      this.#assertOpen();
      if (!this.#byId.has(id)) throw new NotFoundError(`Document not found: ${id}`);
      await this.#store.write({ puts: [], deletes: [id] });
      this.#unindex(id);
      docsGauge.set(this.size);
      await this.#maybeCompact();
    });
  }

  /**
   * Searches: full text and/or vectors under the filters, fused, optionally re-ranked by
   * metric signature; the best `k` hits first.
   *
   * @param req query, k, mode, filters and ranking overrides
   */
  async search(req: SearchRequest): Promise<SearchHit[]> {
    this.#assertOpen();
    const t0 = performance.now();
    const mode = req.mode ?? "hybrid";
    const k = req.k ?? 5;
    if (!Number.isInteger(k) || k < 1 || k > 1000) {
      throw new ValidationError(`Invalid k: ${k}, expected an integer in 1..1000`);
    }
    if (typeof req.q !== "string" || req.q.trim() === "") {
      throw new ValidationError("Invalid query: q must not be empty");
    }
    const minSim = req.minSimilarity ?? this.#opts.minSimilarity ?? DEFAULT_MIN_SIMILARITY;
    const filter: DocFilter = {
      type: req.type,
      tags: req.tags,
      language: req.language,
      since: req.since,
      until: req.until,
    };
    const active = isActive(filter);
    const mask = active ? this.#filters.mask(filter) : undefined;
    const accept = mask?.has;
    const pool = Math.max(req.signature ? k * 8 : k * 4, 40);
    const text = mode === "vector"
      ? []
      : await this.#text.search(req.q, pool, active ? filter : undefined, accept);
    let qv: Float32Array | undefined;
    let vec: { slot: number; score: number }[] = [];
    if (mode !== "text") {
      [qv] = await this.#embedder.embed([req.q]);
      // The threshold gates the vector leg: neighbours less similar than minSimilarity neither
      // appear nor vote in the fusion (a weak neighbour list is noise, not evidence).
      if (qv.some((x) => x !== 0)) {
        // Only neighbours above a high threshold count here, and the graph walk finds very
        // close neighbours at a small ef (bench/kb.ts measures it): spend less on the gated leg.
        const ef = req.efSearch ?? (mode === "hybrid" && minSim >= 0.5 ? GATED_EF : undefined);
        vec = this.#vectorSearch(qv, pool, mask, ef).filter((c) => c.score >= minSim);
      } else qv = undefined;
    }
    let fused: (Fused & { sig?: number })[] = fuse(text, vec, {
      ...this.#opts.fusion,
      ...req.fusion,
    });
    if (req.signature && fused.length > 0) {
      const w = req.signatureWeight ?? 0.5;
      const top = fused[0].score || 1;
      fused = fused.map((f) => {
        const sig = signatureSimilarity(req.signature, signatureOf(this.#slots[f.slot]!.metadata));
        return { ...f, sig, score: (1 - w) * (f.score / top) + w * sig };
      }).sort((a, b) => b.score - a.score || a.slot - b.slot);
    }
    const hits = fused.slice(0, k).map((f) => {
      const d = this.#slots[f.slot]!;
      const hit: SearchHit = {
        id: d.id,
        score: f.score,
        document_type: d.document_type,
        tags: d.tags,
        metadata: d.metadata,
        language: d.language,
        source: d.source,
        created_at: new Date(d.created_at).toISOString(),
      };
      const sim = f.similarity ?? (qv ? cosine(qv, d.embedding) : undefined);
      if (sim !== undefined) hit.similarity = sim;
      if (f.textScore !== undefined) hit.text_score = f.textScore;
      if (f.sig !== undefined) hit.signature_similarity = f.sig;
      return hit;
    });
    searchSeconds.observe({ mode }, (performance.now() - t0) / 1000);
    return hits;
  }

  /** Waits for pending writes, saves the full-text state when the engine keeps one, and closes. */
  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return;
      this.#closed = true;
      try {
        await this.#indexer;
        const t = this.#text as Partial<OramaTextIndex>;
        if (t.save) await t.save(`${this.#dir}/orama.json`, this.#store.stamp);
      } finally {
        this.#lock?.close();
        this.#lock = undefined;
      }
    });
  }

  #index(docs: readonly KnowledgeDocument[], text: boolean): void {
    for (const d of docs) {
      const slot = this.#slots.length;
      this.#slots.push(d);
      this.#byId.set(d.id, slot);
      if (text) this.#text.add(slot, d);
      this.#filters.add(slot, d);
      if (d.embedding.some((x) => x !== 0)) this.#pending.push(slot);
    }
    this.#kick();
  }

  /**
   * Resolves when every stored vector is in HNSW (the index builds in the background after
   * open and ingest; until then searches scan the pending vectors exactly). Below
   * `hnswMinVectors` vectors there is no HNSW and this resolves at once.
   */
  async whenIndexed(): Promise<void> {
    while (this.#indexer) await this.#indexer;
  }

  /** Vectors still waiting for HNSW insertion (0 while the base is small enough to scan). */
  get pendingVectors(): number {
    return this.#useHnsw ? this.#pending.length - this.#pendingHead : 0;
  }

  /** How vector searches run: an exact scan (small bases) or HNSW plus a scan of pending ones. */
  get vectorIndex(): "exact" | "hnsw" {
    return this.#useHnsw ? "hnsw" : "exact";
  }

  /** Starts the background indexer when there is work and none is running. */
  #kick(): void {
    if (!this.#useHnsw) {
      // Replaced and deleted documents leave dead slots in the scan list: drop them.
      if (this.#pending.length - this.#pendingHead > 2 * this.#byId.size + 64) {
        this.#pending = this.#pending.slice(this.#pendingHead).filter((s) => this.#slots[s]);
        this.#pendingHead = 0;
      }
      if (this.#byId.size < (this.#opts.hnswMinVectors ?? HNSW_MIN_VECTORS)) return;
      this.#useHnsw = true;
    }
    if (this.#indexer || this.#closed || this.pendingVectors === 0) return;
    // .finally runs asynchronously, so #indexer is always assigned before it is cleared.
    this.#indexer = this.#drain().finally(() => {
      this.#indexer = undefined;
      this.#kick();
    });
  }

  /**
   * Inserts pending vectors into HNSW in small chunks, yielding to the event loop between
   * chunks so an agent keeps probing and answering while 100k vectors are indexed.
   */
  async #drain(): Promise<void> {
    const hnsw = this.#hnsw ??= await HnswIndex.create(this.#dims, {
      ...this.#opts.hnsw,
      capacity: this.#pending.length - this.#pendingHead,
    });
    while (!this.#closed && this.#pendingHead < this.#pending.length) {
      await new Promise((r) => setTimeout(r, 0));
      if (this.#closed) return;
      const end = Math.min(this.#pending.length, this.#pendingHead + INDEX_CHUNK);
      const slots: number[] = [];
      const vecs: Float32Array[] = [];
      for (let i = this.#pendingHead; i < end; i++) {
        const d = this.#slots[this.#pending[i]];
        if (d) {
          slots.push(this.#pending[i]);
          vecs.push(d.embedding);
        }
      }
      hnsw.add(slots, vecs);
      this.#pendingHead = end;
      if (this.#pendingHead === this.#pending.length) {
        this.#pending = [];
        this.#pendingHead = 0;
      }
    }
  }

  /** HNSW for indexed vectors plus an exact scan of pending ones, merged best first. */
  #vectorSearch(
    qv: Float32Array,
    k: number,
    mask: SlotMask | undefined,
    efSearch: number | undefined,
  ): ScoredSlot[] {
    const accept = mask?.has;
    if (mask) {
      // A selective filter makes the graph walk visit many rejected nodes (each a wasm→JS
      // callback); scanning the few matching vectors exactly is faster and exact.
      if (mask.count <= EXACT_SCAN_MAX) {
        const top: ScoredSlot[] = [];
        for (const slot of mask.slots()) {
          const d = this.#slots[slot]!;
          if (d.embedding.some((x) => x !== 0)) {
            pushTopK(top, { slot, score: dot(qv, d.embedding) }, k);
          }
        }
        return top;
      }
    }
    const out = this.#hnsw?.search(qv, k, accept, efSearch) ?? [];
    if (this.#pendingHead === this.#pending.length) return out;
    const top: ScoredSlot[] = [...out];
    for (let i = this.#pendingHead; i < this.#pending.length; i++) {
      const slot = this.#pending[i];
      const d = this.#slots[slot];
      if (!d || (accept && !accept(slot))) continue;
      pushTopK(top, { slot, score: dot(qv, d.embedding) }, k);
    }
    return top.sort((a, b) => b.score - a.score || a.slot - b.slot).slice(0, k);
  }

  #unindex(id: string): void {
    const slot = this.#byId.get(id);
    if (slot === undefined) return;
    this.#byId.delete(id);
    const doc = this.#slots[slot]!;
    this.#slots[slot] = undefined;
    this.#text.remove(slot, doc);
    this.#filters.remove(slot, doc);
    this.#hnsw?.remove(slot);
  }

  async #maybeCompact(): Promise<void> {
    if (this.#store.segmentCount < (this.#opts.compactAfterSegments ?? 64)) return;
    const live = [...this.#byId.values()].sort((a, b) => a - b).map((s) => this.#slots[s]!);
    await this.#store.compact(live);
    log.info("Knowledge base compacted to one segment of {count} documents", {
      count: live.length,
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new ValidationError("Knowledge base is closed");
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}
