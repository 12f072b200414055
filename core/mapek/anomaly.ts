/**
 * Online anomaly model: an Isolation Forest refitted from time to time on this node's own
 * healthy history (feature rows of cycles where no rule fired), scoring each new cycle. The
 * forest itself lives in the WASM core (wasm/forest.ts); this module only needs a fit function,
 * so tests and other engines can plug in their own.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { createRingBuffer } from "./ring_buffer.ts";

/** A fitted model: anomaly scores in (0, 1], higher is more anomalous. */
export interface FittedForest {
  score(rows: readonly (readonly number[])[]): ArrayLike<number>;
  free(): void;
}

/** Fits a forest on training rows. */
export type ForestFit = (rows: readonly (readonly number[])[]) => FittedForest;

/** The online model. */
export interface OnlineForest {
  /** Adds a healthy row; refits when enough new rows arrived. */
  learn(row: readonly number[]): void;
  /** Score of a row, or null before the first fit. */
  score(row: readonly number[]): number | null;
  /** Healthy rows held and fits done so far. */
  stats(): { rows: number; fits: number };
  /** Frees the fitted forest. */
  free(): void;
}

/**
 * Creates an online forest.
 *
 * @param fit trains a forest (e.g. `(rows) => core.fitForest(rows, { trees: 100 })`)
 * @param options rows before the first fit (and between refits), rows kept
 */
export function createOnlineForest(
  fit: ForestFit,
  options: { minSamples?: number; capacity?: number; cols: number },
): OnlineForest {
  const minSamples = options.minSamples ?? 120;
  const capacity = options.capacity ?? Math.max(minSamples, 1024);
  if (!Number.isInteger(options.cols) || options.cols < 1) {
    throw new ValidationError(`Forest needs a positive column count: ${options.cols}`);
  }
  const rows = createRingBuffer<number[]>(capacity);
  let fitted: FittedForest | undefined;
  let sinceFit = 0;
  let fits = 0;
  const check = (row: readonly number[]) => {
    if (row.length !== options.cols || row.some((v) => !Number.isFinite(v))) {
      throw new ValidationError(
        `Feature row must have ${options.cols} finite values: ${JSON.stringify(row)}`,
      );
    }
  };
  return {
    learn(row) {
      check(row);
      rows.push([...row]);
      sinceFit++;
      if (rows.size >= minSamples && sinceFit >= minSamples) {
        const next = fit(rows.toArray());
        fitted?.free();
        fitted = next;
        sinceFit = 0;
        fits++;
      }
    },
    score(row) {
      check(row);
      return fitted ? fitted.score([row])[0] : null;
    },
    stats: () => ({ rows: rows.size, fits }),
    free() {
      fitted?.free();
      fitted = undefined;
    },
  };
}
