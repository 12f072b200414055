/**
 * Reads small kernel files (/proc, /sys) through libc. Deno 2.9 refuses to read /proc, /sys
 * and /dev without --allow-all (see denoland/deno#27564), yet the agent needs /proc/self/stat,
 * /proc/stat, /proc/meminfo, /proc/net/dev and cgroup files. With --allow-ffi, which the agent
 * already needs for libbpf and netlink, we open and read them with libc directly.
 *
 * @module
 */

const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const CHUNK = 65536;

type Libc = Deno.DynamicLibrary<{
  open: { parameters: ["buffer", "i32"]; result: "i32" };
  read: { parameters: ["i32", "buffer", "usize"]; result: "isize" };
  close: { parameters: ["i32"]; result: "i32" };
  __errno_location: { parameters: []; result: "pointer" };
}>;

let libc: Libc | null | undefined;

function load(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      open: { parameters: ["buffer", "i32"], result: "i32" },
      read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
      close: { parameters: ["i32"], result: "i32" },
      __errno_location: { parameters: [], result: "pointer" },
    });
  } catch {
    libc = null;
  }
  return libc;
}

function errno(lib: Libc): number {
  const p = lib.symbols.__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

/** True when libc can be loaded (the process has --allow-ffi and runs on glibc Linux). */
export function libcAvailable(): boolean {
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return false;
  } catch {
    return false;
  }
  return load() !== null;
}

/**
 * Reads a whole (small) file with libc open/read/close and decodes it as UTF-8.
 *
 * @param path absolute path, e.g. /proc/self/stat
 * @throws Error with the errno when the file cannot be opened or read
 */
export function readFileWithLibc(path: string): string {
  const lib = load();
  if (!lib) throw new Error(`Cannot read ${path}: libc.so.6 is not loadable (need --allow-ffi)`);
  const fd = lib.symbols.open(new TextEncoder().encode(path + "\0"), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw new Error(`Cannot open ${path}: errno ${errno(lib)}`);
  try {
    const parts: Uint8Array[] = [];
    let total = 0;
    while (true) {
      const buf = new Uint8Array(CHUNK);
      const n = Number(lib.symbols.read(fd, buf, BigInt(CHUNK)));
      if (n < 0) throw new Error(`Cannot read ${path}: errno ${errno(lib)}`);
      if (n === 0) break;
      parts.push(buf.subarray(0, n));
      total += n;
      if (total > 16 * 1024 * 1024) throw new Error(`Cannot read ${path}: larger than 16 MiB`);
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return new TextDecoder().decode(out);
  } finally {
    lib.symbols.close(fd);
  }
}
