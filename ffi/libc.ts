/**
 * Deno FFI bindings to the few libc calls the eBPF loader needs: interface name/index lookup,
 * file descriptors (open/close) and `setns` to enter a network namespace on the calling thread.
 *
 * Standalone on purpose (imports nothing from core/): errors are `LibcError` with the errno.
 *
 * @module
 */

/** A failed libc call, carrying the errno it reported. */
export class LibcError extends Error {
  /** The errno value (positive). */
  readonly errno: number;
  /**
   * @param message sentence-case message, detail after a colon
   * @param errno positive errno value
   */
  constructor(message: string, errno: number) {
    super(message);
    this.name = "LibcError";
    this.errno = errno;
  }
}

const SYMBOLS = {
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  if_indextoname: { parameters: ["u32", "buffer"], result: "pointer" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  vsnprintf: { parameters: ["buffer", "usize", "pointer", "pointer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The libc functions, bound once. */
export interface Libc {
  /** Interface index for a name in the calling thread's network namespace, or 0. */
  ifNameToIndex(name: string): number;
  /** Interface name for an index, or null. */
  ifIndexToName(index: number): string | null;
  /** Opens a file read-only with O_CLOEXEC and returns the fd. */
  openReadOnly(path: string): number;
  /**
   * Reads a small file whole (up to 4 MiB). Used for /proc files, which Deno 2.9 refuses to
   * read without --allow-all (denoland/deno#27564); /proc/thread-self also follows setns.
   */
  readTextFile(path: string): string;
  /** True when a process with this pid exists (kill(pid, 0) succeeds or fails with EPERM). */
  processExists(pid: number): boolean;
  /**
   * The kernel driver behind an interface (ethtool ETHTOOL_GDRVINFO), e.g. "veth", "e1000e";
   * null when the interface does not exist or has no ethtool support. Follows the calling
   * thread's network namespace.
   */
  interfaceDriver(name: string): string | null;
  /** Closes a file descriptor (errors ignored: used on cleanup paths). */
  close(fd: number): void;
  /** Moves the calling thread into the namespace behind `fd` (nstype CLONE_NEWNET). */
  setnsNet(fd: number): void;
  /** Formats a C `format` + `va_list` pair into a string (for libbpf's print callback). */
  vformat(format: Deno.PointerValue, args: Deno.PointerValue): string;
  /** The current thread's errno. */
  errno(): number;
  /** The message libc has for an errno. */
  strerror(errno: number): string;
}

const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const CLONE_NEWNET = 0x40000000;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SIOCETHTOOL = 0x8946n;
const ETHTOOL_GDRVINFO = 3;

let cached: Libc | undefined;

/** Encodes a JS string as a NUL-terminated C string. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  if (bytes.includes(0)) throw new TypeError(`String contains a NUL byte: ${JSON.stringify(s)}`);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Opens libc (`libc.so.6`) once and returns the bound functions. */
export function libc(): Libc {
  if (cached) return cached;
  const lib = Deno.dlopen("libc.so.6", SYMBOLS);
  const s = lib.symbols;
  const errno = (): number => {
    const p = s.__errno_location();
    return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
  };
  const strerror = (e: number): string => {
    const p = s.strerror(e);
    return p === null ? `errno ${e}` : Deno.UnsafePointerView.getCString(p);
  };
  cached = {
    ifNameToIndex: (name) => s.if_nametoindex(cString(name)),
    ifIndexToName: (index) => {
      const buf = new Uint8Array(16);
      const p = s.if_indextoname(index, buf);
      if (p === null) return null;
      const end = buf.indexOf(0);
      return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
    },
    openReadOnly: (path) => {
      const fd = s.open(cString(path), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        const e = errno();
        throw new LibcError(`Cannot open ${path}: ${strerror(e)}`, e);
      }
      return fd;
    },
    close: (fd) => {
      s.close(fd);
    },
    readTextFile: (path) => {
      const fd = cached!.openReadOnly(path);
      try {
        const chunks: Uint8Array[] = [];
        let total = 0;
        for (;;) {
          const buf = new Uint8Array(65536);
          const n = Number(s.read(fd, buf, BigInt(buf.length)));
          if (n < 0) {
            const e = errno();
            throw new LibcError(`Cannot read ${path}: ${strerror(e)}`, e);
          }
          if (n === 0) break;
          chunks.push(buf.subarray(0, n));
          total += n;
          if (total > 4 << 20) throw new LibcError(`Cannot read ${path}: larger than 4 MiB`, 27);
        }
        const all = new Uint8Array(total);
        let off = 0;
        for (const c of chunks) {
          all.set(c, off);
          off += c.length;
        }
        return new TextDecoder().decode(all);
      } finally {
        s.close(fd);
      }
    },
    interfaceDriver: (name) => {
      const ifname = cString(name);
      if (ifname.length > 16) return null;
      const fd = s.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return null;
      try {
        // struct ethtool_drvinfo { u32 cmd; char driver[32]; ... } is 196 bytes.
        const info = new Uint8Array(196);
        new DataView(info.buffer).setUint32(0, ETHTOOL_GDRVINFO, true);
        // struct ifreq { char ifr_name[16]; void *ifr_data; ... } is 40 bytes.
        const ifr = new Uint8Array(40);
        ifr.set(ifname);
        new DataView(ifr.buffer).setBigUint64(
          16,
          BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(info))),
          true,
        );
        if (s.ioctl(fd, SIOCETHTOOL, ifr) !== 0) return null;
        const driver = info.subarray(4, 36);
        const end = driver.indexOf(0);
        return new TextDecoder().decode(driver.subarray(0, end < 0 ? 32 : end));
      } finally {
        s.close(fd);
      }
    },
    processExists: (pid) => {
      if (!Number.isInteger(pid) || pid <= 0) return false;
      return s.kill(pid, 0) === 0 || errno() === 1;
    },
    setnsNet: (fd) => {
      if (s.setns(fd, CLONE_NEWNET) !== 0) {
        const e = errno();
        throw new LibcError(`Cannot enter network namespace: ${strerror(e)}`, e);
      }
    },
    vformat: (format, args) => {
      const buf = new Uint8Array(1024);
      const n = s.vsnprintf(buf, BigInt(buf.length), format, args);
      const len = Math.max(0, Math.min(n, buf.length - 1));
      return new TextDecoder().decode(buf.subarray(0, len));
    },
    errno,
    strerror,
  };
  return cached;
}
