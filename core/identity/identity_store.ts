/**
 * On-disk identity state under `<data-dir>/identity/`: the CA and JWT-SVID key (issuer nodes
 * only), the node's own SVID and key, the trust bundle and a small state file. Files are written
 * to a temporary name and renamed; private keys are mode 0600.
 *
 * @module
 */
import * as x509 from "./x509.ts";
import { ConfigError, NotFoundError, ValidationError } from "../errors.ts";
import { createCa, type TrustDomainCa } from "./ca.ts";
import { generateKeyPair, importKeyPair, privateKeyToPem } from "./keys.ts";
import { type JwtSigningKey, jwtSigningKey } from "./jwt.ts";
import { bytesEqual, decodePem, encodePem } from "./pem.ts";
import { parseTrustDomain, spiffeIdFromParts } from "./spiffe_id.ts";
import { DEFAULT_SVID_TTL_MS, issueX509Svid, type X509Svid } from "./svid.ts";
import { parseSpiffeId } from "./spiffe_id.ts";
import { bundleToJwks, parseJwksBundle, type TrustBundle } from "./bundle.ts";

/** The small JSON state file. */
export interface IdentityState {
  /** The trust domain name. */
  trustDomain: string;
  /** This node's SPIFFE ID. */
  spiffeId: string;
  /** Current bundle sequence. */
  bundleSequence: number;
  /** Whether this node holds the trust-domain CA. */
  issuer: boolean;
}

/** Everything loaded from disk. */
export interface LoadedIdentity {
  /** The state file. */
  readonly state: IdentityState;
  /** The CA, on issuer nodes. */
  readonly ca?: TrustDomainCa;
  /** The JWT-SVID signing key, on issuer nodes. */
  readonly jwtKey?: JwtSigningKey;
  /** The node's own SVID, when it has one. */
  readonly svid?: X509Svid;
  /** The trust bundle: built from the CA and JWT key on issuers, bundle.json on members. */
  readonly bundle?: TrustBundle;
}

const FILES = {
  state: "state.json",
  caCert: "ca.pem",
  caKey: "ca.key.pem",
  jwtKey: "jwt.key.pem",
  svid: "svid.pem",
  svidKey: "svid.key.pem",
  bundle: "bundle.json",
  kv: "tokens.kv",
  issuerEndpoint: "issuer_endpoint.pem",
} as const;

/** Returns `<dataDir>/identity`. */
export function identityDir(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "")}/identity`;
}

/** Returns the path of one identity file. */
export function identityFile(dataDir: string, name: keyof typeof FILES): string {
  return `${identityDir(dataDir)}/${FILES[name]}`;
}

/**
 * Writes a file atomically: a temporary file in the same directory (with `mode`), then rename.
 *
 * @param path destination
 * @param data contents
 * @param options file mode (default 0644; use 0600 for private keys)
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  options: { mode?: number } = {},
): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const mode = options.mode ?? 0o644;
  try {
    await Deno.writeTextFile(tmp, data, { mode, createNew: true });
    await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

const exists = async (p: string) => {
  try {
    await Deno.stat(p);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
};

/** Returns true when `<dataDir>/identity/state.json` exists. */
export function isIdentityInitialized(dataDir: string): Promise<boolean> {
  return exists(identityFile(dataDir, "state"));
}

/**
 * Initializes an issuer node: a new CA and JWT-SVID key for `trustDomain` and an SVID for
 * `spiffe://<td>/node/<nodeName>`. Refuses to overwrite existing state.
 *
 * @param dataDir the data directory
 * @param options trust domain, node name, SVID lifetime
 */
