/**
 * Test helper: starts eBPF telemetry on `lo` and prints {mode, reason, warnings} as JSON. The
 * privileges test runs it with every capability dropped (setpriv), where eBPF must fall back.
 *
 * @module
 */
import { configure, type LogRecord } from "@logtape/logtape";
import { startEbpfTelemetry } from "../../../core/ebpf/telemetry.ts";

const records: LogRecord[] = [];
await configure({
  sinks: { mem: (r: LogRecord) => records.push(r) },
  loggers: [
    { category: ["x0", "ebpf"], sinks: ["mem"], lowestLevel: "info" },
    { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
  ],
});
const t = await startEbpfTelemetry({ interfaces: ["lo"], stateDir: Deno.args[0], mode: "skb" });
t.stop();
console.log(JSON.stringify({
  mode: t.mode,
  reason: t.reason,
  records: records.map((r) => ({ level: r.level, message: r.message.map(String).join("") })),
}));
