import assert from "node:assert/strict";
import { clearCache } from "../../../core/mapek/executors/cache.ts";
import { deletePod } from "../../../core/mapek/executors/kubernetes.ts";
import { routeControl } from "../../../core/mapek/executors/route.ts";
import { cgroupMembership, createSupervisor } from "../../../core/mapek/executors/supervisor.ts";
import { restartUnit } from "../../../core/mapek/executors/systemd.ts";
import { configSchema } from "../../../core/config/schema.ts";
import { labMissing, labUp, sh, skipOrFail } from "./fixtures/router_lab.ts";

function serve(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

Deno.test("clearCache() runs the configured command and reports a failing one", async () => {
  assert.equal(await clearCache({ command: ["true"] }), "ran true");
  await assert.rejects(
    clearCache({ command: ["sh", "-c", "echo busy >&2; exit 3"] }),
    /exit code 3, busy/,
  );
  await assert.rejects(
    clearCache({ command: ["/nonexistent/x0"] }),
    /Cannot run cache-clear command/,
  );
  await assert.rejects(clearCache({}), /No cache-clear command or hook configured/);
});

Deno.test("clearCache() POSTs to the configured hook and fails on a non-2xx answer", async () => {
  const seen: string[] = [];
  let status = 204;
  const s = await serve((req) => {
    seen.push(`${req.method} ${new URL(req.url).pathname}`);
    return new Response(null, { status });
  });
  try {
    assert.match(await clearCache({ url: `${s.url}/cache/clear` }), /-> 204/);
    status = 500;
    await assert.rejects(clearCache({ url: `${s.url}/cache/clear` }), /returned 500/);
    assert.deepEqual(seen, ["POST /cache/clear", "POST /cache/clear"]);
  } finally {
    await s.close();
  }
});

Deno.test("restartUnit() runs systemctl restart UNIT (stand-in systemctl script: systemd does not run on this machine)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0mk-systemctl-" });
  try {
    const log = `${dir}/calls`;
    const ok = `${dir}/systemctl`;
    await Deno.writeTextFile(ok, `#!/bin/sh\necho "$@" >> ${log}\n`);
    await Deno.chmod(ok, 0o755);
    const bad = `${dir}/systemctl-bad`;
    await Deno.writeTextFile(bad, "#!/bin/sh\necho 'Unit web.service not found.' >&2\nexit 5\n");
    await Deno.chmod(bad, 0o755);
    assert.equal(
      await restartUnit("web.service", { systemctl: ok }),
      "systemctl restart web.service",
    );
    assert.equal(await Deno.readTextFile(log), "restart -- web.service\n");
    await assert.rejects(
      restartUnit("web.service", { systemctl: bad }),
      /failed: Unit web.service not found/,
    );
    await assert.rejects(
      restartUnit("web; rm -rf /", { systemctl: ok }),
      /Invalid systemd unit name/,
    );
    assert.equal(await Deno.readTextFile(log), "restart -- web.service\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deletePod() deletes the pod with the service-account token (local HTTP server stands in for the Kubernetes API server: no cluster here)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0mk-k8s-" });
  const seen: string[] = [];
  const s = await serve((req) => {
    seen.push(`${req.method} ${new URL(req.url).pathname} ${req.headers.get("authorization")}`);
    if (new URL(req.url).pathname.endsWith("/locked")) {
      return Response.json({ kind: "Status", message: 'pods "locked" is forbidden' }, {
        status: 403,
      });
    }
    return Response.json({ kind: "Pod", metadata: { name: "web-0" } });
  });
  try {
    await Deno.writeTextFile(`${dir}/token`, "tok-123\n");
    const opts = {
      apiUrl: s.url,
      namespace: "mesh",
      tokenPath: `${dir}/token`,
      caPath: `${dir}/none`,
    };
    assert.equal(await deletePod("web-0", opts), "deleted pod mesh/web-0");
    await assert.rejects(deletePod("locked", opts), /403 pods "locked" is forbidden/);
    assert.deepEqual(seen, [
      "DELETE /api/v1/namespaces/mesh/pods/web-0 Bearer tok-123",
      "DELETE /api/v1/namespaces/mesh/pods/locked Bearer tok-123",
    ]);
    await assert.rejects(deletePod("Web_0", opts), /Invalid pod name/);
    await assert.rejects(
      deletePod("web-0", { ...opts, tokenPath: `${dir}/missing` }),
      /service-account token/,
    );
    await assert.rejects(deletePod("web-0", { ...opts, apiUrl: null }), /not in a cluster/);
    assert.equal(seen.length, 2);
  } finally {
    await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const sleeper = (name: string, seconds = 60) =>
  configSchema.parse({ services: [{ name, command: ["sleep", String(seconds)] }] }).services;

Deno.test("the supervisor restarts a service as a new process and notices when it dies", async () => {
  const sup = createSupervisor(sleeper("nap"));
  await sup.start();
  try {
    const first = sup.status("nap")!;
    assert.equal(first.running, true);
    const again = await sup.restart("nap");
    assert.notEqual(again.pid, first.pid);
    assert.equal(again.restarts, 1);
    Deno.kill(again.pid!, "SIGKILL");
    for (let i = 0; i < 50 && sup.status("nap")!.running; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(sup.status("nap")!.running, false);
    await assert.rejects(sup.restart("other"), /not supervised/);
    assert.equal(sup.status("other"), undefined);
  } finally {
    await sup.stop();
  }
});

Deno.test("a new supervisor stops the children a crashed one left behind (PIDs recorded in KV)", async () => {
  const kv = await Deno.openKv(":memory:");
  const crashed = createSupervisor(sleeper("nap"), { kv });
  const next = createSupervisor(sleeper("nap"), { kv });
  try {
    await crashed.start();
    const orphan = crashed.status("nap")!.pid!;
    await next.start();
    for (let i = 0; i < 50 && crashed.status("nap")!.running; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(crashed.status("nap")!.running, false);
    assert.notEqual(next.status("nap")!.pid, orphan);
    assert.equal(next.status("nap")!.running, true);
  } finally {
    await crashed.stop();
    await next.stop();
    kv.close();
  }
});

Deno.test("supervised services run inside the configured cgroup", async () => {
  const missing = await labMissing();
  if (missing) return skipOrFail(`cgroup test needs ${missing}`);
  const cg = `/x0mk-sup-${crypto.randomUUID().slice(0, 6)}`;
  const v2 =
    (await new Deno.Command("test", { args: ["-f", "/sys/fs/cgroup/cgroup.controllers"] }).output())
      .success;
  const dirs = v2
    ? [`/sys/fs/cgroup${cg}`]
    : ["cpu", "cpuacct", "memory"].map((c) => `/sys/fs/cgroup/${c}${cg}`);
  for (const d of dirs) await sh("mkdir", ["-p", d]);
  const sup = createSupervisor(sleeper("nap"), { cgroup: cg });
  try {
    await sup.start();
    const pid = sup.status("nap")!.pid!;
    // The child joins before it execs the service; give the shell a moment to get there.
    const procs = async (d: string) => (await sh("cat", [`${d}/cgroup.procs`])).trim().split("\n");
    for (let i = 0; i < 100 && (await procs(dirs[0]))[0] === ""; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const d of dirs) assert.deepEqual(await procs(d), [String(pid)]);
  } finally {
    await sup.stop();
    for (const d of dirs) await sh("rmdir", [d]).catch(() => {});
  }
});

Deno.test("cgroupMembership() needs the v2 line, or all of cpu, cpuacct and memory on v1", () => {
  const v1 = "9:name=systemd:/\n4:memory:/x0tb1/r1\n2:cpuacct:/x0tb1/r1\n1:cpu:/x0tb1/r1\n0::/\n";
  assert.equal(cgroupMembership(v1, 1, "/x0tb1/r1"), true);
  assert.equal(cgroupMembership(v1, 1, "/x0tb1/r1/"), true);
  assert.equal(cgroupMembership(v1, 1, "/x0tb1"), false);
  assert.equal(
    cgroupMembership(v1.replace("4:memory:/x0tb1/r1", "4:memory:/"), 1, "/x0tb1/r1"),
    false,
  );
  assert.equal(cgroupMembership("4:memory:/a\n3:cpu,cpuacct:/a\n", 1, "/a"), true);
  assert.equal(cgroupMembership(v1, 2, "/x0tb1/r1"), false);
  assert.equal(cgroupMembership("0::/x0tb1/r1\n", 2, "/x0tb1/r1"), true);
  assert.equal(cgroupMembership("0::/x0tb1/r10\n", 2, "/x0tb1/r1"), false);
});

Deno.test("routeControl() moves kernel routes to the backup, isolates the link and restores both (netns lab)", async () => {
  const missing = await labMissing();
  if (missing) return skipOrFail(`route test needs ${missing}`);
  const lab = await labUp();
  try {
    const routes = routeControl(lab.mesh, { netns: lab.ns.r1 });
    assert.equal(await lab.currentGateway(), lab.r2LinkIp);
    assert.equal(await routes.avoids("r2"), false);
    assert.match(await routes.switchToBackup("r2"), /moved 1 routes off r2/);
    assert.equal(await lab.currentGateway(), lab.r3LinkIp);
    assert.equal(await routes.avoids("r2"), true);
    assert.equal(await routes.isolate("r2"), `set ${lab.ifR2} down`);
    assert.match(await sh("ip", ["-n", lab.ns.r1, "link", "show", lab.ifR2]), /state DOWN/);
    await routes.restore("r2");
    assert.doesNotMatch(await sh("ip", ["-n", lab.ns.r1, "link", "show", lab.ifR2]), /DOWN/);
    assert.equal(await lab.currentGateway(), lab.r2LinkIp);
    await assert.rejects(routes.switchToBackup("r9"), /No such neighbour: r9/);
  } finally {
    await lab.down();
  }
});

Deno.test("routeControl() uses the mesh backend's own fast reroute when its view offers one", async () => {
  const calls: string[] = [];
  const mesh = {
    status: () => ({
      node_id: "r1",
      router_address: null,
      backend: "native" as const,
      state: "converged" as const,
      neighbours: 0,
      routes: 0,
      lsa_db_size: 0,
    }),
    peers: () => [],
    routes: () => [],
    switchToBackup: (peer: string) => {
      calls.push(`switch ${peer}`);
      return 3;
    },
    isolate: (peer: string) => void calls.push(`isolate ${peer}`),
  };
  const routes = routeControl(mesh);
  assert.equal(await routes.switchToBackup("r2"), "mesh fast reroute moved 3 routes off r2");
  assert.equal(await routes.isolate("r2"), "mesh isolated link to r2");
  assert.deepEqual(calls, ["switch r2", "isolate r2"]);
});
