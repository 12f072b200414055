/**
 * `testbed up|down|status|cut|restore|loss|kill|exec`: a mesh of network namespaces with one agent
 * per router (each router in its own cgroup where the host has one), for operators and
 * acceptance checks. The running testbed is kept in a state file
 * (default /tmp/x0tta6bl4-testbed/state.json, or --state / X0_TESTBED_STATE) so `down` works
 * from any shell and after a crash.
 *
 * @module
 */
import { Command } from "commander";
import { AGENT_BUNDLE } from "../core/paths.ts";
import {
  cut,
  execInRouter,
  kill,
  readState,
  restore,
  revive,
  setLinkLoss,
  statusDocument,
  testbedDown,
  type TestbedState,
  testbedUp,
  writeState,
} from "../tests/testbed/testbed.ts";
import { parseTopology } from "../tests/testbed/topology.ts";

const DEFAULT_STATE = "/tmp/x0tta6bl4-testbed/state.json";

interface Common {
  state?: string;
  json?: boolean;
}

function stateFile(opts: Common): string {
  if (opts.state) return opts.state;
  try {
    return Deno.env.get("X0_TESTBED_STATE") ?? DEFAULT_STATE;
  } catch {
    return DEFAULT_STATE;
  }
}

function loaded(opts: Common): { file: string; state: TestbedState } {
  const file = stateFile(opts);
  const state = readState(file);
  if (!state) throw new Error(`No testbed is up (no state file ${file})`);
  return { file, state };
}

function fail(err: unknown) {
  console.error(err instanceof Error ? err.message : String(err));
  Deno.exitCode = 1;
}

function printStatus(state: TestbedState, json: boolean | undefined) {
  const doc = statusDocument(state);
  if (json) {
    console.log(JSON.stringify(doc));
    return;
  }
  console.log(`testbed ${state.prefix}: ${doc.routers.length} routers, ${doc.links.length} links`);
  for (const r of doc.routers) {
    console.log(
      `  ${r.name.padEnd(6)} ${r.netns.padEnd(16)} ${r.router_address.padEnd(14)} ${r.api}${
        r.cgroup ? `  cgroup ${r.cgroup}` : ""
      }${r.up ? "" : "  (killed)"}`,
    );
  }
  for (const l of doc.links) {
    if (!l.up) console.log(`  link ${l.a}-${l.b}: ${l.mode}`);
    if (l.loss_percent) console.log(`  link ${l.a}-${l.b}: ${l.loss_percent} % loss`);
  }
}

interface UpOpts extends Common {
  probeIntervalMs?: string;
  agents: boolean;
  cgroups: boolean;
  bundle?: boolean;
  cpuCores?: string;
  memoryMib?: string;
}

function limits(opts: UpOpts): { cpu_cores?: number; memory_mib?: number } {
  const out: { cpu_cores?: number; memory_mib?: number } = {};
  if (opts.cpuCores !== undefined) {
    const n = Number(opts.cpuCores);
    if (!/^\d+(\.\d+)?$/.test(opts.cpuCores) || !(n >= 0.01 && n <= 1024)) {
      throw new Error(`Invalid --cpu-cores: ${opts.cpuCores} (0.01 to 1024)`);
    }
    out.cpu_cores = n;
  }
  if (opts.memoryMib !== undefined) {
    const n = Number(opts.memoryMib);
    if (!/^\d+$/.test(opts.memoryMib) || n < 64) {
      throw new Error(`Invalid --memory-mib: ${opts.memoryMib} (an integer >= 64)`);
    }
    out.memory_mib = n;
  }
  return out;
}

const withState = (c: Command) =>
  c.option("--state <file>", `state file (default ${DEFAULT_STATE} or X0_TESTBED_STATE)`);

