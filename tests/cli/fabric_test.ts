import assert from "node:assert/strict";
import { runCli } from "../helpers/agent_process.ts";

/** The narrowest flags each backend of `fabric show` needs (what the report recommends). */
const YGG_PERMS = ["--allow-net", "--allow-read", "--allow-write"];
const BATMAN_PERMS = ["--allow-ffi"];

async function has(cmd: string): Promise<boolean> {
  const r = await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
    .output();
  return r.success;
}

Deno.test("fabric show rejects bad options with one line on stderr and exit code 1", async (t) => {
  const cases: [string, string[], string[], RegExp][] = [
    ["missing --backend", ["fabric", "show", "--json"], YGG_PERMS, /--backend/],
    ["unknown backend", ["fabric", "show", "--backend", "babel"], YGG_PERMS, /babel/],
    [
      "bad endpoint",
      ["fabric", "show", "--backend", "yggdrasil", "--endpoint", "http://h:1", "--json"],
      YGG_PERMS,
      /^Invalid Yggdrasil admin endpoint: http:\/\/h:1 \(need unix:\/\/\/path or tcp:\/\/host:port\)$/,
    ],
    [
      "bad interface name",
      ["fabric", "show", "--backend", "batman", "--meshif", "a/b", "--json"],
      BATMAN_PERMS,
      /^Invalid batman-adv interface name: "a\/b"$/,
    ],
    [
      "bad timeout",
      ["fabric", "show", "--backend", "batman", "--timeout", "soon"],
      BATMAN_PERMS,
      /^Invalid --timeout: soon/,
    ],
    [
      "missing admin socket",
      [
        "fabric",
        "show",
        "--backend",
        "yggdrasil",
        "--endpoint",
        "unix:///nonexistent/x0f9.sock",
        "--json",
      ],
      YGG_PERMS,
      /^Yggdrasil admin socket not found: unix:\/\/\/nonexistent\/x0f9\.sock \(is yggdrasil running\?\)$/,
    ],
  ];
  for (const [name, args, permissions, re] of cases) {
    await t.step(name, async () => {
      const out = await runCli(args, { permissions });
      assert.equal(out.code, 1, `${name}: ${out.stderr}`);
      assert.equal(out.stdout, "");
      assert.match(out.stderr.trim().split("\n")[0], re);
    });
  }
});

Deno.test("fabric show --backend batman on this kernel reports the missing module once", async () => {
  const out = await runCli(
    ["fabric", "show", "--backend", "batman", "--meshif", "bat0", "--json"],
    {
      permissions: BATMAN_PERMS,
    },
  );
  if (out.code === 0 || /No such batman-adv interface/.test(out.stderr)) {
    console.warn("SKIP: this kernel has batman-adv; covered by tests/guest instead");
    return;
  }
  assert.equal(out.code, 1);
  assert.equal(out.stdout, "");
  assert.equal(
    out.stderr,
    "batman-adv is not available in this kernel: generic netlink family batadv not found " +
      "(load the batman-adv module)\n",
  );
});

Deno.test("fabric show --backend yggdrasil prints a real daemon's self as yggdrasilctl has it", async () => {
  if (!await has("yggdrasil") || !await has("yggdrasilctl")) {
    if (Deno.env.get("CI") === "true") assert.fail("yggdrasil is not installed");
    console.warn("\n!!! SKIP fabric CLI against yggdrasil: yggdrasil/yggdrasilctl missing !!!\n");
    return;
  }
  // A lone daemon in this namespace that touches nothing: no TUN, no listener, no multicast
  const dir = Deno.makeTempDirSync({ prefix: "x0f9-cli-" });
  const gen = await new Deno.Command("yggdrasil", { args: ["-genconf", "-json"], stdout: "piped" })
    .output();
  const conf = JSON.parse(new TextDecoder().decode(gen.stdout));
  Object.assign(conf, {
    AdminListen: `unix://${dir}/admin.sock`,
    IfName: "none",
    MulticastInterfaces: [],
    Listen: [],
    Peers: [],
  });
  Deno.writeTextFileSync(`${dir}/conf.json`, JSON.stringify(conf));
  const daemon = new Deno.Command("yggdrasil", {
    args: ["-useconffile", `${dir}/conf.json`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const endpoint = `unix://${dir}/admin.sock`;
    for (let i = 0; i < 100; i++) {
      try {
        if (Deno.statSync(`${dir}/admin.sock`).isSocket) break;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    const ctl = await new Deno.Command("yggdrasilctl", {
      args: [`-endpoint=${endpoint}`, "-json", "getSelf"],
      stdout: "piped",
    }).output();
    const self = JSON.parse(new TextDecoder().decode(ctl.stdout));
    const out = await runCli(
      ["fabric", "show", "--backend", "yggdrasil", "--endpoint", endpoint, "--json"],
      { permissions: YGG_PERMS },
    );
    assert.equal(out.code, 0, out.stderr);
    const doc = JSON.parse(out.stdout);
    assert.deepEqual(Object.keys(doc), ["self", "peers"]);
    assert.equal(doc.self.id, self.key);
    assert.equal(doc.self.address, self.address);
    assert.equal(doc.self.subnet, self.subnet);
    assert.equal(doc.self.backend, "yggdrasil");
    assert.deepEqual(doc.peers, []);
    const human = await runCli(
      ["fabric", "show", "--backend", "yggdrasil", "--endpoint", endpoint, "--neighbours"],
      { permissions: YGG_PERMS },
    );
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^yggdrasil self ${self.key} ${self.address}\n`));
    assert.match(human.stdout, /\nneighbours: 0\n/);
  } finally {
    daemon.kill("SIGTERM");
    await daemon.status;
    Deno.removeSync(dir, { recursive: true });
  }
});
