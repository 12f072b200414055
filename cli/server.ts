/**
 * `server`: runs the agent (HTTP API and scheduled tasks) until SIGINT or SIGTERM, then stops
 * gracefully. Configuration: defaults < --config file < X0_* environment < flags.
 *
 * @module
 */
import { Command } from "commander";
import { getLogger } from "@logtape/logtape";
import { startAgent } from "../core/agent.ts";
import { envNames, loadConfig } from "../core/config/load.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import { configureLogging } from "../core/telemetry/logging.ts";
import { createApp } from "../routes/app.ts";
import { incidentsRoutes } from "../routes/incidents.ts";
import { knowledgeRoutes } from "../routes/knowledge.ts";
import { identityRoutes } from "../routes/identity.ts";
import { apiAuth } from "../routes/api_auth.ts";

/** Reads the X0_* variables the loader knows (scoped env permission is enough). */
export function readEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of envNames()) {
    try {
      env[name] = Deno.env.get(name);
    } catch {
      // Without permission for a variable, it is simply not set for us.
    }
  }
  return env;
}

interface ServerFlags {
  host?: string;
  port?: string;
  dataDir?: string;
  config?: string;
  logLevel?: string;
}

/** Parses a flag that must be an integer, leaving validation messages to the config schema. */
function intFlag(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
}

/** The `server` command. */
export function serverCommand(): Command {
  return new Command("server")
    .description("Run the agent: HTTP API, mesh and MAPE-K tasks")
    .option("--host <host>", "address the API listens on (default 127.0.0.1)")
    .option("--port <port>", "API port, 0 for any free port (default 8080)")
    .option("--data-dir <dir>", "directory for Deno KV and all state (default ./data)")
    .option("--config <file>", "JSON config file (env X0_CONFIG)")
    .option("--log-level <level>", "trace, debug, info, warning, error or fatal (default info)")
    .action(async (opts: ServerFlags) => {
      Deno.exitCode = await runServer(opts);
    });
}

async function runServer(opts: ServerFlags): Promise<number> {
  let loaded;
  try {
    loaded = await loadConfig({
      file: opts.config,
      env: readEnv(),
      flags: {
        host: opts.host,
        port: intFlag(opts.port),
        data_dir: opts.dataDir,
        log_level: opts.logLevel,
      },
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  const { config } = loaded;
  configureLogging(config.log_level);
  const log = getLogger(["x0", "server"]);
  log.debug("Configuration loaded: {config}; sources: {sources}", {
    config,
    sources: loaded.sources,
  });

  let agent;
  try {
    agent = await startAgent(config, {
      app: (deps) => {
        const modules = [incidentsRoutes(deps), knowledgeRoutes(deps.kb)];
        const id = deps.identity;
        if (!id) return createApp(deps, { modules });
        // API authentication (issue 7): writes need an operate token, identity admin an admin one.
        return createApp(deps, {
          middleware: [apiAuth({
            verifier: id.verifier,
            readRequiresToken: config.identity.read_requires_token,
            metricsRequireToken: id.metricsRequireToken,
          })],
          modules: [
            identityRoutes({ bundle: id.localBundle, issuer: id.issuer, verifier: id.verifier }),
            ...modules,
          ],
        });
      },
    });
  } catch (err) {
    log.fatal("Cannot start agent: {error}", { error: errorMessage(err) });
    console.error(`Cannot start agent: ${errorMessage(err)}`);
    return 1;
  }

  const onSignal = (signal: Deno.Signal) => () => {
    agent.stop(`received ${signal}`).then(() => {
      // Leave no pending timer or listener keeping the process alive.
      Deno.exit(0);
    });
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => {
    const h = onSignal(s);
    Deno.addSignalListener(s, h);
    return [s, h] as const;
  });
  await agent.finished;
  for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  return 0;
}