/** The `testbed` command. */
export function testbedCommand(): Command {
  const cmd = new Command("testbed").description(
    "Network-namespace mesh testbed: one real agent per router (needs root)",
  );

  withState(cmd.command("up <topology>"))
    .description(
      "Create routers and links (line:N, ring:N, grid:RxC, random:N:seed or a JSON file)",
    )
    .option("--probe-interval-ms <ms>", "mesh.probe_interval_ms for every agent")
    .option("--no-agents", "create the network only, start no agents")
    .option("--no-cgroups", "do not give routers their own cgroups")
    .option("--bundle", "run the agents from dist/x0tta6bl4.js (deno task build:agent)")
    .option("--cpu-cores <n>", "CPU quota of each router's cgroup in cores (default 1)")
    .option("--memory-mib <n>", "memory limit of each router's cgroup in MiB (default 768)")
    .option("--json", "print the status document")
    .action(async (spec: string, opts: UpOpts) => {
      try {
        const topology = parseTopology(spec);
        const mesh: Record<string, unknown> = {};
        if (opts.probeIntervalMs !== undefined) {
          if (!/^\d+$/.test(opts.probeIntervalMs)) {
            throw new Error(`Invalid --probe-interval-ms: ${opts.probeIntervalMs}`);
          }
          mesh.probe_interval_ms = Number(opts.probeIntervalMs);
        }
        if (opts.bundle && !(await Deno.stat(AGENT_BUNDLE).then(() => true, () => false))) {
          throw new Error(`No agent bundle at ${AGENT_BUNDLE}: run deno task build:agent first`);
        }
        const state = await testbedUp(topology, {
          stateFile: stateFile(opts),
          agent: opts.agents ? "x0" : "none",
          entry: opts.bundle ? AGENT_BUNDLE : undefined,
          mesh,
          cgroups: opts.cgroups ? limits(opts) : false,
        });
        printStatus(state, opts.json);
      } catch (err) {
        fail(err);
      }
    });

  withState(cmd.command("down"))
    .description("Stop every agent and remove every namespace and link of the testbed")
    .option("--json", "print what was removed")
    .action(async (opts: Common) => {
      try {
        const { removed } = await testbedDown(stateFile(opts));
        if (opts.json) console.log(JSON.stringify({ removed }));
        else {console.log(
            removed.length ? `removed ${removed.length} namespaces` : "nothing to remove",
          );}
      } catch (err) {
        fail(err);
      }
    });

  withState(cmd.command("status"))
    .description("Routers (namespace, router address, API) and links")
    .option("--json", "machine output")
    .action((opts: Common) => {
      try {
        printStatus(loaded(opts).state, opts.json);
      } catch (err) {
        fail(err);
      }
    });

  withState(cmd.command("cut <a> <b>"))
    .description("Silently drop all traffic between routers A and B (carrier stays up)")
    .option("--carrier", "take the interfaces down instead")
    .action(async (a: string, b: string, opts: Common & { carrier?: boolean }) => {
      try {
        const { file, state } = loaded(opts);
        await cut(state, a, b, opts.carrier ?? false);
        writeState(file, state);
      } catch (err) {
        fail(err);
      }
    });

  withState(cmd.command("restore <a> <b>"))
    .description("Undo a cut between routers A and B (either kind)")
    .action(async (a: string, b: string, opts: Common) => {
      try {
        const { file, state } = loaded(opts);
        await restore(state, a, b);
        writeState(file, state);
      } catch (err) {
        fail(err);
      }
    });

  withState(cmd.command("loss <at> <other> <percent>"))
    .description(
      "Drop PERCENT % of the packets arriving at router AT from OTHER at random (0 removes it)",
    )
    .action(async (at: string, other: string, percent: string, opts: Common) => {
      try {
        if (!/^\d+(\.\d+)?$/.test(percent)) throw new Error(`Invalid loss percent: ${percent}`);
        const { file, state } = loaded(opts);
        await setLinkLoss(state, at, other, Number(percent));
        writeState(file, state);
      } catch (err) {
        fail(err);
      }
    });

  withState(cmd.command("kill <router>"))
    .description("Stop a router entirely (agent killed, all its links silent), or --revive it")
    .option("--revive", "bring a killed router back (links audible, agent restarted)")
    .action(async (name: string, opts: Common & { revive?: boolean }) => {
      try {
        const { file, state } = loaded(opts);
        if (opts.revive) await revive(state, name);
        else await kill(state, name);
        writeState(file, state);
      } catch (err) {
        fail(err);
      }
    });

  withState(cmd.command("exec <router> <command...>"))
    .description(
      "Run a command inside a router: its namespace and cgroup (put -- before the command)",
    )
    .action(async (name: string, argv: string[], opts: Common) => {
      try {
        const child = execInRouter(loaded(opts).state, name, argv, {
          stdin: "inherit",
          stdout: "inherit",
          stderr: "inherit",
        });
        const status = await child.status;
        if (status.code !== 0) Deno.exitCode = status.code;
      } catch (err) {
        fail(err);
      }
    });

  return cmd;
}
