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
