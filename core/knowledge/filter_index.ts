/**
 * Bitsets over document slots for the filter fields (type, each tag, language), so a filtered
 * search computes its set of allowed slots with a few word-wide ANDs instead of testing every
 * document; the time range is applied in the same pass over the surviving bits.
 *
 * @module
 */
import type { KnowledgeDocument } from "./document.ts";
import type { DocFilter } from "./filter.ts";

/** A growable bitset of slots. */
class Bits {
  words = new Uint32Array(1024);
  set(slot: number, on: boolean): void {
    const w = slot >>> 5;
    if (w >= this.words.length) {
      const next = new Uint32Array(Math.max(w + 1, this.words.length * 2));
      next.set(this.words);
      this.words = next;
    }
    if (on) this.words[w] |= 1 << (slot & 31);
    else this.words[w] &= ~(1 << (slot & 31));
  }
}

/** The allowed slots of one filtered search. */
export interface SlotMask {
  /** True when `slot` passes the filter. */
  has(slot: number): boolean;
  /** Number of allowed slots. */
  readonly count: number;
  /** Allowed slots in increasing order. */
  slots(): number[];
}

/** Per-field bitsets kept in step with the documents. */
export class FilterIndex {
  #live = new Bits();
  #fields = new Map<string, Bits>();
  #createdAt = new Float64Array(1024);

  #bits(key: string): Bits {
    let b = this.#fields.get(key);
    if (!b) {
      b = new Bits();
      this.#fields.set(key, b);
    }
    return b;
  }

  #keys(doc: KnowledgeDocument): string[] {
    return [
      `type:${doc.document_type}`,
      `lang:${doc.language}`,
      ...doc.tags.map((t) => `tag:${t}`),
    ];
  }

  /**
   * Records a document under its slot.
   *
   * @param slot the slot
   * @param doc the document
   */
  add(slot: number, doc: KnowledgeDocument): void {
    this.#live.set(slot, true);
    for (const k of this.#keys(doc)) this.#bits(k).set(slot, true);
    if (slot >= this.#createdAt.length) {
      const next = new Float64Array(Math.max(slot + 1, this.#createdAt.length * 2));
      next.set(this.#createdAt);
      this.#createdAt = next;
    }
    this.#createdAt[slot] = doc.created_at;
  }

  /**
   * Forgets a slot.
   *
   * @param slot the slot
   * @param doc the document it held
   */
  remove(slot: number, doc: KnowledgeDocument): void {
    this.#live.set(slot, false);
    for (const k of this.#keys(doc)) this.#fields.get(k)?.set(slot, false);
  }

  /**
   * The slots passing `f` (live, right type, language and every tag, inside the time range).
   *
   * @param f the filter
   */
  mask(f: DocFilter): SlotMask {
    const sets: Uint32Array[] = [this.#live.words];
    const need = (key: string) => {
      const b = this.#fields.get(key);
      sets.push(b ? b.words : new Uint32Array(0));
    };
    if (f.type !== undefined) need(`type:${f.type}`);
    if (f.language !== undefined) need(`lang:${f.language}`);
    for (const t of f.tags ?? []) need(`tag:${t}`);
    const n = Math.min(...sets.map((s) => s.length));
    const words = new Uint32Array(this.#live.words.length);
    const ranged = f.since !== undefined || f.until !== undefined;
    const since = f.since ?? -Infinity, until = f.until ?? Infinity;
    let count = 0;
    for (let w = 0; w < n; w++) {
      let x = sets[0][w];
      for (let i = 1; i < sets.length && x !== 0; i++) x &= sets[i][w];
      if (x !== 0 && ranged) {
        for (let b = 0; b < 32; b++) {
          if (x & (1 << b)) {
            const t = this.#createdAt[w * 32 + b];
            if (t < since || t > until) x &= ~(1 << b);
          }
        }
      }
      words[w] = x;
      if (x !== 0) count += popcount(x);
    }
    return {
      count,
      has: (slot) => (words[slot >>> 5] & (1 << (slot & 31))) !== 0,
      slots: () => {
        const out: number[] = [];
        for (let w = 0; w < n; w++) {
          let x = words[w];
          while (x !== 0) {
            const b = 31 - Math.clz32(x & -x);
            out.push(w * 32 + b);
            x &= x - 1;
          }
        }
        return out;
      },
    };
  }
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
