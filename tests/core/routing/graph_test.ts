import assert from "node:assert/strict";
import { ValidationError } from "../../../core/errors.ts";
import { buildCsr, parseTopology, type Topology } from "../../../core/routing/graph.ts";
import { linkWeight } from "../../../core/routing/link_weight.ts";

const topo = (links: Topology["links"], directed = false): Topology => ({
  directed,
  nodes: [{ id: "A" }, { id: "B" }, { id: "C" }],
  links,
});

Deno.test("buildCsr() maps ids to indices and gives an undirected link two paired arcs", () => {
  const g = buildCsr(
    topo([{ source: "A", target: "B", weight: 1.5 }, { source: "C", target: "A", weight: 2 }]),
  );
  assert.deepEqual(g.ids, ["A", "B", "C"]);
  assert.deepEqual(Array.from(g.offsets), [0, 2, 3, 4]);
  // A's arcs: to B (link 0) and to C (link 1); B: to A (0); C: to A (1).
  assert.deepEqual(Array.from(g.targets), [1, 2, 0, 0]);
  assert.deepEqual(Array.from(g.weights), [1.5, 2, 1.5, 2]);
  assert.deepEqual(Array.from(g.links), [0, 1, 0, 1]);
});

Deno.test("buildCsr() gives a directed link one arc", () => {
  const g = buildCsr(topo([{ source: "B", target: "C", weight: 3 }], true));
  assert.deepEqual(Array.from(g.offsets), [0, 0, 1, 1]);
  assert.deepEqual(Array.from(g.targets), [2]);
});

Deno.test("buildCsr() derives weights from measurements, else uses 1", () => {
  const m = { rtt_ms: 40, loss_percent: 2, jitter_ms: 4 };
  const g = buildCsr(
    topo([{ source: "A", target: "B", ...m }, { source: "B", target: "C" }], true),
  );
  assert.equal(g.weights[0], linkWeight(m));
  assert.equal(g.weights[1], 1);
});

Deno.test("buildCsr() rejects unknown ids, duplicates, self-loops and bad weights", () => {
  const cases: [Topology, RegExp][] = [
    [topo([{ source: "A", target: "Z" }]), /Unknown node id in link 0: Z/],
    [{ ...topo([]), nodes: [{ id: "A" }, { id: "A" }] }, /Duplicate node id: A/],
    [topo([{ source: "B", target: "B" }]), /self-loop: B/],
    [topo([{ source: "A", target: "B", weight: -1 }]), /Invalid weight on link A -> B: -1/],
    [topo([{ source: "A", target: "B", weight: NaN }]), /Invalid weight on link A -> B: NaN/],
  ];
  for (const [t, re] of cases) {
    assert.throws(() => buildCsr(t), (e) => e instanceof ValidationError && re.test(e.message));
  }
});

Deno.test("parseTopology() accepts the g.json format and names the bad field", () => {
  const ok = parseTopology({
    nodes: [{ id: "A" }, { id: "B" }],
    links: [{ source: "A", target: "B", weight: 1.5 }],
  });
  assert.equal(ok.directed, false);
  for (
    const [bad, re] of [
      [{ nodes: [{ id: "A" }] }, /at links/],
      [
        { nodes: [{ id: "A" }], links: [{ source: "A", target: "A", weight: -2 }] },
        /links\.0\.weight/,
      ],
      [{ nodes: [{}], links: [] }, /nodes\.0\.id/],
      ["nope", /Invalid topology/],
    ] as const
  ) {
    assert.throws(
      () => parseTopology(bad),
      (e) => e instanceof ValidationError && re.test(e.message),
    );
  }
});
