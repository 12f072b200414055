/**
 * `deno task build:agent`: bundles the agent (main.ts and everything it imports, npm packages
 * included) into one file, `dist/x0tta6bl4.js`, and runs it once so Deno keeps its compiled
 * code. One module instead of ~770 halves the start-up work of an agent: what a router (or a
 * testbed of 20 routers on two cores) pays at every cold start. The bundle reads the WASM core,
 * eBPF objects, native helper and runbooks from this checkout (see core/paths.ts).
 *
 * @module
 */
import { AGENT_BUNDLE, ROOT, rootPath } from "../core/paths.ts";
import { VERSION } from "../core/version.ts";

async function run(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
    throw new Error(`deno ${args[0]} failed (exit ${out.code}): ${err}`);
  }
  return text;
}

/**
 * Bundles main.ts into {@link AGENT_BUNDLE} (written beside it, then renamed into place, so an
 * agent starting meanwhile never reads half a file) and runs `--version` from it once: that
 * checks the bundle loads and leaves its compiled code in Deno's cache for the next start.
 *
 * @returns the bundle's path
 */
export async function buildAgentBundle(): Promise<string> {
  const tmp = `${AGENT_BUNDLE}.${Deno.pid}.tmp.js`;
  await Deno.mkdir(rootPath("dist"), { recursive: true });
  try {
    await run(["bundle", "--quiet", "--platform", "deno", "--output", tmp, `${ROOT}main.ts`]);
    const version = (await run(["run", "--quiet", tmp, "--version"])).trim();
    if (version !== VERSION) {
      throw new Error(`The bundle printed version "${version}", expected ${VERSION}`);
    }
    await Deno.rename(tmp, AGENT_BUNDLE);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  // The code cache is keyed by the module's URL: warm it under the final name.
  await run(["run", "--quiet", AGENT_BUNDLE, "--version"]);
  return AGENT_BUNDLE;
}

if (import.meta.main) {
  const t0 = performance.now();
  const path = await buildAgentBundle();
  const { size } = await Deno.stat(path);
  console.log(
    `${path}: ${(size / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
