import assert from "node:assert/strict";
import { FilterIndex } from "../../../core/knowledge/filter_index.ts";
import { type DocFilter, matches } from "../../../core/knowledge/filter.ts";
import type { KnowledgeDocument } from "../../../core/knowledge/document.ts";
import { prng } from "../../../bench/kb_corpus.ts";

const TYPES = ["incident", "runbook", "note"] as const;
const TAGS = ["cpu", "memory", "network", "radio"];
const LANGS = ["en", "de"];

Deno.test("FilterIndex.mask() agrees with matches() on every slot, across adds and removes", () => {
  const r = prng(31);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  for (let t = 0; t < 20; t++) {
    const index = new FilterIndex();
    const docs: (KnowledgeDocument | undefined)[] = [];
    const n = 50 + Math.floor(r() * 3000);
    for (let slot = 0; slot < n; slot++) {
      const doc = {
        id: `d${slot}`,
        content: "x",
        document_type: pick(TYPES),
        language: pick(LANGS),
        tags: TAGS.filter(() => r() < 0.4),
        created_at: Math.floor(r() * 1000),
        metadata: {},
        source: "t",
        embedding: new Float32Array(1),
        content_hash: "",
      } satisfies KnowledgeDocument;
      docs.push(doc);
      index.add(slot, doc);
      if (r() < 0.1) {
        index.remove(slot, doc);
        docs[slot] = undefined;
      }
    }
    for (let q = 0; q < 10; q++) {
      const f: DocFilter = {};
      if (r() < 0.5) f.type = pick(TYPES);
      if (r() < 0.3) f.language = pick(LANGS);
      if (r() < 0.5) f.tags = TAGS.filter(() => r() < 0.3);
      if (r() < 0.3) f.since = Math.floor(r() * 500);
      if (r() < 0.3) f.until = 500 + Math.floor(r() * 500);
      if (r() < 0.1) f.tags = ["unknown-tag"];
      const mask = index.mask(f);
      const want = docs.flatMap((d, slot) => (d && matches(d, f) ? [slot] : []));
      assert.deepEqual(mask.slots(), want);
      assert.equal(mask.count, want.length);
      const allowed = new Set(want);
      for (let slot = 0; slot < n; slot++) assert.equal(mask.has(slot), allowed.has(slot));
    }
  }
});
