/**
 * Runs synchronous work inside a named network namespace (`ip netns` names, /run/netns/NAME)
 * by `setns` on the calling thread, then returns to the original namespace. Only synchronous
 * code may run inside: libbpf's netlink and map calls made through FFI run on this thread,
 * while async Deno ops would run on other threads and miss the switch.
 *
 * @module
 */
import { libc } from "../../ffi/libc.ts";
import { NotFoundError, UnavailableError, ValidationError } from "../errors.ts";

const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** Checks a namespace name (as `ip netns` would accept it); throws ValidationError. */
export function checkNetnsName(netns: string): string {
  if (!NETNS_NAME.test(netns)) {
    throw new ValidationError(`Invalid network namespace name: ${JSON.stringify(netns)}`);
  }
  return netns;
}

/** Checks an interface name (at most 15 characters, no slash or space); throws ValidationError. */
export function checkInterfaceName(iface: string): string {
  if (!INTERFACE_NAME.test(iface)) {
    throw new ValidationError(`Invalid interface name: ${JSON.stringify(iface)}`);
  }
  return iface;
}

/**
 * Runs `fn` inside network namespace `netns` (or in the current one when undefined).
 *
 * @param netns an `ip netns` name, or undefined for the current namespace
 * @param fn synchronous work
 */
export function withNetns<T>(netns: string | undefined, fn: () => T): T {
  if (netns === undefined) return fn();
  checkNetnsName(netns);
  const c = libc();
  let target: number;
  try {
    target = c.openReadOnly(`/run/netns/${netns}`);
  } catch (err) {
    throw new NotFoundError(`Network namespace not found: ${netns}`, { cause: err });
  }
  let home: number;
  try {
    home = c.openReadOnly("/proc/thread-self/ns/net");
  } catch (err) {
    c.close(target);
    throw new UnavailableError(`Cannot open the current network namespace: ${netns}`, {
      cause: err,
    });
  }
  try {
    try {
      c.setnsNet(target);
    } catch (err) {
      throw new UnavailableError(`Cannot enter network namespace ${netns}: need CAP_SYS_ADMIN`, {
        cause: err,
      });
    }
    try {
      return fn();
    } finally {
      c.setnsNet(home);
    }
  } finally {
    c.close(target);
    c.close(home);
  }
}

/** Resolves an interface name to its index inside `netns`; throws NotFoundError. */
export function interfaceIndex(iface: string, netns?: string): number {
  checkInterfaceName(iface);
  const index = withNetns(netns, () => libc().ifNameToIndex(iface));
  if (index === 0) {
    throw new NotFoundError(
      `Interface not found: ${iface}${netns ? ` in network namespace ${netns}` : ""}`,
    );
  }
  return index;
}
