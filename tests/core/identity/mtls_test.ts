import assert from "node:assert/strict";
import { connect, listen, type MtlsSession } from "../../../core/identity/mtls.ts";
import { authorizeId, authorizeMemberOf } from "../../../core/identity/authorize.ts";
import { rotatingSvidSource, staticSvidSource } from "../../../core/identity/rotation.ts";
import { signProbe, verifyProbe } from "../../../core/identity/probe_auth.ts";
import type { AuthError } from "../../../core/errors.ts";
import { fixedBundles, testDomain } from "./fixtures.ts";
import tls from "node:tls";

const HOST = "127.0.0.1";

/** Echo server helper: echoes every chunk back on each session. */
async function echoServer(
  svid: Awaited<ReturnType<typeof staticSvidSource>>,
  bundles: ReturnType<typeof fixedBundles>,
  td: string,
) {
  const sessions: MtlsSession[] = [];
  const rejects: string[] = [];
  const server = await listen({
    host: HOST,
    port: 0,
    svidSource: svid,
    bundleSource: bundles,
    authorize: authorizeMemberOf(td),
    onConnection(session) {
      sessions.push(session);
      session.socket.on("data", (d: Uint8Array) => session.socket.write(d));
    },
    onReject: (r) => rejects.push(r.reason),
  });
  return { server, sessions, rejects };
}

const roundTrip = async (s: MtlsSession, msg: string): Promise<string> => {
  const got = new Promise<string>((resolve) =>
    s.socket.once("data", (d: Uint8Array) => resolve(new TextDecoder().decode(d)))
  );
  s.socket.write(msg);
  return await got;
};

Deno.test("mtls: mutual SPIFFE authentication on loopback", async (t) => {
  const mesh = await testDomain("mesh.test");
  const other = await testDomain("other.test");
  const serverSvid = await staticSvidSource(await mesh.svid("node/server"));
  const bundles = fixedBundles(mesh.bundle, other.bundle);
  const { server, rejects } = await echoServer(serverSvid, bundles, "mesh.test");
  const dial = async (svid: Parameters<typeof staticSvidSource>[0]) =>
    connect({
      host: HOST,
      port: server.port,
      svidSource: await staticSvidSource(svid),
      bundleSource: bundles,
      authorize: authorizeId("spiffe://mesh.test/node/server"),
      handshakeTimeoutMs: 3000,
    });
  try {
    await t.step("a valid member connects and both sides agree on IDs and probe key", async () => {
      const s = await dial(await mesh.svid("node/a"));
      assert.equal(s.peerId.uri, "spiffe://mesh.test/node/server");
      assert.equal(await roundTrip(s, "hello"), "hello");
      const signed = await signProbe(s.probeKey, new TextEncoder().encode("probe-1"));
      assert.equal(server.sessionCount(), 1);
      s.close();
      await s.closed;
      assert.ok(signed.length > 7);
    });

    await t.step("a client without a certificate cannot connect", async () => {
      const before = rejects.length;
      const err = await new Promise<Error>((resolve) => {
        const sock = tls.connect({ host: HOST, port: server.port, rejectUnauthorized: false });
        const chunks: Uint8Array[] = [];
        sock.on("data", (d: Uint8Array) => chunks.push(d));
        sock.on(
          "close",
          () => resolve(new Error(new TextDecoder().decode(chunks[0]?.subarray(6)))),
        );
        sock.on("error", () => {});
      });
      assert.match(err.message, /no_certificate/);
      assert.equal(rejects.length, before + 1);
      assert.equal(rejects.at(-1), "no_certificate");
    });

    await t.step("a client with a wrong-domain certificate cannot connect", async () => {
      await assert.rejects(dial(await other.svid("node/intruder")), (e: AuthError) => {
        assert.equal(e.details?.reason, "unauthorized");
        return true;
      });
      assert.equal(rejects.at(-1), "unauthorized");
    });

    await t.step(
      "a client certified by an unknown CA claiming our domain cannot connect",
      async () => {
        const rogue = await testDomain("mesh.test");
        await assert.rejects(dial(await rogue.svid("node/forged")), (e: AuthError) => {
          assert.equal(e.details?.reason, "unknown_issuer");
          return true;
        });
      },
    );

    await t.step("a client with an expired certificate cannot connect", async () => {
      const expired = await mesh.svid("node/old", {
        now: new Date(Date.now() - 3 * 3600_000),
        ttlMs: 3600_000,
      });
      await assert.rejects(dial(expired), (e: AuthError) => {
        assert.equal(e.details?.reason, "expired");
        return true;
      });
      assert.equal(rejects.at(-1), "expired");
    });

    await t.step("the client refuses a server outside its authorization", async () => {
      const s2 = await staticSvidSource(await mesh.svid("node/not-the-server"));
      const { server: srv2 } = await echoServer(s2, bundles, "mesh.test");
      try {
        await assert.rejects(
          connect({
            host: HOST,
            port: srv2.port,
            svidSource: await staticSvidSource(await mesh.svid("node/a")),
            bundleSource: bundles,
            authorize: authorizeId("spiffe://mesh.test/node/server"),
          }),
          (e: AuthError) => e.details?.reason === "unauthorized",
        );
      } finally {
        await srv2.close();
      }
    });
  } finally {
    await server.close();
  }
});

