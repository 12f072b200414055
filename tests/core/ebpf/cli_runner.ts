/**
 * Test helper: runs `main.ts` the way `deno task cli` does, capturing stdout, stderr and the
 * exit code.
 *
 * @module
 */

const MAIN = new URL("../../../main.ts", import.meta.url).pathname;

/** The flags of `deno task cli` (deno.json). */
export const CLI_FLAGS = [
  "--unstable-kv",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-ffi",
  "--allow-sys",
];

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` (and optional extra environment). */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...CLI_FLAGS, MAIN, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
