/**
 * A small seeded pseudo-random generator (mulberry32) for reproducible random topologies,
 * synthetic corpora and property tests: a failing case replays from its seed. Not for secrets.
 *
 * @module
 */

/**
 * Returns a generator of floats in [0, 1) determined entirely by `seed`.
 *
 * @param seed any integer; only its low 32 bits matter
 * @example
 * const random = seededRandom(42);
 * const coin = random() < 0.5;
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