Deno.test("mtls: SVID rotation keeps a live session and new handshakes use the new cert", async () => {
  const mesh = await testDomain("mesh.test");
  const bundles = fixedBundles(mesh.bundle);
  const first = await mesh.svid("node/server");
  const serverSvid = await staticSvidSource(first);
  const { server, sessions } = await echoServer(serverSvid, bundles, "mesh.test");
  const clientSvid = await staticSvidSource(await mesh.svid("node/a"));
  const opts = {
    host: HOST,
    port: server.port,
    svidSource: clientSvid,
    bundleSource: bundles,
    authorize: authorizeMemberOf("mesh.test"),
  };
  try {
    const live = await connect(opts);
    const serial1 = first.chain[0].serialNumber;
    let exchanged = 0;
    for (let i = 0; i < 5; i++) {
      assert.equal(await roundTrip(live, `before-${i}`), `before-${i}`);
      exchanged++;
    }
    const second = await mesh.svid("node/server");
    await serverSvid.set(second);
    await clientSvid.set(await mesh.svid("node/a"));
    for (let i = 0; i < 5; i++) {
      assert.equal(await roundTrip(live, `after-${i}`), `after-${i}`);
      exchanged++;
    }
    assert.equal(exchanged, 10);
    const fresh = await connect(opts);
    const seen = new Uint8Array(fresh.peerChain[0]);
    assert.deepEqual(seen, new Uint8Array(second.chain[0].rawData));
    assert.notEqual(second.chain[0].serialNumber, serial1);
    // The server saw the client's new certificate too.
    assert.equal(sessions.length, 2);
    assert.deepEqual(
      new Uint8Array(sessions[1].peerChain[0]),
      new Uint8Array(clientSvid.current().chain[0].rawData),
    );
    // The old session is still open and both ends derived the same probe key per session.
    const probe = await signProbe(live.probeKey, new TextEncoder().encode("p"));
    assert.ok(await verifyProbe(sessions[0].probeKey, probe));
    assert.equal(await verifyProbe(sessions[1].probeKey, probe), null);
    live.close();
    fresh.close();
    await Promise.all([live.closed, fresh.closed]);
  } finally {
    await server.close();
  }
});

Deno.test("mtls: connect() gives up on a peer that never completes the handshake", async () => {
  const mesh = await testDomain("mesh.test");
  const silent = Deno.listen({ hostname: HOST, port: 0 });
  const accepted: Deno.Conn[] = [];
  const acceptLoop = (async () => {
    for await (const c of silent) accepted.push(c);
  })();
  try {
    const t0 = Date.now();
    await assert.rejects(
      connect({
        host: HOST,
        port: (silent.addr as Deno.NetAddr).port,
        svidSource: await staticSvidSource(await mesh.svid("node/a")),
        bundleSource: fixedBundles(mesh.bundle),
        authorize: authorizeMemberOf("mesh.test"),
        handshakeTimeoutMs: 300,
      }),
      /timed out/,
    );
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    silent.close();
    for (const c of accepted) c.close();
    await acceptLoop;
  }
});

Deno.test("mtls: a stream of numbered messages over web streams loses nothing across rotations of both sides", async () => {
  const mesh = await testDomain("mesh.test");
  const bundles = fixedBundles(mesh.bundle);
  const serverSvid = await rotatingSvidSource(await mesh.svid("node/server"), {
    renew: () => mesh.svid("node/server"),
  });
  const clientSvid = await rotatingSvidSource(await mesh.svid("node/client"), {
    renew: () => mesh.svid("node/client"),
  });
  const received: number[] = [];
  let serverDone!: () => void;
  const allReceived = new Promise<void>((r) => serverDone = r);
  const N = 200;
  const server = await listen({
    host: HOST,
    port: 0,
    svidSource: serverSvid,
    bundleSource: bundles,
    authorize: authorizeMemberOf("mesh.test"),
    async onConnection(session) {
      try {
        await consume(session);
      } finally {
        serverDone();
      }
    },
  });
  async function consume(session: MtlsSession) {
    let buf = "";
    for await (const chunk of session.readable) {
      buf += new TextDecoder().decode(chunk);
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) received.push(Number(l));
      if (received.length === N) break;
    }
    const w = session.writable.getWriter();
    await w.write(new TextEncoder().encode(`got ${received.length}\n`));
    await w.close();
  }
  try {
    const s = await connect({
      host: HOST,
      port: server.port,
      svidSource: clientSvid,
      bundleSource: bundles,
      authorize: authorizeMemberOf("mesh.test"),
    });
    const writer = s.writable.getWriter();
    const serials = new Set<string>();
    for (let i = 0; i < N; i++) {
      if (i === 50 || i === 150) {
        serials.add((await serverSvid.rotateNow()).chain[0].serialNumber);
        serials.add((await clientSvid.rotateNow()).chain[0].serialNumber);
      }
      await writer.write(new TextEncoder().encode(`${i}\n`));
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await allReceived;
    const reader = s.readable.getReader();
    let reply = "";
    while (!reply.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      reply += new TextDecoder().decode(value);
    }
    assert.equal(reply, `got ${N}\n`);
    assert.deepEqual(received, Array.from({ length: N }, (_, i) => i), "every message, in order");
    assert.equal(serials.size, 4, "four rotations happened mid-stream");
    reader.releaseLock();
    writer.releaseLock();
    s.socket.destroy();
    await s.closed;
  } finally {
    serverSvid.stop();
    clientSvid.stop();
    await server.close();
  }
});
