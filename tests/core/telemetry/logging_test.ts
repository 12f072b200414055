import assert from "node:assert/strict";
import { getLogger, resetSync } from "@logtape/logtape";
import { configureLogging } from "../../../core/telemetry/logging.ts";

Deno.test("configureLogging() writes one JSON object per line at or above the level", () => {
  const lines: string[] = [];
  configureLogging("info", { write: (l) => lines.push(l) });
  try {
    const log = getLogger(["x0", "test"]);
    log.debug("hidden");
    log.info("Peer {peer} is {state}", { peer: "r2", state: "ONLINE" });
    log.error("Broke: {error}", { error: "boom" });
  } finally {
    resetSync();
  }
  assert.equal(lines.length, 2);
  for (const line of lines) assert.ok(line.endsWith("\n"));
  const first = JSON.parse(lines[0]);
  assert.equal(first.level, "INFO");
  assert.equal(first.logger, "x0.test");
  assert.equal(first.properties.peer, "r2");
  assert.equal(first.message, "Peer r2 is ONLINE");
  assert.equal(JSON.parse(lines[1]).level, "ERROR");
  assert.equal(JSON.parse(lines[1]).message, "Broke: boom");
});
