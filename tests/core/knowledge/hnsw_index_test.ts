import assert from "node:assert/strict";
import { HnswIndex } from "../../../core/knowledge/hnsw_index.ts";
import { cosine, l2Normalize } from "../../../core/knowledge/embedder.ts";
import { prng } from "../../../bench/kb_corpus.ts";

function clustered(r: () => number, n: number, dim: number): Float32Array[] {
  const centers = Array.from(
    { length: 20 },
    () => Float32Array.from({ length: dim }, () => r() * 2 - 1),
  );
  return Array.from({ length: n }, () => {
    const c = centers[Math.floor(r() * centers.length)];
    return l2Normalize(Float32Array.from(c, (x) => x + (r() - 0.5) * 0.8));
  });
}

function exact(
  vectors: Float32Array[],
  q: Float32Array,
  k: number,
  accept: (i: number) => boolean = () => true,
) {
  return vectors.map((v, i) => ({ slot: i, score: cosine(v, q) })).filter((x) => accept(x.slot))
    .sort((a, b) => b.score - a.score).slice(0, k);
}

Deno.test("HnswIndex.search() agrees with exact brute-force cosine search (recall@10 >= 0.95)", async () => {
  const r = prng(21);
  const dim = 64;
  const vectors = clustered(r, 3000, dim);
  const index = await HnswIndex.create(dim, { capacity: 1000 });
  index.add(vectors.map((_, i) => i), vectors);
  assert.equal(index.count, 3000);
  let hit = 0;
  const Q = 100;
  for (let q = 0; q < Q; q++) {
    const query = clustered(r, 1, dim)[0];
    const want = exact(vectors, query, 10);
    const got = index.search(query, 10);
    assert.equal(got.length, 10);
    for (const g of got) assert.ok(Math.abs(g.score - cosine(vectors[g.slot], query)) < 1e-4);
    const kth = want[9].score - 1e-6;
    hit += got.filter((g) => cosine(vectors[g.slot], query) >= kth).length;
  }
  const recall = hit / (Q * 10);
  assert.ok(recall >= 0.95, `recall@10 ${recall}`);
});

Deno.test("HnswIndex.search() honours filters and deletions", async () => {
  const r = prng(22);
  const vectors = clustered(r, 500, 32);
  const index = await HnswIndex.create(32);
  index.add(vectors.map((_, i) => i), vectors);
  const even = (s: number) => s % 2 === 0;
  const got = index.search(vectors[7], 10, even);
  assert.ok(got.length > 0 && got.every((g) => even(g.slot)));
  assert.equal(index.search(vectors[7], 1)[0].slot, 7);
  index.remove(7);
  assert.notEqual(index.search(vectors[7], 1)[0].slot, 7);
  assert.throws(() => index.add([999], [new Float32Array(5)]), RangeError);
});
