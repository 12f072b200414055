/**
 * An in-memory BM25 inverted index over numeric document slots. Postings are plain arrays of
 * slots and term frequencies; a query scores into one Float64Array, so the cost is the length
 * of the query terms' posting lists, not the corpus size. Deleted slots are skipped and dropped
 * when their lists are next touched by a compaction (rebuild at restart).
 *
 * @module
 */
import { tokenize } from "./tokenize.ts";

interface Postings {
  slots: number[];
  tfs: number[];
}

/** One scored slot. */
export interface ScoredSlot {
  slot: number;
  score: number;
}

/** BM25 parameters (Robertson/Sparck Jones defaults). */
export interface Bm25Params {
  k1: number;
  b: number;
}

/** Index of tokenised texts with BM25 scoring (`k1` = 1.2, `b` = 0.75 by default). */
export class Bm25Index {
  #postings = new Map<string, Postings>();
  #lengths: number[] = [];
  #alive: boolean[] = [];
  #liveCount = 0;
  #totalLength = 0;
  #params: Bm25Params;
  #scores = new Float64Array(0);

  /** @param params BM25 k1 and b */
  constructor(params: Partial<Bm25Params> = {}) {
    this.#params = { k1: params.k1 ?? 1.2, b: params.b ?? 0.75 };
  }

  /** Number of live documents. */
  get size(): number {
    return this.#liveCount;
  }

  /**
   * Indexes `text` under `slot` (slots are assigned by the caller, increasing, never reused).
   *
   * @param slot the document's slot
   * @param text the text to index
   */
  add(slot: number, text: string): void {
    if (this.#alive[slot]) throw new RangeError(`BM25 slot ${slot} is already in use`);
    const tokens = tokenize(text);
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [term, n] of tf) {
      let p = this.#postings.get(term);
      if (!p) {
        p = { slots: [], tfs: [] };
        this.#postings.set(term, p);
      }
      p.slots.push(slot);
      p.tfs.push(n);
    }
    this.#lengths[slot] = tokens.length;
    this.#alive[slot] = true;
    this.#liveCount++;
    this.#totalLength += tokens.length;
  }

  /**
   * Removes a slot from scoring (its postings are skipped from now on).
   *
   * @param slot the document's slot
   */
  remove(slot: number): void {
    if (!this.#alive[slot]) return;
    this.#alive[slot] = false;
    this.#liveCount--;
    this.#totalLength -= this.#lengths[slot];
  }

  /**
   * The `k` best slots for `query` by BM25, best first; only slots accepted by `filter`.
   *
   * @param query free text
   * @param k how many
   * @param filter optional predicate on slots
   */
  search(query: string, k: number, filter?: (slot: number) => boolean): ScoredSlot[] {
    const terms = [...new Set(tokenize(query))];
    if (terms.length === 0 || this.#liveCount === 0 || k <= 0) return [];
    const n = this.#lengths.length;
    if (this.#scores.length < n) {
      this.#scores = new Float64Array(Math.max(n, this.#scores.length * 2));
    }
    const scores = this.#scores;
    const touched: number[] = [];
    const { k1, b } = this.#params;
    const avgdl = this.#totalLength / this.#liveCount || 1;
    for (const term of terms) {
      const p = this.#postings.get(term);
      if (!p) continue;
      let df = 0;
      for (const s of p.slots) if (this.#alive[s]) df++;
      if (df === 0) continue;
      const idf = Math.log(1 + (this.#liveCount - df + 0.5) / (df + 0.5));
      const { slots, tfs } = p;
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i];
        if (!this.#alive[s]) continue;
        const tf = tfs[i];
        const norm = k1 * (1 - b + b * this.#lengths[s] / avgdl);
        if (scores[s] === 0) touched.push(s);
        scores[s] += idf * (tf * (k1 + 1)) / (tf + norm);
      }
    }
    const out: ScoredSlot[] = [];
    for (const s of touched) {
      const score = scores[s];
      scores[s] = 0;
      if (filter && !filter(s)) continue;
      pushTopK(out, { slot: s, score }, k);
    }
    return out;
  }
}

/** Inserts `item` into `top` (kept sorted best first, at most k long). */
export function pushTopK(top: ScoredSlot[], item: ScoredSlot, k: number): void {
  if (
    top.length === k && (item.score < top[k - 1].score ||
      (item.score === top[k - 1].score && item.slot > top[k - 1].slot))
  ) return;
  let i = top.length;
  if (i === k) i--;
  else top.push(item);
  while (
    i > 0 && (top[i - 1].score < item.score ||
      (top[i - 1].score === item.score && top[i - 1].slot > item.slot))
  ) {
    top[i] = top[i - 1];
    i--;
  }
  top[i] = item;
}
