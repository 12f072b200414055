/**
 * Structured logging: LogTape writing one JSON object per line to stderr, so logs can be
 * shipped as they are. Every module logs through `getLogger(["x0", "<area>"])`.
 *
 * @module
 */
import { configureSync, getJsonLinesFormatter, type LogRecord, resetSync } from "@logtape/logtape";
import type { LogLevel } from "../config/schema.ts";

const encoder = new TextEncoder();

/** Where log lines go; tests may capture them. */
export type LineWriter = (line: string) => void;

const stderrWriter: LineWriter = (line) => {
  Deno.stderr.writeSync(encoder.encode(line));
};

/**
 * Configures LogTape for the whole process: the `x0` category at `level` and above, as JSON
 * lines. Safe to call again (it resets the previous configuration).
 *
 * @param level lowest level written
 * @param options an alternative line writer (tests)
 */
export function configureLogging(level: LogLevel, options: { write?: LineWriter } = {}): void {
  const write = options.write ?? stderrWriter;
  const format = getJsonLinesFormatter({ categorySeparator: ".", message: "rendered" });
  resetSync();
  configureSync({
    reset: true,
    sinks: { jsonl: (record: LogRecord) => write(format(record)) },
    loggers: [
      { category: ["x0"], sinks: ["jsonl"], lowestLevel: level },
      { category: ["logtape", "meta"], sinks: ["jsonl"], lowestLevel: "warning" },
    ],
  });
}
