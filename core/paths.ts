/**
 * Where the agent finds what it ships next to its code: the WASM core, the eBPF objects, the
 * native liveness helper, the runbooks. Every path is resolved from this one module, one folder
 * below the checkout root, so they hold both when the agent runs from source and when it runs
 * from the single-file bundle `deno task build:agent` writes to `dist/` (also one folder below
 * the root: a bundle has one `import.meta.url` for all the modules in it).
 *
 * @module
 */

/** The checkout root, with a trailing slash. */
export const ROOT_URL: URL = new URL("../", import.meta.url);

/** The checkout root as a file system path, with a trailing slash. */
export const ROOT: string = decodeURIComponent(ROOT_URL.pathname);

/** The single-file agent `deno task build:agent` writes (scripts/build_agent.ts). */
export const AGENT_BUNDLE: string = rootPath("dist/x0tta6bl4.js");

/**
 * A file system path inside the checkout.
 *
 * @param relative path from the checkout root, e.g. `bpf/x0_xdp.o`
 */
export function rootPath(relative: string): string {
  return decodeURIComponent(new URL(relative, ROOT_URL).pathname);
}
