import assert from "node:assert/strict";
import {
  canRunPrivileged,
  createVethPair,
  deliver,
  ipLinkShowsXdp,
} from "../core/ebpf/netns_fixture.ts";
import { cli } from "../core/ebpf/cli_runner.ts";

const privileged = await canRunPrivileged("chaos CLI tests (netns + XDP)");

Deno.test({
  name:
    "chaos drop keeps dropping after the CLI exits, within ±3 points, and chaos clear removes it",
  ignore: !privileged,
  fn: async (t) => {
    const pair = await createVethPair();
    const where = ["--iface", pair.ifB, "--netns", pair.nsB];
    const percent = 25;
    const sent = 10_000;
    try {
      await t.step("chaos drop attaches the injector and exits", async () => {
        const r = await cli(["chaos", "drop", ...where, "--percent", String(percent)]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /dropping 25% .* via x0_chaos/);
        assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), true);
      });
      await t.step(`${sent} packets lose ${percent} % ± 3 points`, async () => {
        const received = await deliver(pair, 7300, sent);
        const rate = 100 * (sent - received) / sent;
        assert.ok(Math.abs(rate - percent) <= 3, `measured ${rate} %`);
        const s = JSON.parse((await cli(["ebpf", "stats", ...where, "--json"])).stdout);
        assert.equal(s.program, "x0_chaos");
        assert.equal(s.chaos.config.dropPpm, 250_000);
        assert.equal(s.chaos.dropped, sent - received);
      });
      await t.step("chaos clear detaches it", async () => {
        const r = await cli(["chaos", "clear", ...where, "--json"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).action, "detached");
        assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), false);
      });
    } finally {
      await cli(["chaos", "clear", ...where]);
      await pair.cleanup();
    }
  },
});

Deno.test({
  name: "chaos drop with bad input prints one error line and attaches nothing",
  ignore: !privileged,
  fn: async () => {
    const pair = await createVethPair();
    const where = ["--iface", pair.ifB, "--netns", pair.nsB];
    try {
      for (
        const extra of [
          ["--percent", "150"],
          ["--percent", "-1"],
          ["--percent", "lots"],
          ["--percent", "10", "--ethertype", "0x10"],
          ["--percent", "10", "--protocol", "999"],
          ["--percent", "10", "--mode", "turbo"],
        ]
      ) {
        const r = await cli(["chaos", "drop", ...where, ...extra]);
        assert.equal(r.code, 1, extra.join(" "));
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), false, extra.join(" "));
      }
      const r = await cli(["chaos", "clear", ...where]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /no chaos/);
    } finally {
      await pair.cleanup();
    }
  },
});
