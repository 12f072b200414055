/**
 * A real agent process with `SPIFFE_ENDPOINT_SOCKET` set takes its X.509-SVID and bundles from
 * the Workload API: here a stand-in built from the published workload.proto (grpcio), because
 * SPIRE cannot be installed on this machine.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { mtlsFetch } from "../../../core/identity/mtls_https.ts";
import { authorizeMemberOf } from "../../../core/identity/authorize.ts";
import { bundleSetOf, bundleToPem } from "../../../core/identity/bundle.ts";
import { staticSvidSource } from "../../../core/identity/rotation.ts";
import { svidToTlsPem, type X509Svid } from "../../../core/identity/svid.ts";
import { freePort, startAgentProcess } from "../../helpers/agent_process.ts";
import { testDomain } from "./fixtures.ts";
import {
  hasStandInTools,
  skipOrFail,
  STAND_IN_TOOLS,
  standInResponse,
  startStandIn,
} from "./workload_api/stand_in.ts";

/** Serial number of the certificate a TLS server presents to a client holding `client`. */
async function servedSerial(port: number, client: X509Svid): Promise<string> {
  const pem = await svidToTlsPem(client);
  return await new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...pem }, () => {
      const serial = String(s.getPeerCertificate().serialNumber).toLowerCase();
      s.destroy();
      resolve(serial);
    });
    s.on("error", reject);
  });
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

Deno.test("agent with SPIFFE_ENDPOINT_SOCKET: SVID and bundles from a Workload API stand-in (SPIRE cannot be installed here) serve its mTLS listener and /identity; stream rotation is picked up", async (t) => {
  if (!await hasStandInTools()) return skipOrFail(STAND_IN_TOOLS);
  const mesh = await testDomain("mesh.test");
  const fed = await testDomain("fed.test");
  const stranger = await testDomain("stranger.test");
  const s1 = await mesh.svid("node/wl-agent");
  const s2 = await mesh.svid("node/wl-agent");
  const standIn = await startStandIn([
    await standInResponse([s1], mesh.ca.cert, { "spiffe://fed.test": fed.ca.cert }),
    await standInResponse([s2], mesh.ca.cert, { "spiffe://fed.test": fed.ca.cert }),
  ], { delayMs: 0, stepped: true });
  const mtlsPort = freePort();
  const configFile = await Deno.makeTempFile({ prefix: "x0-wl-", suffix: ".json" });
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({
      identity: {
        trust_domain: "mesh.test",
        mtls_api_port: mtlsPort,
        issuer_port: freePort(),
        control_allow_trust_domains: ["fed.test"],
      },
    }),
  );
  let agent: Awaited<ReturnType<typeof startAgentProcess>> | undefined;
  try {
    agent = await startAgentProcess(["--config", configFile], {
      env: { SPIFFE_ENDPOINT_SOCKET: `unix://${standIn.socket}` },
    });
    const url = agent.url;
    const peer = await mesh.svid("node/peer");
    const ask = async (client: X509Svid) =>
      await mtlsFetch(`https://127.0.0.1:${mtlsPort}/health`, {}, {
        svidSource: await staticSvidSource(client),
        bundleSource: {
          bundles: () => bundleSetOf(mesh.bundle, fed.bundle, stranger.bundle),
        },
        authorize: authorizeMemberOf("mesh.test"),
      });

    await t.step("/identity/bundle is the Workload API's bundle of our domain", async () => {
      const pem = await fetch(`${url}/identity/bundle?format=pem`).then((r) => r.text());
      assert.equal(pem, bundleToPem(mesh.bundle));
    });

    await t.step("the mTLS listener presents the Workload API SVID and admits a peer", async () => {
      assert.equal(await servedSerial(mtlsPort, peer), s1.chain[0].serialNumber.toLowerCase());
      const res = await ask(peer);
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.peerId.uri, "spiffe://mesh.test/node/wl-agent");
      await res.body?.cancel();
    });

    await t.step(
      "a peer of the domain federated through the Workload API is admitted; an unknown one is not",
      async () => {
        const fromFed = await ask(await fed.svid("node/partner"));
        assert.equal(fromFed.status, 200);
        await fromFed.body?.cancel();
        const unknown = await ask(await stranger.svid("node/x"));
        assert.equal(unknown.status, 401);
        assert.match(await unknown.text(), /unknown_issuer|wrong_trust_domain/);
      },
    );

    await t.step("a rotation pushed on the stream is served to new handshakes", async () => {
      await standIn.step(1);
      const want = s2.chain[0].serialNumber.toLowerCase();
      assert.ok(
        await waitFor(async () => await servedSerial(mtlsPort, peer) === want, 10_000),
        "the listener still presents the first SVID",
      );
      const res = await ask(peer);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    });

    await t.step("the agent never created a CA of its own", async () => {
      const ca = await Deno.stat(`${agent!.dataDir}/identity/ca.key.pem`).catch(() => null);
      assert.equal(ca, null);
    });
  } finally {
    await agent?.stop();
    await standIn.stop();
    await Deno.remove(configFile);
    if (agent) await Deno.remove(agent.dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("agent with SPIFFE_ENDPOINT_SOCKET of another trust domain than identity.trust_domain refuses to start (Workload API stand-in; SPIRE cannot be installed here)", async () => {
  if (!await hasStandInTools()) return skipOrFail(STAND_IN_TOOLS);
  const other = await testDomain("other.test");
  const standIn = await startStandIn([
    await standInResponse([await other.svid("node/x")], other.ca.cert),
  ]);
  try {
    await assert.rejects(
      startAgentProcess([], {
        env: { SPIFFE_ENDPOINT_SOCKET: `unix://${standIn.socket}` },
        timeoutMs: 15_000,
      }),
      /Workload API gave an SVID of other\.test but identity\.trust_domain is x0tta6bl4\.mesh/,
    );
  } finally {
    await standIn.stop();
  }
});
