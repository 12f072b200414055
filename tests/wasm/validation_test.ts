import assert from "node:assert/strict";
import { CoreInputError, type CsrGraph, loadCore } from "../../wasm/core.ts";

const core = await loadCore();

const triangle = (): CsrGraph => ({
  ids: ["a", "b", "c"],
  directed: false,
  offsets: new Int32Array([0, 2, 4, 6]),
  targets: new Int32Array([1, 2, 0, 2, 0, 1]),
  weights: new Float64Array([1, 2, 1, 1, 2, 1]),
  links: new Int32Array([0, 1, 0, 2, 1, 2]),
});

Deno.test("graph queries reject unknown node ids", () => {
  using g = core.graph(triangle());
  for (
    const call of [
      () => g.shortestTree("z"),
      () => g.disjointPaths("a", "z"),
      () => g.disjointPaths("z", "a"),
      () => g.routeTable("z"),
      () => g.nextHops("z"),
    ]
  ) {
    assert.throws(call, (e) => e instanceof CoreInputError && e.message === "Unknown node id: z");
  }
});

Deno.test("graph() rejects negative, NaN and infinite weights, naming the link", () => {
  for (const bad of [-1, NaN, Infinity]) {
    const csr = triangle();
    csr.weights[3] = bad;
    assert.throws(
      () => core.graph(csr),
      (e) =>
        e instanceof CoreInputError && e.message.startsWith(`Invalid link weight b -> c: ${bad}`),
    );
  }
  assert.equal(core.liveObjects(), 0);
});

Deno.test("graph() rejects dimension mismatches and broken CSR arrays", () => {
  const cases: [string, (g: CsrGraph) => void, RegExp][] = [
    ["short offsets", (g) => (g.offsets = g.offsets.subarray(0, 3)), /Dimension mismatch/],
    ["missing weights", (g) => (g.weights = g.weights.subarray(0, 5)), /Dimension mismatch/],
    ["bad end offset", (g) => (g.offsets[3] = 5), /Invalid CSR offsets/],
    ["target out of range", (g) => (g.targets[0] = 7), /Unknown node index/],
    ["duplicate id", (g) => (g.ids = ["a", "a", "c"]), /Duplicate node id: a/],
  ];
  for (const [name, mutate, re] of cases) {
    const csr = triangle();
    mutate(csr);
    assert.throws(
      () => core.graph(csr),
      (e) => e instanceof CoreInputError && re.test(e.message),
      name,
    );
  }
  // Link ids that do not pair the two arcs of an undirected link are caught by the core.
  const csr = triangle();
  csr.links[1] = 0;
  assert.throws(() => core.graph(csr), /undirected link ids do not pair arcs/);
  assert.equal(core.liveObjects(), 0);
});

Deno.test("disjointPaths() rejects bad k, bad mode and identical ends", () => {
  using g = core.graph(triangle());
  for (const k of [0, -1, 1.5, 65, NaN]) {
    assert.throws(() => g.disjointPaths("a", "c", { k }), /Invalid k/);
  }
  const link = "link" as unknown as "edge";
  assert.throws(() => g.disjointPaths("a", "c", { disjoint: link }), /Invalid disjointness/);
  assert.throws(() => g.disjointPaths("a", "a"), /Source and destination are the same node: a/);
});

Deno.test("fitForest() and score() reject empty sets, dimension mismatches and bad values", () => {
  const e = (re: RegExp) => (err: unknown) => err instanceof CoreInputError && re.test(err.message);
  assert.throws(() => core.fitForest([]), e(/training set is empty/));
  assert.throws(() => core.fitForest({ rows: 0, cols: 2, data: new Float64Array() }), e(/empty/));
  assert.throws(() => core.fitForest([[1, 2]]), e(/at least 2 rows: got 1/));
  assert.throws(
    () => core.fitForest([[1, 2], [3]]),
    e(/Dimension mismatch in training set: row 2/),
  );
  assert.throws(() => core.fitForest([[1, NaN], [3, 4]]), e(/row 1, column 2: NaN/));
  assert.throws(() => core.fitForest([[1], [2]], { trees: 0 }), e(/Invalid number of trees/));
  assert.throws(() => core.fitForest([[1], [2]], { sample: 1 }), e(/Invalid subsample size/));
  assert.throws(() => core.fitForest([[1], [2]], { seed: -1 }), e(/Invalid seed/));
  using f = core.fitForest([[1, 2], [3, 4], [5, 6]]);
  assert.throws(
    () => f.score([[1, 2, 3]]),
    e(/score matrix has 3 columns, the forest was trained on 2/),
  );
  assert.throws(() => f.score([]), e(/score matrix is empty/));
  assert.throws(() => f.score([[1, Infinity]]), e(/Invalid value in score matrix/));
});

Deno.test("a freed graph refuses further calls", () => {
  const g = core.graph(triangle());
  g.free();
  assert.throws(() => g.shortestTree("a"), /already freed/);
  assert.throws(() => g.routeTable("a"), /already freed/);
  assert.equal(core.liveObjects(), 0);
});
