/**
 * Builds the liveness helper when its binary is missing or older than its sources, so tests
 * work on a fresh clone (the binary is not committed).
 *
 * @module
 */
import { buildLiveness, LIVENESS_BINARY } from "./build.ts";

const SOURCES = new URL("./liveness/", import.meta.url).pathname;

async function newestSource(): Promise<number> {
  let newest = 0;
  for await (const e of Deno.readDir(SOURCES)) {
    if (!e.isFile || !e.name.endsWith(".rs")) continue;
    newest = Math.max(newest, (await Deno.stat(SOURCES + e.name)).mtime?.getTime() ?? 0);
  }
  return newest;
}

/**
 * Returns the path of an up-to-date helper binary, building it first when needed.
 *
 * @throws Error when it must be built and rustc fails or is missing
 */
export async function ensureLivenessBinary(): Promise<string> {
  const built = await Deno.stat(LIVENESS_BINARY).then((s) => s.mtime?.getTime() ?? 0, () => -1);
  if (built < 0 || built < await newestSource()) await buildLiveness();
  return LIVENESS_BINARY;
}
