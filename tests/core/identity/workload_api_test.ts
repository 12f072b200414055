import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import {
  decodeX509SvidResponse,
  FETCH_X509_SVID_PATH,
  fetchX509Context,
  parseEndpointSocket,
  workloadApiSources,
} from "../../../core/identity/workload_api.ts";
import { encodeFields } from "../../../core/identity/protobuf.ts";
import { ConfigError, ValidationError } from "../../../core/errors.ts";
import type { X509Svid } from "../../../core/identity/svid.ts";
import { testDomain } from "./fixtures.ts";
import {
  hasStandInTools,
  skipOrFail,
  STAND_IN_TOOLS,
  standInResponse,
  startStandIn,
} from "./workload_api/stand_in.ts";

/** Starts the stand-in (shared helper) with the old positional signature. */
const standIn = (responses: unknown[], delayMs = 200, socketPath?: string) =>
  startStandIn(responses, { delayMs, socketPath });

Deno.test("Workload API client against a stand-in server built from workload.proto (SPIRE cannot be installed here)", async (t) => {
  if (!await hasStandInTools()) return skipOrFail(STAND_IN_TOOLS);
  const mesh = await testDomain("mesh.test");
  const fed = await testDomain("fed.test");
  const s1 = await mesh.svid("workload/agent");
  const s2 = await mesh.svid("workload/agent");
  const resp = (s: X509Svid) =>
    standInResponse([s], mesh.ca.cert, { "spiffe://fed.test": fed.ca.cert });
  const server = await standIn([await resp(s1), await resp(s2)]);
  try {
    await t.step("fetches the SVID, its key, our bundle and federated bundles", async () => {
      const ctx = await fetchX509Context(server.socket);
      assert.equal(ctx.svids[0].id.uri, "spiffe://mesh.test/workload/agent");
      assert.equal(ctx.svids[0].chain[0].serialNumber, s1.chain[0].serialNumber);
      assert.deepEqual([...ctx.bundles.keys()].sort(), ["fed.test", "mesh.test"]);
      const sig = await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        ctx.svids[0].privateKey!,
        new Uint8Array(4),
      );
      assert.ok(
        await crypto.subtle.verify(
          { name: "ECDSA", hash: "SHA-256" },
          await s1.chain[0].publicKey.export(),
          sig,
          new Uint8Array(4),
        ),
      );
    });
    await t.step("the streamed second response rotates the SVID source", async () => {
      const src = await workloadApiSources(server.socket);
      try {
        const rotated = new Promise<string>((resolve) =>
          src.svidSource.subscribe((s) => resolve(s.chain[0].serialNumber))
        );
        assert.equal(await rotated, s2.chain[0].serialNumber);
        assert.ok(src.bundleSource.bundles().has("fed.test"));
      } finally {
        src.close();
      }
    });
    await t.step(
      "after the Workload API restarts, the source reconnects and takes the new SVID",
      async () => {
        const sockDir = await Deno.makeTempDir({ prefix: "x0-wlapi-sock-" });
        const sock = `${sockDir}/agent.sock`;
        let first = await standIn([await resp(s1)], 200, sock);
        const src = await workloadApiSources(sock, { retryMinMs: 100 });
        try {
          const s3 = await mesh.svid("workload/agent");
          const rotated = new Promise<string>((resolve) =>
            src.svidSource.subscribe((s) => resolve(s.chain[0].serialNumber))
          );
          await first.stop();
          first = await standIn([await resp(s3)], 200, sock);
          assert.equal(await rotated, s3.chain[0].serialNumber);
        } finally {
          src.close();
          await first.stop();
          await Deno.remove(sockDir, { recursive: true });
        }
      },
    );
    await t.step(
      "the server refuses a request without workload.spiffe.io metadata (it checks, so our header matters)",
      async () => {
        const session = http2.connect("http://localhost", {
          createConnection: () => net.connect(server.socket),
        });
        const status = await new Promise<string>((resolve) => {
          const req = session.request({
            ":method": "POST",
            ":path": FETCH_X509_SVID_PATH,
            "content-type": "application/grpc",
            te: "trailers",
          });
          let st = "";
          req.on("response", (h: Record<string, unknown>) => st ||= String(h["grpc-status"] ?? ""));
          req.on("trailers", (h: Record<string, unknown>) => st ||= String(h["grpc-status"] ?? ""));
          req.on("data", () => {});
          req.on("close", () => resolve(st));
          req.end(new Uint8Array(5));
        });
        session.close();
        assert.equal(status, "3", "INVALID_ARGUMENT");
      },
    );
  } finally {
    await server.stop();
  }
});

Deno.test("decodeX509SvidResponse() rejects inconsistent responses", async () => {
  const mesh = await testDomain("mesh.test");
  const other = await testDomain("mesh.test");
  const s = await mesh.svid("w");
  const key = new Uint8Array(await crypto.subtle.exportKey("pkcs8", s.privateKey!));
  const svidMsg = (bundleDer: Uint8Array, id = s.id.uri) =>
    encodeFields([{
      field: 1,
      value: encodeFields([
        { field: 1, value: id },
        { field: 2, value: new Uint8Array(s.chain[0].rawData) },
        { field: 3, value: key },
        { field: 4, value: bundleDer },
      ]),
    }]);
  const ok = await decodeX509SvidResponse(svidMsg(new Uint8Array(mesh.ca.cert.rawData)));
  assert.equal(ok.svids[0].id.uri, s.id.uri);
  await assert.rejects(
    decodeX509SvidResponse(svidMsg(new Uint8Array(other.ca.cert.rawData))),
    /Invalid X.509-SVID/,
  );
  await assert.rejects(decodeX509SvidResponse(new Uint8Array([0x0a, 0x05, 1])), ValidationError);
  await assert.rejects(decodeX509SvidResponse(new Uint8Array()), /no SVID/);
  assert.equal(parseEndpointSocket("unix:///run/spire/agent.sock"), "/run/spire/agent.sock");
  assert.throws(() => parseEndpointSocket("tcp://127.0.0.1:8081"), ConfigError);
  assert.throws(() => parseEndpointSocket("/run/x.sock"), ConfigError);
});
