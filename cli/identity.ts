/**
 * `identity` operator commands on the local data directory (`--data-dir`, default ./data;
 * state under <data-dir>/identity/):
 *
 *   identity show [--json]
 *   identity init --trust-domain TD [--node NAME]
 *   identity join --issuer https://HOST:PORT --token TOKEN --ca-sha256 HEX [--trust-domain TD]
 *   identity token create [--ttl 10m] [--node NAME] [--json]
 *   identity token mint --scope read|operate|admin --aud AUD [--sub ID] [--ttl 15m]
 *   identity bundle export [--format pem|jwks]
 *   identity verify CERT.pem --bundle BUNDLE(.pem|.json) [--trust-domain TD] [--json]
 *
 * Commands other than `verify` initialize an issuer identity on first use (trust domain from
 * --trust-domain, X0_TRUST_DOMAIN or `x0tta6bl4.mesh`). `verify` exits 0 for a valid X.509-SVID
 * and 1 naming the failed rule otherwise.
 *
 * @module
 */
import { Command, Option } from "commander";
import { errorMessage, NotFoundError, ValidationError } from "../core/errors.ts";
import * as x509 from "../core/identity/x509.ts";
import {
  bundleSetOf,
  bundleToJwks,
  bundleToPem,
  parseJwksBundle,
  parsePemBundle,
  type TrustBundle,
} from "../core/identity/bundle.ts";
import {
  initIssuerIdentity,
  initMemberIdentity,
  isIdentityInitialized,
  type LoadedIdentity,
  loadIdentity,
  openIdentityKv,
} from "../core/identity/identity_store.ts";
import { createJoinToken } from "../core/identity/join_tokens.ts";
import { attestWithJoinToken } from "../core/identity/join_client.ts";
import { mintJwtSvid } from "../core/identity/jwt.ts";
import { decodePem } from "../core/identity/pem.ts";
import { isScope } from "../core/identity/scopes.ts";
import { parseSpiffeId, parseTrustDomain, spiffeIdFromParts } from "../core/identity/spiffe_id.ts";
import { validateX509Svid } from "../core/identity/svid_validation.ts";

/** Default trust domain for a fresh data directory. */
export const DEFAULT_TRUST_DOMAIN = "x0tta6bl4.mesh";

/**
 * Parses a duration such as `90s`, `10m`, `1h`, `2d` (or plain seconds) into milliseconds.
 *
 * @param value the duration text
 * @param what the option name for error messages
 */
