/**
 * Attaches the TC-ingress variant of the telemetry program (clsact ingress filter with a fixed
 * handle and priority that mark it as ours). Used on veth and other virtual links, where
 * generic XDP copies every GSO packet and native XDP turns GSO off (see docs/ebpf.md).
 * Like netlink XDP attach, the filter outlives the attaching process; the crash record covers it.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { BpfObject, Libbpf, TcFilterId } from "../../ffi/libbpf.ts";
import { X0Error } from "../errors.ts";
import { addAttachEntry, removeAttachEntry } from "./attach_record.ts";
import { checkInterfaceName, interfaceIndex, withNetns } from "./netns.ts";
import {
  type AttachedProgram,
  detachOwnProgram,
  fromLibbpfError,
  OWN_PROGRAMS,
} from "./program_loader.ts";

const log = getLogger(["x0", "ebpf"]);

/** The handle/priority of x0tta6bl4's ingress filter ("x0" = 0x7830). */
export const X0_TC_FILTER: TcFilterId = { handle: 0x7830, priority: 0x7830 };

/** Our TC ingress program on `iface`, or null (any program at our handle/priority counts). */
export function findAttachedTc(
  libbpf: Libbpf,
  iface: string,
  netns?: string,
): AttachedProgram | null {
  const ifindex = interfaceIndex(iface, netns);
  const progId = withNetns(netns, () => libbpf.tcQuery(ifindex, X0_TC_FILTER));
  if (progId === 0) return null;
  return { ifindex, progId, name: libbpf.programById(progId)?.name ?? "", mode: "tc" };
}

/**
 * Attaches a loaded SCHED_CLS program as our ingress filter; replaces only our own filter.
 *
 * @returns the kernel program id
 */
export function attachTc(
  libbpf: Libbpf,
  obj: BpfObject,
  program: string,
  options: { iface: string; netns?: string; stateDir?: string },
): number {
  const { iface, netns } = options;
  checkInterfaceName(iface);
  const current = findAttachedTc(libbpf, iface, netns);
  if (current && !(OWN_PROGRAMS as readonly string[]).includes(current.name)) {
    throw new X0Error(
      "conflict",
      `Interface ${iface} already has TC filter ${
        current.name || "?"
      } (id ${current.progId}) at x0tta6bl4's handle`,
    );
  }
  const fd = obj.programFd(program);
  const progId = libbpf.programIdOfFd(fd);
  const ifindex = current?.ifindex ?? interfaceIndex(iface, netns);
  if (options.stateDir) {
    addAttachEntry(options.stateDir, {
      netns: netns ?? null,
      iface,
      ifindex,
      progId,
      progName: program,
      mode: "tc",
      pid: Deno.pid,
      attachedAt: new Date().toISOString(),
    });
  }
  try {
    withNetns(
      netns,
      () => libbpf.tcAttach(ifindex, fd, { ...X0_TC_FILTER, replace: current !== null }),
    );
  } catch (err) {
    if (options.stateDir) removeAttachEntry(options.stateDir, netns ?? null, iface);
    throw fromLibbpfError(err, `Cannot attach TC program ${program} to ${iface}`);
  }
  log.info("Attached TC ingress program {program} (id {progId}) to {iface}", {
    program,
    progId,
    iface,
    netns: netns ?? null,
  });
  return progId;
}

/**
 * Removes our ingress filter (only program `progId` when given). Leaves the clsact qdisc,
 * which other filters may use. Returns what was detached, or null.
 */
export function detachTc(
  libbpf: Libbpf,
  iface: string,
  options: { netns?: string; progId?: number; stateDir?: string } = {},
): AttachedProgram | null {
  return detachOwnProgram(iface, options, {
    kind: "TC",
    find: () => findAttachedTc(libbpf, iface, options.netns),
    detach: (p) => libbpf.tcDetach(p.ifindex, X0_TC_FILTER),
  });
}
