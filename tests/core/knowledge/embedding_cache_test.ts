import assert from "node:assert/strict";
import { EmbeddingCache } from "../../../core/knowledge/embedding_cache.ts";
import type { Embedder } from "../../../core/knowledge/embedder.ts";
import { hashEmbed, hashEmbedder } from "../../../core/knowledge/hash_embedder.ts";
import { contentHash } from "../../../core/knowledge/document.ts";

/** The real built-in embedder, counting its calls and batch sizes. */
function counting(): Embedder & { calls: number[] } {
  const inner = hashEmbedder();
  const calls: number[] = [];
  return {
    id: inner.id,
    dimensions: inner.dimensions,
    batchSize: inner.batchSize,
    calls,
    embed(texts) {
      calls.push(texts.length);
      return inner.embed(texts);
    },
  };
}

const items = (n: number, prefix = "text") =>
  Array.from(
    { length: n },
    (_, i) => ({ text: `${prefix} ${i}`, hash: contentHash(`${prefix} ${i}`) }),
  );

Deno.test("EmbeddingCache embeds in batches of 32, persists, and answers from disk after reopen", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_cache_" });
  try {
    const e = counting();
    let cache = await EmbeddingCache.open(dir, e);
    const batch = items(70);
    const vecs = await cache.embed(e, [...batch, batch[0]]);
    assert.deepEqual(e.calls, [32, 32, 6]);
    assert.equal(vecs.length, 71);
    assert.deepEqual(vecs[5], hashEmbed("text 5"));
    assert.deepEqual(vecs[70], vecs[0]);
    cache = await EmbeddingCache.open(dir, e);
    assert.equal(cache.size, 70);
    const again = await cache.embed(e, [...items(3), ...items(2, "new")]);
    assert.deepEqual(e.calls, [32, 32, 6, 2]);
    assert.deepEqual(again[1], hashEmbed("text 1"));
    assert.deepEqual(cache.stats, { hits: 3, misses: 2 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("EmbeddingCache cuts a torn last record left by a crash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_cache_" });
  try {
    const e = hashEmbedder();
    const cache = await EmbeddingCache.open(dir, e);
    await cache.embed(e, items(3));
    const file = `${dir}/${e.id}.bin`;
    const f = await Deno.open(file, { append: true });
    await f.write(new Uint8Array(100));
    f.close();
    const reopened = await EmbeddingCache.open(dir, e);
    assert.equal(reopened.size, 3);
    assert.equal((await Deno.stat(file)).size, 3 * (32 + 4 * 384));
    assert.deepEqual(reopened.get(contentHash("text 2")), hashEmbed("text 2"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("EmbeddingCache stays within maxEntries, evicts the least recently used, and compacts its file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_cache_" });
  try {
    const e = counting();
    const max = 50;
    let cache = await EmbeddingCache.open(dir, e, { maxEntries: max });
    const all = items(400);
    // Reference LRU: a list of hashes, least recently used first.
    let lru: string[] = [];
    const use = (hs: string[]) => {
      for (const h of hs) lru = [...lru.filter((x) => x !== h), h];
      lru = lru.slice(Math.max(0, lru.length - max));
    };
    const file = () => Deno.statSync(`${dir}/${e.id.replace(/[^A-Za-z0-9._-]/g, "_")}.bin`).size;
    const rec = 32 + 4 * e.dimensions;
    for (let round = 0; round < 40; round++) {
      // Mix new texts with re-used recent ones so recency matters.
      const batch = [...all.slice(round * 10, round * 10 + 10), ...all.slice(0, 3)];
      const vecs = await cache.embed(e, batch);
      batch.forEach((b, i) => assert.deepEqual(vecs[i], hashEmbed(b.text)));
      use(batch.map((b) => b.hash));
      assert.ok(cache.size <= max, `size ${cache.size} > ${max}`);
      assert.deepEqual(
        new Set(all.filter((a) => cache.get(a.hash)).map((a) => a.hash)),
        new Set(lru),
      );
      // get() above touched entries in `all` order: mirror that in the reference.
      use(all.filter((a) => lru.includes(a.hash)).map((a) => a.hash));
      assert.ok(file() <= 2 * max * rec + 13 * rec, `file ${file() / rec} records`);
    }
    cache = await EmbeddingCache.open(dir, e, { maxEntries: max });
    assert.ok(cache.size <= max);
    // Hits are not written to the file, so after a reopen recency is insertion (or compaction)
    // order: the newest texts survive.
    for (const a of all.slice(390)) assert.ok(cache.get(a.hash), a.text);
    await assert.rejects(() => EmbeddingCache.open(dir, e, { maxEntries: 0 }), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
