import assert from "node:assert/strict";
import { clangArgs, PROGRAMS } from "../../bpf/build.ts";
import { validateBpfElf } from "../../core/ebpf/elf_validate.ts";

const BPF_DIR = new URL("../../bpf/", import.meta.url).pathname.replace(/\/$/, "");

async function clangVersion(): Promise<string | null> {
  try {
    const out = await new Deno.Command("clang", {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).split("\n")[0] : null;
  } catch {
    return null;
  }
}

const clang = await clangVersion();
if (clang === null) {
  if (Deno.env.get("CI") === "true") throw new Error("clang missing (CI=true)");
  console.warn("SKIP: bpf build tests: missing clang");
}

Deno.test({
  name: "bpf/build.ts compiles every program into an object that passes validation",
  ignore: clang === null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "x0bpf-build-" });
    try {
      for (const f of Deno.readDirSync(BPF_DIR)) {
        if (f.name.endsWith(".c") || f.name.endsWith(".h")) {
          await Deno.copyFile(`${BPF_DIR}/${f.name}`, `${dir}/${f.name}`);
        }
      }
      for (const name of PROGRAMS) {
        const out = await new Deno.Command("clang", { args: clangArgs(name, dir), stderr: "piped" })
          .output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
        const built = await Deno.readFile(`${dir}/${name}.o`);
        const sections = validateBpfElf(built, { name }).programSections;
        assert.deepEqual(sections, [name.startsWith("tc_") ? "tc" : "xdp"]);
        const committed = validateBpfElf(await Deno.readFile(`${BPF_DIR}/${name}.o`), { name });
        // Same clang → the committed object must be exactly what the sources build to.
        if (clang!.includes("14.0")) {
          assert.deepEqual(
            built,
            await Deno.readFile(`${BPF_DIR}/${name}.o`),
            `bpf/${name}.o is stale: run deno task build:bpf`,
          );
        }
        assert.deepEqual(
          validateBpfElf(built).sections.map((s) => s.name),
          committed.sections.map((s) => s.name),
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("clangArgs() targets BPF with -O2 -g and maps the build directory out of debug info", () => {
  const args = clangArgs("xdp_chaos", "/src/bpf");
  for (const flag of ["-O2", "-g", "-Werror"]) assert.ok(args.includes(flag), flag);
  assert.deepEqual(args.slice(args.indexOf("-target"), args.indexOf("-target") + 2), [
    "-target",
    "bpf",
  ]);
  assert.ok(args.includes("-fdebug-prefix-map=/src/bpf=."));
  assert.deepEqual(args.slice(-4), ["-c", "/src/bpf/xdp_chaos.c", "-o", "/src/bpf/xdp_chaos.o"]);
});
