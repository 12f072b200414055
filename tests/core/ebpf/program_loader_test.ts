import assert from "node:assert/strict";
import { openLibbpf } from "../../../ffi/libbpf.ts";
import { ValidationError } from "../../../core/errors.ts";
import { readAttachRecord } from "../../../core/ebpf/attach_record.ts";
import { cleanupStale } from "../../../core/ebpf/crash_cleanup.ts";
import {
  attachXdp,
  detachXdp,
  findAttached,
  loadObject,
  objectPath,
} from "../../../core/ebpf/program_loader.ts";
import { startEbpfTelemetry } from "../../../core/ebpf/telemetry.ts";
import { minimalXdpObject, unknownSection, UNVERIFIABLE_PROGRAM } from "./elf_fixture.ts";
import {
  canRunPrivileged,
  createVethPair,
  ipLinkShowsXdp,
  tcShowsIngressFilter,
  type VethPair,
} from "./netns_fixture.ts";
import { findAttachedTc } from "../../../core/ebpf/tc_loader.ts";

const privileged = await canRunPrivileged("eBPF loader tests (netns + XDP)");

Deno.test({
  name: "loader rejects broken objects without attaching anything",
  ignore: !privileged,
  fn: async (t) => {
    const libbpf = openLibbpf();
    const pair = await createVethPair();
    const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-state-" });
    try {
      const telemetry = Deno.readFileSync(objectPath("x0_telemetry"));
      const wrongMachine = telemetry.slice();
      new DataView(wrongMachine.buffer).setUint16(18, 62, true);
      const cases: [string, Uint8Array, string][] = [
        ["truncated ELF", telemetry.slice(0, telemetry.length >> 1), "truncated"],
        ["wrong machine", wrongMachine, "wrong_machine"],
        ["missing license", minimalXdpObject({ license: null }), "no_license"],
        ["unknown section", minimalXdpObject({ extra: [unknownSection()] }), "unknown_section"],
        [
          "program the verifier refuses",
          minimalXdpObject({ program: UNVERIFIABLE_PROGRAM }),
          "verifier_rejected",
        ],
      ];
      for (const [what, bytes, reason] of cases) {
        await t.step(`${what} is rejected and nothing is attached`, async () => {
          const attempt = () => {
            const obj = loadObject(libbpf, bytes, { name: what });
            try {
              attachXdp(libbpf, obj, "xdp", {
                iface: pair.ifB,
                netns: pair.nsB,
                mode: "skb",
                stateDir,
              });
            } finally {
              obj.close();
            }
          };
          assert.throws(attempt, (err: unknown) => {
            assert.ok(err instanceof ValidationError, String(err));
            assert.equal(err.details?.reason, reason);
            if (reason === "verifier_rejected") {
              assert.match(String(err.details?.verifierLog), /R0 !read_ok/);
            }
            return true;
          });
          assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), false);
          assert.equal(findAttached(libbpf, pair.ifB, pair.nsB), null);
          assert.deepEqual(readAttachRecord(stateDir), []);
        });
      }
      await t.step("the well-formed minimal object does attach (positive control)", async () => {
        const obj = loadObject(libbpf, minimalXdpObject(), { name: "minimal" });
        try {
          const progId = attachXdp(libbpf, obj, "xdp", {
            iface: pair.ifB,
            netns: pair.nsB,
            mode: "skb",
          });
          assert.equal(findAttached(libbpf, pair.ifB, pair.nsB)?.progId, progId);
          assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), true);
          // Not ours by name: detach only by exact id.
          assert.equal(detachXdp(libbpf, pair.ifB, { netns: pair.nsB }), null);
          assert.equal(detachXdp(libbpf, pair.ifB, { netns: pair.nsB, progId })?.progId, progId);
          assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), false);
        } finally {
          obj.close();
        }
      });
    } finally {
      await pair.cleanup();
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "attach refuses to replace a foreign XDP program and leaves it in place",
  ignore: !privileged,
  fn: async () => {
    const libbpf = openLibbpf();
    const pair = await createVethPair();
    try {
      const foreign = loadObject(libbpf, minimalXdpObject(), { name: "foreign" });
      const foreignId = attachXdp(libbpf, foreign, "xdp", {
        iface: pair.ifB,
        netns: pair.nsB,
        mode: "skb",
      });
      foreign.close();
      const ours = loadObject(libbpf, Deno.readFileSync(objectPath("x0_telemetry")), { name: "t" });
      try {
        assert.throws(
          () =>
            attachXdp(libbpf, ours, "x0_telemetry", {
              iface: pair.ifB,
              netns: pair.nsB,
              mode: "skb",
            }),
          /not managed by x0tta6bl4/,
        );
      } finally {
        ours.close();
      }
      assert.equal(findAttached(libbpf, pair.ifB, pair.nsB)?.progId, foreignId);
    } finally {
      await pair.cleanup();
    }
  },
});

