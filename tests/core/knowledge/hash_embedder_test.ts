import assert from "node:assert/strict";
import { cosine } from "../../../core/knowledge/embedder.ts";
import { hashEmbed, hashEmbedder } from "../../../core/knowledge/hash_embedder.ts";
import { tokenize } from "../../../core/knowledge/tokenize.ts";
import { prng } from "../../../bench/kb_corpus.ts";

const WORDS = ("cpu memory link neighbor route service restart cache backup tunnel babeld " +
  "yggdrasil interface packet loss latency jitter firmware kernel process watchdog disk " +
  "certificate clock radio channel gateway firewall queue buffer socket timeout retry").split(" ");

function randomText(r: () => number, n: number): string {
  return Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" ");
}

Deno.test("hashEmbed() is deterministic and L2-normalised for any text", () => {
  const r = prng(1);
  for (let i = 0; i < 200; i++) {
    const text = randomText(r, 1 + Math.floor(r() * 40));
    const a = hashEmbed(text);
    const b = hashEmbed(text);
    assert.equal(a.length, 384);
    assert.deepEqual(a, b);
    const norm = Math.sqrt(a.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm} for "${text}"`);
  }
});

Deno.test("hashEmbed() places a text closer to its paraphrase than to an unrelated text", () => {
  const r = prng(2);
  let trials = 0;
  for (let i = 0; i < 300; i++) {
    const words = randomText(r, 12).split(" ");
    // Paraphrase: drop two words, swap two, add one; unrelated: fresh random words.
    const para = words.filter((_, j) => j !== 3 && j !== 7);
    [para[0], para[1]] = [para[1], para[0]];
    para.push(WORDS[Math.floor(r() * WORDS.length)]);
    const base = hashEmbed(words.join(" "));
    const near = cosine(base, hashEmbed(para.join(" ")));
    const far = cosine(base, hashEmbed(randomText(r, 12)));
    trials++;
    assert.ok(near > far, `paraphrase ${near} <= unrelated ${far} for "${words.join(" ")}"`);
  }
  assert.equal(trials, 300);
});

Deno.test("hashEmbed() gives inflected forms and synonyms overlapping vectors", () => {
  const restart = hashEmbed("restarted the service");
  assert.ok(
    cosine(restart, hashEmbed("restarting service")) > cosine(restart, hashEmbed("memory leak")),
  );
  assert.ok(cosine(hashEmbed("processor saturated"), hashEmbed("cpu saturated")) > 0.99);
});

Deno.test("hashEmbed() returns the zero vector for empty and stop-word-only text", () => {
  assert.ok(hashEmbed("").every((x) => x === 0));
  assert.ok(hashEmbed("the and of it").every((x) => x === 0));
  assert.deepEqual(tokenize("The Ünïcode Café, RAM!"), ["unicode", "cafe", "memory"]);
});

Deno.test("hashEmbedder() embeds a batch in order with its declared id and dimension", async () => {
  const e = hashEmbedder();
  assert.equal(e.id, "hash-ngram-v1-384");
  const out = await e.embed(["cpu high", "link down"]);
  assert.deepEqual(out, [hashEmbed("cpu high"), hashEmbed("link down")]);
  const small = hashEmbedder({ dimensions: 64 });
  assert.equal((await small.embed(["x1"]))[0].length, 64);
});
