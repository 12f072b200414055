/**
 * Isolation Forest in the WASM core: fit once, score matrices in one call each, free when done.
 *
 * @module
 */
import { allocBlock, check, copyIn, type CoreExports, freeBlock } from "./abi.ts";
import { CoreInputError } from "./errors.ts";

/** A dense row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  /** rows * cols values, row after row. */
  data: Float64Array;
}

/** Fit parameters; defaults are the paper's (and scikit-learn's). */
export interface ForestOptions {
  /** Number of trees (default 100). */
  trees?: number;
  /** Subsample size per tree, psi (default 256; capped at the number of rows). */
  sample?: number;
  /** PRNG seed, an integer from 0 to 2^53 - 1 (default 1). */
  seed?: number;
}

/** Accepts a Matrix or an array of equally long numeric rows; checks every value. */
export function toMatrix(input: Matrix | readonly (readonly number[])[], what: string): Matrix {
  let m: Matrix;
  if (Array.isArray(input)) {
    const rows = input as readonly (readonly number[])[];
    if (rows.length === 0) throw new CoreInputError(`${what} is empty`);
    const cols = rows[0].length;
    const data = new Float64Array(rows.length * cols);
    rows.forEach((row, r) => {
      if (row.length !== cols) {
        throw new CoreInputError(
          `Dimension mismatch in ${what}: row ${r + 1} has ${row.length} columns, expected ${cols}`,
        );
      }
      data.set(row, r * cols);
    });
    m = { rows: rows.length, cols, data };
  } else {
    m = input as Matrix;
    if (m.rows === 0) throw new CoreInputError(`${what} is empty`);
    if (m.data.length !== m.rows * m.cols) {
      throw new CoreInputError(
        `Dimension mismatch in ${what}: ${m.data.length} values for ${m.rows} x ${m.cols}`,
      );
    }
  }
  if (m.cols < 1) throw new CoreInputError(`${what} has no columns`);
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      const r = Math.floor(i / m.cols) + 1, c = (i % m.cols) + 1;
      throw new CoreInputError(`Invalid value in ${what} at row ${r}, column ${c}: ${m.data[i]}`);
    }
  }
  return m;
}

function positiveInt(value: number, name: string, min: number, max: number): number {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new CoreInputError(
      `Invalid ${name}: ${value} (expected an integer from ${min} to ${max})`,
    );
  }
  return value;
}

/** A fitted Isolation Forest owned by the WASM core; call `free()` (or `using`) when done. */
export class CoreForest {
  #ex: CoreExports;
  #handle: number;
  #cols: number;
  #sample: number;
  #onFree: (forest: CoreForest) => void;

  /**
   * @param ex the core's exports
   * @param train training matrix (at least 2 rows)
   * @param options trees, sample, seed
   * @param onFree called once when the forest is freed
   */
  constructor(
    ex: CoreExports,
    train: Matrix | readonly (readonly number[])[],
    options: ForestOptions,
    onFree: (forest: CoreForest) => void,
  ) {
    const m = toMatrix(train, "training set");
    if (m.rows < 2) throw new CoreInputError(`Training set needs at least 2 rows: got ${m.rows}`);
    const trees = positiveInt(options.trees ?? 100, "number of trees", 1, 100_000);
    const sample = positiveInt(options.sample ?? 256, "subsample size", 2, 1 << 24);
    const seed = positiveInt(options.seed ?? 1, "seed", 0, Number.MAX_SAFE_INTEGER);
    this.#ex = ex;
    this.#cols = m.cols;
    this.#onFree = onFree;
    const block = copyIn(ex, m.data);
    try {
      const lo = seed % 0x1_0000_0000, hi = Math.floor(seed / 0x1_0000_0000);
      this.#handle = check(
        ex.forest_fit(block.ptr, m.rows, m.cols, trees, sample, lo, hi),
        "forest_fit",
      );
    } finally {
      freeBlock(ex, block);
    }
    this.#sample = ex.forest_sample_size(this.#handle);
  }

  /** Number of features the forest was trained on. */
  get cols(): number {
    return this.#cols;
  }

  /** Subsample size actually used (min(sample, training rows)). */
  get sampleSize(): number {
    return this.#sample;
  }

  /**
   * Anomaly scores s(x, psi) in (0, 1], one per row, higher = more anomalous; the whole matrix
   * is scored in one call into the core.
   */
  score(input: Matrix | readonly (readonly number[])[]): Float64Array {
    if (this.#handle === 0) throw new Error("Forest was already freed");
    const m = toMatrix(input, "score matrix");
    if (m.cols !== this.#cols) {
      throw new CoreInputError(
        `Dimension mismatch: score matrix has ${m.cols} columns, the forest was trained on ${this.#cols}`,
      );
    }
    const ex = this.#ex;
    const data = copyIn(ex, m.data);
    const out = allocBlock(ex, m.rows * 8);
    try {
      check(ex.forest_score(this.#handle, data.ptr, m.rows, m.cols, out.ptr), "forest_score");
      return new Float64Array(ex.memory.buffer, out.ptr, m.rows).slice();
    } finally {
      freeBlock(ex, data);
      freeBlock(ex, out);
    }
  }

  /** Releases the forest in the core; later calls throw. Safe to call twice. */
  free(): void {
    if (this.#handle === 0) return;
    check(this.#ex.forest_free(this.#handle), "forest_free");
    this.#handle = 0;
    this.#onFree(this);
  }

  /** Frees the forest at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.free();
  }
}
