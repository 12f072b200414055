import assert from "node:assert/strict";
import { loadCore } from "../../wasm/core.ts";
import { seededRandom } from "../../core/routing/random_graph.ts";
import { runCli } from "../helpers/agent_process.ts";

/** Runs main.ts with the `deno task cli` permissions. */
const cli = (args: string[]) => runCli(args);

const csv = (header: string, rows: number[][]) =>
  [header, ...rows.map((r) => r.join(","))].join("\n") + "\n";

/** Gaussian observations around (50, 40, 0.5) and three far off in every column. */
function dataset() {
  const r = seededRandom(77);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const normal = (n: number) =>
    Array.from({ length: n }, () => [50 + 5 * gauss(), 40 + 4 * gauss(), 0.5 + 0.1 * gauss()]);
  const train = normal(400);
  const inliers = normal(30);
  const outliers = [[95, 90, 5], [5, 3, 9], [120, 0, 3]];
  return { train, test: [...inliers, ...outliers] };
}

Deno.test("anomaly CLI scores every row, outliers highest, deterministically per seed", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0_anomaly_" });
  try {
    const { train, test } = dataset();
    const header = "cpu_percent,memory_percent,packet_loss_percent";
    await Deno.writeTextFile(`${dir}/train.csv`, csv(header, train));
    await Deno.writeTextFile(`${dir}/test.csv`, csv(header, test));
    const run = (...extra: string[]) =>
      cli([
        "anomaly",
        "--train",
        `${dir}/train.csv`,
        "--score",
        `${dir}/test.csv`,
        "--json",
        ...extra,
      ]);
    let scores: number[] = [];
    await t.step("JSON has one score per row and outliers rank above inliers", async () => {
      const r = await run();
      assert.equal(r.code, 0, r.stderr);
      scores = JSON.parse(r.stdout).scores;
      assert.equal(scores.length, test.length);
      const maxInlier = Math.max(...scores.slice(0, 30));
      for (const s of scores.slice(30)) assert.ok(s > maxInlier, `${s} <= ${maxInlier}`);
    });
    await t.step("the same seed gives the same scores, another seed others", async () => {
      assert.deepEqual(JSON.parse((await run("--seed", "1")).stdout).scores, scores);
      assert.notDeepEqual(JSON.parse((await run("--seed", "2")).stdout).scores, scores);
    });
    await t.step("the CLI equals the library with the same parameters", async () => {
      const r = await run("--trees", "30", "--sample", "64", "--seed", "9");
      assert.equal(r.code, 0, r.stderr);
      const core = await loadCore();
      using f = core.fitForest(train, { trees: 30, sample: 64, seed: 9 });
      assert.deepEqual(JSON.parse(r.stdout).scores, Array.from(f.score(test)));
    });
    await t.step("human output prints one line per row", async () => {
      const r = await cli(["anomaly", "--train", `${dir}/train.csv`, "--score", `${dir}/test.csv`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split("\n").length, test.length);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("anomaly CLI exits 1 with one clear line on bad input", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0_anomaly_" });
  try {
    const files: Record<string, string> = {
      "good.csv": "a,b\n1,2\n3,4\n5,6\n",
      "empty.csv": "a,b\n",
      "other_cols.csv": "a,c\n1,2\n",
      "three_cols.csv": "a,b,c\n1,2,3\n",
      "text.csv": "a,b\n1,x\n",
      "ragged.csv": "a,b\n1,2\n3\n",
    };
    for (const [name, body] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, body);
    }
    const cases: [string, string, string, string[], RegExp][] = [
      ["empty training set", "empty.csv", "good.csv", [], /Empty training set/],
      ["column names differ", "good.csv", "other_cols.csv", [], /Dimension mismatch/],
      ["column count differs", "good.csv", "three_cols.csv", [], /Dimension mismatch/],
      [
        "non-numeric cell",
        "text.csv",
        "good.csv",
        [],
        /Invalid number in .*text.csv line 2, column b/,
      ],
      ["ragged row", "ragged.csv", "good.csv", [], /Dimension mismatch in .*ragged.csv line 3/],
      ["missing file", "none.csv", "good.csv", [], /Cannot read CSV file/],
      ["bad --trees", "good.csv", "good.csv", ["--trees", "0"], /Invalid number of trees: 0/],
      ["bad --sample", "good.csv", "good.csv", ["--sample", "-3"], /Invalid --sample/],
    ];
    for (const [name, train, score, extra, re] of cases) {
      await t.step(name, async () => {
        const r = await cli([
          "anomaly",
          "--train",
          `${dir}/${train}`,
          "--score",
          `${dir}/${score}`,
          "--json",
          ...extra,
        ]);
        assert.equal(r.code, 1, `${name}: exit code`);
        assert.equal(r.stdout, "");
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], re);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
