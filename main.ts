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
import { testbedCommand } from "./cli/testbed.ts";
import { ebpfCommand } from "./cli/ebpf.ts";
import { chaosCommand } from "./cli/chaos.ts";
import { fabricCommand } from "./cli/fabric.ts";
import { identityCommand } from "./cli/identity.ts";
import { pathsCommand } from "./cli/paths.ts";
import { anomalyCommand } from "./cli/anomaly.ts";
import { kbCommand } from "./cli/kb.ts";

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
  program.addCommand(ebpfCommand());
  program.addCommand(chaosCommand());
  program.addCommand(testbedCommand());
  program.addCommand(identityCommand());
  program.addCommand(fabricCommand());
  program.addCommand(pathsCommand());
  program.addCommand(anomalyCommand());
  program.addCommand(kbCommand());
  // --- end commands ---
  return program;
}

if (import.meta.main) {
  await buildProgram().parseAsync(Deno.args, { from: "user" });
}
