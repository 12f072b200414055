import assert from "node:assert/strict";
import { findDisjointPaths } from "../../core/routing/compute.ts";
import { geometricMesh, seededRandom } from "../../core/routing/random_graph.ts";
import { runCli } from "../helpers/agent_process.ts";

/** Runs main.ts with the `deno task cli` permissions. */
const cli = (args: string[]) => runCli(args);

const square = {
  directed: false,
  nodes: [{ id: "A" }, { id: "B" }, { id: "C" }, { id: "D" }],
  links: [
    { source: "A", target: "C", weight: 1.5 },
    { source: "C", target: "B", weight: 1.5 },
    { source: "A", target: "D", weight: 2 },
    { source: "D", target: "B", weight: 2 },
  ],
};

Deno.test("paths CLI prints the k disjoint paths as JSON and exits 0", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0_paths_" });
  try {
    const g = `${dir}/g.json`;
    await Deno.writeTextFile(g, JSON.stringify(square));
    await t.step("--k 1 gives the shortest path", async () => {
      const r = await cli([
        "paths",
        "--graph",
        g,
        "--from",
        "A",
        "--to",
        "B",
        "--k",
        "1",
        "--json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), {
        paths: [{ nodes: ["A", "C", "B"], cost: 3 }],
        total_cost: 3,
      });
    });
    await t.step("default k = 2 gives both paths, cheapest first", async () => {
      const r = await cli(["paths", "--graph", g, "--from", "A", "--to", "B", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), {
        paths: [{ nodes: ["A", "C", "B"], cost: 3 }, { nodes: ["A", "D", "B"], cost: 4 }],
        total_cost: 7,
      });
    });
    await t.step("no path between components: empty list, exit 0", async () => {
      const split = `${dir}/split.json`;
      await Deno.writeTextFile(
        split,
        JSON.stringify({ ...square, links: square.links.slice(0, 1) }),
      );
      const r = await cli(["paths", "--graph", split, "--from", "A", "--to", "B", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { paths: [], total_cost: 0 });
      const human = await cli(["paths", "--graph", split, "--from", "A", "--to", "B"]);
      assert.match(human.stdout, /No path from A to B/);
    });
    await t.step("human output names every path", async () => {
      const r = await cli(["paths", "--graph", g, "--from", "B", "--to", "A"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /path 1 {2}cost 3 {2}B -> C -> A/);
      assert.match(r.stdout, /total cost 7/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paths CLI --disjoint node refuses to share a middle node that edge mode shares", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0_paths_" });
  try {
    const bowtie = {
      nodes: ["s", "x", "y", "m", "u", "v", "t"].map((id) => ({ id })),
      links: [["s", "x"], ["s", "y"], ["x", "m"], ["y", "m"], ["m", "u"], ["m", "v"], ["u", "t"], [
        "v",
        "t",
      ]].map(([source, target]) => ({ source, target, weight: 1 })),
    };
    const g = `${dir}/bowtie.json`;
    await Deno.writeTextFile(g, JSON.stringify(bowtie));
    const edge = await cli(["paths", "--graph", g, "--from", "s", "--to", "t", "--json"]);
    const node = await cli([
      "paths",
      "--graph",
      g,
      "--from",
      "s",
      "--to",
      "t",
      "--disjoint",
      "node",
      "--json",
    ]);
    assert.equal(edge.code, 0, edge.stderr);
    assert.equal(node.code, 0, node.stderr);
    assert.equal(JSON.parse(edge.stdout).paths.length, 2);
    assert.equal(JSON.parse(edge.stdout).total_cost, 8);
    assert.equal(JSON.parse(node.stdout).paths.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paths CLI agrees with the library on a 300-node mesh file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0_paths_" });
  try {
    const csr = geometricMesh(seededRandom(21), 300, 0.1);
    const links = [];
    for (let u = 0; u < csr.ids.length; u++) {
      for (let a = csr.offsets[u]; a < csr.offsets[u + 1]; a++) {
        const v = csr.targets[a];
        if (u < v) links.push({ source: csr.ids[u], target: csr.ids[v], weight: csr.weights[a] });
      }
    }
    const topology = { directed: false, nodes: csr.ids.map((id) => ({ id })), links };
    await Deno.writeTextFile(`${dir}/mesh.json`, JSON.stringify(topology));
    const r = await cli([
      "paths",
      "--graph",
      `${dir}/mesh.json`,
      "--from",
      "r0",
      "--to",
      "r299",
      "--k",
      "3",
      "--disjoint",
      "node",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const want = await findDisjointPaths(topology, { from: "r0", to: "r299" }, {
      k: 3,
      disjoint: "node",
    });
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(JSON.stringify(want)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paths CLI exits 1 with one clear line on bad input", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0_paths_" });
  try {
    const g = `${dir}/g.json`;
    await Deno.writeTextFile(g, JSON.stringify(square));
    const negative = `${dir}/neg.json`;
    const bad = structuredClone(square);
    bad.links[1].weight = -4;
    await Deno.writeTextFile(negative, JSON.stringify(bad));
    const unknownLink = `${dir}/unknown.json`;
    await Deno.writeTextFile(
      unknownLink,
      JSON.stringify({ ...square, links: [{ source: "A", target: "Q", weight: 1 }] }),
    );
    await Deno.writeTextFile(`${dir}/broken.json`, "{ nope");
    const cases: [string, string[], RegExp][] = [
      ["unknown --to", ["--graph", g, "--from", "A", "--to", "Z"], /^error: Unknown node id: Z$/],
      ["negative weight", ["--graph", negative, "--from", "A", "--to", "B"], /links\.1\.weight/],
      [
        "link to unknown node",
        ["--graph", unknownLink, "--from", "A", "--to", "B"],
        /Unknown node id in link 0: Q/,
      ],
      [
        "invalid JSON",
        ["--graph", `${dir}/broken.json`, "--from", "A", "--to", "B"],
        /Invalid JSON/,
      ],
      [
        "missing file",
        ["--graph", `${dir}/none.json`, "--from", "A", "--to", "B"],
        /Cannot read graph file/,
      ],
      ["bad --k", ["--graph", g, "--from", "A", "--to", "B", "--k", "two"], /Invalid --k: two/],
      [
        "bad --disjoint",
        ["--graph", g, "--from", "A", "--to", "B", "--disjoint", "x"],
        /Invalid --disjoint: x/,
      ],
      ["same ends", ["--graph", g, "--from", "A", "--to", "A"], /same node: A/],
    ];
    for (const [name, args, re] of cases) {
      await t.step(name, async () => {
        const r = await cli(["paths", ...args, "--json"]);
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