export function parseDuration(value: string, what = "--ttl"): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new ValidationError(`Invalid ${what}: ${value} (expected e.g. 90s, 10m, 1h, 2d)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86400_000 }[m[2] ?? "s"]!;
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new ValidationError(`Invalid ${what}: ${value} (must be positive)`);
  return ms;
}

const defaultNodeName = () => {
  let host = "node";
  try {
    host = Deno.hostname();
  } catch { /* no --allow-sys: keep the fallback */ }
  return host.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^\.+$/, "node") || "node";
};

const dataDirOf = (opts: { dataDir?: string }) =>
  opts.dataDir ?? Deno.env.get("X0_DATA_DIR") ?? "./data";

async function ensureIdentity(
  opts: { dataDir?: string; trustDomain?: string; node?: string },
): Promise<LoadedIdentity> {
  const dir = dataDirOf(opts);
  if (await isIdentityInitialized(dir)) return await loadIdentity(dir);
  const trustDomain = opts.trustDomain ?? Deno.env.get("X0_TRUST_DOMAIN") ?? DEFAULT_TRUST_DOMAIN;
  const loaded = await initIssuerIdentity(dir, {
    trustDomain,
    nodeName: opts.node ?? defaultNodeName(),
  });
  console.error(
    `Initialized issuer identity ${loaded.state.spiffeId} for trust domain ${trustDomain} in ${dir}/identity`,
  );
  return loaded;
}

/** Hex SHA-256 of a certificate's DER: the CA pin members pass to `identity join`. */
async function certSha256(der: ArrayBuffer): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", der);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

const bundleOf = (id: LoadedIdentity): TrustBundle => {
  if (!id.ca || !id.jwtKey) {
    throw new NotFoundError("This node holds no trust-domain CA: export the bundle on an issuer");
  }
  return {
    trustDomain: id.state.trustDomain,
    x509Authorities: [id.ca.cert],
    jwtAuthorities: [id.jwtKey.authority],
    sequence: id.state.bundleSequence,
    refreshHintSeconds: 300,
  };
};

async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    console.error(`Error: ${errorMessage(err)}`);
    Deno.exitCode = 1;
  }
}

const withDir = (cmd: Command) =>
  cmd.option("--data-dir <dir>", "data directory (default ./data or X0_DATA_DIR)")
    .option("--trust-domain <td>", "trust domain when initializing (default x0tta6bl4.mesh)");

/** Trust domain named by the bundle's CA URI SANs (`spiffe://td`), when they agree. */
function trustDomainOfRoots(roots: readonly x509.X509Certificate[]): string | undefined {
  const tds = new Set<string>();
  for (const r of roots) {
    const san = r.getExtension(x509.SubjectAlternativeNameExtension);
    for (const n of san?.names.items ?? []) {
      if (n.type === "url") {
        try {
          tds.add(parseSpiffeId(n.value).trustDomain);
        } catch { /* not a SPIFFE URI: ignore */ }
      }
    }
  }
  return tds.size === 1 ? [...tds][0] : undefined;
}

async function verifyAction(
  certPath: string,
  opts: { bundle: string; trustDomain?: string; json?: boolean },
): Promise<void> {
  const chain = decodePem(await Deno.readTextFile(certPath), "CERTIFICATE").map((b) => b.der);
  const text = await Deno.readTextFile(opts.bundle);
  const isJson = opts.bundle.endsWith(".json") || text.trimStart().startsWith("{");
  if (opts.trustDomain) parseTrustDomain(opts.trustDomain);
  // Parse once with a placeholder domain to read the roots, then bind to the right domain.
  const probe = isJson ? parseJwksBundle("probe", text) : parsePemBundle("probe", text);
  let leafTd: string | undefined;
  try {
    const san = chain[0] && new x509.X509Certificate(chain[0])
      .getExtension(x509.SubjectAlternativeNameExtension);
    const uri = san?.names.items.find((n) => n.type === "url")?.value;
    leafTd = uri ? parseSpiffeId(uri).trustDomain : undefined;
  } catch { /* validation below names the problem */ }
  const bundleTd = opts.trustDomain ?? trustDomainOfRoots(probe.x509Authorities) ?? leafTd ??
    "unknown";
  const bundle = { ...probe, trustDomain: bundleTd };
  const r = await validateX509Svid(chain, bundleSetOf(bundle), {
    trustDomain: opts.trustDomain ?? bundleTd,
  });
  if (opts.json) {
    console.log(JSON.stringify(
      r.ok
        ? {
          valid: true,
          spiffe_id: r.id.uri,
          trust_domain: r.id.trustDomain,
          not_after: r.leaf.notAfter.toISOString(),
        }
        : { valid: false, reason: r.reason, message: r.message },
    ));
  } else if (r.ok) {
    console.log(`Valid X.509-SVID: ${r.id.uri} (expires ${r.leaf.notAfter.toISOString()})`);
  } else {
    console.error(`Invalid X.509-SVID: ${r.reason}: ${r.message}`);
  }
  if (!r.ok) Deno.exitCode = 1;
}

/** Builds the `identity` command tree. */
export function identityCommand(): Command {
  const identity = new Command("identity").description(
    "SPIFFE identity: show, join tokens, API tokens, trust bundle, SVID verification",
  );

  withDir(identity.command("show").description("Show this node's identity"))
    .option("--json", "machine-readable output")
    .action((opts) =>
      run(async () => {
        const id = await ensureIdentity(opts);
        const leaf = id.svid?.chain[0];
        const out = {
          trust_domain: id.state.trustDomain,
          spiffe_id: id.state.spiffeId,
          issuer: id.state.issuer,
          bundle_sequence: id.state.bundleSequence,
          svid_serial: leaf?.serialNumber ?? null,
          svid_not_after: leaf?.notAfter.toISOString() ?? null,
          ca_not_after: id.ca?.cert.notAfter.toISOString() ?? null,
          jwt_kid: id.jwtKey?.kid ?? null,
          ca_sha256: id.bundle?.x509Authorities[0]
            ? await certSha256(id.bundle.x509Authorities[0].rawData)
            : null,
        };
        if (opts.json) return console.log(JSON.stringify(out));
        for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(16)} ${v ?? "-"}`);
      })
    );

  withDir(identity.command("init").description("Initialize an issuer identity (new CA)"))
    .option("--node <name>", "this node's name (default: hostname)")
    .action((opts) =>
      run(async () => {
        const dir = dataDirOf(opts);
        const loaded = await initIssuerIdentity(dir, {
          trustDomain: opts.trustDomain ?? Deno.env.get("X0_TRUST_DOMAIN") ?? DEFAULT_TRUST_DOMAIN,
          nodeName: opts.node ?? defaultNodeName(),
        });
        console.log(`Initialized ${loaded.state.spiffeId} in ${dir}/identity`);
      })
    );

  identity.command("join").description("Join a trust domain: attest at an issuer with a join token")
    .requiredOption("--issuer <url>", "issuer TLS endpoint, e.g. https://10.0.0.1:8081")
    .requiredOption("--token <token>", "one-time join token")
    .requiredOption(
      "--ca-sha256 <hex>",
      "the trust-domain CA's SHA-256 (from `identity token create --json`): authenticates the issuer",
    )
    .option("--trust-domain <td>", "refuse an issuer of another trust domain")
    .option("--data-dir <dir>", "data directory (default ./data or X0_DATA_DIR)")
    .action((opts) =>
      run(async () => {
        const dir = dataDirOf(opts);
        if (await isIdentityInitialized(dir)) {
          throw new ValidationError(`Identity already initialized in ${dir}/identity`);
        }
        const obtained = await attestWithJoinToken(opts.issuer, opts.token, {
          caSha256: opts.caSha256,
          trustDomain: opts.trustDomain,
        });
        const loaded = await initMemberIdentity(dir, obtained);
        console.log(`Joined as ${loaded.state.spiffeId}`);
      })
    );

  const token = identity.command("token").description("Join tokens and API tokens");
  withDir(token.command("create").description("Create a one-time join token for a node"))
    .option("--ttl <duration>", "token lifetime", "10m")
    .option("--node <name>", "the joining node's name (default: random)")
    .option("--json", "machine-readable output")
    .action((opts) =>
      run(async () => {
        const ttlMs = parseDuration(opts.ttl);
        const node = opts.node ?? `node-${crypto.randomUUID().slice(0, 8)}`;
        const id = await ensureIdentity({ ...opts, node: undefined });
        const spiffeId = spiffeIdFromParts(id.state.trustDomain, "node", node).uri;
        if (!id.state.issuer) throw new NotFoundError("This node is not an issuer");
        const kv = await openIdentityKv(dataDirOf(opts));
        try {
          const created = await createJoinToken(kv, spiffeId, { ttlMs });
          if (opts.json) {
            return console.log(JSON.stringify({
              token: created.token,
              spiffe_id: created.spiffeId,
              expires_at: new Date(created.expiresAt).toISOString(),
              ca_sha256: await certSha256(id.ca!.cert.rawData),
            }));
          }
          console.log(created.token);
          console.error(
            `For ${created.spiffeId}, single use, expires ${
              new Date(created.expiresAt).toISOString()
            }`,
          );
        } finally {
          kv.close();
        }
      })
    );

  withDir(token.command("mint").description("Mint an API token (JWT-SVID) for API clients"))
    .addOption(
      new Option("--scope <scope>", "granted scope").choices(["read", "operate", "admin"])
        .makeOptionMandatory(),
    )
    .requiredOption("--aud <audience>", "audience the API checks")
    .option("--sub <spiffe-id>", "subject (default spiffe://<td>/operator/cli)")
    .option("--ttl <duration>", "token lifetime", "15m")
    .action((opts) =>
      run(async () => {
        if (!isScope(opts.scope)) throw new ValidationError(`Invalid --scope: ${opts.scope}`);
        const ttlSeconds = Math.round(parseDuration(opts.ttl) / 1000);
        const id = await ensureIdentity(opts);
        if (!id.jwtKey) throw new NotFoundError("This node holds no JWT-SVID signing key");
        const sub = opts.sub ?? spiffeIdFromParts(id.state.trustDomain, "operator", "cli").uri;
        if (parseSpiffeId(sub).trustDomain !== id.state.trustDomain) {
          throw new ValidationError(`Invalid --sub: ${sub} is not in ${id.state.trustDomain}`);
        }
        console.log(
          await mintJwtSvid(id.jwtKey, {
            sub,
            aud: opts.aud,
            scopes: [opts.scope],
            ttlSeconds,
          }),
        );
      })
    );

  const bundle = identity.command("bundle").description("Trust bundle");
  withDir(bundle.command("export").description("Print the trust bundle"))
    .addOption(
      new Option("--format <format>", "output format").choices(["pem", "jwks"]).default("jwks"),
    )
    .action((opts) =>
      run(async () => {
        const b = bundleOf(await ensureIdentity(opts));
        if (opts.format === "pem") {
          return void Deno.stdout.writeSync(new TextEncoder().encode(bundleToPem(b)));
        }
        console.log(JSON.stringify(await bundleToJwks(b), null, 2));
      })
    );

  identity.command("verify").description("Verify an X.509-SVID against a bundle")
    .argument("<cert>", "certificate chain PEM, leaf first")
    .requiredOption("--bundle <file>", "bundle: PEM certificates or SPIFFE bundle JSON")
    .option("--trust-domain <td>", "required trust domain of the SVID")
    .option("--json", "machine-readable output")
    .action((cert, opts) => run(() => verifyAction(cert, opts)));

  return identity;
}
