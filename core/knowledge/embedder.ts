/**
 * The Embedder interface: turns texts into fixed-length vectors for the HNSW index. The built-in
 * hashed n-gram embedder needs no model; an OpenAI-compatible HTTP embedder can replace it.
 *
 * @module
 */

/** Something that maps texts to vectors of a fixed dimension. */
export interface Embedder {
  /** Stable identifier of the model and its parameters; cache entries are keyed by it. */
  readonly id: string;
  /** Length of every vector this embedder returns. */
  readonly dimensions: number;
  /** Largest number of texts sent in one `embed` call. */
  readonly batchSize: number;
  /**
   * Embeds the texts, one vector per text, in order.
   *
   * @param texts at most `batchSize` texts
   */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** Default number of texts per embedding request. */
export const EMBED_BATCH_SIZE = 32;

/**
 * Scales `v` in place to unit L2 length (a zero vector stays zero) and returns it.
 *
 * @param v the vector
 */
export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  if (sum === 0) return v;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

/**
 * Cosine similarity of two vectors (0 when either is zero).
 *
 * @param a first vector
 * @param b second vector, same length
 */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}
