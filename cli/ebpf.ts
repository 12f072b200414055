/**
 * `ebpf` operator commands: `ebpf stats --iface IF [--netns NS] [--json]` prints the counters
 * of the x0tta6bl4 XDP program on an interface (or /proc/net/dev when none is attached);
 * `ebpf attach` / `ebpf detach` attach or remove the telemetry program by hand.
 *
 * @module
 */
import { type Libbpf, openLibbpf, type XdpMode } from "../ffi/libbpf.ts";
import { errorMessage, NotFoundError, UnavailableError, ValidationError } from "../core/errors.ts";
import { Command } from "commander";
import {
  type AttachMode,
  attachXdp,
  detachXdp,
  loadObject,
  objectPath,
} from "../core/ebpf/program_loader.ts";
import { attachTc, detachTc } from "../core/ebpf/tc_loader.ts";
import {
  type InterfaceStats,
  procfsCounters,
  readInterfaceStats,
} from "../core/ebpf/telemetry_reader.ts";
import { checkInterfaceName, checkNetnsName } from "../core/ebpf/netns.ts";

/** Opens libbpf (X0_LIBBPF overrides the path) or throws UnavailableError. */
export function cliLibbpf(): Libbpf {
  try {
    return openLibbpf(Deno.env.get("X0_LIBBPF") ?? "libbpf.so.1");
  } catch (err) {
    throw new UnavailableError(`eBPF unavailable: ${errorMessage(err)}`, { cause: err });
  }
}

/** Parses an XDP --mode. */
export function parseMode(value: string): XdpMode {
  if (value !== "skb" && value !== "native") {
    throw new ValidationError(`Invalid --mode: ${value} (expected skb or native)`);
  }
  return value;
}

/** Parses `ebpf attach --mode`: an XDP mode or tc. */
export function parseAttachMode(value: string): AttachMode {
  if (value !== "skb" && value !== "native" && value !== "tc") {
    throw new ValidationError(`Invalid --mode: ${value} (expected skb, native or tc)`);
  }
  return value;
}

const ETHERTYPES: Record<string, number> = { ipv4: 0x0800, ipv6: 0x86dd, arp: 0x0806 };
const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };

function parseNumberish(value: string, what: string): number {
  const n = /^0x[0-9a-f]+$/i.test(value)
    ? parseInt(value, 16)
    : /^\d+$/.test(value)
    ? Number(value)
    : NaN;
  if (!Number.isSafeInteger(n)) throw new ValidationError(`Invalid ${what}: ${value}`);
  return n;
}

/** Parses --ethertype: ipv4, ipv6, arp, or a number such as 0x0800. */
export function parseEthertype(value: string): number {
  return ETHERTYPES[value.toLowerCase()] ?? parseNumberish(value, "--ethertype");
}

/** Parses --protocol: udp, tcp, icmp, icmpv6, or a number 0–255. */
export function parseProtocol(value: string): number {
  return PROTOCOLS[value.toLowerCase()] ?? parseNumberish(value, "--protocol");
}

/** Parses --percent as a number (range checked by the chaos module). */
export function parsePercent(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new ValidationError(`Invalid --percent: ${value} (expected a number from 0 to 100)`);
  }
  return n;
}

/** Runs a command body: errors become one stderr line and exit code 1. */
export async function runAction(body: () => void | Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    console.error(`Error: ${errorMessage(err)}`);
    Deno.exitCode = 1;
  }
}

interface WhereOptions {
  iface: string;
  netns?: string;
}

function where(opts: WhereOptions): WhereOptions {
  checkInterfaceName(opts.iface);
  if (opts.netns !== undefined) checkNetnsName(opts.netns);
  return opts;
}

function printStats(s: InterfaceStats): void {
  const c = s.counters;
  const place = s.netns ? `${s.netns}/${s.iface}` : s.iface;
  console.log(`${place}: program ${s.program ?? "none"} (counters from ${c.source})`);
  console.log(`  rx packets ${c.rxPackets}  rx bytes ${c.rxBytes}  drops ${c.drops}`);
  if (c.ethertypes) {
    const e = c.ethertypes;
    console.log(`  ipv4 ${e.ipv4}  ipv6 ${e.ipv6}  arp ${e.arp}  other ${e.other}`);
  }
  for (const n of c.neighbours ?? []) {
    console.log(`  neighbour ${n.mac}: packets ${n.packets} bytes ${n.bytes} drops ${n.drops}`);
  }
  if (s.chaos) {
    const pct = s.chaos.config.dropPpm / 10_000;
    console.log(
      `  chaos: dropping ${pct}%` +
        (s.chaos.dropped !== undefined ? `, dropped ${s.chaos.dropped} of ${s.chaos.seen}` : ""),
    );
  }
}

