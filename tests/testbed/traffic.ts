/**
 * Real-packet checks on a running testbed: ping between router addresses from inside the
 * namespaces (one bounded ping each), the full reachability matrix, and the next hop the kernel
 * picks (`ip route get`).
 *
 * @module
 */
import { nsRun, pool } from "./netns.ts";
import { router, type TestbedState } from "./testbed.ts";

/** Whether `from` reaches `to`'s router address (one ICMP echo, 1 s timeout, from its own). */
export async function ping(state: TestbedState, from: string, to: string): Promise<boolean> {
  const a = router(state, from), b = router(state, to);
  // busybox ping: Debian's busybox-static is a CI package, iputils-ping may be absent.
  const r = await nsRun(a.netns, [
    "busybox",
    "ping",
    "-q",
    "-c",
    "1",
    "-W",
    "1",
    "-I",
    a.router_address,
    b.router_address,
  ]);
  return r.code === 0;
}

/** Pairs (from, to) that do not reach each other, among the given routers (default: all up). */
export async function unreachablePairs(
  state: TestbedState,
  among?: string[],
): Promise<Array<[string, string]>> {
  const names = among ?? state.routers.filter((r) => !r.killed).map((r) => r.name);
  const pairs = names.flatMap((a) => names.filter((b) => b !== a).map((b) => [a, b] as const));
  const ok = await pool(pairs, 16, ([a, b]) => ping(state, a, b));
  return pairs.filter((_, i) => !ok[i]).map(([a, b]) => [a, b]);
}

/**
 * Polls until every pair reaches the other or the timeout passes; returns the elapsed ms and
 * the pairs still failing.
 */
export async function waitFullReachability(
  state: TestbedState,
  options: { timeoutMs: number; among?: string[] },
): Promise<{ ms: number; failing: Array<[string, string]> }> {
  const start = performance.now();
  let failing: Array<[string, string]> = [];
  while (performance.now() - start < options.timeoutMs) {
    failing = await unreachablePairs(state, options.among);
    if (failing.length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { ms: performance.now() - start, failing };
}

/** The router the kernel of `from` forwards to for `to`'s router address, or null. */
export async function nextHopRouter(
  state: TestbedState,
  from: string,
  to: string,
): Promise<string | null> {
  const a = router(state, from), b = router(state, to);
  const r = await nsRun(a.netns, ["ip", "-o", "route", "get", b.router_address]);
  const dev = / dev (\S+)/.exec(r.stdout)?.[1];
  if (r.code !== 0 || !dev || !/ via /.test(r.stdout)) return null;
  return dev.startsWith("to-") ? dev.slice(3) : null;
}

/** The hop-by-hop path the kernels forward along from `from` to `to` (bounded by N hops). */
export async function forwardingPath(
  state: TestbedState,
  from: string,
  to: string,
): Promise<string[] | null> {
  const path = [from];
  let at = from;
  for (let i = 0; i < state.routers.length && at !== to; i++) {
    const next = await nextHopRouter(state, at, to);
    if (next === null || path.includes(next)) return null;
    path.push(next);
    at = next;
  }
  return at === to ? path : null;
}
