/**
 * The persisted record of XDP programs the agent attached (`<stateDir>/ebpf_attached.json`).
 * Netlink-attached XDP programs outlive the process that attached them, so after a crash the
 * next start reads this record and detaches what the dead agent left behind.
 *
 * @module
 */
import { z } from "zod";
import { ValidationError } from "../errors.ts";

const entrySchema = z.object({
  netns: z.string().nullable(),
  iface: z.string(),
  ifindex: z.number().int().positive(),
  progId: z.number().int().positive(),
  progName: z.string(),
  mode: z.enum(["skb", "native", "tc"]),
  pid: z.number().int(),
  attachedAt: z.string(),
});
const recordSchema = z.object({ version: z.literal(1), entries: z.array(entrySchema) });

/** One attached program. */
export type AttachEntry = z.infer<typeof entrySchema>;

/** The record's file path inside a state directory. */
export function recordPath(stateDir: string): string {
  return `${stateDir.replace(/\/+$/, "")}/ebpf_attached.json`;
}

/** Reads the record; a missing file is an empty record, a corrupt one a ValidationError. */
export function readAttachRecord(stateDir: string): AttachEntry[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(recordPath(stateDir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`Corrupt eBPF attach record: ${recordPath(stateDir)}`, {
      cause: err,
    });
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError(`Corrupt eBPF attach record: ${recordPath(stateDir)}`);
  }
  return parsed.data.entries;
}

/** Replaces the record atomically (write to a temporary file, then rename). */
export function writeAttachRecord(stateDir: string, entries: AttachEntry[]): void {
  Deno.mkdirSync(stateDir, { recursive: true });
  const path = recordPath(stateDir);
  const tmp = `${path}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify({ version: 1, entries }, null, 2) + "\n");
  Deno.renameSync(tmp, path);
}

/** Adds one entry (replacing an entry for the same netns and interface). */
export function addAttachEntry(stateDir: string, entry: AttachEntry): void {
  const rest = readAttachRecord(stateDir).filter((e) =>
    !(e.netns === entry.netns && e.iface === entry.iface)
  );
  writeAttachRecord(stateDir, [...rest, entry]);
}

/**
 * Removes the entry for a netns and interface, if any; with `progId`, only an entry for that
 * exact program (a stale session must not drop the record of the program that replaced it).
 */
export function removeAttachEntry(
  stateDir: string,
  netns: string | null,
  iface: string,
  progId?: number,
): void {
  const entries = readAttachRecord(stateDir);
  const rest = entries.filter((e) =>
    !(e.netns === netns && e.iface === iface && (progId === undefined || e.progId === progId))
  );
  if (rest.length !== entries.length) writeAttachRecord(stateDir, rest);
}
