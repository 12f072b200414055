import assert from "node:assert/strict";
import { Bm25Index } from "../../../core/knowledge/bm25_index.ts";
import { tokenize } from "../../../core/knowledge/tokenize.ts";
import { prng } from "../../../bench/kb_corpus.ts";

const VOCAB = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split(
  " ",
);

/** Reference BM25 computed per document from the textbook formula. */
function referenceBm25(
  docs: (string | null)[],
  query: string,
  k1 = 1.2,
  b = 0.75,
): Map<number, number> {
  const live = docs.map((d, i) => [i, d] as const).filter(([, d]) => d !== null) as [
    number,
    string,
  ][];
  const toks = new Map(live.map(([i, d]) => [i, tokenize(d)]));
  const avgdl = [...toks.values()].reduce((s, t) => s + t.length, 0) / live.length;
  const out = new Map<number, number>();
  for (const term of new Set(tokenize(query))) {
    const df = [...toks.values()].filter((t) => t.includes(term)).length;
    if (df === 0) continue;
    const idf = Math.log(1 + (live.length - df + 0.5) / (df + 0.5));
    for (const [i, t] of toks) {
      const tf = t.filter((x) => x === term).length;
      if (tf === 0) continue;
      out.set(
        i,
        (out.get(i) ?? 0) + idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * t.length / avgdl)),
      );
    }
  }
  return out;
}

Deno.test("Bm25Index.search() matches the reference BM25 scores and order, with deletions", () => {
  const r = prng(11);
  for (let t = 0; t < 50; t++) {
    const n = 5 + Math.floor(r() * 40);
    const docs: (string | null)[] = Array.from(
      { length: n },
      () =>
        Array.from(
          { length: 1 + Math.floor(r() * 12) },
          () => VOCAB[Math.floor(r() * VOCAB.length)],
        ).join(" "),
    );
    const index = new Bm25Index();
    docs.forEach((d, i) => index.add(i, d!));
    for (let i = 0; i < n; i++) {
      if (r() < 0.2) {
        index.remove(i);
        docs[i] = null;
      }
    }
    if (docs.every((d) => d === null)) continue;
    const q = `${VOCAB[Math.floor(r() * VOCAB.length)]} ${VOCAB[Math.floor(r() * VOCAB.length)]}`;
    const want = referenceBm25(docs, q);
    const got = index.search(q, 1000);
    assert.equal(got.length, want.size);
    for (const g of got) assert.ok(Math.abs(g.score - want.get(g.slot)!) < 1e-9);
    for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].score >= got[i].score);
    const top3 = index.search(q, 3);
    assert.deepEqual(top3, got.slice(0, 3));
  }
});

Deno.test("Bm25Index.search() applies the slot filter and returns nothing for unknown terms", () => {
  const index = new Bm25Index();
  index.add(0, "link loss on radio");
  index.add(1, "link flapping");
  index.add(2, "cpu high");
  assert.deepEqual(index.search("link", 10, (s) => s !== 0).map((x) => x.slot), [1]);
  assert.deepEqual(index.search("zebra", 10), []);
  assert.deepEqual(index.search("the of", 10), []);
  assert.throws(() => index.add(1, "again"), RangeError);
});
