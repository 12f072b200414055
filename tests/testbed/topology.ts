/**
 * Testbed topologies: `line:N`, `ring:N`, `grid:RxC`, `random:N:seed` (connected, reproducible)
 * or a JSON file `{"routers": ["a", ...], "links": [["a", "b"], ...]}` (links may also be
 * `{"a": "x", "b": "y"}`). Router names are short so interface names (`to-<peer>`) fit in 15
 * characters.
 *
 * @module
 */
import { seededRandom } from "../../core/random/seeded_random.ts";

/** A topology: router names and undirected links between them. */
export interface Topology {
  routers: string[];
  links: Array<[string, string]>;
}

const NAME = /^[a-z][a-z0-9]{0,9}$/;
const MAX_ROUTERS = 250;

/** Thrown for a topology spec or file that cannot be used. */
export class TopologyError extends Error {
  override name = "TopologyError";
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `r${i + 1}`);

function count(raw: string, what: string, min: number): number {
  if (!/^\d+$/.test(raw)) throw new TopologyError(`Invalid ${what}: ${raw} (expected an integer)`);
  const n = Number(raw);
  if (n < min || n > MAX_ROUTERS) {
    throw new TopologyError(`Invalid ${what}: ${n} (expected ${min} to ${MAX_ROUTERS})`);
  }
  return n;
}

/**
 * Checks a topology: valid unique names, links between known distinct routers, no duplicate
 * links, connected. Returns it unchanged.
 */
export function validateTopology(t: Topology): Topology {
  if (t.routers.length < 2) throw new TopologyError("A topology needs at least 2 routers");
  if (t.routers.length > MAX_ROUTERS) {
    throw new TopologyError(`Too many routers: ${t.routers.length} (at most ${MAX_ROUTERS})`);
  }
  const known = new Set<string>();
  for (const r of t.routers) {
    if (typeof r !== "string" || !NAME.test(r)) {
      throw new TopologyError(`Invalid router name: ${r} (1-10 of a-z, 0-9, starting a-z)`);
    }
    if (known.has(r)) throw new TopologyError(`Duplicate router: ${r}`);
    known.add(r);
  }
  const seen = new Set<string>();
  const adj = new Map(t.routers.map((r) => [r, [] as string[]]));
  for (const [a, b] of t.links) {
    if (!known.has(a) || !known.has(b)) {
      throw new TopologyError(`Link to unknown router: ${a}-${b}`);
    }
    if (a === b) throw new TopologyError(`Link from a router to itself: ${a}`);
    const key = [a, b].sort().join("-");
    if (seen.has(key)) throw new TopologyError(`Duplicate link: ${a}-${b}`);
    seen.add(key);
    adj.get(a)!.push(b);
    adj.get(b)!.push(a);
  }
  const reached = new Set([t.routers[0]]);
  const queue = [t.routers[0]];
  while (queue.length) {
    for (const v of adj.get(queue.shift()!)!) {
      if (!reached.has(v)) {
        reached.add(v);
        queue.push(v);
      }
    }
  }
  if (reached.size !== t.routers.length) throw new TopologyError("Topology is not connected");
  return t;
}

/**
 * Parses a topology spec (or reads a JSON file when the spec is a path).
 *
 * @param spec `line:N`, `ring:N`, `grid:RxC`, `random:N:seed` or a JSON file path
 */
export function parseTopology(spec: string): Topology {
  const parts = spec.split(":");
  switch (parts[0]) {
    case "line": {
      if (parts.length !== 2) throw new TopologyError(`Invalid spec: ${spec} (line:N)`);
      const r = names(count(parts[1], "router count", 2));
      return validateTopology({ routers: r, links: r.slice(1).map((b, i) => [r[i], b]) });
    }
    case "ring": {
      if (parts.length !== 2) throw new TopologyError(`Invalid spec: ${spec} (ring:N)`);
      const r = names(count(parts[1], "router count", 3));
      const links = r.map((a, i): [string, string] => [a, r[(i + 1) % r.length]]);
      return validateTopology({ routers: r, links });
    }
    case "grid": {
      const m = parts.length === 2 ? /^(\d+)x(\d+)$/.exec(parts[1]) : null;
      if (!m) throw new TopologyError(`Invalid spec: ${spec} (grid:RxC)`);
      const rows = count(m[1], "rows", 1), cols = count(m[2], "columns", 1);
      const r = names(rows * cols);
      validateCount(r.length);
      const links: Array<[string, string]> = [];
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const at = i * cols + j;
          if (j + 1 < cols) links.push([r[at], r[at + 1]]);
          if (i + 1 < rows) links.push([r[at], r[at + cols]]);
        }
      }
      return validateTopology({ routers: r, links });
    }
    case "random": {
      if (parts.length !== 3) throw new TopologyError(`Invalid spec: ${spec} (random:N:seed)`);
      const r = names(count(parts[1], "router count", 2));
      if (!/^\d+$/.test(parts[2])) throw new TopologyError(`Invalid seed: ${parts[2]}`);
      const rand = seededRandom(Number(parts[2]));
      const links: Array<[string, string]> = [];
      const seen = new Set<string>();
      const add = (a: number, b: number) => {
        const key = [a, b].sort((x, y) => x - y).join("-");
        if (a === b || seen.has(key)) return;
        seen.add(key);
        links.push([r[a], r[b]]);
      };
      for (let i = 1; i < r.length; i++) add(i, Math.floor(rand() * i));
      for (let k = 0; k < Math.floor(r.length / 2); k++) {
        add(Math.floor(rand() * r.length), Math.floor(rand() * r.length));
      }
      return validateTopology({ routers: r, links });
    }
    default:
      return readTopologyFile(spec);
  }
}

function validateCount(n: number) {
  if (n < 2 || n > MAX_ROUTERS) {
    throw new TopologyError(`Invalid router count: ${n} (expected 2 to ${MAX_ROUTERS})`);
  }
}

function readTopologyFile(path: string): Topology {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    throw new TopologyError(
      `Unknown topology spec or unreadable file: ${path} (${(err as Error).message})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new TopologyError(`Topology file is not JSON: ${path}`);
  }
  const o = raw as { routers?: unknown; links?: unknown };
  if (!o || typeof o !== "object" || !Array.isArray(o.routers) || !Array.isArray(o.links)) {
    throw new TopologyError(`Topology file needs "routers" and "links" arrays: ${path}`);
  }
  const links = o.links.map((l): [string, string] => {
    if (Array.isArray(l) && l.length === 2) return [String(l[0]), String(l[1])];
    if (l && typeof l === "object" && "a" in l && "b" in l) {
      return [String((l as { a: unknown }).a), String((l as { b: unknown }).b)];
    }
    throw new TopologyError(`Invalid link in ${path}: ${JSON.stringify(l)}`);
  });
  return validateTopology({ routers: o.routers as string[], links });
}
