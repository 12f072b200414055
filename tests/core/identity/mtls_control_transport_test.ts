import assert from "node:assert/strict";
import { type ControlTransport, frame, readFrames } from "../../../core/mesh/transport.ts";
import {
  type MtlsControlConn,
  mtlsControlTransport,
} from "../../../core/identity/mtls_control_transport.ts";
import { authorizePathPrefix } from "../../../core/identity/authorize.ts";
import { staticSvidSource } from "../../../core/identity/rotation.ts";
import { signProbe, verifyProbe } from "../../../core/identity/probe_auth.ts";
import type { AuthError } from "../../../core/errors.ts";
import { fixedBundles, testDomain } from "./fixtures.ts";

const freePort = () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
};

Deno.test("mtlsControlTransport() fits the mesh ControlTransport shape and carries framed traffic", async () => {
  const mesh = await testDomain("mesh.test");
  const other = await testDomain("other.test");
  const bundles = fixedBundles(mesh.bundle, other.bundle);
  const sessions: MtlsControlConn[] = [];
  const make = async (path: string, domain = mesh) =>
    mtlsControlTransport({
      svidSource: await staticSvidSource(await domain.svid(path)),
      bundleSource: bundles,
      authorize: authorizePathPrefix("mesh.test", "/node"),
      onSession: (c) => sessions.push(c),
    });
  // Compile-time check: the mesh layer can take this transport as its ControlTransport.
  const serverT: ControlTransport = await make("node/b");
  const clientT: ControlTransport = await make("node/a");
  const port = freePort();
  const listener = serverT.listen({ hostname: "127.0.0.1", port });
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        try {
          for await (const f of readFrames(conn.readable)) await conn.write(frame(f.reverse()));
        } catch { /* peer went away */ }
      })();
    }
  })();
  try {
    let conn: Awaited<ReturnType<ControlTransport["connect"]>> | undefined;
    for (let i = 0; i < 50 && !conn; i++) {
      conn = await clientT.connect({ hostname: "127.0.0.1", port, timeoutMs: 2000 }).catch(() => {
        return new Promise<undefined>((r) => setTimeout(() => r(undefined), 20));
      });
    }
    assert.ok(conn, "connected");
    await conn.write(frame(new Uint8Array([1, 2, 3])));
    const frames = readFrames(conn.readable);
    const first = await frames.next();
    assert.deepEqual(first.value, new Uint8Array([3, 2, 1]));
    assert.equal(conn.remoteAddress, "127.0.0.1");
    assert.equal(sessions.length, 2, "onSession ran on both ends");
    const [a, b] = sessions;
    assert.notEqual(a.peerId.uri, b.peerId.uri);
    const sealed = await signProbe(a.probeKey, new Uint8Array([9]));
    assert.ok(await verifyProbe(b.probeKey, sealed), "both ends hold the same probe key");

    const intruder = await make("node/x", other);
    await assert.rejects(
      intruder.connect({ hostname: "127.0.0.1", port, timeoutMs: 2000 }),
      (e: AuthError) => e.details?.reason === "unauthorized",
    );
    await frames.return(undefined);
    conn.close();
  } finally {
    listener.close();
    await serving;
  }
});
