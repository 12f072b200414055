import assert from "node:assert/strict";
import { type Candidate, fuse } from "../../../core/knowledge/fusion.ts";
import { prng } from "../../../bench/kb_corpus.ts";

function randomList(r: () => number, universe: number, n: number, sim: boolean): Candidate[] {
  const slots = new Set<number>();
  while (slots.size < n) slots.add(Math.floor(r() * universe));
  return [...slots].map((slot) => ({ slot, score: sim ? r() * 2 - 1 : r() * 20 }))
    .sort((a, b) => b.score - a.score);
}

/** Reference RRF straight from the definition. */
function referenceRrf(lists: Candidate[][], k: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const list of lists) {
    list.forEach((c, i) => out.set(c.slot, (out.get(c.slot) ?? 0) + 1 / (k + i + 1)));
  }
  return out;
}

Deno.test("fuse() in rrf mode matches the reference sum of 1/(k+rank) and sorts by it", () => {
  const r = prng(3);
  for (let t = 0; t < 200; t++) {
    const text = randomList(r, 60, Math.floor(r() * 30), false);
    const vec = randomList(r, 60, Math.floor(r() * 30), true);
    const k = 1 + Math.floor(r() * 100);
    const got = fuse(text, vec, { mode: "rrf", rrfK: k });
    const want = referenceRrf([text, vec], k);
    assert.equal(got.length, want.size);
    for (const f of got) assert.ok(Math.abs(f.score - want.get(f.slot)!) < 1e-12);
    for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].score >= got[i].score);
  }
});

Deno.test("fuse() in weighted mode matches w*bm25/max + (1-w)*max(0,cos)", () => {
  const r = prng(4);
  for (let t = 0; t < 200; t++) {
    const text = randomList(r, 50, 1 + Math.floor(r() * 20), false);
    const vec = randomList(r, 50, 1 + Math.floor(r() * 20), true);
    const w = r();
    const got = fuse(text, vec, { mode: "weighted", textWeight: w });
    const max = Math.max(...text.map((c) => c.score));
    for (const f of got) {
      const ts = text.find((c) => c.slot === f.slot)?.score;
      const vs = vec.find((c) => c.slot === f.slot)?.score;
      const want = (ts === undefined ? 0 : w * ts / max) +
        (vs === undefined ? 0 : (1 - w) * Math.max(0, vs));
      assert.ok(Math.abs(f.score - want) < 1e-9, `${f.score} vs ${want}`);
      assert.ok(f.score >= 0 && f.score <= 1 + 1e-9);
    }
  }
});

Deno.test("fuse() ranks a document first in both lists above every other", () => {
  const r = prng(5);
  for (let t = 0; t < 100; t++) {
    const text = randomList(r, 40, 10, false);
    const vec = randomList(r, 40, 10, true);
    const star = 1000;
    text.unshift({ slot: star, score: text[0].score + 1 });
    vec.unshift({ slot: star, score: Math.min(1, vec[0].score + 0.01) });
    for (const mode of ["rrf", "weighted"] as const) {
      assert.equal(fuse(text, vec, { mode })[0].slot, star);
    }
  }
});

Deno.test("fuse() never lowers a document's score when it moves up a list", () => {
  const r = prng(6);
  for (let t = 0; t < 100; t++) {
    const text = randomList(r, 40, 15, false);
    const vec = randomList(r, 40, 15, true);
    const i = 1 + Math.floor(r() * 14);
    const moved = [...text];
    const [c] = moved.splice(i, 1);
    moved.splice(i - 1, 0, c);
    const before = fuse(text, vec).find((f) => f.slot === c.slot)!.score;
    const after = fuse(moved, vec).find((f) => f.slot === c.slot)!.score;
    assert.ok(after >= before);
  }
});

Deno.test("fuse() rejects a text weight outside [0, 1]", () => {
  assert.throws(() => fuse([], [], { mode: "weighted", textWeight: 1.5 }), RangeError);
});
