import assert from "node:assert/strict";
import { envName, envNames, loadConfig } from "../../../core/config/load.ts";
import { defaultConfig } from "../../../core/config/schema.ts";
import { ConfigError } from "../../../core/errors.ts";

async function writeConfig(value: unknown): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

async function configError(options: Parameters<typeof loadConfig>[0]): Promise<ConfigError> {
  try {
    await loadConfig(options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err;
  }
  assert.fail("expected loadConfig to throw");
}

Deno.test("loadConfig() returns the embedded defaults with no layers", async () => {
  const { config, sources } = await loadConfig();
  assert.deepEqual(config, defaultConfig());
  assert.equal(config.port, 8080);
  assert.equal(config.data_dir, "./data");
  assert.equal(config.host, "127.0.0.1");
  assert.ok(Object.values(sources).every((s) => s === "default"));
});

Deno.test("loadConfig() applies defaults < file < env < flags", async (t) => {
  const file = await writeConfig({ port: 7001, log_level: "debug", host: "0.0.0.0" });
  try {
    await t.step("file overrides defaults", async () => {
      const { config, sources } = await loadConfig({ file });
      assert.equal(config.port, 7001);
      assert.equal(config.log_level, "debug");
      assert.equal(sources.port, `file ${file}`);
      assert.equal(config.data_dir, "./data");
    });
    await t.step("env overrides file", async () => {
      const { config, sources } = await loadConfig({
        file,
        env: { X0_PORT: "7002", X0_DATA_DIR: "/tmp/x0-env" },
      });
      assert.equal(config.port, 7002);
      assert.equal(config.data_dir, "/tmp/x0-env");
      assert.equal(config.log_level, "debug");
      assert.equal(sources.port, "env X0_PORT");
    });
    await t.step("flags override env", async () => {
      const { config, sources } = await loadConfig({
        file,
        env: { X0_PORT: "7002" },
        flags: { port: 7003, data_dir: undefined },
      });
      assert.equal(config.port, 7003);
      assert.equal(sources.port, "flag --port");
      assert.equal(config.host, "0.0.0.0");
    });
    await t.step("X0_CONFIG names the file when --config is absent", async () => {
      const { config } = await loadConfig({ env: { X0_CONFIG: file } });
      assert.equal(config.port, 7001);
    });
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("loadConfig() merges nested sections key by key", async () => {
  const file = await writeConfig({ mesh: { probe_interval_ms: 100 } });
  try {
    const { config } = await loadConfig({
      file,
      env: { X0_MESH__DEAD_PROBES: "5", X0_MESH__INTERFACES: "eth0, eth1" },
    });
    assert.equal(config.mesh.probe_interval_ms, 100);
    assert.equal(config.mesh.dead_probes, 5);
    assert.deepEqual(config.mesh.interfaces, ["eth0", "eth1"]);
    assert.equal(config.mesh.control_port, defaultConfig().mesh.control_port);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("loadConfig() parses env booleans, JSON arrays and null", async () => {
  const { config } = await loadConfig({
    env: {
      X0_METRICS_PUBLIC: "false",
      X0_MESH__INSTALL_ROUTES: "0",
      X0_MESH__INTERFACES: '["veth0"]',
      X0_NODE_ID: "null",
    },
  });
  assert.equal(config.metrics_public, false);
  assert.equal(config.mesh.install_routes, false);
  assert.deepEqual(config.mesh.interfaces, ["veth0"]);
  assert.equal(config.node_id, null);
});

Deno.test("loadConfig() gives env values of keys that default to null their schema type", async (t) => {
  await t.step("numbers, booleans and strings", async () => {
    const { config } = await loadConfig({
      env: {
        X0_IDENTITY__ISSUER_PORT: "8443",
        X0_IDENTITY__MTLS_API_PORT: " 9443 ",
        X0_IDENTITY__METRICS_REQUIRE_TOKEN: "yes",
        X0_IDENTITY__NODE_NAME: "1234",
        X0_MESH__ROUTER_ADDRESS: "10.255.0.7",
      },
    });
    assert.equal(config.identity.issuer_port, 8443);
    assert.equal(config.identity.mtls_api_port, 9443);
    assert.equal(config.identity.metrics_require_token, true);
    assert.equal(config.identity.node_name, "1234", "a string key stays a string");
    assert.equal(config.mesh.router_address, "10.255.0.7");
  });
  await t.step("null and a bad number", async () => {
    const { config } = await loadConfig({ env: { X0_IDENTITY__ISSUER_PORT: "NULL" } });
    assert.equal(config.identity.issuer_port, null);
    await assert.rejects(
      () => loadConfig({ env: { X0_IDENTITY__ISSUER_PORT: "84x" } }),
      (err: Error) =>
        /identity\.issuer_port: "84x" \(from env X0_IDENTITY__ISSUER_PORT\)/.test(err.message),
    );
  });
});

Deno.test("envName() maps nested paths with double underscores", () => {
  assert.equal(envName("port"), "X0_PORT");
  assert.equal(envName("mesh.probe_interval_ms"), "X0_MESH__PROBE_INTERVAL_MS");
  assert.ok(envNames().includes("X0_DATA_DIR"));
  assert.ok(envNames().includes("X0_CONFIG"));
});

Deno.test("loadConfig() rejects each invalid value naming key, value, source and expectation", async (t) => {
  const cases: Array<{
    name: string;
    options: () => Promise<Parameters<typeof loadConfig>[0]>;
    key: string;
    match: RegExp;
  }> = [
    {
      name: "non-numeric port from env",
      options: () => Promise.resolve({ env: { X0_PORT: "eighty" } }),
      key: "port",
      match: /port: "eighty" \(from env X0_PORT\): .*expected number/,
    },
    {
      name: "port out of range from a flag",
      options: () => Promise.resolve({ flags: { port: 70000 } }),
      key: "port",
      match: /port: 70000 \(from flag --port\): .*<=65535/,
    },
    {
      name: "fractional port",
      options: () => Promise.resolve({ flags: { port: 80.5 } }),
      key: "port",
      match: /port: 80\.5 .*expected int/,
    },
    {
      name: "unknown log level",
      options: () => Promise.resolve({ flags: { log_level: "loud" } }),
      key: "log_level",
      match: /log_level: "loud" \(from flag --log-level\): .*"trace"\|"debug"\|"info"/,
    },
    {
      name: "empty data dir",
      options: () => Promise.resolve({ env: { X0_DATA_DIR: "" } }),
      key: "data_dir",
      match: /data_dir: "" \(from env X0_DATA_DIR\)/,
    },
    {
      name: "node id with a slash",
      options: () => Promise.resolve({ env: { X0_NODE_ID: "a/b" } }),
      key: "node_id",
      match: /node_id: "a\/b" .*letters, digits/,
    },
    {
      name: "non-boolean flag value from env",
      options: () => Promise.resolve({ env: { X0_METRICS_PUBLIC: "maybe" } }),
      key: "metrics_public",
      match: /metrics_public: "maybe" .*expected boolean/,
    },
    {
      name: "nested value out of range from a file",
      options: async () => ({ file: await writeConfig({ mesh: { probe_interval_ms: 1 } }) }),
      key: "mesh.probe_interval_ms",
      match: /mesh\.probe_interval_ms: 1 \(from file .*\): .*>=5/,
    },
    {
      name: "unknown key in a file",
      options: async () => ({ file: await writeConfig({ prot: 80 }) }),
      key: "prot",
      match: /prot: 80 .*no such key/,
    },
    {
      name: "bad router address",
      options: async () => ({ file: await writeConfig({ mesh: { router_address: "10.0.0" } }) }),
      key: "mesh.router_address",
      match: /mesh\.router_address: "10\.0\.0" .*IPv4/i,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const err = await configError(await c.options());
      assert.equal(err.code, "invalid_config");
      assert.equal(err.details?.key, c.key);
      assert.match(err.message, /^Invalid config value for /);
      assert.match(err.message, c.match);
    });
  }
});

Deno.test("loadConfig() rejects unreadable, non-JSON and non-object config files", async (t) => {
  await t.step("missing file", async () => {
    const err = await configError({ file: "/nonexistent/x0.json" });
    assert.match(err.message, /^Cannot read config file \/nonexistent\/x0\.json: /);
  });
  await t.step("not JSON", async () => {
    const file = await writeConfig("{ port: 80 ");
    const err = await configError({ file });
    assert.match(err.message, /is not valid JSON/);
    await Deno.remove(file);
  });
  await t.step("JSON but not an object", async () => {
    const file = await writeConfig("[1,2]");
    const err = await configError({ file });
    assert.match(err.message, /must hold a JSON object/);
    await Deno.remove(file);
  });
});
