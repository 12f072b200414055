/**
 * Shared pieces of the netns integration tests: which root tools are missing (the loud SKIP, a
 * failure in CI), polling, and reading one agent's Prometheus counters.
 *
 * @module
 */
import { run } from "./netns.ts";
import type { RouterState } from "./testbed.ts";

/** What is missing to run netns tests here, or null when everything is present. */
export async function missingForNetns(): Promise<string | null> {
  if (Deno.uid() !== 0) return "root (network namespaces need CAP_NET_ADMIN)";
  for (
    const [tool, args] of [
      ["ip", ["-V"]],
      ["iptables", ["-V"]],
      ["ip6tables", ["-V"]],
      ["busybox", ["true"]],
      ["setsid", ["true"]],
    ] as const
  ) {
    try {
      const r = await run(tool, [...args]);
      if (r.code !== 0) return `${tool} (exit ${r.code})`;
    } catch {
      return `${tool} (iproute2, iptables, busybox-static, util-linux)`;
    }
  }
  return null;
}

/** Prints the loud SKIP line; throws instead when running in CI. */
export function skipOrFail(what: string): void {
  const line = `SKIP: ${what}`;
  if (Deno.env.get("CI") === "true") throw new Error(`${line} (CI requires it)`);
  console.log(`\n${"!".repeat(line.length)}\n${line}\n${"!".repeat(line.length)}`);
}

/** Polls `check` every 100 ms until it returns true; false on timeout. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Sum of a counter's samples on a router's /metrics, filtered by a label substring. */
export async function counter(r: RouterState, name: string, label = ""): Promise<number> {
  const res = await fetch(`${r.api}/metrics`, { signal: AbortSignal.timeout(3000) });
  const text = await res.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || !line.includes(label)) continue;
    const m = /^(\S+?)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}
