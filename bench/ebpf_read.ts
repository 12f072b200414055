/**
 * Benchmark: what one monitor tick pays to read counters — `counters()` of a telemetry session
 * (FFI map reads, per-CPU sums, a full neighbour table of 1024 MACs) against the
 * /proc/net/dev fallback reader measured in the same run. Writes bench/results/ebpf_read.json.
 *
 * Run as root: deno task bench:ebpf-read
 *
 * @module
 */
import { openLibbpf } from "../ffi/libbpf.ts";
import { NEIGH_KEY_SIZE } from "../core/ebpf/layout.ts";
import { readFallbackCounters, startEbpfTelemetry } from "../core/ebpf/telemetry.ts";
import { findAttached } from "../core/ebpf/program_loader.ts";
import { openProgramMaps } from "../core/ebpf/telemetry_reader.ts";

const ITERATIONS = 2000;
const NEIGHBOURS = 1024;
const ns = `x0bpf-rbench-${Deno.pid}`;
const ifA = `x0br${Deno.pid % 100000}a`;
const ifB = `x0br${Deno.pid % 100000}b`;

async function sh(args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

function time(fn: () => unknown): { totalMs: number; perCallUs: number } {
  for (let i = 0; i < 50; i++) fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < ITERATIONS; i++) fn();
  const totalMs = performance.now() - t0;
  return {
    totalMs: Number(totalMs.toFixed(2)),
    perCallUs: Number((1000 * totalMs / ITERATIONS).toFixed(2)),
  };
}

async function main(): Promise<void> {
  const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-rbench-" });
  await sh(["netns", "add", ns]);
  try {
    await sh(["-n", ns, "link", "add", ifA, "type", "veth", "peer", "name", ifB]);
    await sh(["-n", ns, "link", "set", ifA, "up"]);
    await sh(["-n", ns, "link", "set", ifB, "up"]);
    const tel = await startEbpfTelemetry({ interfaces: [ifB], netns: ns, stateDir, mode: "skb" });
    if (tel.mode !== "ebpf") throw new Error(`eBPF unavailable: ${tel.reason}`);
    try {
      // Fill the neighbour table: the worst case a monitor tick reads.
      const libbpf = openLibbpf();
      const { maps, close } = openProgramMaps(libbpf, findAttached(libbpf, ifB, ns)!.progId);
      try {
        const neigh = maps.get("neigh_stats")!;
        const value = new Uint8Array(libbpf.valueBufferSize(neigh));
        for (let i = 0; i < NEIGHBOURS; i++) {
          const key = new Uint8Array(NEIGH_KEY_SIZE);
          key.set([2, 0, 0, 0, i >> 8, i & 0xff]);
          libbpf.update(neigh, key, value);
        }
      } finally {
        close();
      }
      // The LRU map may evict a little before it is full (per-CPU free lists): report what stuck.
      const present = tel.counters()[0].neighbours?.length ?? 0;
      if (present < NEIGHBOURS * 0.8) throw new Error(`Neighbour fill failed: ${present} entries`);
      const ebpf = time(() => tel.counters());
      const procfs = time(() => readFallbackCounters([ifB], { netns: ns }));
      const report = {
        benchmark: "ebpf_counter_read",
        date: new Date().toISOString(),
        iterations: ITERATIONS,
        neighbours: present,
        possibleCpus: libbpf.possibleCpus,
        ebpfCounters: ebpf,
        procNetDevBaseline: procfs,
        ratioToBaseline: Number((ebpf.perCallUs / procfs.perCallUs).toFixed(2)),
      };
      console.log(JSON.stringify(report, null, 2));
      await Deno.writeTextFile(
        new URL("./results/ebpf_read.json", import.meta.url),
        JSON.stringify(report, null, 2) + "\n",
      );
    } finally {
      tel.stop();
    }
  } finally {
    await sh(["netns", "del", ns]).catch(() => {});
    await Deno.remove(stateDir, { recursive: true });
  }
}

if (import.meta.main) await main();
