import assert from "node:assert/strict";
import dgram from "node:dgram";
import { connect, listen, type MtlsSession } from "../../../core/identity/mtls.ts";
import { authorizeMemberOf } from "../../../core/identity/authorize.ts";
import { staticSvidSource } from "../../../core/identity/rotation.ts";
import { createProbeKeyring, signProbe } from "../../../core/identity/probe_auth.ts";
import { registry } from "../../../core/telemetry/metrics.ts";
import { fixedBundles, testDomain } from "./fixtures.ts";

const rejectedTotal = async () =>
  ((await registry.getSingleMetric("x0_probe_auth_rejected_total")?.get())?.values ?? [])
    .reduce((s, v) => s + v.value, 0);

Deno.test("UDP probes keyed over the mTLS session: genuine ones pass, forged ones are dropped and counted", async () => {
  const mesh = await testDomain("mesh.test");
  const bundles = fixedBundles(mesh.bundle);
  const serverSide = createProbeKeyring();
  let accepted!: (s: MtlsSession) => void;
  const serverSession = new Promise<MtlsSession>((r) => accepted = r);
  const server = await listen({
    host: "127.0.0.1",
    port: 0,
    svidSource: await staticSvidSource(await mesh.svid("node/b")),
    bundleSource: bundles,
    authorize: authorizeMemberOf("mesh.test"),
    onConnection(session, peerId) {
      serverSide.set(peerId.uri, session.probeKey);
      accepted(session);
    },
  });
  const session = await connect({
    host: "127.0.0.1",
    port: server.port,
    svidSource: await staticSvidSource(await mesh.svid("node/a")),
    bundleSource: bundles,
    authorize: authorizeMemberOf("mesh.test"),
  });
  const clientSide = createProbeKeyring();
  clientSide.set(session.peerId.uri, session.probeKey);
  const peerA = session.localId.uri;
  const rx = dgram.createSocket("udp4");
  const tx = dgram.createSocket("udp4");
  try {
    await new Promise<void>((r) => rx.bind(0, "127.0.0.1", () => r()));
    const port = rx.address().port;
    const packets: Uint8Array[] = [];
    const want = 8;
    const got = new Promise<void>((resolve) =>
      rx.on("message", (m: Uint8Array) => {
        packets.push(new Uint8Array(m));
        if (packets.length === want) resolve();
      })
    );
    const send = (p: Uint8Array) =>
      new Promise<void>((r) => tx.send(p, port, "127.0.0.1", () => r()));
    const enc = (i: number) => new TextEncoder().encode(`probe seq=${i}`);
    for (let i = 0; i < 5; i++) await send(await clientSide.seal(session.peerId.uri, enc(i)));
    const wrongKey = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ])) as CryptoKey;
    await send(await signProbe(wrongKey, enc(99)));
    const tampered = await clientSide.seal(session.peerId.uri, enc(5));
    tampered[6] ^= 0x20;
    await send(tampered);
    await send(enc(7));
    await got;
    const before = await rejectedTotal();
    const opened = await Promise.all(packets.map((p) => serverSide.open(peerA, p)));
    const ok = opened.filter((p) => p !== null).map((p) => new TextDecoder().decode(p!));
    assert.deepEqual(ok.sort(), [0, 1, 2, 3, 4].map((i) => `probe seq=${i}`));
    assert.equal(await rejectedTotal(), before + 3);
  } finally {
    rx.close();
    tx.close();
    session.close();
    await session.closed;
    (await serverSession).close();
    await server.close();
  }
});
