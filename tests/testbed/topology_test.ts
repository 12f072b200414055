import assert from "node:assert/strict";
import { parseTopology, TopologyError, validateTopology } from "./topology.ts";

const degree = (t: { links: Array<[string, string]> }, r: string) =>
  t.links.filter(([a, b]) => a === r || b === r).length;

Deno.test("parseTopology() builds line, ring, grid and random topologies", async (t) => {
  await t.step("line:4", () => {
    const top = parseTopology("line:4");
    assert.deepEqual(top.routers, ["r1", "r2", "r3", "r4"]);
    assert.deepEqual(top.links, [["r1", "r2"], ["r2", "r3"], ["r3", "r4"]]);
  });
  await t.step("ring:5 closes the loop", () => {
    const top = parseTopology("ring:5");
    assert.equal(top.links.length, 5);
    assert.ok(top.routers.every((r) => degree(top, r) === 2));
  });
  await t.step("grid:4x5 has R(C-1)+C(R-1) links and corner degree 2", () => {
    const top = parseTopology("grid:4x5");
    assert.equal(top.routers.length, 20);
    assert.equal(top.links.length, 4 * 4 + 5 * 3);
    assert.equal(degree(top, "r1"), 2);
    assert.equal(degree(top, "r20"), 2);
    assert.equal(degree(top, "r7"), 4);
  });
  await t.step("random:N:seed is connected and reproducible", () => {
    for (let seed = 0; seed < 30; seed++) {
      const a = parseTopology(`random:12:${seed}`);
      assert.deepEqual(a, parseTopology(`random:12:${seed}`));
      assert.doesNotThrow(() => validateTopology(a));
    }
    assert.notDeepEqual(parseTopology("random:12:1"), parseTopology("random:12:2"));
  });
});

Deno.test("parseTopology() reads a JSON file with either link form", () => {
  const file = Deno.makeTempFileSync({ suffix: ".json" });
  try {
    Deno.writeTextFileSync(
      file,
      JSON.stringify({ routers: ["a", "b", "c"], links: [["a", "b"], { a: "b", b: "c" }] }),
    );
    assert.deepEqual(parseTopology(file), {
      routers: ["a", "b", "c"],
      links: [["a", "b"], ["b", "c"]],
    });
  } finally {
    Deno.removeSync(file);
  }
});

Deno.test("parseTopology() rejects bad specs with a clear error", () => {
  for (
    const spec of [
      "ring:2",
      "line:1",
      "line:x",
      "grid:3",
      "grid:0x4",
      "random:5",
      "random:5:x",
      "line:999",
      "/no/such/file.json",
    ]
  ) {
    assert.throws(() => parseTopology(spec), TopologyError, spec);
  }
  assert.throws(
    () => validateTopology({ routers: ["a", "b", "c"], links: [["a", "b"]] }),
    /not connected/,
  );
  assert.throws(() => validateTopology({ routers: ["a", "a"], links: [] }), /Duplicate router/);
  assert.throws(
    () => validateTopology({ routers: ["a", "B"], links: [["a", "B"]] }),
    /Invalid router name/,
  );
  assert.throws(
    () => validateTopology({ routers: ["a", "b"], links: [["a", "b"], ["b", "a"]] }),
    /Duplicate link/,
  );
});
