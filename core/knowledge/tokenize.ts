/**
 * Text normalisation shared by the BM25 index and the built-in embedder: lower case, no
 * diacritics, no English stop words, and a small operator lexicon of synonyms folded onto one
 * spelling so that paraphrases meet.
 *
 * @module
 */

const STOP_WORDS = new Set(
  ("a an and are as at be been but by for from has have in into is it its of on or that the " +
    "their then there these this to was were will with i we you he she they them our your my " +
    "me us do does did so if than too very can could should would all any some such no not " +
    "only own same just about after again against before being below between both during " +
    "each few further here how more most other over under until up what when where which " +
    "while who whom why off out")
    .split(" "),
);

/** Operator vocabulary folded onto one spelling; generic mesh/host terms, not tuned per query. */
const SYNONYMS: Record<string, string> = {
  processor: "cpu",
  processors: "cpu",
  cores: "cpu",
  ram: "memory",
  mem: "memory",
  rss: "memory",
  oom: "memory",
  swap: "memory",
  swapping: "memory",
  dropped: "loss",
  drops: "loss",
  drop: "loss",
  dropping: "loss",
  lost: "loss",
  losing: "loss",
  neighbour: "neighbor",
  neighbours: "neighbor",
  neighbors: "neighbor",
  peer: "neighbor",
  peers: "neighbor",
  crashed: "crash",
  crashes: "crash",
  crashing: "crash",
  died: "crash",
  dead: "down",
  unreachable: "down",
  offline: "down",
  latency: "rtt",
  delay: "rtt",
  ping: "rtt",
};

/**
 * Splits text into normalised tokens (lower case, no diacritics, no stop words, synonyms
 * folded); exported so tests and the docs can show what the embedder sees.
 *
 * @param text any text
 */
export function tokenize(text: string): string[] {
  const plain = text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase();
  const out: string[] = [];
  for (const m of plain.matchAll(/[\p{L}\p{N}]+/gu)) {
    const w = m[0];
    if (STOP_WORDS.has(w)) continue;
    out.push(SYNONYMS[w] ?? w);
  }
  return out;
}
