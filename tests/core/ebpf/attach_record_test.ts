import assert from "node:assert/strict";
import { ValidationError } from "../../../core/errors.ts";
import {
  addAttachEntry,
  type AttachEntry,
  readAttachRecord,
  recordPath,
  removeAttachEntry,
} from "../../../core/ebpf/attach_record.ts";

const entry = (iface: string, netns: string | null = null): AttachEntry => ({
  netns,
  iface,
  ifindex: 3,
  progId: 42,
  progName: "x0_telemetry",
  mode: "skb",
  pid: 1234,
  attachedAt: "2026-11-27T07:00:00.000Z",
});

Deno.test("attach record keeps one entry per namespace and interface across rewrites", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0bpf-rec-" });
  try {
    assert.deepEqual(readAttachRecord(dir), []);
    addAttachEntry(dir, entry("eth0"));
    addAttachEntry(dir, entry("eth0", "ns1"));
    addAttachEntry(dir, { ...entry("eth0"), progId: 43 });
    const all = readAttachRecord(dir);
    assert.equal(all.length, 2);
    assert.equal(all.find((e) => e.netns === null)?.progId, 43);
    removeAttachEntry(dir, null, "eth0", 42);
    assert.equal(readAttachRecord(dir).length, 2, "progId 42 was replaced by 43: nothing removed");
    removeAttachEntry(dir, "ns1", "eth0");
    assert.deepEqual(readAttachRecord(dir).map((e) => e.netns), [null]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a corrupt attach record is a ValidationError, not a silent reset", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0bpf-rec-" });
  try {
    await Deno.writeTextFile(recordPath(dir), "{not json");
    assert.throws(() => readAttachRecord(dir), ValidationError);
    await Deno.writeTextFile(
      recordPath(dir),
      JSON.stringify({ version: 1, entries: [{ iface: 1 }] }),
    );
    assert.throws(() => readAttachRecord(dir), ValidationError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
