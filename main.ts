/**
 * x0tta6bl4 command-line entry: `server` runs the agent; the other commands talk to a running
 * agent or run one-shot operator tasks.
 *
 * @module
 */
import { Command } from "commander";
import { VERSION } from "./core/version.ts";
import { serverCommand } from "./cli/server.ts";
import { healthCommand } from "./cli/health.ts";
import { statusCommand } from "./cli/status.ts";

/** Builds the root command with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command("x0tta6bl4")
    .description("Self-healing mesh agent: link-state routing, fast reroute, MAPE-K healing")
    .version(VERSION, "-V, --version", "print the version")
    .showHelpAfterError();
  // --- commands (one line each: program.addCommand(fooCommand())) ---
  program.addCommand(serverCommand());
  program.addCommand(healthCommand());
  program.addCommand(statusCommand());
  // --- end commands ---
  return program;
}

if (import.meta.main) {
  await buildProgram().parseAsync(Deno.args, { from: "user" });
}
