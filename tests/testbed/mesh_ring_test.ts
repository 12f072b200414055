/**
 * The native mesh on a real 5-router ring of network namespaces, with real packets: full
 * reachability through kernel routes, rerouting around a silent link cut, a carrier cut and a
 * dead router, return to the cheaper path on restore, and garbage on the wire rejected.
 */
import assert from "node:assert/strict";
import { counter, missingForNetns, skipOrFail, waitFor } from "./harness.ts";
import { nsRun, stopPid } from "./netns.ts";
import { cut, kill, restore, router, testbedDown, testbedUp } from "./testbed.ts";
import { parseTopology } from "./topology.ts";
import { forwardingPath, waitFullReachability } from "./traffic.ts";

const PYTHON = "/usr/bin/python3";

/** Sends garbage UDP and malformed control messages from `fromNs` (bounded: a few packets). */
const INJECT = `
import socket, ssl, struct, json, sys, os, time
src, dst, probe_port, control_port, node_id, cert, key = sys.argv[1:8]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((src, 0))
for payload in [b"", b"garbage", b"X0P" + bytes(40), b"X0P\\x01\\x09" + bytes(19), bytes(range(256))]:
    u.sendto(payload, (dst, int(probe_port)))
# The control channel is mTLS: present the router's own SVID and speak the x0 preamble.
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(cert, key)
raw = socket.create_connection((dst, int(control_port)), timeout=2, source_address=(src, 0))
t = ctx.wrap_socket(raw)
t.sendall(b"X0M1" + os.urandom(32))
got = b""
while len(got) < 37:
    chunk = t.recv(37 - len(got))
    if not chunk: sys.exit("control channel closed during the preamble")
    got += chunk
if got[4] != 0: sys.exit("mTLS session refused: " + repr(got))
def frame(obj):
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return struct.pack("!I", len(data)) + data
t.sendall(frame({"v": 1, "type": "hello", "node_id": node_id, "router_address": "10.255.0.4"}))
t.sendall(frame(b"{not json"))
t.sendall(frame({"v": 7, "type": "lsa", "lsa": {}}))
t.sendall(frame({"v": 1, "type": "lsa", "lsa": {"origin": "r9", "seq": -1, "age": 0,
    "router_address": "10.255.0.9", "links": []}}))
t.sendall(frame({"v": 1, "type": "lsa", "lsa": {"origin": "r9", "seq": 5, "age": 0,
    "router_address": "10.255.0.9", "links": [{"neighbour": "r9", "cost": 1, "quality": "GOOD"}]}}))
# Stay a moment: a TLS socket that fails a write (EPIPE) is destroyed with its unread frames.
time.sleep(1)
t.close()
`;

