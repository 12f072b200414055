/**
 * Structured logging: LogTape writing one JSON object per line to stderr, so logs can be
 * shipped as they are. Every module logs through `getLogger(["x0", "<area>"])`.
 *
 * @module
 */
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
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
  resetSync();
  configureSync({
    reset: true,
    sinks: { jsonl: (record: LogRecord) => write(formatJsonLine(record)) },
    loggers: [
      { category: ["x0"], sinks: ["jsonl"], lowestLevel: level },
      { category: ["logtape", "meta"], sinks: ["jsonl"], lowestLevel: "warning" },
    ],
  });
}

/**
 * One log record as a JSON line: timestamp, level, the message with its values rendered
 * (strings as they are, other values as JSON), the logger category and the raw properties.
 *
 * @param record a LogTape record
 */
export function formatJsonLine(record: LogRecord): string {
  const message = record.message.map((part, i) =>
    i % 2 === 0 || typeof part === "string" ? String(part) : safeJson(part)
  ).join("");
  return JSON.stringify({
    "@timestamp": new Date(record.timestamp).toISOString(),
    level: record.level.toUpperCase(),
    message,
    logger: record.category.join("."),
    properties: record.properties,
  }, (_k, v) => typeof v === "bigint" ? v.toString() : v instanceof Error ? v.message : v) + "\n";
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? v.toString() : v) ??
      String(value);
  } catch {
    return String(value);
  }
}
