/**
 * `paths`: k shortest disjoint paths between two nodes of a topology file.
 *
 * `paths --graph g.json --from A --to B [--k 2] [--disjoint edge|node] [--json]`, where g.json
 * is `{"directed":false,"nodes":[{"id":"A"}],"links":[{"source":"A","target":"B","weight":1.5}]}`.
 * JSON output: `{"paths":[{"nodes":["A","C","B"],"cost":3}],"total_cost":3}`.
 *
 * @module
 */
import { Command } from "commander";
import { errorMessage, ValidationError } from "../core/errors.ts";
import { findDisjointPaths } from "../core/routing/compute.ts";
import { parseTopology } from "../core/routing/graph.ts";

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new ValidationError(`Cannot read graph file ${file}: ${errorMessage(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`Invalid JSON in graph file ${file}: ${errorMessage(err)}`);
  }
}

function parseK(value: string): number {
  const k = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(k) || k < 1) {
    throw new ValidationError(`Invalid --k: ${value} (expected a positive integer)`);
  }
  return k;
}

/** Builds the `paths` command. */
export function pathsCommand(): Command {
  return new Command("paths")
    .description("k shortest disjoint paths between two nodes (Suurballe, WASM core)")
    .requiredOption("--graph <file>", "topology JSON file")
    .requiredOption("--from <id>", "source node id")
    .requiredOption("--to <id>", "destination node id")
    .option("--k <n>", "number of disjoint paths", "2")
    .option("--disjoint <mode>", "what paths must not share: edge or node", "edge")
    .option("--json", "print JSON on stdout")
    .action(async (opts: {
      graph: string;
      from: string;
      to: string;
      k: string;
      disjoint: string;
      json?: boolean;
    }) => {
      try {
        if (opts.disjoint !== "edge" && opts.disjoint !== "node") {
          throw new ValidationError(`Invalid --disjoint: ${opts.disjoint} (expected edge or node)`);
        }
        const k = parseK(opts.k);
        const topology = parseTopology(await readJson(opts.graph));
        const result = await findDisjointPaths(topology, { from: opts.from, to: opts.to }, {
          k,
          disjoint: opts.disjoint,
        });
        if (opts.json) {
          console.log(JSON.stringify(result));
          return;
        }
        if (result.paths.length === 0) {
          console.log(`No path from ${opts.from} to ${opts.to}`);
          return;
        }
        result.paths.forEach((p, i) => {
          console.log(`path ${i + 1}  cost ${p.cost}  ${p.nodes.join(" -> ")}`);
        });
        console.log(`total cost ${result.total_cost}`);
      } catch (err) {
        console.error(`error: ${errorMessage(err)}`);
        Deno.exitCode = 1;
      }
    });
}
