/**
 * Benchmark: TCP throughput (iperf3) across a veth pair between two network namespaces, with
 * and without the XDP telemetry program on the receiving interface, in generic (skb) and
 * native XDP mode, as a TC ingress filter (tc), plus the empty XDP program (x0_pass, skb) to separate the cost of generic XDP
 * itself from the cost of counting. Runs are interleaved (baseline, skb, native, baseline, ...) so drift hits
 * every variant alike; the median of each variant is compared with the baseline measured in
 * the same run. Writes bench/results/ebpf.json.
 *
 * Run as root: deno task bench:ebpf [-- --runs 5 --seconds 3]
 *
 * @module
 */
import { openLibbpf } from "../ffi/libbpf.ts";
import { attachXdp, detachXdp, loadObject, objectPath } from "../core/ebpf/program_loader.ts";
import { startEbpfTelemetry } from "../core/ebpf/telemetry.ts";

const arg = (name: string, fallback: number): number => {
  const i = Deno.args.indexOf(`--${name}`);
  const n = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1 || n > 30) throw new RangeError(`--${name} must be 1..30`);
  return n;
};
const RUNS = arg("runs", 5);
const SECONDS = arg("seconds", 3);
const TARGET_PERCENT = 5;

const tag = `x0bpf-bench-${Deno.pid}`;
const nsA = `${tag}-a`;
const nsB = `${tag}-b`;
const ifA = `x0bb${Deno.pid % 100000}a`;
const ifB = `x0bb${Deno.pid % 100000}b`;
const ipA = "10.250.0.1";
const ipB = "10.250.0.2";

