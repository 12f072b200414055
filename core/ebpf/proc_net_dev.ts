/**
 * The fallback counter source when eBPF is unavailable: `/proc/net/dev` (per-interface kernel
 * counters). Synchronous, so the monitor can call it on every tick without awaiting.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { libc } from "../../ffi/libc.ts";
import { withNetns } from "./netns.ts";

/** Kernel counters of one interface from /proc/net/dev. */
export interface ProcNetDevCounters {
  iface: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDrops: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDrops: number;
}

/**
 * Parses the text of /proc/net/dev; throws ValidationError when a data line is malformed.
 *
 * @param text the file's content
 */
export function parseProcNetDev(text: string): Map<string, ProcNetDevCounters> {
  const out = new Map<string, ProcNetDevCounters>();
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (i < 2 || line.trim() === "") continue;
    const colon = line.indexOf(":");
    if (colon < 0) throw new ValidationError(`Malformed /proc/net/dev line ${i + 1}: no colon`);
    const iface = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (iface === "" || f.length < 16 || f.some((n) => !Number.isSafeInteger(n) || n < 0)) {
      throw new ValidationError(`Malformed /proc/net/dev line ${i + 1}: ${line.trim()}`);
    }
    out.set(iface, {
      iface,
      rxBytes: f[0],
      rxPackets: f[1],
      rxErrors: f[2],
      rxDrops: f[3],
      txBytes: f[8],
      txPackets: f[9],
      txErrors: f[10],
      txDrops: f[11],
    });
  }
  return out;
}

/**
 * Reads /proc/net/dev synchronously, inside `netns` when given (via the calling thread's view,
 * /proc/thread-self/net/dev, which follows setns).
 *
 * @param options network namespace and an alternative path (tests)
 */
export function readProcNetDev(
  options: { netns?: string; path?: string } = {},
): Map<string, ProcNetDevCounters> {
  const path = options.path ?? (options.netns ? "/proc/thread-self/net/dev" : "/proc/net/dev");
  // Through libc: Deno refuses /proc reads without --allow-all, and the read must happen on
  // this thread for /proc/thread-self to reflect the namespace entered by setns.
  const text = withNetns(options.netns, () => libc().readTextFile(path));
  return parseProcNetDev(text);
}
