/**
 * Hybrid ranking: fuses the full-text and vector result lists into one ranking, either by
 * reciprocal-rank fusion (rank-based, scale-free) or by a weighted sum of normalised scores.
 *
 * @module
 */

/** How the two result lists are combined. */
export type FusionMode = "rrf" | "weighted";

/** Fusion settings. */
export interface FusionOptions {
  /** `rrf` (default) or `weighted`. */
  mode: FusionMode;
  /** RRF constant k (default 60, as in Cormack et al. 2009). */
  rrfK: number;
  /** Weight of the text score in `weighted` mode, in [0, 1]; the vector gets the rest. */
  textWeight: number;
}

/** Default fusion: RRF with k = 60, equal weights for the weighted mode. */
export const DEFAULT_FUSION: FusionOptions = { mode: "rrf", rrfK: 60, textWeight: 0.5 };

/** One candidate from one leg, best first within its list. */
export interface Candidate {
  slot: number;
  /** BM25 score (text leg) or cosine similarity (vector leg). */
  score: number;
}

/** One fused result. */
export interface Fused {
  slot: number;
  score: number;
  /** 1-based rank in the text list, when present there. */
  textRank?: number;
  /** 1-based rank in the vector list, when present there. */
  vectorRank?: number;
  textScore?: number;
  similarity?: number;
}

/**
 * Fuses the two lists (each sorted best first) and returns all candidates, best first; ties
 * break by slot so the order is deterministic.
 *
 * RRF: score = Σ 1 / (rrfK + rank). Weighted: score = w · bm25 / max(bm25) + (1 − w) ·
 * max(0, cosine).
 *
 * @param text the full-text leg
 * @param vector the vector leg
 * @param options fusion mode and parameters
 */
export function fuse(
  text: readonly Candidate[],
  vector: readonly Candidate[],
  options: Partial<FusionOptions> = {},
): Fused[] {
  const o = { ...DEFAULT_FUSION, ...options };
  if (!(o.textWeight >= 0 && o.textWeight <= 1)) {
    throw new RangeError(`Fusion textWeight must be in [0, 1]: ${o.textWeight}`);
  }
  const byslot = new Map<number, Fused>();
  const get = (slot: number) => {
    let f = byslot.get(slot);
    if (!f) {
      f = { slot, score: 0 };
      byslot.set(slot, f);
    }
    return f;
  };
  const maxText = text.reduce((m, c) => Math.max(m, c.score), 0);
  text.forEach((c, i) => {
    const f = get(c.slot);
    f.textRank = i + 1;
    f.textScore = c.score;
    f.score += o.mode === "rrf"
      ? 1 / (o.rrfK + i + 1)
      : o.textWeight * (maxText > 0 ? c.score / maxText : 0);
  });
  vector.forEach((c, i) => {
    const f = get(c.slot);
    f.vectorRank = i + 1;
    f.similarity = c.score;
    f.score += o.mode === "rrf" ? 1 / (o.rrfK + i + 1) : (1 - o.textWeight) * Math.max(0, c.score);
  });
  return [...byslot.values()].sort((a, b) => b.score - a.score || a.slot - b.slot);
}
