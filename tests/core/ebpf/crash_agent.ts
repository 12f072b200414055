/**
 * Test helper: starts eBPF telemetry like the agent does, prints "attached", then idles until
 * killed (the crash-cleanup test sends SIGKILL). Exits by itself after 60 s at most.
 *
 * @module
 */
import { startEbpfTelemetry } from "../../../core/ebpf/telemetry.ts";

const [stateDir, iface, netns, mode] = Deno.args;
const t = await startEbpfTelemetry({
  interfaces: [iface],
  stateDir,
  netns,
  mode: (mode ?? "skb") as "skb" | "tc",
});
console.log(t.mode === "ebpf" ? "attached" : `fallback ${t.reason}`);
await new Promise((r) => setTimeout(r, 60_000));
t.stop();
