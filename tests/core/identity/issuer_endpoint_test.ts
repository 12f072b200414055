import assert from "node:assert/strict";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import { createCa } from "../../../core/identity/ca.ts";
import { createBuiltinIssuer } from "../../../core/identity/issuer.ts";
import { serveIssuerEndpoint } from "../../../core/identity/issuer_endpoint.ts";
import { attestWithJoinToken, renewWithIssuer } from "../../../core/identity/join_client.ts";
import { generateKeyPair } from "../../../core/identity/keys.ts";
import { jwtSigningKey } from "../../../core/identity/jwt.ts";
import { chainToPem, createCsr, svidToTlsPem, type X509Svid } from "../../../core/identity/svid.ts";
import { parseSpiffeId } from "../../../core/identity/spiffe_id.ts";
import { AuthError, ConfigError, ForbiddenError } from "../../../core/errors.ts";
import { testDomain } from "./fixtures.ts";

const hex = (b: ArrayBuffer) =>
  Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");

/** A TLS server presenting `cert` that records every byte a client sends after the handshake. */
async function recordingServer(pem: { key: string; cert: string }) {
  let received = 0;
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ key: pem.key, cert: pem.cert }, (s: tls.TLSSocket) => {
    sockets.add(s);
    s.on("data", (d: Uint8Array) => received += d.length);
    s.on("error", () => {});
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as { port: number }).port,
    received: () => received,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** POSTs JSON over TLS with an optional client certificate; returns status and body. */