for (const mode of ["skb", "tc"] as const) {
  Deno.test({
    name: `after a crash (kill -9) the next start detaches the stale telemetry program (${mode})`,
    ignore: !privileged,
    fn: async (t) => {
      const libbpf = openLibbpf();
      const pair = await createVethPair();
      const attached = (p: VethPair) =>
        mode === "tc" ? tcShowsIngressFilter(p.nsB, p.ifB) : ipLinkShowsXdp(p.nsB, p.ifB);
      const ours = (p: VethPair) =>
        mode === "tc" ? findAttachedTc(libbpf, p.ifB, p.nsB) : findAttached(libbpf, p.ifB, p.nsB);
      const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-state-" });
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-ffi",
          "--allow-env",
          new URL("./crash_agent.ts", import.meta.url).pathname,
          stateDir,
          pair.ifB,
          pair.nsB,
          mode,
        ],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      try {
        await t.step("the agent attached and recorded its program", async () => {
          const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
          const { value } = await reader.read();
          reader.releaseLock();
          assert.equal(value?.trim(), "attached");
          assert.equal(await attached(pair), true);
          const record = readAttachRecord(stateDir);
          assert.equal(record.length, 1);
          assert.equal(record[0].iface, pair.ifB);
          assert.equal(record[0].pid, child.pid);
        });
        await t.step("kill -9 leaves the program attached", async () => {
          child.kill("SIGKILL");
          await child.status;
          assert.equal(await attached(pair), true);
        });
        await t.step("the next start detaches it", async () => {
          const detached = cleanupStale(libbpf, stateDir);
          assert.equal(detached.length, 1);
          assert.equal(await attached(pair), false);
          assert.deepEqual(readAttachRecord(stateDir), []);
        });
        await t.step("startEbpfTelemetry() runs the same cleanup itself", async () => {
          const first = await startEbpfTelemetry({
            interfaces: [pair.ifB],
            netns: pair.nsB,
            stateDir,
            mode,
          });
          assert.equal(first.mode, "ebpf");
          const staleId = ours(pair)!.progId;
          // A second session of the same process treats the first one's entry as live.
          assert.deepEqual(cleanupStale(libbpf, stateDir), []);
          assert.equal(ours(pair)?.progId, staleId);
          // Pretend the process died: rewrite the record's pid to one that does not exist.
          const path = `${stateDir}/ebpf_attached.json`;
          const rec = JSON.parse(await Deno.readTextFile(path));
          rec.entries[0].pid = 2 ** 22 + 1;
          await Deno.writeTextFile(path, JSON.stringify(rec));
          const second = await startEbpfTelemetry({
            interfaces: [pair.ifB],
            netns: pair.nsB,
            stateDir,
            mode,
          });
          try {
            assert.equal(second.mode, "ebpf");
            const now = ours(pair)!.progId;
            assert.notEqual(now, staleId);
            // The stale session stopping must not detach the program that replaced it.
            first.stop();
            assert.equal(ours(pair)?.progId, now);
            assert.deepEqual(readAttachRecord(stateDir).map((e) => e.progId), [now], "record kept");
          } finally {
            first.stop();
            second.stop();
          }
          assert.equal(await attached(pair), false);
        });
      } finally {
        try {
          child.kill("SIGKILL");
        } catch { /* already dead */ }
        await child.status;
        await child.stdout.cancel().catch(() => {});
        await pair.cleanup();
        await Deno.remove(stateDir, { recursive: true });
      }
    },
  });
}
