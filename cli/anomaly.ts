/**
 * `anomaly`: Isolation Forest anomaly scores for the rows of a CSV file.
 *
 * `anomaly --train train.csv --score test.csv [--trees 100] [--sample 256] [--seed 1] [--json]`.
 * Both files have a header row naming the same numeric columns. JSON output:
 * `{"scores":[...]}`, one score per scored row, higher = more anomalous.
 *
 * @module
 */
import { Command } from "commander";
import { errorMessage, ValidationError } from "../core/errors.ts";
import { CoreInputError, loadCore, type Matrix } from "../wasm/core.ts";

/** A numeric CSV file: header names and a row-major matrix. */
interface NumericCsv {
  header: string[];
  matrix: Matrix;
}

/** Parses a CSV file whose cells (after the header row) are all numbers. */
function parseNumericCsv(text: string, file: string): NumericCsv {
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
  if (lines.length === 0) {
    throw new ValidationError(`Empty CSV file ${file}: expected a header row`);
  }
  const header = lines[0].split(",").map((h) => h.trim());
  const cols = header.length;
  const data: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const cells = lines[i].split(",");
    if (cells.length !== cols) {
      throw new ValidationError(
        `Dimension mismatch in ${file} line ${i + 1}: ${cells.length} columns, header has ${cols}`,
      );
    }
    cells.forEach((cell, c) => {
      const x = cell.trim() === "" ? NaN : Number(cell);
      if (!Number.isFinite(x)) {
        throw new ValidationError(
          `Invalid number in ${file} line ${i + 1}, column ${header[c]}: ${JSON.stringify(cell)}`,
        );
      }
      data.push(x);
    });
  }
  return { header, matrix: { rows: data.length / cols, cols, data: Float64Array.from(data) } };
}

async function readCsv(file: string): Promise<NumericCsv> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new ValidationError(`Cannot read CSV file ${file}: ${errorMessage(err)}`);
  }
  return parseNumericCsv(text, file);
}

function integer(name: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) {
    throw new ValidationError(`Invalid ${name}: ${value} (expected a non-negative integer)`);
  }
  return Number(value);
}

/** Builds the `anomaly` command. */
export function anomalyCommand(): Command {
  return new Command("anomaly")
    .description("Isolation Forest anomaly scores (WASM core); higher = more anomalous")
    .requiredOption("--train <file>", "CSV of normal observations (header row, numeric columns)")
    .requiredOption("--score <file>", "CSV of observations to score (same columns)")
    .option("--trees <n>", "number of trees", "100")
    .option("--sample <n>", "subsample size per tree", "256")
    .option("--seed <n>", "random seed", "1")
    .option("--json", "print JSON on stdout")
    .action(async (opts: {
      train: string;
      score: string;
      trees: string;
      sample: string;
      seed: string;
      json?: boolean;
    }) => {
      try {
        const trees = integer("--trees", opts.trees);
        const sample = integer("--sample", opts.sample);
        const seed = integer("--seed", opts.seed);
        const train = await readCsv(opts.train);
        const test = await readCsv(opts.score);
        if (train.matrix.rows === 0) {
          throw new ValidationError(`Empty training set: ${opts.train} has no data rows`);
        }
        if (test.header.join(",") !== train.header.join(",")) {
          throw new ValidationError(
            `Dimension mismatch: ${opts.score} has columns ${test.header.join(",")}, ` +
              `${opts.train} has ${train.header.join(",")}`,
          );
        }
        const core = await loadCore();
        let scores: Float64Array;
        try {
          using forest = core.fitForest(train.matrix, { trees, sample, seed });
          scores = test.matrix.rows === 0 ? new Float64Array() : forest.score(test.matrix);
        } catch (err) {
          if (err instanceof CoreInputError) throw new ValidationError(err.message);
          throw err;
        }
        if (opts.json) {
          console.log(JSON.stringify({ scores: Array.from(scores) }));
          return;
        }
        scores.forEach((s, i) => console.log(`${i + 1}\t${s.toFixed(6)}`));
      } catch (err) {
        console.error(`error: ${errorMessage(err)}`);
        Deno.exitCode = 1;
      }
    });
}