export async function initIssuerIdentity(
  dataDir: string,
  options: { trustDomain: string; nodeName: string; svidTtlMs?: number },
): Promise<LoadedIdentity> {
  parseTrustDomain(options.trustDomain);
  const id = spiffeIdFromParts(options.trustDomain, "node", options.nodeName);
  if (await isIdentityInitialized(dataDir)) {
    throw new ValidationError(`Identity already initialized in ${identityDir(dataDir)}`);
  }
  await Deno.mkdir(identityDir(dataDir), { recursive: true, mode: 0o700 });
  const ca = await createCa(options.trustDomain);
  const jwtKeys = await generateKeyPair();
  const jwtKey = await jwtSigningKey(jwtKeys);
  const nodeKeys = await generateKeyPair();
  const cert = await issueX509Svid(ca, id.uri, {
    publicKey: nodeKeys.publicKey,
    ttlMs: options.svidTtlMs ?? DEFAULT_SVID_TTL_MS,
  });
  const svid: X509Svid = { id, chain: [cert], privateKey: nodeKeys.privateKey };
  await writeFileAtomic(identityFile(dataDir, "caKey"), await privateKeyToPem(ca.keys.privateKey), {
    mode: 0o600,
  });
  await writeFileAtomic(identityFile(dataDir, "caCert"), encodePem("CERTIFICATE", ca.cert.rawData));
  await writeFileAtomic(
    identityFile(dataDir, "jwtKey"),
    await privateKeyToPem(jwtKeys.privateKey),
    {
      mode: 0o600,
    },
  );
  await saveSvid(dataDir, svid);
  const state: IdentityState = {
    trustDomain: options.trustDomain,
    spiffeId: id.uri,
    bundleSequence: 1,
    issuer: true,
  };
  await writeFileAtomic(identityFile(dataDir, "state"), JSON.stringify(state, null, 2) + "\n");
  return { state, ca, jwtKey, svid, bundle: issuerBundle(state, ca, jwtKey) };
}

const issuerBundle = (
  state: IdentityState,
  ca: TrustDomainCa,
  jwtKey: JwtSigningKey,
): TrustBundle => ({
  trustDomain: state.trustDomain,
  x509Authorities: [ca.cert],
  jwtAuthorities: [jwtKey.authority],
  sequence: state.bundleSequence,
  refreshHintSeconds: 300,
});

/**
 * Initializes a member node from an SVID and bundle obtained by attestation.
 *
 * @param dataDir the data directory
 * @param obtained the SVID (with key) and the trust domain's bundle
 */
export async function initMemberIdentity(
  dataDir: string,
  obtained: { svid: X509Svid; bundle: TrustBundle },
): Promise<LoadedIdentity> {
  if (await isIdentityInitialized(dataDir)) {
    throw new ValidationError(`Identity already initialized in ${identityDir(dataDir)}`);
  }
  await Deno.mkdir(identityDir(dataDir), { recursive: true, mode: 0o700 });
  await saveSvid(dataDir, obtained.svid);
  await saveBundle(dataDir, obtained.bundle);
  const state: IdentityState = {
    trustDomain: obtained.svid.id.trustDomain,
    spiffeId: obtained.svid.id.uri,
    bundleSequence: obtained.bundle.sequence,
    issuer: false,
  };
  await writeFileAtomic(identityFile(dataDir, "state"), JSON.stringify(state, null, 2) + "\n");
  return { state, svid: obtained.svid, bundle: obtained.bundle };
}

/**
 * Stores a member node's copy of the trust bundle (SPIFFE bundle JSON).
 *
 * @param dataDir the data directory
 * @param bundle the bundle
 */
export async function saveBundle(dataDir: string, bundle: TrustBundle): Promise<void> {
  await writeFileAtomic(
    identityFile(dataDir, "bundle"),
    JSON.stringify(await bundleToJwks(bundle), null, 2) + "\n",
  );
}

/**
 * Stores the node's SVID (chain PEM, key 0600).
 *
 * @param dataDir the data directory
 * @param svid the SVID with its private key
 */
export async function saveSvid(dataDir: string, svid: X509Svid): Promise<void> {
  if (!svid.privateKey) throw new ValidationError("Cannot save an SVID without its private key");
  await writeFileAtomic(identityFile(dataDir, "svidKey"), await privateKeyToPem(svid.privateKey), {
    mode: 0o600,
  });
  await writeFileAtomic(
    identityFile(dataDir, "svid"),
    svid.chain.map((c) => encodePem("CERTIFICATE", c.rawData)).join(""),
  );
}

/**
 * Stores the issuer endpoint's SVID so the next start can serve it again instead of minting one
 * (a key pair and a signature: most of an issuer's identity start-up). Chain and key go into one
 * file (0600) in one atomic write, so they always belong together.
 *
 * @param dataDir the data directory
 * @param svid the endpoint's SVID with its private key
 */
