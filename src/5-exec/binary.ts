// What the kernel makes of an executable's bytes: a #! script (binfmt_script) or an ELF program (binfmt_elf). Pure.

/** The kernel reads this much of a file to decide its format (BINPRM_BUF_SIZE). */
export const HEAD_SIZE = 256;

/** Reads `length` bytes at `offset` of the file being judged (fewer at its end). */
export type ReadAt = (offset: number, length: number) => Buffer;

export type Shebang = { readonly interpreter: string; readonly argument: string | undefined } | { readonly problem: string };

const blank = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x09;

/**
 * Parses a `#!` line as load_script() does: the interpreter runs to the first space, tab or NUL,
 * and one optional argument follows. Without a newline in the first 256 bytes, an interpreter
 * name that does not end there is taken as cut off, and refused.
 */
export function parseShebang(head: Buffer): Shebang {
  const buf = Buffer.alloc(HEAD_SIZE);
  head.copy(buf, 0, 0, HEAD_SIZE);
  let end = buf.indexOf(0x0a);
  if (end < 0) {
    let start = 2;
    while (start < HEAD_SIZE && blank(buf[start])) start++;
    let stop = start;
    while (stop < HEAD_SIZE && !blank(buf[stop]) && buf[stop] !== 0) stop++;
    if (start >= HEAD_SIZE || stop >= HEAD_SIZE) return { problem: `its #! line has no end in the first ${HEAD_SIZE} bytes, so the kernel cannot read the interpreter's name` };
    end = HEAD_SIZE - 1;
  }
  const line = buf.subarray(2, end).toString('latin1').split('\0')[0] ?? '';
  const match = /^[ \t]*([^ \t]*)[ \t]*(.*?)[ \t]*$/s.exec(line);
  const interpreter = match?.[1] ?? '';
  if (interpreter === '') return { problem: 'its #! line names no interpreter' };
  const argument = match?.[2] ?? '';
  return { interpreter: Buffer.from(interpreter, 'latin1').toString(), argument: argument === '' ? undefined : Buffer.from(argument, 'latin1').toString() };
}

/** ELF machine numbers (e_machine) and word size each kernel runs, natively or as its 32-bit compat. */
const RUNS: Readonly<Record<string, readonly (readonly [bits: 32 | 64, machine: number])[]>> = {
  x86_64: [[64, 62], [32, 3]], i686: [[32, 3]], i386: [[32, 3]],
  aarch64: [[64, 183], [32, 40]], armv7l: [[32, 40]], armv8l: [[32, 40]], armv6l: [[32, 40]],
  riscv64: [[64, 243]], ppc64le: [[64, 21]], ppc64: [[64, 21], [32, 20]], s390x: [[64, 22], [32, 22]],
  loongarch64: [[64, 258]], mips64: [[64, 8], [32, 8]],
};

/** The kernel this runs on: uname's machine and the byte order. */
export interface Kernel {
  readonly machine: string;
  readonly endianness: 'LE' | 'BE';
  /** The page size, which bounds an ELF program header table (ELF_MIN_ALIGN). */
  readonly pageSize: number;
}

const ET = ['none', 'a relocatable object file', 'a program', 'a shared object', 'a core dump'];

/**
 * Why binfmt_elf would refuse this ELF file, if it would; otherwise the interpreter its PT_INTERP
 * names ("" when it has none, as a static binary has none). `interpreter` says that the file is
 * itself an interpreter, whose own PT_INTERP the kernel ignores.
 */
export function readElf(read: ReadAt, kernel: Kernel, interpreter = false): { problem: string } | { interpreter: string } {
  const head = read(0, 64);
  const bits = head[4] === 2 ? 64 : 32;
  const little = head[5] === 1;
  if (head.length < (bits === 64 ? 64 : 52) || (head[4] !== 1 && head[4] !== 2)) return { problem: 'it is a damaged ELF file (its header is cut short)' };
  const u16 = (b: Buffer, at: number): number => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const word = (b: Buffer, at: number): number => (bits === 32 ? (little ? b.readUInt32LE(at) : b.readUInt32BE(at)) : Number(little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)));
  const type = u16(head, 16);
  const machine = u16(head, 18);
  if (type !== 2 && type !== 3) return { problem: `it is ${ET[type] ?? `an ELF file of type ${type}`}, not a program` };
  const runs = RUNS[kernel.machine];
  if (runs !== undefined && (little !== (kernel.endianness === 'LE') || !runs.some(([b, m]) => b === bits && m === machine))) {
    return { problem: `it is a ${bits}-bit ${little ? 'little' : 'big'}-endian binary for another architecture (ELF machine ${machine}), and this kernel is ${kernel.machine}` };
  }
  const [phoff, phentsize, phnum] = bits === 64 ? [word(head, 32), u16(head, 54), u16(head, 56)] : [word(head, 28), u16(head, 42), u16(head, 44)];
  const size = phentsize * phnum;
  if (phentsize !== (bits === 64 ? 56 : 32) || size === 0 || size > Math.min(65536, kernel.pageSize)) return { problem: 'its ELF program header table is damaged or too large for this kernel' };
  if (interpreter) return { interpreter: '' };
  const table = read(phoff, size);
  if (table.length < size) return { problem: 'it is a damaged ELF file (its program headers are cut short)' };
  for (let at = 0; at < size; at += phentsize) {
    if ((little ? table.readUInt32LE(at) : table.readUInt32BE(at)) !== 3) continue;
    const [offset, length] = bits === 64 ? [word(table, at + 8), word(table, at + 32)] : [word(table, at + 4), word(table, at + 16)];
    const name = read(offset, length);
    if (length < 2 || length > 4096 || name.length < length || name[length - 1] !== 0) return { problem: 'its ELF interpreter (PT_INTERP) is damaged' };
    return { interpreter: name.subarray(0, length - 1).toString() };
  }
  return { interpreter: '' };
}

/** Whether `head` starts an ELF file. */
export function isElf(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46;
}
