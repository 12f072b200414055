import assert from "node:assert/strict";
import { envName, leafPaths } from "../core/config/load.ts";
import denoJson from "../deno.json" with { type: "json" };

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

Deno.test("README's configuration table names every config key and its environment variable", () => {
  const missing = [...leafPaths().keys()].filter((key) =>
    !readme.includes(`\`${key}\``) || !readme.includes(`\`${envName(key)}\``)
  );
  assert.deepEqual(missing, []);
});

Deno.test("README's permissions table covers every task and no task uses -A", () => {
  for (const [name, command] of Object.entries(denoJson.tasks)) {
    assert.doesNotMatch(command, /(^|\s)(-A|--allow-all)(\s|$)/, `task ${name} uses -A`);
  }
  for (const name of ["start", "cli", "test", "bench", "build:wasm", "build:bpf", "compile"]) {
    assert.ok(readme.includes(`| \`${name}\``), `permissions row for ${name}`);
  }
});
