/**
 * The agent's embedded store: one Deno KV database in the data dir. Durable and atomic, so
 * state survives a crash without half-written records.
 *
 * @module
 */
import { UnavailableError } from "../errors.ts";

/** File name of the KV database inside the data dir. */
export const KV_FILE = "x0.kv";

/**
 * Opens (creating if needed) the data dir and its KV database.
 *
 * @param dataDir directory holding all agent state
 */
export async function openStore(dataDir: string): Promise<Deno.Kv> {
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    return await Deno.openKv(`${dataDir}/${KV_FILE}`);
  } catch (err) {
    throw new UnavailableError(`Cannot open data dir ${dataDir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Returns this node's id: the configured one, or the one generated on first start and kept in
 * the store (an atomic check so two racing starts agree).
 *
 * @param kv the store
 * @param configured node_id from the configuration, if any
 */
export async function resolveNodeId(kv: Deno.Kv, configured: string | null): Promise<string> {
  if (configured) return configured;
  const key = ["node", "id"];
  const existing = await kv.get<string>(key);
  if (existing.value) return existing.value;
  const generated = `node-${crypto.randomUUID().slice(0, 8)}`;
  const res = await kv.atomic().check(existing).set(key, generated).commit();
  if (res.ok) return generated;
  return (await kv.get<string>(key)).value!;
}
