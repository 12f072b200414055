/**
 * Rebuilds the committed eBPF objects (`bpf/*.o`) from their C sources with
 * `clang -O2 -g -target bpf`. Run by `deno task build:bpf`; running the agent needs no clang.
 *
 * @module
 */

const BPF_DIR = new URL(".", import.meta.url);

/** The programs to build: each `bpf/<name>.c` becomes `bpf/<name>.o`. */
export const PROGRAMS = ["xdp_telemetry", "tc_telemetry", "xdp_chaos", "xdp_pass"] as const;

/** Returns the clang argument list that builds one program (exported for tests). */
export function clangArgs(name: string, dir: string): string[] {
  return [
    "-O2",
    "-g",
    "-target",
    "bpf",
    "-Wall",
    "-Werror",
    // Debian keeps asm/ headers under the multiarch include dir, which -target bpf does not search.
    "-I/usr/include/x86_64-linux-gnu",
    // Keep the build directory out of the debug info so rebuilds are byte-stable across checkouts.
    `-fdebug-prefix-map=${dir}=.`,
    "-c",
    `${dir}/${name}.c`,
    "-o",
    `${dir}/${name}.o`,
  ];
}

async function build(): Promise<number> {
  const dir = decodeURIComponent(BPF_DIR.pathname).replace(/\/$/, "");
  const clang = Deno.env.get("CLANG") ?? "clang";
  for (const name of PROGRAMS) {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(clang, { args: clangArgs(name, dir), stderr: "piped" }).output();
    } catch (err) {
      console.error(`Cannot run ${clang}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
    if (!out.success) {
      console.error(`Cannot build bpf/${name}.o: clang exited with ${out.code}`);
      console.error(new TextDecoder().decode(out.stderr));
      return 1;
    }
    const size = (await Deno.stat(`${dir}/${name}.o`)).size;
    console.log(`built bpf/${name}.o (${size} bytes)`);
  }
  return 0;
}

if (import.meta.main) {
  Deno.exitCode = await build();
}