Deno.test("native mesh on a 5-router netns ring", async (t) => {
  const missing = await missingForNetns();
  if (missing) return skipOrFail(`native mesh ring test needs ${missing}`);
  const dir = await Deno.makeTempDir({ prefix: "x0-ring-" });
  const stateFile = `${dir}/state.json`;
  try {
    // The agents' default: the control channel is mTLS between SVIDs of one trust domain.
    const state = await testbedUp(parseTopology("ring:5"), {
      stateFile,
      config: { identity: { mesh_mtls: true } },
    });
    const path = (a: string, b: string) => forwardingPath(state, a, b);
    const pathIs = (a: string, b: string, want: string[]) => async () =>
      JSON.stringify(await path(a, b)) === JSON.stringify(want);

    await t.step("converges to full reachability through kernel routes", async () => {
      const r = await waitFullReachability(state, { timeoutMs: 20_000 });
      assert.deepEqual(r.failing, []);
      const routes = await nsRun(router(state, "r1").netns, ["ip", "route", "show", "proto", "99"]);
      assert.equal(routes.stdout.split("\n").filter((l) => l.includes("metric 10")).length, 4);
      // The direct link is advertised once its (mTLS) control session is synchronized.
      assert.ok(await waitFor(pathIs("r1", "r2", ["r1", "r2"]), 5000));
    });

    await t.step("a silent link cut reroutes the long way round", async () => {
      await cut(state, "r1", "r2");
      assert.ok(await waitFor(pathIs("r1", "r2", ["r1", "r5", "r4", "r3", "r2"]), 5000));
      assert.deepEqual((await waitFullReachability(state, { timeoutMs: 5000 })).failing, []);
    });

    await t.step("restoring the link returns to the cheaper path", async () => {
      await restore(state, "r1", "r2");
      assert.ok(await waitFor(pathIs("r1", "r2", ["r1", "r2"]), 5000));
      assert.ok(await waitFor(pathIs("r2", "r1", ["r2", "r1"]), 5000));
    });

    await t.step("a carrier cut reroutes and restores too", async () => {
      await cut(state, "r3", "r4", true);
      assert.ok(await waitFor(pathIs("r3", "r4", ["r3", "r2", "r1", "r5", "r4"]), 5000));
      await restore(state, "r3", "r4");
      assert.ok(await waitFor(pathIs("r3", "r4", ["r3", "r4"]), 5000));
    });

    await t.step("garbage UDP and malformed LSAs are rejected without a crash", async () => {
      const r4 = router(state, "r4"), r5 = router(state, "r5");
      const link = state.links.find((l) => l.a === "r4" && l.b === "r5")!;
      const before = {
        probes: await counter(r5, "mesh_probe_rejected_total"),
        malformed: await counter(r5, "lsa_received_total", 'result="malformed"'),
        version: await counter(r5, "lsa_received_total", 'result="version"'),
      };
      // The injected session replaces r4's real one, and r4 reconnects at once, replacing it in
      // turn: on a loaded host that can happen before r5 has read every injected frame, so
      // inject again (at most 5 times) until every kind was counted.
      const counted = async () =>
        await counter(r5, "lsa_received_total", 'result="malformed"') >= before.malformed + 3 &&
        await counter(r5, "lsa_received_total", 'result="version"') >= before.version + 1;
      let injected = 0;
      let lastError = "none";
      do {
        const out = await nsRun(r4.netns, [
          PYTHON,
          "-c",
          INJECT,
          link.a_address,
          link.b_address,
          "6970",
          "6971",
          "r4",
          `${state.dir}/r4/data/identity/svid.pem`,
          `${state.dir}/r4/data/identity/svid.key.pem`,
        ]);
        // r4 reconnecting can also reset the injector's own session mid-way: try again.
        if (out.code !== 0) lastError = out.stderr.trim().split("\n").at(-1) ?? "";
        injected++;
      } while (!(await waitFor(counted, 3000)) && injected < 5);
      assert.ok(
        await counted(),
        `rejections not all counted after ${injected} injections (last injector error: ${lastError})`,
      );
      assert.ok(await counter(r5, "mesh_probe_rejected_total") >= before.probes + 5);
      // Still alive, and the mesh heals the replaced session.
      const status = await fetch(`${r5.api}/mesh/status`).then((r) => r.json());
      assert.equal(status.node_id, "r5");
      assert.deepEqual((await waitFullReachability(state, { timeoutMs: 8000 })).failing, []);
    });

    await t.step("killing a router reroutes around it", async () => {
      await kill(state, "r2");
      assert.ok(await waitFor(pathIs("r1", "r3", ["r1", "r5", "r4", "r3"]), 5000));
      const r = await waitFullReachability(state, { timeoutMs: 5000 });
      assert.deepEqual(r.failing, []);
      const peers = await fetch(`${router(state, "r1").api}/mesh/peers`).then((r) => r.json());
      const r2 = peers.peers.find((p: { id: string }) => p.id === "r2");
      assert.equal(r2.state, "OFFLINE");
    });

    await t.step("a clean stop removes the agent's kernel routes and nothing else", async () => {
      const r1 = router(state, "r1");
      const show = async (args: string[]) =>
        (await nsRun(r1.netns, ["ip", "route", "show", ...args])).stdout.trim();
      assert.notEqual(await show(["proto", "99"]), "");
      const kernelRoutes = await show(["proto", "kernel"]);
      await stopPid(r1.pid!);
      assert.equal(await show(["proto", "99"]), "");
      assert.equal(await show(["proto", "kernel"]), kernelRoutes);
    });
  } finally {
    await testbedDown(stateFile);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
