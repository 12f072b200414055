/**
 * The built-in embedder: feature hashing of word and character n-grams, no model download.
 *
 * Method (version `hash-ngram-v1`):
 * 1. Normalise: Unicode NFKD, strip combining marks, lower-case; split into tokens of letters
 *    and digits; drop English stop words; fold a small operator lexicon of synonyms onto one
 *    form (`processor` → `cpu`, `ram` → `memory`, ...) so paraphrases share features.
 * 2. Features: each word (weight 1), each pair of adjacent words (weight 0.5), and each
 *    character trigram of `#word#` (weight 0.25, so `restart` and `restarted` overlap).
 * 3. Each feature is hashed with 32-bit FNV-1a; the hash picks one of 384 dimensions and its
 *    top bit picks a sign (signed hashing keeps collisions unbiased).
 * 4. Word counts are dampened (1 + ln tf) and the vector is L2-normalised, so cosine similarity
 *    is a dot product. An empty or all-stop-word text yields the zero vector.
 *
 * @module
 */
import { type Embedder, l2Normalize } from "./embedder.ts";
import { tokenize } from "./tokenize.ts";

/** Dimension of the built-in embedder's vectors. */
export const HASH_EMBEDDER_DIMENSIONS = 384;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/**
 * Embeds one text with the hashed n-gram method described in this module's doc.
 *
 * @param text any text
 * @param dimensions vector length (default 384)
 */
export function hashEmbed(text: string, dimensions = HASH_EMBEDDER_DIMENSIONS): Float32Array {
  const v = new Float32Array(dimensions);
  const tokens = tokenize(text);
  const add = (feature: string, weight: number) => {
    const h = fnv1a(feature);
    v[h % dimensions] += (h & 0x80000000) ? -weight : weight;
  };
  const tf = new Map<string, number>();
  for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
  for (const [t, n] of tf) {
    const w = 1 + Math.log(n);
    add(`w:${t}`, w);
    const padded = `#${t}#`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`c:${padded.slice(i, i + 3)}`, 0.25 * w);
  }
  for (let i = 0; i + 1 < tokens.length; i++) add(`b:${tokens[i]} ${tokens[i + 1]}`, 0.5);
  return l2Normalize(v);
}

/**
 * Returns the built-in embedder (deterministic, synchronous work behind an async interface).
 *
 * @param options vector length (default 384)
 */
export function hashEmbedder(options: { dimensions?: number } = {}): Embedder {
  const dimensions = options.dimensions ?? HASH_EMBEDDER_DIMENSIONS;
  return {
    id: `hash-ngram-v1-${dimensions}`,
    dimensions,
    batchSize: 32,
    embed: (texts) => Promise.resolve(texts.map((t) => hashEmbed(t, dimensions))),
  };
}
