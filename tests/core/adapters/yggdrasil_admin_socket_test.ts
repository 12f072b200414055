import assert from "node:assert/strict";
import { adminRequest } from "../../../core/adapters/yggdrasil/admin_socket.ts";
import { parseAdminEndpoint } from "../../../core/adapters/yggdrasil/endpoint.ts";
import { createYggdrasilClient } from "../../../core/adapters/yggdrasil/admin_client.ts";
import { UnavailableError, ValidationError } from "../../../core/errors.ts";

const unavailable = (re: RegExp) => (e: unknown) =>
  e instanceof UnavailableError && re.test(e.message);

/**
 * A stand-in admin socket (a misbehaving daemon cannot be provoked from a real yggdrasil):
 * answers each connection with `reply` (or nothing, holding the connection open).
 */
function standIn(reply: string | null): { url: string; close: () => Promise<void> } {
  const dir = Deno.makeTempDirSync({ prefix: "x0f9-ygg-" });
  const path = `${dir}/admin.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      const buf = new Uint8Array(4096);
      await conn.read(buf).catch(() => null);
      if (reply !== null) {
        await conn.write(new TextEncoder().encode(reply)).catch(() => {});
        conn.close();
      }
    }
  })();
  return {
    url: `unix://${path}`,
    close: async () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await serving.catch(() => {});
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

Deno.test("parseAdminEndpoint() accepts unix:// and tcp:// and rejects anything else", () => {
  assert.deepEqual(parseAdminEndpoint("unix:///run/y.sock"), {
    transport: "unix",
    path: "/run/y.sock",
    url: "unix:///run/y.sock",
  });
  assert.deepEqual(parseAdminEndpoint("tcp://127.0.0.1:9001"), {
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 9001,
    url: "tcp://127.0.0.1:9001",
  });
  assert.equal((parseAdminEndpoint("tcp://[::1]:9001") as { hostname: string }).hostname, "::1");
  for (
    const bad of [
      "",
      "unix://rel.sock",
      "tcp://host",
      "tcp://h:0",
      "tcp://h:70000",
      "http://h:1",
      "/run/y.sock",
    ]
  ) {
    assert.throws(() => parseAdminEndpoint(bad), ValidationError, bad);
  }
});

Deno.test("a missing admin socket gives a clear error", async () => {
  await assert.rejects(
    adminRequest(parseAdminEndpoint("unix:///nonexistent/x0f9.sock"), "getSelf"),
    unavailable(/^Yggdrasil admin socket not found: unix:\/\/\/nonexistent\/x0f9\.sock/),
  );
});

Deno.test("a closed TCP admin port gives a connection-refused error", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(
    adminRequest(parseAdminEndpoint(`tcp://127.0.0.1:${port}`), "getSelf"),
    unavailable(/^Yggdrasil admin socket refused the connection: tcp:\/\/127\.0\.0\.1:/),
  );
});

Deno.test("stand-in server: an error reply is reported as a refused request with its reason", async () => {
  const s = standIn(
    '{"status":"error","error":"Unknown action \'getfoo\'","request":null,"response":null}\n',
  );
  try {
    await assert.rejects(
      adminRequest(parseAdminEndpoint(s.url), "getFoo"),
      (e) =>
        e instanceof UnavailableError &&
        e.message === "Yggdrasil refused getFoo: Unknown action 'getfoo'" &&
        e.details?.reason === "Unknown action 'getfoo'",
    );
  } finally {
    await s.close();
  }
});

Deno.test("stand-in server: garbage, empty and non-admin replies are rejected", async (t) => {
  for (
    const [name, reply, re] of [
      ["not JSON", "hello world", /answered garbage to getSelf: not JSON: "hello world"/],
      ["empty", "", /answered garbage to getSelf: empty reply/],
      [
        "JSON without an envelope",
        '{"peers": []}',
        /answered garbage to getSelf: not an admin reply/,
      ],
      ["truncated JSON", '{"status":"success","response":{', /not JSON/],
    ] as const
  ) {
    await t.step(name, async () => {
      const s = standIn(reply);
      try {
        await assert.rejects(adminRequest(parseAdminEndpoint(s.url), "getSelf"), unavailable(re));
      } finally {
        await s.close();
      }
    });
  }
  await t.step("a well-formed reply of the wrong shape names the field", async () => {
    const s = standIn('{"status":"success","response":{"peers":[{"address":"200::1"}]}}');
    try {
      await assert.rejects(
        createYggdrasilClient(s.url).getPeers(),
        unavailable(/getPeers with an unexpected shape: peers\.0\.key/),
      );
    } finally {
      await s.close();
    }
  });
});

Deno.test("stand-in server: a daemon that never answers times out", async () => {
  const s = standIn(null);
  try {
    const started = performance.now();
    await assert.rejects(
      adminRequest(parseAdminEndpoint(s.url), "getPeers", { timeoutMs: 200 }),
      unavailable(/did not answer getPeers within 200 ms/),
    );
    assert.ok(performance.now() - started < 2000);
  } finally {
    await s.close();
  }
});