function rawPost(
  port: number,
  path: string,
  body: unknown,
  client?: { key: string; cert: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...client });
    const parts: Uint8Array[] = [];
    s.on("error", reject);
    s.once("secureConnect", () => {
      const payload = Buffer.from(JSON.stringify(body));
      s.write(
        `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
          `content-length: ${payload.length}\r\nconnection: close\r\n\r\n`,
      );
      s.write(payload);
    });
    s.on("data", (d: Uint8Array) => parts.push(d));
    s.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8");
      const i = text.indexOf("\r\n\r\n");
      resolve({ status: Number(text.slice(9, 12)), body: JSON.parse(text.slice(i + 4)) });
      s.destroy();
    });
  });
}

Deno.test("issuer TLS endpoint: join over server-authenticated TLS (CA pinned), renew over mTLS for the same ID only", async (t) => {
  const kv = await Deno.openKv(":memory:");
  const ca = await createCa("mesh.test");
  const issuer = createBuiltinIssuer({
    ca,
    jwtKey: await jwtSigningKey(await generateKeyPair()),
    kv,
  });
  const pin = hex(await crypto.subtle.digest("SHA-256", ca.cert.rawData));
  const endpoint = await serveIssuerEndpoint({
    host: "127.0.0.1",
    port: 0,
    issuer,
    nodeName: "r1",
  });
  const url = `https://127.0.0.1:${endpoint.port}`;
  let member: X509Svid | undefined;
  try {
    await t.step("the endpoint presents spiffe://<td>/issuer/<node> and the CA", () => {
      const chain = endpoint.svidSource.current().chain;
      assert.equal(endpoint.svidSource.current().id.uri, "spiffe://mesh.test/issuer/r1");
      assert.equal(chain.length, 2);
      assert.equal(chain[1].serialNumber, ca.cert.serialNumber);
    });

    await t.step(
      "a member joins with a token over TLS (CA pinned) and gets its /node ID",
      async () => {
        const { token } = await issuer.createJoinToken({ nodeName: "m1" });
        const got = await attestWithJoinToken(url, token, {
          caSha256: pin,
          trustDomain: "mesh.test",
        });
        assert.equal(got.svid.id.uri, "spiffe://mesh.test/node/m1");
        member = got.svid;
      },
    );

    await t.step("a token sniffed from a join cannot be reused", async () => {
      const { token } = await issuer.createJoinToken({ nodeName: "m2" });
      await attestWithJoinToken(url, token, { caSha256: pin });
      await assert.rejects(
        attestWithJoinToken(url, token, { caSha256: pin }),
        (e: unknown) => e instanceof AuthError && /Join token rejected/.test(e.message),
      );
    });

    await t.step(
      "a MITM issuer (other CA, same trust domain name) is refused before the token is sent",
      async () => {
        const rogueCa = await createCa("mesh.test");
        const rogue = createBuiltinIssuer({
          ca: rogueCa,
          jwtKey: await jwtSigningKey(await generateKeyPair()),
          kv,
        });
        const keys = await generateKeyPair();
        const leaf = await rogue.issue("spiffe://mesh.test/issuer/r1", keys.publicKey);
        const mitm = await recordingServer(
          await svidToTlsPem({
            id: parseSpiffeId("spiffe://mesh.test/issuer/r1"),
            chain: [leaf, rogueCa.cert],
            privateKey: keys.privateKey,
          }),
        );
        try {
          const { token } = await issuer.createJoinToken({ nodeName: "m3" });
          await assert.rejects(
            attestWithJoinToken(`https://127.0.0.1:${mitm.port}`, token, { caSha256: pin }),
            (e: unknown) =>
              e instanceof AuthError && e.details?.reason === "ca_pin_mismatch" &&
              /pinned CA/.test(e.message),
          );
          assert.equal(mitm.received(), 0, "the MITM received no byte (no token)");
          const ok = await attestWithJoinToken(url, token, { caSha256: pin });
          assert.equal(ok.svid.id.uri, "spiffe://mesh.test/node/m3", "the token is still unused");
        } finally {
          await mitm.close();
        }
      },
    );

    await t.step(
      "a member of the domain posing as the issuer (valid /node SVID, real CA) is refused",
      async () => {
        const pem = await svidToTlsPem(member!);
        const poser = await recordingServer({
          key: pem.key,
          cert: pem.cert + chainToPem([ca.cert]),
        });
        try {
          const { token } = await issuer.createJoinToken({ nodeName: "m4" });
          await assert.rejects(
            attestWithJoinToken(`https://127.0.0.1:${poser.port}`, token, { caSha256: pin }),
            (e: unknown) => e instanceof ForbiddenError && e.details?.reason === "not_an_issuer",
          );
          assert.equal(poser.received(), 0);
        } finally {
          await poser.close();
        }
      },
    );

    await t.step("plain HTTP issuer URLs and a missing pin are refused", async () => {
      await assert.rejects(
        attestWithJoinToken(`http://127.0.0.1:${endpoint.port}`, "t", { caSha256: pin }),
        (e: unknown) => e instanceof ConfigError && /TLS only/.test(e.message),
      );
      await assert.rejects(
        attestWithJoinToken(url, "t", { caSha256: "" }),
        (e: unknown) => e instanceof ConfigError && /pin/.test(e.message),
      );
    });

    await t.step("renew over mTLS: the new SVID keeps the presented ID", async () => {
      const renewed = await renewWithIssuer(url, member!, issuer.bundle());
      assert.equal(renewed.svid.id.uri, "spiffe://mesh.test/node/m1");
      assert.notEqual(renewed.svid.chain[0].serialNumber, member!.chain[0].serialNumber);
      // The renewed SVID authenticates the next renewal.
      const again = await renewWithIssuer(url, renewed.svid, issuer.bundle());
      assert.equal(again.svid.id.uri, "spiffe://mesh.test/node/m1");
      assert.notEqual(again.svid.chain[0].serialNumber, renewed.svid.chain[0].serialNumber);
    });

    await t.step("renew without a client certificate is refused (401 no_certificate)", async () => {
      const csr = await createCsr(await generateKeyPair());
      const res = await rawPost(endpoint.port, "/identity/renew", { csr });
      assert.equal(res.status, 401);
      assert.match(JSON.stringify(res.body), /no_certificate/);
    });

    await t.step(
      "renew with another node's certificate renews that node only; the body cannot pick an ID",
      async () => {
        const other = await issuer.issue(
          "spiffe://mesh.test/node/other",
          (await generateKeyPair()).publicKey,
        );
        // A stolen certificate without its key: the TLS stack refuses to present it at all.
        const pem = await svidToTlsPem(member!);
        await assert.rejects(
          rawPost(endpoint.port, "/identity/renew", {}, {
            key: pem.key,
            cert: chainToPem([other]),
          }),
        );
        const res = await rawPost(endpoint.port, "/identity/renew", {
          csr: await createCsr(await generateKeyPair()),
          spiffe_id: "spiffe://mesh.test/node/m1",
        }, pem);
        assert.equal(res.status, 200);
        assert.equal(res.body.spiffe_id, "spiffe://mesh.test/node/m1");
      },
    );

    await t.step(
      "renew with another domain's SVID (401) or a non-node ID (403) is refused",
      async () => {
        const other = await testDomain("other.test");
        const csr = await createCsr(await generateKeyPair());
        const foreign = await rawPost(endpoint.port, "/identity/renew", { csr }, {
          ...(await svidToTlsPem(await other.svid("node/m1"))),
        });
        assert.equal(foreign.status, 401);
        const keys = await generateKeyPair();
        const workload = await issuer.issue("spiffe://mesh.test/workload/x", keys.publicKey);
        const res = await rawPost(endpoint.port, "/identity/renew", { csr }, {
          ...(await svidToTlsPem({
            id: parseSpiffeId("spiffe://mesh.test/workload/x"),
            chain: [workload],
            privateKey: keys.privateKey,
          })),
        });
        assert.equal(res.status, 403);
        assert.match(JSON.stringify(res.body), /not authorized/);
      },
    );

    await t.step("a member renewing checks the server is an issuer of its bundle", async () => {
      const other = await testDomain("mesh.test");
      await assert.rejects(
        renewWithIssuer(url, member!, other.bundle),
        (e: unknown) => e instanceof AuthError && e.details?.reason === "unknown_issuer",
      );
    });
  } finally {
    await endpoint.close();
    kv.close();
  }
});