async function sh(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

async function setUp(): Promise<void> {
  await sh("ip", ["netns", "add", nsA]);
  await sh("ip", ["netns", "add", nsB]);
  await sh("ip", [
    "-n",
    nsA,
    "link",
    "add",
    ifA,
    "type",
    "veth",
    "peer",
    "name",
    ifB,
    "netns",
    nsB,
  ]);
  for (const [ns, dev, ip] of [[nsA, ifA, ipA], [nsB, ifB, ipB]]) {
    await sh("ip", ["-n", ns, "addr", "add", `${ip}/24`, "dev", dev]);
    await sh("ip", ["-n", ns, "link", "set", dev, "up"]);
    await sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
  }
}

async function tearDown(): Promise<void> {
  for (const ns of [nsA, nsB]) await sh("ip", ["netns", "del", ns]).catch(() => {});
}

/** One bounded iperf3 run (client in nsA → server in nsB); returns Gbit/s received. */
const cpuPerGbit: Record<Variant, number[]> = {
  baseline: [],
  tc: [],
  skb: [],
  native: [],
  skbEmpty: [],
};
let currentVariant: Variant = "baseline";

async function iperf(): Promise<number> {
  const out = await sh("timeout", [
    String(SECONDS + 10),
    "ip",
    "netns",
    "exec",
    nsA,
    "iperf3",
    "-c",
    ipB,
    "-p",
    "5301",
    "-t",
    String(SECONDS),
    "-J",
  ]);
  const json = JSON.parse(out);
  const gbps = json.end.sum_received.bits_per_second / 1e9;
  const cpu = json.end.cpu_utilization_percent;
  // CPU seconds per Gbit: the work per byte, which other load on the machine disturbs far
  // less than it disturbs throughput (veth processing runs in the iperf3 processes' context).
  cpuPerGbit[currentVariant].push((cpu.host_total + cpu.remote_total) / 100 / gbps);
  return gbps;
}

/** Runs `fn` with the empty XDP program (x0_pass) attached in skb mode to the receiving veth. */
async function withEmptyProgram<T>(fn: () => Promise<T>): Promise<T> {
  const libbpf = openLibbpf();
  const obj = loadObject(libbpf, await Deno.readFile(objectPath("x0_pass")), {
    name: "xdp_pass.o",
  });
  try {
    const progId = attachXdp(libbpf, obj, "x0_pass", { iface: ifB, netns: nsB, mode: "skb" });
    try {
      return await fn();
    } finally {
      detachXdp(libbpf, ifB, { netns: nsB, progId });
    }
  } finally {
    obj.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

type Variant = "baseline" | "skb" | "native" | "skbEmpty" | "tc";

async function main(): Promise<void> {
  const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-bench-" });
  await setUp();
  const server = new Deno.Command("ip", {
    args: ["netns", "exec", nsB, "iperf3", "-s", "-B", ipB, "-p", "5301"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const results: Record<Variant, number[]> = {
    baseline: [],
    skb: [],
    native: [],
    skbEmpty: [],
    tc: [],
  };
  let counted = 0;
  try {
    await new Promise((r) => setTimeout(r, 300));
    await iperf(); // warm-up, not recorded
    cpuPerGbit.baseline.length = 0;
    for (let run = 0; run < RUNS; run++) {
      for (const variant of ["baseline", "tc", "skb", "native", "skbEmpty"] as Variant[]) {
        currentVariant = variant;
        if (variant === "baseline") {
          results.baseline.push(await iperf());
          continue;
        }
        if (variant === "skbEmpty") {
          results.skbEmpty.push(await withEmptyProgram(iperf));
          continue;
        }
        const tel = await startEbpfTelemetry({
          interfaces: [ifB],
          netns: nsB,
          stateDir,
          mode: variant,
        });
        try {
          if (tel.mode !== "ebpf") throw new Error(`eBPF unavailable: ${tel.reason}`);
          results[variant].push(await iperf());
          counted = Math.max(counted, tel.counters()[0].rxPackets);
        } finally {
          tel.stop();
        }
      }
      console.log(
        `run ${run + 1}/${RUNS}: baseline ${results.baseline.at(-1)!.toFixed(2)} Gbit/s, ` +
          `skb ${results.skb.at(-1)!.toFixed(2)}, native ${results.native.at(-1)!.toFixed(2)}, ` +
          `empty XDP (skb) ${results.skbEmpty.at(-1)!.toFixed(2)}, tc ${
            results.tc.at(-1)!.toFixed(2)
          }`,
      );
    }
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await tearDown();
    await Deno.remove(stateDir, { recursive: true });
  }
  const base = median(results.baseline);
  const summary = (v: Variant) => {
    const med = median(results[v]);
    const overhead = 100 * (base - med) / base;
    // Each run measures baseline and variant back to back: the median of those paired ratios
    // is less sensitive to load from other processes than the ratio of medians.
    const paired = median(results[v].map((x, i) => x / results.baseline[i]));
    return {
      runsGbps: results[v].map((x) => Number(x.toFixed(3))),
      medianGbps: Number(med.toFixed(3)),
      ratioToBaseline: Number((med / base).toFixed(4)),
      overheadPercent: Number(overhead.toFixed(2)),
      pairedRatioMedian: Number(paired.toFixed(4)),
      pairedOverheadPercent: Number((100 * (1 - paired)).toFixed(2)),
      cpuSecondsPerGbitMedian: Number(median(cpuPerGbit[v]).toFixed(4)),
      cpuCostOverheadPercent: Number(
        (100 * (median(cpuPerGbit[v]) / median(cpuPerGbit.baseline) - 1)).toFixed(2),
      ),
      meetsTarget: overhead <= TARGET_PERCENT,
    };
  };
  const report = {
    benchmark: "ebpf_telemetry_overhead",
    date: new Date().toISOString(),
    kernel: (await sh("uname", ["-r"])).trim(),
    cpus: navigator.hardwareConcurrency,
    method:
      `iperf3 TCP ${SECONDS}s × ${RUNS} runs per variant, interleaved, veth pair between two netns; ` +
      "telemetry on the receiving veth; median per variant",
    targetOverheadPercent: TARGET_PERCENT,
    baseline: {
      runsGbps: results.baseline.map((x) => Number(x.toFixed(3))),
      medianGbps: Number(base.toFixed(3)),
      cpuSecondsPerGbitMedian: Number(median(cpuPerGbit.baseline).toFixed(4)),
    },
    loadAverage: (await sh("cat", ["/proc/loadavg"])).trim(),
    skb: summary("skb"),
    native: summary("native"),
    skbEmpty: summary("skbEmpty"),
    tc: summary("tc"),
    xdpPacketsSeenInLastRun: counted,
  };
  console.log(JSON.stringify(report, null, 2));
  await Deno.writeTextFile(
    new URL("./results/ebpf.json", import.meta.url),
    JSON.stringify(report, null, 2) + "\n",
  );
}

if (import.meta.main) await main();
