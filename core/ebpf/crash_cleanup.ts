/**
 * Crash cleanup: on start, detach every program a previous agent run recorded in its state
 * directory and left attached (netlink-attached XDP programs and TC filters outlive their
 * process), but only if the interface still runs exactly that program.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { Libbpf } from "../../ffi/libbpf.ts";
import { libc } from "../../ffi/libc.ts";
import { type AttachEntry, readAttachRecord, writeAttachRecord } from "./attach_record.ts";
import { detachXdp, findAttached } from "./program_loader.ts";
import { detachTc, findAttachedTc } from "./tc_loader.ts";

const log = getLogger(["x0", "ebpf"]);

/**
 * Detaches every program recorded in `stateDir` by an agent process that is gone (crash
 * cleanup), if the interface still runs exactly that program. Returns what was detached.
 */
export function cleanupStale(libbpf: Libbpf, stateDir: string): AttachEntry[] {
  const entries = readAttachRecord(stateDir);
  const keep: AttachEntry[] = [];
  const detached: AttachEntry[] = [];
  for (const e of entries) {
    if (e.pid === Deno.pid) {
      // Attached by this very process (another session): live if the program is still there;
      // otherwise a leftover from an earlier boot whose pid we happen to reuse.
      if (stillAttached(libbpf, e)) keep.push(e);
      continue;
    }
    if (libc().processExists(e.pid)) {
      keep.push(e);
      continue;
    }
    try {
      const where = { netns: e.netns ?? undefined, progId: e.progId };
      const gone = e.mode === "tc"
        ? detachTc(libbpf, e.iface, where)
        : detachXdp(libbpf, e.iface, where);
      if (gone) detached.push(e);
    } catch (err) {
      // The interface or namespace vanished: nothing left to detach.
      log.debug("Stale eBPF entry for {iface} not cleaned: {error}", {
        iface: e.iface,
        error: String(err),
      });
    }
  }
  writeAttachRecord(stateDir, keep);
  if (detached.length > 0) {
    log.warn("Detached {count} eBPF program(s) left by a previous agent run: {ifaces}", {
      count: detached.length,
      ifaces: detached.map((e) => (e.netns ? `${e.netns}/` : "") + e.iface).join(", "),
    });
  }
  return detached;
}

function stillAttached(libbpf: Libbpf, e: AttachEntry): boolean {
  try {
    const netns = e.netns ?? undefined;
    const found = e.mode === "tc"
      ? findAttachedTc(libbpf, e.iface, netns)
      : findAttached(libbpf, e.iface, netns);
    return found?.progId === e.progId;
  } catch {
    return false;
  }
}
