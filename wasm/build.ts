/**
 * Rebuilds wasm/x0_core.wasm from wasm/crate (`deno task build:wasm`). Uses rustup's toolchain
 * when it has the wasm32-unknown-unknown target installed, else Debian's rustc/cargo with
 * libstd-rust-dev-wasm32 (plus lld-14, which provides the rust-lld linker). The crate has no
 * dependencies, so the build is offline. Build output stays in wasm/target/ (git-ignored).
 *
 * @module
 */

const root = new URL("./", import.meta.url);
const crateDir = new URL("./crate/", root).pathname;
const targetDir = new URL("./target/", root).pathname;
const outFile = new URL("./x0_core.wasm", root).pathname;
const TARGET = "wasm32-unknown-unknown";

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  try {
    return await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  } catch (err) {
    return { success: false, code: -1, stdout: new Uint8Array(), stderr: String(err) };
  }
}

async function rustupHasWasmTarget(): Promise<boolean> {
  const r = await run("rustup", ["target", "list", "--installed"]);
  return r.success && new TextDecoder().decode(r.stdout).split("\n").includes(TARGET);
}

async function debianToolchain(): Promise<boolean> {
  try {
    await Deno.stat(`/usr/lib/rustlib/${TARGET}/lib`);
    await Deno.stat("/usr/bin/cargo");
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  let cargo: string;
  const env: Record<string, string> = { CARGO_TARGET_DIR: targetDir };
  if (await rustupHasWasmTarget()) {
    cargo = "cargo";
    console.log(`build:wasm: using rustup's ${TARGET} target`);
  } else if (await debianToolchain()) {
    cargo = "/usr/bin/cargo";
    env.RUSTC = "/usr/bin/rustc";
    console.log(`build:wasm: using Debian's rustc with libstd-rust-dev-wasm32`);
  } else {
    console.error(
      `Cannot build the WASM core: no ${TARGET} target (install rustup's target, or Debian's ` +
        `rustc cargo libstd-rust-dev-wasm32 lld-14)`,
    );
    return 1;
  }
  const args = [
    "build",
    "--release",
    "--target",
    TARGET,
    "--manifest-path",
    `${crateDir}Cargo.toml`,
  ];
  const r = await run(cargo, args, env);
  const stderr = typeof r.stderr === "string" ? r.stderr : new TextDecoder().decode(r.stderr);
  if (!r.success) {
    console.error(stderr.trimEnd());
    if (stderr.includes("rust-lld")) {
      console.error(
        "Cannot link the WASM core: rust-lld is missing (Debian: apt-get install lld-14)",
      );
    }
    return 1;
  }
  const built = `${targetDir}${TARGET}/release/x0_core.wasm`;
  const bytes = await Deno.readFile(built);
  if (!WebAssembly.validate(bytes)) {
    console.error(`Cannot use ${built}: not a valid WebAssembly module`);
    return 1;
  }
  await Deno.writeFile(outFile, bytes);
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  console.log(`build:wasm: wrote ${outFile} (${bytes.length} bytes, sha256 ${hex})`);
  return 0;
}

if (import.meta.main) {
  Deno.exitCode = await main();
}
