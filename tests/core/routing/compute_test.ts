import assert from "node:assert/strict";
import { ValidationError } from "../../../core/errors.ts";
import { computeRouteTable, findDisjointPaths } from "../../../core/routing/compute.ts";
import type { Topology } from "../../../core/routing/graph.ts";

const square: Topology = {
  directed: false,
  nodes: ["A", "B", "C", "D"].map((id) => ({ id })),
  links: [
    { source: "A", target: "C", weight: 1.5 },
    { source: "C", target: "B", weight: 1.5 },
    { source: "A", target: "D", weight: 2 },
    { source: "D", target: "B", weight: 2 },
  ],
};

Deno.test("findDisjointPaths() works by node id on a topology", async () => {
  const r = await findDisjointPaths(square, { from: "A", to: "B" }, { k: 2 });
  assert.deepEqual(r, {
    paths: [{ nodes: ["A", "C", "B"], cost: 3 }, { nodes: ["A", "D", "B"], cost: 4 }],
    total_cost: 7,
  });
});

Deno.test("computeRouteTable() gives each destination a primary and a disjoint backup", async () => {
  const table = await computeRouteTable(square, "A");
  const b = table.find((e) => e.destination === "B")!;
  assert.deepEqual(b.path, ["A", "C", "B"]);
  assert.equal(b.backupNextHop, "D");
  assert.equal(b.backupKind, "disjoint");
  assert.equal(b.backupCost, 4);
});

Deno.test("compute functions turn core input errors into ValidationError", async () => {
  await assert.rejects(
    () => findDisjointPaths(square, { from: "A", to: "Z" }),
    (e) => e instanceof ValidationError && e.message === "Unknown node id: Z",
  );
  await assert.rejects(() => computeRouteTable(square, "Q"), ValidationError);
});
