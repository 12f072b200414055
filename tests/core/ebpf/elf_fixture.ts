/**
 * Test fixture: builds small ELF64 BPF relocatable objects byte by byte, so validation tests
 * can produce exactly one defect at a time (no license, wrong machine, unknown section, ...)
 * and a well-formed minimal XDP object as the positive control.
 *
 * @module
 */

/** One section to emit. */
export interface FixtureSection {
  name: string;
  type: number;
  flags: number;
  data: Uint8Array;
  link?: number;
  info?: number;
  entsize?: number;
  align?: number;
}

const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;

/** Encodes BPF instructions given as [opcode, regs, off, imm]. */
export function insns(list: [number, number, number, number][]): Uint8Array {
  const out = new Uint8Array(list.length * 8);
  const v = new DataView(out.buffer);
  list.forEach(([op, regs, off, imm], i) => {
    v.setUint8(i * 8, op);
    v.setUint8(i * 8 + 1, regs);
    v.setInt16(i * 8 + 2, off, true);
    v.setInt32(i * 8 + 4, imm, true);
  });
  return out;
}

/** `r0 = 2 (XDP_PASS); exit`. */
export const XDP_PASS_PROGRAM = insns([[0xb7, 0, 0, 2], [0x95, 0, 0, 0]]);
/** `exit` without setting r0: the verifier rejects it ("R0 !read_ok"). */
export const UNVERIFIABLE_PROGRAM = insns([[0x95, 0, 0, 0]]);

/**
 * Builds an ELF64 little-endian relocatable. Section 0 (null) and the section-name string
 * table (index 1, ".strtab") are added; `sections` follow from index 2.
 */
export function buildElf(
  sections: FixtureSection[],
  options: { machine?: number } = {},
): Uint8Array {
  const names = [".strtab", ...sections.map((s) => s.name)];
  const enc = new TextEncoder();
  const strParts: number[] = [0];
  const nameOff: number[] = [];
  for (const n of names) {
    nameOff.push(strParts.length);
    strParts.push(...enc.encode(n), 0);
  }
  const strtab = new Uint8Array(strParts);
  const all: FixtureSection[] = [
    { name: ".strtab", type: SHT_STRTAB, flags: 0, data: strtab, align: 1 },
    ...sections,
  ];
  let offset = 64;
  const placed = all.map((s) => {
    const align = s.align ?? 8;
    offset = Math.ceil(offset / align) * align;
    const at = offset;
    offset += s.data.length;
    return at;
  });
  const shoff = Math.ceil(offset / 8) * 8;
  const shnum = all.length + 1;
  const out = new Uint8Array(shoff + shnum * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  v.setUint16(16, 1, true); // ET_REL
  v.setUint16(18, options.machine ?? 247, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, shnum, true);
  v.setUint16(62, 1, true);
  all.forEach((s, i) => {
    out.set(s.data, placed[i]);
    const h = shoff + (i + 1) * 64;
    v.setUint32(h, nameOff[i], true);
    v.setUint32(h + 4, s.type, true);
    v.setBigUint64(h + 8, BigInt(s.flags), true);
    v.setBigUint64(h + 24, BigInt(placed[i]), true);
    v.setBigUint64(h + 32, BigInt(s.data.length), true);
    v.setUint32(h + 40, s.link ?? 0, true);
    v.setUint32(h + 44, s.info ?? 0, true);
    v.setBigUint64(h + 48, BigInt(s.align ?? 8), true);
    v.setBigUint64(h + 56, BigInt(s.entsize ?? 0), true);
  });
  return out;
}

/** Options of `minimalXdpObject`: each introduces one defect or variation. */
export interface MinimalOptions {
  /** License text; null leaves the section out. */
  license?: string | null;
  /** ELF machine (default 247, EM_BPF). */
  machine?: number;
  /** Program section name (default "xdp"). */
  programSection?: string;
  /** Program instructions (default XDP_PASS_PROGRAM). */
  program?: Uint8Array;
  /** Extra sections appended after the symbol table. */
  extra?: FixtureSection[];
}

/** A minimal object: one XDP function (named like its section) returning XDP_PASS, a license and a symtab. */
export function minimalXdpObject(options: MinimalOptions = {}): Uint8Array {
  const program = options.program ?? XDP_PASS_PROGRAM;
  const sections: FixtureSection[] = [
    {
      name: options.programSection ?? "xdp",
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_EXECINSTR,
      data: program,
    },
  ];
  const license = options.license === undefined ? "GPL" : options.license;
  if (license !== null) {
    sections.push({
      name: "license",
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_WRITE,
      data: new TextEncoder().encode(license + "\0"),
      align: 1,
    });
  }
  // The function symbol reuses the program section's name in .strtab (patched in below).
  const symtab = new Uint8Array(48);
  const sv = new DataView(symtab.buffer);
  sv.setUint8(28, 0x12); // STB_GLOBAL | STT_FUNC
  sv.setUint16(30, 2, true); // program section index
  sv.setBigUint64(40, BigInt(program.length), true);
  sections.push({
    name: ".symtab",
    type: SHT_SYMTAB,
    flags: 0,
    data: symtab,
    link: 1,
    info: 1,
    entsize: 24,
  });
  sections.push(...(options.extra ?? []));
  const elf = buildElf(sections, { machine: options.machine });
  // Name the function after its section ("xdp" → symbol "xdp"): offset of that name in .strtab.
  const v = new DataView(elf.buffer);
  const shoff = Number(v.getBigUint64(40, true));
  const progNameOff = v.getUint32(shoff + 2 * 64, true);
  const symIndex = sections.findIndex((s) => s.name === ".symtab") + 2;
  const symOff = Number(v.getBigUint64(shoff + symIndex * 64 + 24, true));
  v.setUint32(symOff + 24, progNameOff, true);
  return elf;
}

/** A section with `name` that no BPF toolchain emits. */
export function unknownSection(name = ".x0_unknown"): FixtureSection {
  return { name, type: SHT_PROGBITS, flags: SHF_ALLOC, data: new Uint8Array(8) };
}
