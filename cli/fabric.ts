/**
 * `fabric show`: reads the mesh fabric this node sits on, Yggdrasil over its admin socket or
 * batman-adv over generic netlink, once, and prints this node and its peers.
 *
 *   fabric show --backend yggdrasil --endpoint unix:///path/to.sock --json
 *   fabric show --backend batman --meshif bat0 --json
 *
 * `--json` prints `{"self":{...},"peers":[{"id","address","latency_ms","tq","throughput_kbps",
 * "next_hop","last_seen_ms"}]}` with the fields that backend knows. `--neighbours` lists the
 * direct (one-hop) neighbours instead of every known node (they differ for batman-adv).
 *
 * @module
 */
import { Command, Option } from "commander";
import { errorMessage } from "../core/errors.ts";
import { type FabricSnapshot, snapshotJson } from "../core/adapters/fabric_snapshot.ts";
import { openFabricSource } from "../core/adapters/fabric_source.ts";

/** Options of `fabric show`. */
export interface FabricShowOptions {
  backend: "yggdrasil" | "batman";
  endpoint?: string;
  meshif?: string;
  json?: boolean;
  neighbours?: boolean;
  timeoutMs?: number;
}

/**
 * Reads the fabric once and prints it; returns the exit code (0 ok, 1 error on stderr).
 *
 * @param options backend, target and output format
 */
export async function runFabricShow(options: FabricShowOptions): Promise<number> {
  let snap: FabricSnapshot;
  try {
    const source = options.backend === "yggdrasil"
      ? openFabricSource({
        backend: "yggdrasil",
        endpoint: options.endpoint,
        timeoutMs: options.timeoutMs,
      })
      : openFabricSource({
        backend: "batman",
        meshif: options.meshif ?? "bat0",
        timeoutMs: options.timeoutMs,
      });
    try {
      snap = await source.read();
    } finally {
      source.close();
    }
  } catch (err) {
    console.error(errorMessage(err));
    return 1;
  }
  const doc = snapshotJson(snap, options.neighbours ? "neighbours" : "peers");
  if (options.json) {
    console.log(JSON.stringify(doc));
    return 0;
  }
  console.log(
    `${snap.backend} self ${snap.self.id}${
      snap.self.address && snap.self.address !== snap.self.id ? ` ${snap.self.address}` : ""
    }`,
  );
  for (const [k, v] of Object.entries(snap.self.details)) {
    console.log(`  ${k}: ${Array.isArray(v) ? v.join(",") : v}`);
  }
  const cols = ["id", "address", "latency_ms", "tq", "throughput_kbps", "next_hop", "last_seen_ms"]
    .filter((c) => doc.peers.some((p) => c in p));
  console.log(`${options.neighbours ? "neighbours" : "peers"}: ${doc.peers.length}`);
  if (doc.peers.length) console.log("  " + cols.join("  "));
  for (const p of doc.peers) console.log("  " + cols.map((c) => String(p[c] ?? "-")).join("  "));
  return 0;
}

/** The `fabric` command. */
export function fabricCommand(): Command {
  const fabric = new Command("fabric").description(
    "Read the mesh fabric this node sits on (Yggdrasil admin socket, batman-adv netlink)",
  );
  fabric.command("show")
    .description("Print this node and its fabric peers")
    .addOption(
      new Option("--backend <backend>", "fabric to read").choices(["yggdrasil", "batman"])
        .makeOptionMandatory(),
    )
    .option("--endpoint <url>", "Yggdrasil admin endpoint: unix:///path or tcp://host:port")
    .option("--meshif <name>", "batman-adv soft interface", "bat0")
    .option("--neighbours", "list direct neighbours instead of every known node")
    .option("--json", "print JSON")
    .option("--timeout <ms>", "timeout of each request in milliseconds", "2000")
    .action(async (opts: {
      backend: "yggdrasil" | "batman";
      endpoint?: string;
      meshif: string;
      neighbours?: boolean;
      json?: boolean;
      timeout: string;
    }) => {
      const timeoutMs = Number(opts.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) {
        console.error(`Invalid --timeout: ${opts.timeout} (milliseconds, 1-600000)`);
        Deno.exitCode = 1;
        return;
      }
      Deno.exitCode = await runFabricShow({ ...opts, timeoutMs });
    });
  return fabric;
}
