/**
 * Loads the configuration with precedence defaults < file (--config, JSON) < environment
 * (`X0_*`) < command-line flags, and validates it once. An invalid value stops startup with a
 * ConfigError naming the key, the value, where it came from and what was expected.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { type Config, configSchema, defaultConfig } from "./schema.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Tree = { [k: string]: Json };

/** Where a configuration value came from, for error messages and `status`. */
export type ConfigSource = "default" | `file ${string}` | `env ${string}` | `flag ${string}`;

/** Inputs of {@linkcode loadConfig}; each layer is optional. */
export interface LoadConfigOptions {
  /** Path of a JSON config file (the --config flag or X0_CONFIG). */
  file?: string;
  /** Environment to read `X0_*` variables from; defaults to none (tests pass a map). */
  env?: Record<string, string | undefined>;
  /** Values from command-line flags, already keyed by config path (e.g. `{ port: 9000 }`). */
  flags?: Record<string, Json | undefined>;
}

/** A validated configuration and the source of every leaf value. */
export interface LoadedConfig {
  config: Config;
  sources: Record<string, ConfigSource>;
}

/** Name of the environment variable for a config path: `mesh.probe_interval_ms` → `X0_MESH__PROBE_INTERVAL_MS`. */
export function envName(path: string): string {
  return "X0_" + path.split(".").join("__").toUpperCase();
}

/** Every leaf path of the default configuration with its default value. */
export function leafPaths(): Map<string, Json> {
  const out = new Map<string, Json>();
  const walk = (node: Tree, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (v !== null && typeof v === "object" && !Array.isArray(v)) walk(v, path);
      else out.set(path, v);
    }
  };
  walk(defaultConfig() as unknown as Tree, "");
  return out;
}

/** Environment variable names the loader reads, for scoped `--allow-env` and the README. */
export function envNames(): string[] {
  return [...leafPaths().keys()].map(envName).concat("X0_CONFIG");
}

/**
 * Builds the configuration from its layers and validates it.
 *
 * @param options the file, environment and flag layers
 * @throws ConfigError naming key, value, source and expectation
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const merged = defaultConfig() as unknown as Tree;
  const sources: Record<string, ConfigSource> = {};
  for (const path of leafPaths().keys()) sources[path] = "default";

  const file = options.file ?? options.env?.X0_CONFIG;
  if (file) {
    const fromFile = await readConfigFile(file);
    const fileSource = `file ${file}` as const;
    mergeTree(merged, fromFile, "", (path) => sources[path] = fileSource);
    // Unknown keys in the file are caught by the strict schema below; record their source too.
  }

  const env = options.env ?? {};
  for (const [path, def] of leafPaths()) {
    const name = envName(path);
    const raw = env[name];
    if (raw === undefined) continue;
    setPath(merged, path, parseEnvValue(raw, def === null ? nullableKind(path) : def));
    sources[path] = `env ${name}`;
  }

  for (const [path, value] of Object.entries(options.flags ?? {})) {
    if (value === undefined) continue;
    setPath(merged, path, value);
    sources[path] = `flag --${path.replaceAll("_", "-")}`;
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    const path = [...issue.path, ...keys.slice(0, 1)].join(".");
    const value = getPath(merged, path);
    const source = sources[path] ?? (file ? `file ${file}` : "default");
    const expected = issue.code === "unrecognized_keys"
      ? "no such key (see the configuration reference in README.md)"
      : issue.message;
    throw new ConfigError(
      `Invalid config value for ${path || "(root)"}: ${
        JSON.stringify(value) ?? "undefined"
      } (from ${source}): ${expected}`,
      { details: { key: path, value, source, expected } },
    );
  }
  return { config: parsed.data, sources };
}

async function readConfigFile(file: string): Promise<Tree> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Config file ${file} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(`Config file ${file} must hold a JSON object at the top level`);
  }
  return value as Tree;
}

/** What a key whose default is null holds when set: read from the schema. */
type NullableKind = { kind: "number" | "boolean" | "object" | "string" };

/**
 * The type behind a `.nullable().default(null)` key, found by walking the schema (so
 * `X0_IDENTITY__ISSUER_PORT=8443` becomes the number 8443, not the string "8443").
 */
function nullableKind(path: string): NullableKind {
  // deno-lint-ignore no-explicit-any
  type Def = { type: string; innerType?: any; shape?: Record<string, any> };
  // deno-lint-ignore no-explicit-any
  const defOf = (s: any): Def => s._zod.def as Def;
  const unwrap = (s: unknown) => {
    let d = defOf(s);
    while (["default", "nullable", "optional", "prefault", "readonly"].includes(d.type)) {
      s = d.innerType;
      d = defOf(s);
    }
    return { schema: s, def: d };
  };
  let node: unknown = configSchema;
  for (const part of path.split(".")) {
    const { def } = unwrap(node);
    node = def.type === "object" ? def.shape?.[part] : undefined;
    if (node === undefined) return { kind: "string" };
  }
  const t = unwrap(node).def.type;
  return { kind: t === "number" || t === "boolean" || t === "object" ? t : "string" };
}

/** Converts an environment string to the type of the key's default (or nullable key's type). */
function parseEnvValue(raw: string, def: Json | NullableKind): Json {
  const text = raw.trim();
  if (def !== null && typeof def === "object" && !Array.isArray(def) && "kind" in def) {
    if (/^null$/i.test(text)) return null;
    if (def.kind === "number") return parseEnvValue(raw, 0);
    if (def.kind === "boolean") return parseEnvValue(raw, false);
    if (def.kind === "object") {
      try {
        return JSON.parse(text);
      } catch {
        return raw;
      }
    }
    return raw;
  }
  if (typeof def === "number") {
    return text !== "" && Number.isFinite(Number(text)) ? Number(text) : raw;
  }
  if (typeof def === "boolean") {
    if (/^(true|1|yes|on)$/i.test(text)) return true;
    if (/^(false|0|no|off)$/i.test(text)) return false;
    return raw;
  }
  if (Array.isArray(def)) {
    if (text.startsWith("[")) {
      try {
        return JSON.parse(text);
      } catch {
        return raw;
      }
    }
    return text === "" ? [] : text.split(",").map((s) => s.trim());
  }
  if (def === null && /^null$/i.test(text)) return null;
  return raw;
}

function mergeTree(target: Tree, source: Tree, prefix: string, seen: (path: string) => void) {
  for (const [k, v] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${k}` : k;
    const cur = target[k];
    if (
      v !== null && typeof v === "object" && !Array.isArray(v) &&
      cur !== null && typeof cur === "object" && !Array.isArray(cur)
    ) {
      mergeTree(cur, v, path, seen);
    } else {
      target[k] = v;
      seen(path);
    }
  }
}

function setPath(tree: Tree, path: string, value: Json) {
  const parts = path.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== "object" || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]] = value;
}

function getPath(tree: Tree, path: string): Json | undefined {
  let node: Json | undefined = tree;
  for (const part of path.split(".").filter(Boolean)) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as Tree)[part];
  }
  return node;
}
