/**
 * Approximate nearest-neighbour search (cosine) over document slots with hnswlib-wasm. The
 * library cannot write its index to disk from Deno, so the knowledge base stores the vectors
 * itself and rebuilds this index at start.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { UnavailableError } from "../errors.ts";
import type { ScoredSlot } from "./bm25_index.ts";

const log = getLogger(["x0", "knowledge"]);

/** HNSW build and search parameters. */
export interface HnswParams {
  /** Links per node (default 32). */
  m: number;
  /** Candidate list size while inserting (default 64). */
  efConstruction: number;
  /** Candidate list size while searching (default 400); raised to k when smaller. */
  efSearch: number;
}

/** Defaults measured in bench/kb.ts to give recall@10 >= 0.95 at 100k documents. */
export const DEFAULT_HNSW: HnswParams = { m: 32, efConstruction: 64, efSearch: 400 };

// deno-lint-ignore no-explicit-any
type HnswLib = any;
let libPromise: Promise<HnswLib> | undefined;

/**
 * Loads hnswlib-wasm once per process. The library mounts an IndexedDB file system and prints
 * to the console while doing so; Deno has no IndexedDB, the mount fails harmlessly (we never use
 * its files), and the noise is kept off stdout (where `--json` output goes) and logged at debug.
 */
export function loadHnswLib(): Promise<HnswLib> {
  libPromise ??= (async () => {
    const g = globalThis as { window?: unknown };
    g.window ??= globalThis;
    const saved = { log: console.log, error: console.error, warn: console.warn };
    const noise: string[] = [];
    const capture = (...args: unknown[]) => noise.push(args.map(String).join(" ").trim());
    console.log = console.error = console.warn = capture;
    try {
      const mod = await import("hnswlib-wasm");
      return await mod.loadHnswlib();
    } catch (err) {
      throw new UnavailableError(`Cannot load hnswlib-wasm: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      Object.assign(console, saved);
      if (noise.length) log.debug("hnswlib-wasm start-up output: {noise}", { noise });
    }
  })();
  return libPromise;
}

/** A cosine HNSW index keyed by slot, growing as needed. */
export class HnswIndex {
  #index: HnswLib;
  #dim: number;
  #params: HnswParams;
  #capacity: number;
  #count = 0;

  private constructor(index: HnswLib, dim: number, params: HnswParams, capacity: number) {
    this.#index = index;
    this.#dim = dim;
    this.#params = params;
    this.#capacity = capacity;
  }

  /**
   * Creates an empty index.
   *
   * @param dim vector length
   * @param options HNSW parameters and the initial capacity
   */
  static async create(
    dim: number,
    options: Partial<HnswParams> & { capacity?: number } = {},
  ): Promise<HnswIndex> {
    const lib = await loadHnswLib();
    const params = { ...DEFAULT_HNSW, ...options };
    const capacity = Math.max(1024, options.capacity ?? 0);
    const index = new lib.HierarchicalNSW("cosine", dim, "");
    index.initIndex(capacity, params.m, params.efConstruction, 100);
    index.setEfSearch(params.efSearch);
    return new HnswIndex(index, dim, params, capacity);
  }

  /** Number of points inserted (deleted ones included). */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds vectors under their slots.
   *
   * @param slots one slot per vector
   * @param vectors vectors of the index's dimension
   */
  add(slots: readonly number[], vectors: readonly Float32Array[]): void {
    if (slots.length === 0) return;
    const need = this.#count + slots.length;
    if (need > this.#capacity) {
      this.#capacity = Math.max(need, this.#capacity * 2);
      this.#index.resizeIndex(this.#capacity);
    }
    // Plain arrays cross the embind boundary ~5x faster than Float32Array (measured).
    for (let i = 0; i < slots.length; i++) {
      if (vectors[i].length !== this.#dim) {
        throw new RangeError(`Vector has ${vectors[i].length} dimensions, expected ${this.#dim}`);
      }
      this.#index.addPoint(Array.from(vectors[i]), slots[i], false);
    }
    this.#count += slots.length;
  }

  /**
   * Hides a slot from future searches.
   *
   * @param slot the slot
   */
  remove(slot: number): void {
    try {
      this.#index.markDelete(slot);
    } catch {
      // Not present (never embedded): nothing to hide.
    }
  }

  /**
   * The `k` nearest slots to `vector` by cosine, best first, with similarity = 1 − distance.
   *
   * @param vector query vector
   * @param k how many
   * @param filter optional predicate on slots, applied inside the graph walk
   * @param efSearch candidate list size for this query (default: the index's efSearch)
   */
  search(
    vector: Float32Array,
    k: number,
    filter?: (slot: number) => boolean,
    efSearch?: number,
  ): ScoredSlot[] {
    if (this.#count === 0 || k <= 0) return [];
    const kk = Math.min(k, this.#count);
    const ef = Math.max(efSearch ?? this.#params.efSearch, kk);
    if (this.#index.getEfSearch() !== ef) this.#index.setEfSearch(ef);
    const res = this.#index.searchKnn(Array.from(vector), kk, filter);
    const out: ScoredSlot[] = [];
    for (let i = 0; i < res.neighbors.length; i++) {
      out.push({ slot: res.neighbors[i], score: 1 - res.distances[i] });
    }
    return out.sort((a, b) => b.score - a.score || a.slot - b.slot);
  }
}
