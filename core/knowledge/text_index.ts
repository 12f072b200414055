/**
 * The full-text leg behind one interface, with two engines: the built-in BM25 inverted index
 * (default; fast at 100k documents) and Orama (BM25 plus its own `where` filters, state saved to
 * a file and restored at start). bench/kb.ts measures both.
 *
 * @module
 */
import { Bm25Index, type ScoredSlot } from "./bm25_index.ts";
import type { KnowledgeDocument } from "./document.ts";
import type { DocFilter } from "./filter.ts";

/** Which full-text engine a knowledge base uses. */
export type TextEngine = "bm25" | "orama";

/** A full-text index over document slots. */
export interface TextIndex {
  readonly engine: TextEngine;
  /** Indexes a document under its slot. */
  add(slot: number, doc: KnowledgeDocument): void;
  /** Forgets a slot (the document it held is passed for engines keyed by id). */
  remove(slot: number, doc: KnowledgeDocument): void;
  /**
   * The `k` best slots for `query`, best first, honouring `filter` (engines may use either
   * the structured filter or the `accept` predicate, which always agree).
   */
  search(
    query: string,
    k: number,
    filter: DocFilter | undefined,
    accept: ((slot: number) => boolean) | undefined,
  ): ScoredSlot[] | Promise<ScoredSlot[]>;
}

/** Returns the built-in BM25 engine. */
export function bm25TextIndex(): TextIndex {
  const index = new Bm25Index();
  return {
    engine: "bm25",
    add: (slot, doc) => index.add(slot, doc.content),
    remove: (slot) => index.remove(slot),
    search: (query, k, _filter, accept) => index.search(query, k, accept),
  };
}
