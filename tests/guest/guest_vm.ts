/**
 * A throwaway qemu guest for kernel features this host lacks (batman-adv): boots Debian's
 * kernel (linux-image-amd64) under TCG with the host's / shared read-only over 9p, runs one
 * bash script inside (host binaries and this checkout are visible; /tmp /var /root are RAM
 * overlays), and returns the console and the script's exit code. qemu is killed by PID on
 * timeout. Boot artifacts (uncompressed vmlinux, initramfs) are cached under /tmp/x0f9-guest, and
 * the last console is kept there as console.log.
 *
 * @module
 */

const HERE = new URL(".", import.meta.url).pathname;
const WORK = "/tmp/x0f9-guest";

/** What a guest run produced. */
export interface GuestResult {
  /** Exit code of the script, or null when the guest never reported one. */
  code: number | null;
  console: string;
  wallMs: number;
}

async function which(cmd: string): Promise<boolean> {
  const r = await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
    .output();
  return r.success;
}

/** The Debian kernel version that ships batman-adv, or null. */
export function guestKernelVersion(): string | null {
  let best: string | null = null;
  try {
    for (const e of Deno.readDirSync("/boot")) {
      const m = /^vmlinuz-(.+)$/.exec(e.name);
      if (!m) continue;
      try {
        Deno.statSync(`/lib/modules/${m[1]}/kernel/net/batman-adv/batman-adv.ko`);
        if (best === null || m[1] > best) best = m[1];
      } catch { /* this kernel has no batman-adv module */ }
    }
  } catch { /* no /boot */ }
  return best;
}

/**
 * Names what is missing to boot a batman-adv guest, or returns null when everything is there.
 */
export async function guestMissing(): Promise<string | null> {
  const missing: string[] = [];
  if (!await which("qemu-system-x86_64")) missing.push("qemu-system-x86_64 (qemu-system-x86)");
  if (guestKernelVersion() === null) {
    missing.push("a /boot kernel with batman-adv.ko (linux-image-amd64)");
  }
  try {
    Deno.statSync("/usr/bin/busybox");
  } catch {
    missing.push("/usr/bin/busybox (busybox-static)");
  }
  if (!await which("batctl")) missing.push("batctl");
  for (const t of ["cpio", "xz", "modprobe"]) if (!await which(t)) missing.push(t);
  if (Deno.uid?.() !== 0) missing.push("root");
  return missing.length ? missing.join(", ") : null;
}

async function run(cmd: string, args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin).catch(() => {});
    await w.close().catch(() => {});
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

