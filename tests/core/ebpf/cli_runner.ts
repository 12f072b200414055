/**
 * Test helper: runs `main.ts` the way `deno task cli` does, capturing stdout, stderr and the
 * exit code.
 *
 * @module
 */

import { AGENT_PERMISSIONS, runCli } from "../../helpers/agent_process.ts";

/** The flags of `deno task cli` (deno.json). */
export const CLI_FLAGS = AGENT_PERMISSIONS;

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` (and optional extra environment). */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { env });
}
