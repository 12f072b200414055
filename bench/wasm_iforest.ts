/**
 * Isolation Forest: the WASM core vs scikit-learn's IsolationForest (Debian python3-sklearn,
 * n_jobs=1) on the same data: 20,000 training rows (1 % unlabelled contamination) and 100,000
 * test rows with 2 % injected outliers, 8 columns; 100 trees, subsample 256. Reports fit time,
 * scoring throughput (rows/s, wall and CPU) and ROC-AUC of both (seed 1, and the mean over
 * seeds 1..5). Writes bench/results/wasm_iforest.json.
 *
 * @module
 */
import { loadCore } from "../wasm/core.ts";
import { seededRandom } from "../core/routing/random_graph.ts";
import { cpuPerCall, fmt, loadAverage, python, stats, time, writeResult } from "./wasm_stats.ts";

const COLS = 8, TRAIN = 20_000, TEST = 100_000;
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 10);
const rand = seededRandom(314);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const centres = [0, 1, 2].map(() => Array.from({ length: COLS }, () => 6 * (rand() - 0.5)));

/** Rows from three Gaussian clusters, `fraction` of them replaced by uniform outliers. */
function sample(rows: number, fraction: number): { data: Float64Array; labels: Uint8Array } {
  const data = new Float64Array(rows * COLS), labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const outlier = rand() < fraction;
    labels[r] = outlier ? 1 : 0;
    const c = centres[Math.floor(rand() * 3)];
    for (let j = 0; j < COLS; j++) {
      data[r * COLS + j] = outlier ? 10 * (rand() - 0.5) : c[j] + 0.8 * gauss();
    }
  }
  return { data, labels };
}

/** ROC-AUC by the rank-sum (Mann-Whitney) formula, ties counted half. */
function rocAuc(scores: Float64Array, labels: Uint8Array): number {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0, pos = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[order[k]]) (rankSum += rank, pos++);
    i = j + 1;
  }
  const neg = order.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

const train = sample(TRAIN, 0.01), test = sample(TEST, 0.02);
const trainM = { rows: TRAIN, cols: COLS, data: train.data };
const testM = { rows: TEST, cols: COLS, data: test.data };
const load0 = await loadAverage();

const file = await Deno.makeTempFile({ prefix: "x0_bench_iforest_" });
try {
  const head = new Int32Array([TRAIN, TEST, COLS]);
  const bytes = new Uint8Array(12 + 8 * COLS * (TRAIN + TEST) + TEST);
  bytes.set(new Uint8Array(head.buffer), 0);
  bytes.set(new Uint8Array(train.data.buffer), 12);
  bytes.set(new Uint8Array(test.data.buffer), 12 + 8 * COLS * TRAIN);
  bytes.set(test.labels, 12 + 8 * COLS * (TRAIN + TEST));
  await Deno.writeFile(file, bytes);

  const core = await loadCore();
  const opts = { trees: 100, sample: 256, seed: 1 };
  const fit = time(5, 3, () => core.fitForest(trainM, opts).free());
  using forest = core.fitForest(trainM, opts);
  const score = time(RUNS, 3, () => forest.score(testM));
  const scoreCpu = cpuPerCall(RUNS, () => forest.score(testM));
  const auc = rocAuc(forest.score(testM), test.labels);
  const aucSeeds = [1, 2, 3, 4, 5].map((seed) => {
    using f = core.fitForest(trainM, { ...opts, seed });
    return rocAuc(f.score(testM), test.labels);
  });

  const py = await python("sklearn_iforest.py", [file, String(RUNS), "1"]);
  const F = stats(fit), S = stats(score);
  const PF = stats(py.fit_ms as number[]), PS = stats(py.score_ms as number[]);
  const pyScoreCpu = (py.score_cpu_ms as number[]).reduce((a, b) => a + b, 0) / RUNS;
  const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
  const skAucSeeds = py.auc_seeds_1_to_5 as number[];
  const throughput = TEST / (S.median_ms / 1000), skThroughput = TEST / (PS.median_ms / 1000);
  const result = {
    data: { columns: COLS, train_rows: TRAIN, test_rows: TEST, test_outlier_fraction: 0.02 },
    params: { trees: 100, sample: 256, seed: 1 },
    wasm: {
      fit: F,
      score: S,
      score_cpu_ms_per_call: scoreCpu,
      rows_per_s: Math.round(throughput),
      auc: auc,
      auc_mean_seeds_1_to_5: mean(aucSeeds),
    },
    sklearn: {
      version: py.sklearn,
      fit: PF,
      score: PS,
      score_cpu_ms_per_call: Math.round(pyScoreCpu * 1000) / 1000,
      rows_per_s: Math.round(skThroughput),
      auc: py.auc,
      auc_mean_seeds_1_to_5: mean(skAucSeeds),
    },
    ratios: {
      scoring_throughput_wasm_over_sklearn: Math.round((throughput / skThroughput) * 100) / 100,
      scoring_cpu_sklearn_over_wasm: Math.round((pyScoreCpu / scoreCpu) * 100) / 100,
      fit_time_sklearn_over_wasm: Math.round((PF.median_ms / F.median_ms) * 100) / 100,
      auc_diff_seed1: Math.abs(auc - (py.auc as number)),
      auc_diff_mean_seeds: Math.abs(mean(aucSeeds) - mean(skAucSeeds)),
    },
    targets: {
      throughput_at_least_sklearn: throughput >= skThroughput,
      auc_within_0_01: Math.abs(mean(aucSeeds) - mean(skAucSeeds)) <= 0.01,
    },
    load_average: { start: load0, end: await loadAverage() },
    command: "deno task bench:wasm_iforest",
    date: new Date().toISOString(),
  };
  console.log(`fit     WASM ${fmt(F.median_ms)} ms   sklearn ${fmt(PF.median_ms)} ms`);
  console.log(
    `score   WASM ${fmt(S.median_ms)} ms (${Math.round(throughput)} rows/s)   sklearn ` +
      `${fmt(PS.median_ms)} ms (${Math.round(skThroughput)} rows/s)   -> ` +
      `${result.ratios.scoring_throughput_wasm_over_sklearn}x throughput`,
  );
  console.log(
    `ROC-AUC WASM ${fmt(auc, 4)} (mean of 5 seeds ${fmt(mean(aucSeeds), 4)})   sklearn ` +
      `${fmt(py.auc as number, 4)} (mean ${fmt(mean(skAucSeeds), 4)})`,
  );
  await writeResult("iforest", result);
} finally {
  await Deno.remove(file);
}
