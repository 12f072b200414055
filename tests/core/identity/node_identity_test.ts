import assert from "node:assert/strict";
import { startNodeIdentity } from "../../../core/identity/node_identity.ts";
import { connect, listen, type MtlsSession } from "../../../core/identity/mtls.ts";
import { authorizePathPrefix } from "../../../core/identity/authorize.ts";
import { renewWithIssuer } from "../../../core/identity/join_client.ts";
import { generateKeyPair } from "../../../core/identity/keys.ts";
import { AuthError } from "../../../core/errors.ts";

const hex = (b: ArrayBuffer) =>
  Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("node identity: issuer node, member joins at the issuer's TLS endpoint, mTLS between them, renewal keeps the session", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "x0-node-identity-" });
  const common = { trustDomain: "mesh.test", apiAudience: "x0tta6bl4-api" };
  const issuerNode = await startNodeIdentity({
    ...common,
    dataDir: `${root}/issuer`,
    nodeName: "issuer",
    role: "issuer",
    issuerEndpoint: { host: "127.0.0.1", port: 0 },
  });
  const issuerUrl = `https://127.0.0.1:${issuerNode.issuerEndpointPort}`;
  const caSha256 = hex(await crypto.subtle.digest("SHA-256", issuerNode.issuer!.ca.cert.rawData));
  const sessions: MtlsSession[] = [];
  const server = await listen({
    host: "127.0.0.1",
    port: 0,
    svidSource: issuerNode.svidSource,
    bundleSource: issuerNode.bundleSource,
    authorize: authorizePathPrefix("mesh.test", "/node"),
    onConnection(s) {
      sessions.push(s);
      s.socket.on("data", (d: Uint8Array) => s.socket.write(d));
    },
  });
  let member: Awaited<ReturnType<typeof startNodeIdentity>> | undefined;
  try {
    const { token } = await issuerNode.issuer!.createJoinToken({ nodeName: "m1" });
    const memberConfig = {
      ...common,
      dataDir: `${root}/m1`,
      nodeName: "m1",
      role: "member" as const,
      issuerUrl,
      caSha256,
    };

    await t.step(
      "a member attests with a join token (CA pinned) and gets spiffe://mesh.test/node/m1",
      async () => {
        member = await startNodeIdentity({ ...memberConfig, joinToken: token });
        assert.equal(member.svidSource.current().id.uri, "spiffe://mesh.test/node/m1");
      },
    );

    await t.step("the same join token cannot be replayed by another node", async () => {
      await assert.rejects(
        startNodeIdentity({
          ...memberConfig,
          dataDir: `${root}/m2`,
          nodeName: "m2",
          joinToken: token,
        }),
        (e: unknown) => e instanceof AuthError && /Join token rejected/.test(e.message),
      );
    });

    await t.step("a wrong CA pin is refused", async () => {
      const { token: t2 } = await issuerNode.issuer!.createJoinToken({ nodeName: "m3" });
      await assert.rejects(
        startNodeIdentity({
          ...memberConfig,
          dataDir: `${root}/m3`,
          nodeName: "m3",
          joinToken: t2,
          caSha256: "00".repeat(32),
        }),
        /pinned CA/,
      );
    });

    await t.step(
      "member and issuer talk over mTLS; renewal over mTLS keeps the live session",
      async () => {
        const dial = () =>
          connect({
            host: "127.0.0.1",
            port: server.port,
            svidSource: member!.svidSource,
            bundleSource: member!.bundleSource,
            authorize: authorizePathPrefix("mesh.test", "/node"),
          });
        const live = await dial();
        const echo = async (s: MtlsSession, m: string) => {
          const got = new Promise<string>((r) =>
            s.socket.once("data", (d: Uint8Array) => r(new TextDecoder().decode(d)))
          );
          s.socket.write(m);
          return await got;
        };
        assert.equal(await echo(live, "one"), "one");
        const before = member!.svidSource.current().chain[0].serialNumber;
        const renewed = await member!.rotateNow!();
        const issuerRenewed = await issuerNode.rotateNow!();
        assert.notEqual(renewed.chain[0].serialNumber, before);
        assert.equal(await echo(live, "two"), "two", "established session survives both rotations");
        const fresh = await dial();
        assert.equal(sessions.at(-1)!.peerChain[0].length > 0, true);
        assert.deepEqual(
          new Uint8Array(sessions.at(-1)!.peerChain[0]),
          new Uint8Array(renewed.chain[0].rawData),
        );
        assert.deepEqual(
          new Uint8Array(fresh.peerChain[0]),
          new Uint8Array(issuerRenewed.chain[0].rawData),
        );
        live.close();
        fresh.close();
        await Promise.all([live.closed, fresh.closed]);
      },
    );

    await t.step(
      "renewal without the current private key is impossible (the certificate alone is public)",
      async () => {
        const stolen = {
          ...member!.svidSource.current(),
          privateKey: (await generateKeyPair()).privateKey,
        };
        // TLS client authentication signs with the key: a certificate without it is not sent.
        await assert.rejects(renewWithIssuer(issuerUrl, stolen, issuerNode.localBundle()));
      },
    );

    await t.step("a restarted member loads its identity from disk without a token", async () => {
      const serial = member!.svidSource.current().chain[0].serialNumber;
      await member!.close();
      member = await startNodeIdentity(memberConfig);
      assert.equal(member.svidSource.current().chain[0].serialNumber, serial);
      const mode = (await Deno.stat(`${root}/m1/identity/svid.key.pem`)).mode! & 0o777;
      assert.equal(mode, 0o600);
    });
  } finally {
    await member?.close();
    await server.close();
    await issuerNode.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("node identity: two trust domains federate over their bundle endpoints and talk mTLS across domains", async () => {
  const root = await Deno.makeTempDir({ prefix: "x0-node-fed-" });
  const a = await startNodeIdentity({
    dataDir: `${root}/a`,
    trustDomain: "a.test",
    nodeName: "ra",
    role: "issuer",
    apiAudience: "api",
    bundleEndpoint: { host: "127.0.0.1", port: 0 },
  });
  let b: Awaited<ReturnType<typeof startNodeIdentity>> | undefined;
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  try {
    b = await startNodeIdentity({
      dataDir: `${root}/b`,
      trustDomain: "b.test",
      nodeName: "rb",
      role: "issuer",
      apiAudience: "api",
      federation: [{
        trustDomain: "a.test",
        bundleEndpointUrl: `https://127.0.0.1:${a.bundleEndpointPort}/`,
        endpointSpiffeId: "spiffe://a.test/node/ra",
        initialBundle: a.localBundle(),
      }],
    });
    for (let i = 0; i < 100 && b.bundleSource.bundles().get("a.test")?.sequence !== 1; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual([...b.bundleSource.bundles().keys()].sort(), ["a.test", "b.test"]);
    server = await listen({
      host: "127.0.0.1",
      port: 0,
      svidSource: b.svidSource,
      bundleSource: b.bundleSource,
      authorize: authorizePathPrefix("a.test", "/node"),
      onConnection: (s) => s.close(),
    });
    // a does not federate with b, so a trusts b only through an explicit bundle here.
    const s = await connect({
      host: "127.0.0.1",
      port: server.port,
      svidSource: a.svidSource,
      bundleSource: {
        bundles: () => new Map([...a.bundleSource.bundles(), ["b.test", b!.localBundle()]]),
      },
      authorize: authorizePathPrefix("b.test", "/node"),
    });
    assert.equal(s.peerId.uri, "spiffe://b.test/node/rb");
    s.close();
    await s.closed;
  } finally {
    await server?.close();
    await b?.close();
    await a.close();
    await Deno.remove(root, { recursive: true });
  }
});
