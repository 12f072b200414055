/**
 * Builds the native liveness helper (`deno task build:native`): native/liveness/main.rs →
 * native/bin/x0-liveness with rustc -O, std only (no crates; crates.io is unreachable), with
 * flags that make the ELF reproducible (no debug info, symbols stripped, paths remapped, fixed
 * metadata, one codegen unit). Prefers Debian's /usr/bin/rustc (1.63, what CI installs), then
 * `rustc` on PATH. `--test` builds and runs the helper's Rust unit tests instead.
 *
 * @module
 */

const root = new URL("./", import.meta.url).pathname;
const SOURCE = `${root}liveness/main.rs`;
/** Where the helper binary is written (git-ignored). */
export const LIVENESS_BINARY = `${root}bin/x0-liveness`;
const RUSTC = ["/usr/bin/rustc", "rustc"];

/** Flags shared by the release and the test build. */
function rustcArgs(out: string): string[] {
  return [
    "--edition",
    "2021",
    "-O",
    "-C",
    "debuginfo=0",
    "-C",
    "codegen-units=1",
    "-C",
    "strip=symbols",
    "-C",
    "metadata=x0-liveness",
    `--remap-path-prefix=${root}=native/`,
    "--crate-name",
    "x0_liveness",
    "-o",
    out,
    SOURCE,
  ];
}

async function rustc(args: string[]): Promise<{ ok: boolean; output: string; compiler: string }> {
  let last = "";
  for (const compiler of RUSTC) {
    try {
      const r = await new Deno.Command(compiler, { args, stdout: "piped", stderr: "piped" })
        .output();
      const output = new TextDecoder().decode(r.stderr) + new TextDecoder().decode(r.stdout);
      return { ok: r.success, output, compiler };
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      last = `${compiler}: not found`;
    }
  }
  return { ok: false, output: `No Rust compiler (${last}): apt-get install rustc`, compiler: "" };
}

/**
 * Compiles the helper to {@linkcode LIVENESS_BINARY} (atomically: concurrent builds are safe).
 *
 * @returns the binary's path
 * @throws Error with rustc's messages when the build fails
 */
export async function buildLiveness(): Promise<string> {
  await Deno.mkdir(`${root}bin`, { recursive: true });
  const tmp = `${LIVENESS_BINARY}.tmp-${Deno.pid}-${Math.random().toString(36).slice(2)}`;
  const r = await rustc(rustcArgs(tmp));
  if (!r.ok) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`Cannot build the liveness helper: ${r.output.trim()}`);
  }
  await Deno.rename(tmp, LIVENESS_BINARY);
  return LIVENESS_BINARY;
}

/**
 * Builds and runs the helper's Rust unit tests (SHA-256/HMAC vectors, parser fuzz, state
 * machine properties); returns the test binary's output.
 */
export async function testLiveness(): Promise<{ ok: boolean; output: string }> {
  await Deno.mkdir(`${root}target`, { recursive: true });
  const bin = `${root}target/x0-liveness-test-${Deno.pid}`;
  const built = await rustc(["--test", ...rustcArgs(bin)]);
  if (!built.ok) return { ok: false, output: built.output };
  try {
    const r = await new Deno.Command(bin, { stdout: "piped", stderr: "piped" }).output();
    return {
      ok: r.success,
      output: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr),
    };
  } finally {
    await Deno.remove(bin).catch(() => {});
  }
}

async function sha256Hex(path: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) {
  try {
    if (Deno.args.includes("--test")) {
      const r = await testLiveness();
      console.log(r.output.trimEnd());
      Deno.exitCode = r.ok ? 0 : 1;
    } else {
      const out = await buildLiveness();
      const size = (await Deno.stat(out)).size;
      console.log(`build:native: wrote ${out} (${size} bytes, sha256 ${await sha256Hex(out)})`);
    }
  } catch (err) {
    console.error((err as Error).message);
    Deno.exitCode = 1;
  }
}
