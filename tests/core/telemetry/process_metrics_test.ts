import assert from "node:assert/strict";
import { parseProcStat, sampleProcess } from "../../../core/telemetry/process_metrics.ts";

Deno.test("parseProcStat() reads CPU and RSS even when the command name has spaces and parens", () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i));
  // Fields after the name start at 3 (state); utime=14, stime=15, rss=24 in /proc numbering.
  const rest = fields.slice(3);
  rest[0] = "S";
  rest[11] = "250"; // utime
  rest[12] = "50"; // stime
  rest[21] = "1000"; // rss pages
  const line = `1234 (deno (worker) x) ${rest.join(" ")}`;
  const parsed = parseProcStat(line);
  assert.equal(parsed.cpu_seconds, 3);
  assert.equal(parsed.resident_bytes, 1000 * 4096);
});

Deno.test("parseProcStat() rejects a truncated line", () => {
  assert.throws(() => parseProcStat("1 (x) S 1 2"), /Cannot parse \/proc stat line/);
});

Deno.test("sampleProcess() reads this process from /proc through libc when Deno may not", () => {
  const s = sampleProcess();
  assert.ok(s.resident_bytes > 1_000_000);
  assert.ok(s.heap_used_bytes > 0);
  assert.ok(s.cpu_seconds >= 0);
  // The suite runs with --allow-ffi, so /proc is readable and the fd count is real.
  assert.ok(s.open_fds !== null && s.open_fds > 2, `open_fds: ${s.open_fds}`);
  const file = Deno.openSync(Deno.makeTempFileSync());
  try {
    assert.equal(sampleProcess().open_fds, s.open_fds + 1);
  } finally {
    file.close();
  }
});