/** Stats from eBPF, or from /proc/net/dev (with the reason) when libbpf cannot be used. */
function statsWithFallback(w: WhereOptions): InterfaceStats & { ebpfUnavailable?: string } {
  let libbpf: Libbpf;
  try {
    libbpf = cliLibbpf();
  } catch (err) {
    const counters = procfsCounters(w.iface, w.netns);
    if (!counters) throw new NotFoundError(`Interface not found: ${w.iface}`);
    console.error(`Warning: ${errorMessage(err)}; counters from /proc/net/dev`);
    const base = { iface: w.iface, netns: w.netns ?? null, program: null, progId: null };
    return { ...base, counters, chaos: null, ebpfUnavailable: errorMessage(err) };
  }
  return readInterfaceStats(libbpf, w.iface, w.netns);
}

/** Builds the `ebpf` command. */
export function ebpfCommand(): Command {
  const cmd = new Command("ebpf").description("XDP telemetry on interfaces (libbpf through FFI)");
  cmd.command("stats")
    .description("print receive counters of an interface")
    .requiredOption("--iface <name>", "interface")
    .option("--netns <name>", "network namespace of the interface")
    .option("--json", "machine-readable output")
    .action((opts: WhereOptions & { json?: boolean }) =>
      runAction(() => {
        const w = where(opts);
        const stats = statsWithFallback(w);
        if (opts.json) console.log(JSON.stringify(stats));
        else printStats(stats);
      })
    );
  cmd.command("attach")
    .description("attach the telemetry program (stays attached until `ebpf detach`)")
    .requiredOption("--iface <name>", "interface")
    .option("--netns <name>", "network namespace of the interface")
    .option("--mode <mode>", "skb (generic XDP), native (driver XDP) or tc (clsact ingress)", "skb")
    .option("--json", "machine-readable output")
    .action((opts: WhereOptions & { mode: string; json?: boolean }) =>
      runAction(() => {
        const w = where(opts);
        const mode = parseAttachMode(opts.mode);
        const program = mode === "tc" ? "x0_telemetry_tc" : "x0_telemetry";
        const libbpf = cliLibbpf();
        const obj = loadObject(libbpf, Deno.readFileSync(objectPath(program)), { name: program });
        try {
          const progId = mode === "tc"
            ? attachTc(libbpf, obj, program, w)
            : attachXdp(libbpf, obj, program, { ...w, mode });
          const out = { iface: w.iface, netns: w.netns ?? null, program, progId, mode };
          console.log(
            opts.json
              ? JSON.stringify(out)
              : `attached ${program} (id ${progId}) to ${w.iface} (${mode})`,
          );
        } finally {
          obj.close();
        }
      })
    );
  cmd.command("detach")
    .description("detach x0tta6bl4's XDP program and TC filter from an interface")
    .requiredOption("--iface <name>", "interface")
    .option("--netns <name>", "network namespace of the interface")
    .option("--json", "machine-readable output")
    .action((opts: WhereOptions & { json?: boolean }) =>
      runAction(() => {
        const w = where(opts);
        const libbpf = cliLibbpf();
        const gone = [
          detachXdp(libbpf, w.iface, { netns: w.netns }),
          detachTc(libbpf, w.iface, { netns: w.netns }),
        ].flatMap((g) => g ? [g.name] : []);
        const out = {
          iface: w.iface,
          netns: w.netns ?? null,
          detached: gone[0] ?? null,
          all: gone,
        };
        console.log(
          opts.json
            ? JSON.stringify(out)
            : gone.length
            ? `detached ${gone.join(", ")} from ${w.iface}`
            : `nothing of ours on ${w.iface}`,
        );
      })
    );
  return cmd;
}