/** Extracts the uncompressed vmlinux (PVH entry: boots ~6 s faster under TCG than bzImage). */
async function vmlinux(kver: string): Promise<string> {
  const out = `${WORK}/vmlinux-${kver}`;
  try {
    if (Deno.statSync(out).size > 0) return out;
  } catch { /* build it */ }
  const z = Deno.readFileSync(`/boot/vmlinuz-${kver}`);
  const magic = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
  let at = -1;
  for (let i = 0; i + magic.length <= z.length && at < 0; i++) {
    if (magic.every((b, j) => z[i + j] === b)) at = i;
  }
  if (at < 0) return `/boot/vmlinuz-${kver}`;
  const child = new Deno.Command("xz", {
    args: ["-dc", "--single-stream"],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const w = child.stdin.getWriter();
  const writing = w.write(z.subarray(at)).then(() => w.close()).catch(() => {});
  const res = await child.output();
  await writing;
  const elf = res.stdout.length > 4 && res.stdout[0] === 0x7f && res.stdout[1] === 0x45;
  if (!elf) return `/boot/vmlinuz-${kver}`;
  Deno.writeFileSync(`${out}.tmp`, res.stdout);
  Deno.renameSync(`${out}.tmp`, out);
  return out;
}

/** Builds the initramfs: static busybox, the virtio/9p/overlay modules, guest_init.sh as /init. */
async function initramfs(kver: string): Promise<string> {
  const init = Deno.readFileSync(`${HERE}guest_init.sh`);
  const tag = (await crypto.subtle.digest("SHA-256", init)).slice(0, 6);
  const hex = [...new Uint8Array(tag)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const out = `${WORK}/initramfs-${kver}-${hex}.cpio`;
  try {
    if (Deno.statSync(out).size > 0) return out;
  } catch { /* build it */ }
  const dir = Deno.makeTempDirSync({ dir: WORK, prefix: "ir." });
  try {
    for (const d of ["bin", "dev", "proc", "sys", "newroot", "mods"]) Deno.mkdirSync(`${dir}/${d}`);
    Deno.copyFileSync("/usr/bin/busybox", `${dir}/bin/busybox`);
    Deno.chmodSync(`${dir}/bin/busybox`, 0o755);
    Deno.writeFileSync(`${dir}/init`, init, { mode: 0o755 });
    const deps = new TextDecoder().decode(
      await run("modprobe", [
        "-a",
        "-S",
        kver,
        "--show-depends",
        "virtio_pci",
        "9pnet_virtio",
        "9p",
        "overlay",
      ]),
    );
    const order: string[] = [];
    for (const line of deps.split("\n")) {
      const m = /^insmod (\S+)/.exec(line);
      if (!m) continue;
      const name = m[1].split("/").pop()!;
      if (order.includes(name)) continue;
      Deno.copyFileSync(m[1], `${dir}/mods/${name}`);
      order.push(name);
    }
    Deno.writeTextFileSync(`${dir}/mods/order`, order.join("\n") + "\n");
    await run("mknod", [`${dir}/dev/console`, "c", "5", "1"]);
    const cpio = await run("sh", ["-c", `cd ${dir} && find . | cpio -o -H newc --quiet`]);
    Deno.writeFileSync(`${out}.tmp`, cpio);
    Deno.renameSync(`${out}.tmp`, out);
    return out;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * Boots the guest, runs `script` (a bash file visible in the guest, not under /run /dev /proc
 * /sys) in `cwd`, and powers off.
 *
 * @param script absolute path of the bash script
 * @param options working directory in the guest, timeout, memory, console echo
 */
export async function runInGuest(
  script: string,
  options: { cwd?: string; timeoutMs?: number; memory?: string; echo?: boolean } = {},
): Promise<GuestResult> {
  Deno.mkdirSync(WORK, { recursive: true });
  const kver = guestKernelVersion();
  if (!kver) throw new Error("No /boot kernel with batman-adv.ko (install linux-image-amd64)");
  const kernel = await vmlinux(kver);
  const initrd = await initramfs(kver);
  const started = performance.now();
  const child = new Deno.Command("qemu-system-x86_64", {
    args: [
      "-accel",
      "tcg",
      "-cpu",
      "max",
      "-m",
      options.memory ?? "2G",
      "-smp",
      "2",
      "-no-reboot",
      "-nodefaults",
      "-display",
      "none",
      "-serial",
      "stdio",
      "-kernel",
      kernel,
      "-initrd",
      initrd,
      "-fsdev",
      "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap",
      "-device",
      "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
      "-append",
      `console=ttyS0 panic=-1 quiet mitigations=off x0guest.init=${HERE}guest_init.sh ` +
      `x0guest.cmd=${script} x0guest.cwd=${options.cwd ?? "/"}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, options.timeoutMs ?? 120_000);
  let text = "";
  const dec = new TextDecoder();
  const errText = child.stderr.pipeTo(new WritableStream());
  for await (const chunk of child.stdout) {
    const s = dec.decode(chunk, { stream: true });
    text += s;
    if (options.echo) Deno.stderr.writeSync(chunk);
  }
  await child.status;
  await errText;
  clearTimeout(timer);
  const clean = text.replaceAll("\r", "");
  Deno.writeTextFileSync(`${WORK}/console.log`, clean);
  const m = [...clean.matchAll(/^X0-GUEST-EXIT=(\d+)$/gm)].pop();
  return { code: m ? Number(m[1]) : null, console: clean, wallMs: performance.now() - started };
}

/**
 * Returns the text printed between `==X0 BEGIN <name>==` and `==X0 END <name>==` lines.
 *
 * @param console the guest console
 * @param name the block name
 */
export function consoleBlock(console: string, name: string): string | null {
  const begin = `==X0 BEGIN ${name}==\n`;
  const i = console.indexOf(begin);
  if (i < 0) return null;
  const j = console.indexOf(`==X0 END ${name}==`, i);
  if (j < 0) return null;
  return console.slice(i + begin.length, j);
}
