import assert from "node:assert/strict";
import { startAgentProcess } from "../helpers/agent_process.ts";

async function sh(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { ok: o.success, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

const isRoot = Deno.uid() === 0;
const hasIp = isRoot && (await sh("ip", ["-V"]).catch(() => ({ ok: false }))).ok;
if (!hasIp) {
  console.error("SKIP agent eBPF test: needs root and iproute2 (ip netns, veth)");
  if (Deno.env.get("CI") === "true") throw new Error("CI=true: the agent eBPF test may not skip");
}

Deno.test({
  name: "the agent counts mesh-interface traffic with eBPF into /metrics and detaches on stop",
  ignore: !hasIp,
  async fn() {
    const tag = `x0ae${Deno.pid % 100000}`;
    const ns = `${tag}n`;
    const hostIf = `${tag}a`;
    const nsIf = `${tag}b`;
    try {
      for (
        const args of [
          ["netns", "add", ns],
          ["link", "add", hostIf, "type", "veth", "peer", "name", nsIf],
          ["link", "set", nsIf, "netns", ns],
          ["addr", "add", "10.213.7.1/30", "dev", hostIf],
          ["link", "set", hostIf, "up"],
          ["-n", ns, "addr", "add", "10.213.7.2/30", "dev", nsIf],
          ["-n", ns, "link", "set", nsIf, "up"],
        ]
      ) {
        const r = await sh("ip", args);
        assert.ok(r.ok, `ip ${args.join(" ")}: ${r.out}`);
      }
      const agent = await startAgentProcess([], {
        env: { X0_MESH__INTERFACES: hostIf, X0_EBPF__MODE: "auto" },
      });
      try {
        const ping = await sh("ip", [
          "netns",
          "exec",
          ns,
          "ping",
          "-c",
          "5",
          "-i",
          "0.05",
          "-W",
          "1",
          "10.213.7.1",
        ]);
        assert.ok(ping.ok, ping.out);
        const text = await (await fetch(`${agent.url}/metrics`)).text();
        const m = new RegExp(`^ebpf_rx_packets_total\\{iface="${hostIf}"\\} (\\d+)`, "m").exec(
          text,
        );
        assert.ok(m, `ebpf_rx_packets_total for ${hostIf} in /metrics`);
        assert.ok(Number(m[1]) >= 5, `counted ${m[1]} packets`);
        const tc = await sh("tc", ["filter", "show", "dev", hostIf, "ingress"]);
        assert.match(tc.out, /bpf/, "telemetry attached as a TC filter on the veth");
      } finally {
        const status = await agent.stop();
        assert.equal(status.code, 0, agent.logs());
        await Deno.remove(agent.dataDir, { recursive: true });
      }
      const tc = await sh("tc", ["filter", "show", "dev", hostIf, "ingress"]);
      assert.doesNotMatch(tc.out, /bpf/, "no filter left after a clean stop");
      const link = await sh("ip", ["link", "show", hostIf]);
      assert.doesNotMatch(link.out, /xdp/);
    } finally {
      await sh("ip", ["link", "del", hostIf]);
      await sh("ip", ["netns", "del", ns]);
    }
  },
});