export async function saveEndpointSvid(dataDir: string, svid: X509Svid): Promise<void> {
  if (!svid.privateKey) throw new ValidationError("Cannot save an SVID without its private key");
  await writeFileAtomic(
    identityFile(dataDir, "issuerEndpoint"),
    svid.chain.map((c) => encodePem("CERTIFICATE", c.rawData)).join("") +
      await privateKeyToPem(svid.privateKey),
    { mode: 0o600 },
  );
}

/**
 * Loads the issuer endpoint's SVID saved by {@link saveEndpointSvid}. Null when there is none or
 * it does not parse, or when its key is not the leaf certificate's (the caller mints a new one);
 * whether it is still current (CA, ID, lifetime) is the endpoint's to judge.
 *
 * @param dataDir the data directory
 */
export async function loadEndpointSvid(dataDir: string): Promise<X509Svid | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(identityFile(dataDir, "issuerEndpoint"));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  try {
    const chain = decodePem(text, "CERTIFICATE").map((b) => new x509.X509Certificate(b.der));
    if (chain.length === 0) return null;
    const keys = await importKeyPair(text);
    const spki = await crypto.subtle.exportKey("spki", keys.publicKey);
    if (!bytesEqual(spki, chain[0].publicKey.rawData)) return null;
    const uri = chain[0].getExtension(x509.SubjectAlternativeNameExtension)?.names.items.find((
      n,
    ) => n.type === "url")?.value;
    if (!uri) return null;
    return { id: parseSpiffeId(uri), chain, privateKey: keys.privateKey };
  } catch {
    return null;
  }
}

const readCert = async (path: string) => {
  const block = decodePem(await Deno.readTextFile(path), "CERTIFICATE")[0];
  if (!block) throw new ConfigError(`Invalid identity file ${path}: no certificate`);
  return new x509.X509Certificate(block.der);
};

/**
 * Loads the identity state from `<dataDir>/identity`.
 *
 * @param dataDir the data directory
 */
export async function loadIdentity(dataDir: string): Promise<LoadedIdentity> {
  const statePath = identityFile(dataDir, "state");
  if (!await exists(statePath)) {
    throw new NotFoundError(`Identity not initialized: ${statePath} does not exist`);
  }
  const state = JSON.parse(await Deno.readTextFile(statePath)) as IdentityState;
  parseTrustDomain(state.trustDomain);
  const id = parseSpiffeId(state.spiffeId);
  let ca: TrustDomainCa | undefined;
  let jwtKey: JwtSigningKey | undefined;
  if (state.issuer) {
    const keys = await importKeyPair(await Deno.readTextFile(identityFile(dataDir, "caKey")));
    ca = {
      trustDomain: state.trustDomain,
      cert: await readCert(identityFile(dataDir, "caCert")),
      keys,
    };
    jwtKey = await jwtSigningKey(
      await importKeyPair(await Deno.readTextFile(identityFile(dataDir, "jwtKey"))),
    );
  }
  let bundle: TrustBundle | undefined;
  if (ca && jwtKey) bundle = issuerBundle(state, ca, jwtKey);
  else if (await exists(identityFile(dataDir, "bundle"))) {
    bundle = parseJwksBundle(
      state.trustDomain,
      await Deno.readTextFile(identityFile(dataDir, "bundle")),
    );
  }
  let svid: X509Svid | undefined;
  if (await exists(identityFile(dataDir, "svid"))) {
    const chain = decodePem(await Deno.readTextFile(identityFile(dataDir, "svid")), "CERTIFICATE")
      .map((b) => new x509.X509Certificate(b.der));
    const keys = await importKeyPair(await Deno.readTextFile(identityFile(dataDir, "svidKey")));
    svid = { id, chain, privateKey: keys.privateKey };
  }
  return { state, ca, jwtKey, svid, bundle };
}

/** Opens the identity KV store (join tokens) at `<dataDir>/identity/tokens.kv`. */
export async function openIdentityKv(dataDir: string): Promise<Deno.Kv> {
  await Deno.mkdir(identityDir(dataDir), { recursive: true, mode: 0o700 });
  return await Deno.openKv(identityFile(dataDir, "kv"));
}
