/**
 * Identity benchmarks, each against a baseline measured in the same run:
 * - X.509-SVID peer validation (all SPIFFE rules + path validation) vs the bare ECDSA signature
 *   check of the same certificate;
 * - mTLS session setup (TLS + SPIFFE validation both ways + preamble + probe-key HKDF) vs a
 *   plain node:tls handshake with the same certificates and no validation;
 * - probe HMAC seal+open vs one SHA-256 of the same payload;
 * - SVID renewal at the issuer's TLS endpoint (mTLS, new key, CSR, validation both ways) vs the
 *   same renewal in process (new key, CSR, issuer.renew) without the network.
 * Loopback only; every loop bounded. Writes bench/results/identity.json.
 *
 * @module
 */
import tls from "node:tls";
import { createBuiltinIssuer } from "../core/identity/issuer.ts";
import { serveIssuerEndpoint } from "../core/identity/issuer_endpoint.ts";
import { renewWithIssuer } from "../core/identity/join_client.ts";
import { jwtSigningKey } from "../core/identity/jwt.ts";
import { connect, listen } from "../core/identity/mtls.ts";
import { authorizeMemberOf } from "../core/identity/authorize.ts";
import { bundleSetOf, type TrustBundle } from "../core/identity/bundle.ts";
import { createCa } from "../core/identity/ca.ts";
import { generateKeyPair } from "../core/identity/keys.ts";
import { deriveProbeKey, signProbe, verifyProbe } from "../core/identity/probe_auth.ts";
import { staticSvidSource } from "../core/identity/rotation.ts";
import { parseSpiffeId } from "../core/identity/spiffe_id.ts";
import { createCsr, issueX509Svid, svidToTlsPem, type X509Svid } from "../core/identity/svid.ts";
import { validateX509Svid } from "../core/identity/svid_validation.ts";

const HOST = "127.0.0.1";

async function timeOps(n: number, op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(20, n); i++) await op(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await op();
  return (performance.now() - t0) / n;
}

const ca = await createCa("bench.test");
const bundle: TrustBundle = {
  trustDomain: "bench.test",
  x509Authorities: [ca.cert],
  jwtAuthorities: [],
  sequence: 1,
  refreshHintSeconds: 300,
};
const bundles = bundleSetOf(bundle);
const svid = async (name: string): Promise<X509Svid> => {
  const keys = await generateKeyPair();
  const uri = `spiffe://bench.test/node/${name}`;
  const cert = await issueX509Svid(ca, uri, { publicKey: keys.publicKey });
  return { id: parseSpiffeId(uri), chain: [cert], privateKey: keys.privateKey };
};
const server = await svid("server");
const client = await svid("client");
const der = new Uint8Array(client.chain[0].rawData);

const VALIDATIONS = 500;
const validateMs = await timeOps(VALIDATIONS, () => validateX509Svid([der], bundles));
const sigOnlyMs = await timeOps(
  VALIDATIONS,
  () => client.chain[0].verify({ publicKey: ca.cert.publicKey, signatureOnly: true }),
);

const HANDSHAKES = 100;
const serverSrc = await staticSvidSource(server);
const clientSrc = await staticSvidSource(client);
const mtls = await listen({
  host: HOST,
  port: 0,
  svidSource: serverSrc,
  bundleSource: { bundles: () => bundles },
  authorize: authorizeMemberOf("bench.test"),
  onConnection: (s) => s.close(),
});
const mtlsMs = await timeOps(HANDSHAKES, async () => {
  const s = await connect({
    host: HOST,
    port: mtls.port,
    svidSource: clientSrc,
    bundleSource: { bundles: () => bundles },
    authorize: authorizeMemberOf("bench.test"),
  });
  s.socket.destroy();
  await s.closed;
});
await mtls.close();

const spem = await svidToTlsPem(server);
const cpem = await svidToTlsPem(client);
const plain = tls.createServer({ ...spem, requestCert: true, rejectUnauthorized: false }, (s) => {
  s.on("error", () => {});
  s.end();
});
await new Promise<void>((r) => plain.listen(0, HOST, () => r()));
const plainPort = (plain.address() as { port: number }).port;
const plainMs = await timeOps(HANDSHAKES, () =>
  new Promise<void>((resolve, reject) => {
    const s = tls.connect(
      { host: HOST, port: plainPort, ...cpem, rejectUnauthorized: false },
      () => {
        s.destroy();
      },
    );
    s.once("close", () => resolve());
    s.once("error", reject);
  }));
await new Promise<void>((r) => plain.close(() => r()));

const PROBES = 5000;
const key = await deriveProbeKey(
  { client: new Uint8Array(32).fill(1), server: new Uint8Array(32).fill(2) },
  { client: client.id.uri, server: server.id.uri },
);
const payload = new Uint8Array(64).fill(7);
const probeMs = await timeOps(PROBES, async () => verifyProbe(key, await signProbe(key, payload)));
const shaMs = await timeOps(PROBES, () => crypto.subtle.digest("SHA-256", payload));

const RENEWALS = 50;
const kv = await Deno.openKv(":memory:");
const issuer = createBuiltinIssuer({
  ca,
  jwtKey: await jwtSigningKey(await generateKeyPair()),
  kv,
});
const endpoint = await serveIssuerEndpoint({ host: HOST, port: 0, issuer, nodeName: "bench" });
const renewTlsMs = await timeOps(
  RENEWALS,
  () => renewWithIssuer(`https://${HOST}:${endpoint.port}`, client, bundle),
);
const renewLocalMs = await timeOps(RENEWALS, async () => {
  const csr = await createCsr(await generateKeyPair());
  await issuer.renew([der], csr);
});
await endpoint.close();
kv.close();

const results = {
  date: new Date().toISOString(),
  load_average: Deno.loadavg(),
  svid_validation: {
    ops: VALIDATIONS,
    us_per_op: +(validateMs * 1000).toFixed(1),
    baseline_signature_only_us: +(sigOnlyMs * 1000).toFixed(1),
    ratio: +(validateMs / sigOnlyMs).toFixed(2),
  },
  mtls_session_setup: {
    sessions: HANDSHAKES,
    ms_per_session: +mtlsMs.toFixed(2),
    baseline_plain_tls_ms: +plainMs.toFixed(2),
    ratio: +(mtlsMs / plainMs).toFixed(2),
  },
  probe_hmac: {
    ops: PROBES,
    us_per_seal_and_open: +(probeMs * 1000).toFixed(1),
    baseline_sha256_us: +(shaMs * 1000).toFixed(1),
    ratio: +(probeMs / shaMs).toFixed(2),
  },
  svid_renewal: {
    renewals: RENEWALS,
    ms_per_renewal_over_mtls: +renewTlsMs.toFixed(2),
    baseline_in_process_ms: +renewLocalMs.toFixed(2),
    ratio: +(renewTlsMs / renewLocalMs).toFixed(2),
  },
};
console.log(JSON.stringify(results, null, 2));
await Deno.mkdir("bench/results", { recursive: true });
await Deno.writeTextFile("bench/results/identity.json", JSON.stringify(results, null, 2) + "\n");
