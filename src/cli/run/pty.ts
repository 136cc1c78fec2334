import { closeSync, constants, openSync } from 'node:fs'
import { endianness } from 'node:os'
import { cString, loadNative, type NativeFunction } from '../../platform/native.js'

/**
 * A pseudo-terminal for the command's output, opened through the C library with koffi (the optional
 * dependency the GPU meters use): the command still writes to a terminal (isatty, its size, colours and
 * progress bars as at the terminal itself), and wattprint reads what it writes, to know where the
 * terminal's cursor is before it draws its status line. Linux only, where the ioctl numbers below hold.
 */
export interface Pty {
  /** The side wattprint reads. */
  readonly master: number
  /** The side the command writes to (its stdout, its stderr): close it in wattprint once it runs. */
  readonly slave: number
  /** Sets the terminal size the command sees (through the master: the slave may be closed here by then). */
  resize(columns: number, rows: number): void
}

// The architectures whose Linux ioctl numbers are the generic ones (not alpha, mips, powerpc, sparc).
const GENERIC_IOCTLS = new Set(['x64', 'ia32', 'arm', 'arm64', 'riscv64', 's390x', 'loong64'])
const TIOCSWINSZ = 0x5414
/** struct termios: c_iflag, then c_oflag (unsigned int, glibc and musl); OPOST turns output processing on. */
const C_OFLAG_OFFSET = 4
const OPOST = 1
const TCSANOW = 0

type Call = (...args: unknown[]) => number

/** A pseudo-terminal of `columns` × `rows`, or why there is none here. */
export function openPty(columns: number, rows: number): Pty | { readonly reason: string } {
  if (process.platform !== 'linux' || !GENERIC_IOCTLS.has(process.arch))
    return { reason: `not on Linux on ${process.arch}` }
  const libc = loadNative(['libc.so.6', 'libc.so', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1'], 'libc')
  if ('reason' in libc) return libc
  let fn: Record<'grant' | 'unlock' | 'name' | 'ioctl' | 'getattr' | 'setattr', Call>
  try {
    const bind = (signature: string) => libc.required(signature) as NativeFunction as unknown as Call
    fn = {
      grant: bind('int grantpt(int fd)'),
      unlock: bind('int unlockpt(int fd)'),
      name: bind('int ptsname_r(int fd, _Out_ uint8_t *buf, size_t length)'),
      ioctl: bind('int ioctl(int fd, unsigned long request, ...)'),
      getattr: bind('int tcgetattr(int fd, _Out_ uint8_t *termios)'),
      setattr: bind('int tcsetattr(int fd, int when, const uint8_t *termios)'),
    }
  } catch (error) {
    return { reason: `the C library lacks a pseudo-terminal function: ${(error as Error).message}` }
  }
  // Opened here rather than by posix_openpt, so that it is closed on exec (Node opens files so): a command
  // that inherited it would hold its own terminal open, and block once wattprint stopped reading it.
  let master: number
  try {
    master = openSync('/dev/ptmx', constants.O_RDWR | constants.O_NOCTTY)
  } catch (error) {
    return { reason: `/dev/ptmx could not be opened: ${(error as Error).message}` }
  }
  let slave = -1
  try {
    const name = Buffer.alloc(256)
    if (fn.grant(master) !== 0 || fn.unlock(master) !== 0 || fn.name(master, name, name.length) !== 0)
      throw new Error('grantpt, unlockpt or ptsname failed')
    const path = cString(name)
    if (!path) throw new Error('ptsname gave no name')
    slave = openSync(path, constants.O_RDWR | constants.O_NOCTTY)
    // Output as the command wrote it (no \n made \r\n here): the terminal wattprint writes it to does that.
    const termios = Buffer.alloc(256)
    if (fn.getattr(slave, termios) === 0) {
      const little = endianness() === 'LE'
      const flags = little ? termios.readUInt32LE(C_OFLAG_OFFSET) : termios.readUInt32BE(C_OFLAG_OFFSET)
      const raw = (flags & ~OPOST) >>> 0
      if (little) termios.writeUInt32LE(raw, C_OFLAG_OFFSET)
      else termios.writeUInt32BE(raw, C_OFLAG_OFFSET)
      fn.setattr(slave, TCSANOW, termios)
    }
    const pty: Pty = {
      master,
      slave,
      resize: (cols, lines) => {
        // struct winsize: rows, columns, then two unused pixel sizes (unsigned short each).
        const size = Buffer.alloc(8)
        size.writeUInt16LE(Math.max(0, Math.min(lines, 0xffff)), 0)
        size.writeUInt16LE(Math.max(0, Math.min(cols, 0xffff)), 2)
        if (endianness() === 'BE') size.swap16()
        try {
          fn.ioctl(master, TIOCSWINSZ, 'uint8_t *', size)
        } catch {}
      },
    }
    pty.resize(columns, rows)
    return pty
  } catch (error) {
    for (const fd of [slave, master]) {
      try {
        if (fd >= 0) closeSync(fd)
      } catch {}
    }
    return { reason: `the pseudo-terminal could not be set up: ${(error as Error).message}` }
  }
}
