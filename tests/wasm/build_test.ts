import assert from "node:assert/strict";

const crate = new URL("../../wasm/crate/Cargo.toml", import.meta.url).pathname;
const committed = new URL("../../wasm/x0_core.wasm", import.meta.url).pathname;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const needs: [string, string][] = [
  ["/usr/bin/cargo", "cargo"],
  ["/usr/lib/rustlib/wasm32-unknown-unknown/lib", "libstd-rust-dev-wasm32"],
  ["/usr/bin/lld-14", "lld-14"],
];
const absent: string[] = [];
for (const [path, pkg] of needs) if (!(await exists(path))) absent.push(pkg);

/** wasm/build.ts prefers rustup's wasm32 target; its rustc emits different (valid) bytes. */
async function rustupHasWasm(): Promise<boolean> {
  try {
    const r = await new Deno.Command("rustup", { args: ["target", "list", "--installed"] })
      .output();
    return new TextDecoder().decode(r.stdout).split("\n").includes("wasm32-unknown-unknown");
  } catch {
    return false;
  }
}
const rustup = await rustupHasWasm();
if (rustup) {
  console.log("SKIP: rustup's wasm32 target builds the core; byte comparison is for Debian's");
}
if (absent.length) {
  console.log(`SKIP: rebuilding the WASM core needs Debian packages: ${absent.join(", ")}`);
  if (Deno.env.get("CI") === "true") throw new Error(`CI is missing ${absent.join(", ")}`);
}

Deno.test({
  name: "the committed x0_core.wasm is byte for byte what wasm/crate builds to (Debian toolchain)",
  ignore: absent.length > 0 || rustup,
  fn: async () => {
    const target = await Deno.makeTempDir({ prefix: "x0_wasm_build_" });
    try {
      const out = await new Deno.Command("/usr/bin/cargo", {
        args: [
          "build",
          "--release",
          "--target",
          "wasm32-unknown-unknown",
          "--manifest-path",
          crate,
        ],
        env: { RUSTC: "/usr/bin/rustc", CARGO_TARGET_DIR: target },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const built = await Deno.readFile(`${target}/wasm32-unknown-unknown/release/x0_core.wasm`);
      const have = await Deno.readFile(committed);
      assert.ok(
        built.length === have.length && built.every((b, i) => b === have[i]),
        "wasm/x0_core.wasm is stale: run `deno task build:wasm` and commit it",
      );
    } finally {
      await Deno.remove(target, { recursive: true });
    }
  },
});
