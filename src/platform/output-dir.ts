import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  statfsSync,
  statSync,
  unlinkSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describeError } from '../core/errors.js'

/**
 * Folders are created here one level at a time, never with mkdir's `recursive` mode: on procfs `mkdir`
 * answers ENOENT although the parent exists, and Node 20's recursive mode then loops forever at 100 % CPU.
 */

/**
 * Why a folder or file cannot hold wattprint's output. The message says what is wrong and how to fix it,
 * without a final period (like Node's own errors), so that callers can put it inside a sentence. Internal,
 * so not a WattprintError: it never reaches a user as such, since the CSV, the checkpoints and the JSON
 * lines sink turn it into a warning (`CSV_WRITE_FAILED`, `CHECKPOINT_FAILED`, `SINK_FAILED`) and the CLI
 * into a usage error (exit 2).
 */
export class OutputPathError extends Error {
  override readonly name = 'OutputPathError'

  constructor(
    /** The path at fault (the folder asked for, or the ancestor in the way). */
    readonly path: string,
    message: string,
  ) {
    super(message)
  }
}

// Linux statfs magic numbers of kernel file systems, where no user file or folder can be made (and where
// mkdir may even create a cgroup): see statfs(2) and linux/magic.h.
const KERNEL_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x62656570, 'configfs'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x1cd1, 'devpts'],
])

/** Deeper than any real path (PATH_MAX is 4096 bytes): bounds the walk up whatever the file system says. */
const MAX_LEVELS = 4096

/** The nearest existing folder of `dir` (following symbolic links), and the levels below it still missing. */
function walkUp(dir: string): { existing: string; missing: string[] } {
  const missing: string[] = []
  let current = resolve(dir)
  for (let level = 0; level < MAX_LEVELS; level++) {
    const kind = kindOf(current)
    if (kind === 'directory') return { existing: current, missing }
    if (kind === 'file') {
      throw new OutputPathError(
        current,
        `${current} is a file, not a directory (ENOTDIR)${current === resolve(dir) ? '' : `, so ${resolve(dir)} cannot be created`}: ` +
          'remove or rename it, or choose another folder',
      )
    }
    missing.unshift(current)
    const parent = dirname(current)
    if (parent === current) break
    current = parent
  }
  throw new OutputPathError(resolve(dir), `${resolve(dir)} has no existing folder above it`)
}

/** What is at `path`: a folder (or a link to one), a file (or a link to one), or nothing yet. */
function kindOf(path: string): 'directory' | 'file' | 'missing' {
  // Node refuses such a path at every call (ERR_INVALID_ARG_VALUE): said once, in words, and escaped.
  if (path.includes('\0')) {
    throw new OutputPathError(
      path,
      `${JSON.stringify(path)} holds a NUL byte (\\0), which no file system takes in a name: remove it`,
    )
  }
  let stats: ReturnType<typeof lstatSync>
  try {
    stats = lstatSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // ENOTDIR: a file higher up; the walk finds and names it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing'
    throw new OutputPathError(path, `cannot look at ${path}: ${describeError(error)}`)
  }
  if (!stats.isSymbolicLink()) return stats.isDirectory() ? 'directory' : 'file'
  try {
    return statSync(path).isDirectory() ? 'directory' : 'file'
  } catch (error) {
    const target = safeReadlink(path)
    throw new OutputPathError(
      path,
      `${path} is a symbolic link to ${target}, which ${(error as NodeJS.ErrnoException).code === 'ELOOP' ? 'loops back on itself' : 'does not exist'}: ` +
        'create its target, remove the link, or choose another folder',
    )
  }
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path)
  } catch {
    return '(unreadable)'
  }
}

/** The kernel file system `dir` lives on (procfs, sysfs, cgroup …), or null for an ordinary one. */
function kernelFileSystem(dir: string): string | null {
  if (process.platform !== 'linux') return null
  try {
    return KERNEL_FILE_SYSTEMS.get(Number(statfsSync(dir).type)) ?? null
  } catch {
    return null
  }
}

function refuseKernelFileSystem(target: string, existing: string): void {
  const fs = kernelFileSystem(existing)
  if (fs) {
    throw new OutputPathError(
      target,
      `${existing} is on ${fs}, a kernel file system where no file can be written: choose a folder on a disk`,
    )
  }
}

/**
 * The reason `dir` can never hold files whatever the permissions (a file in the way, a dangling symbolic
 * link, a kernel file system such as /proc or /sys), or null. Creates nothing.
 */
export function impossibleDirReason(dir: string): string | null {
  try {
    const { existing } = walkUp(dir)
    refuseKernelFileSystem(resolve(dir), existing)
    return null
  } catch (error) {
    if (error instanceof OutputPathError) return error.message
    throw error
  }
}

/** What an errno from mkdir or open means for a folder (or file) that should receive rows, with the fix. */
export function explainWriteError(path: string, error: unknown, what: 'folder' | 'file' = 'folder'): string {
  const code = (error as NodeJS.ErrnoException).code
  switch (code) {
    case 'EROFS':
      return `${path} is on a read-only file system: choose a writable ${what}`
    case 'EPERM':
      return what === 'folder'
        ? `${path} does not allow new entries (EPERM: an immutable folder, see lsattr, or a special file system): choose another folder`
        : `${path} cannot be written (EPERM: an immutable file, see lsattr): make it writable, or choose another file`
    case 'EACCES':
      return `permission denied on ${path} (EACCES): make it writable for this user, or choose another ${what}`
    case 'ENOSPC':
      return `no space left on the device of ${path} (ENOSPC): free some, or choose another folder`
    case 'EDQUOT':
      return `the disk quota of ${path} is used up (EDQUOT): free some, or choose another folder`
    case 'EFBIG':
      return `${path} is as large as a file may be here (EFBIG): raise the file size limit (ulimit -f), or choose another ${what}`
    case 'ENOENT':
      return `the file system of ${path} does not let folders be created there (ENOENT): choose a folder on a disk`
    default:
      return `cannot write ${what === 'folder' ? 'in ' : ''}${path}: ${describeError(error)}`
  }
}

/**
 * Creates `dir` and its missing parents, one level at a time, in a bounded number of steps. Throws an
 * OutputPathError, at once, when it cannot.
 */
export function ensureDir(dir: string): void {
  const { existing, missing } = walkUp(dir)
  if (missing.length === 0) return
  refuseKernelFileSystem(resolve(dir), existing)
  let parent = existing
  for (const level of missing) {
    try {
      mkdirSync(level)
    } catch (error) {
      // Another process made it in between: fine if it is a folder.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || kindOf(level) !== 'directory') {
        throw new OutputPathError(level, `cannot create ${level}: ${explainWriteError(parent, error)}`)
      }
    }
    parent = level
  }
}

/**
 * ensureDir, then proves that a file can be created in `dir` (a probe file, removed at once): the only
 * test that is right for root, read-only mounts, immutable folders and network file systems alike.
 */
export function ensureWritableDir(dir: string): void {
  ensureDir(dir)
  const path = resolve(dir)
  refuseKernelFileSystem(path, path)
  const probe = join(path, `.wattprint-probe-${process.pid}-${Math.random().toString(36).slice(2)}`)
  try {
    closeSync(openSync(probe, 'wx'))
  } catch (error) {
    throw new OutputPathError(path, explainWriteError(path, error))
  }
  try {
    unlinkSync(probe)
  } catch {}
}

const notAFile = (path: string) => new OutputPathError(path, `${path} is a folder, not a file: name a file`)

/**
 * Opens `file` for appending, and for reading where it may be read (so that a write cut off part of the way
 * can be checked and taken back: see appendWholeTo); the descriptor, or an OutputPathError saying why
 * not. A missing file's folder is created first; an existing file (a device such as /dev/stdout
 * included) is not changed.
 */
export function openForAppend(file: string): number {
  const path = resolve(file)
  const kind = kindOf(path)
  if (kind === 'directory') throw notAFile(path)
  if (kind === 'missing') {
    ensureDir(dirname(path))
    refuseKernelFileSystem(path, dirname(path))
  }
  try {
    try {
      return openSync(path, 'a+')
    } catch (error) {
      // A file that may be written but not read is still appended to.
      if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error
      return openSync(path, 'a')
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw notAFile(path)
    // A new file fails for its folder's sake (read-only, immutable, no permission): name the folder.
    throw new OutputPathError(
      path,
      kind === 'file' ? explainWriteError(path, error, 'file') : explainWriteError(dirname(path), error),
    )
  }
}

/**
 * Throws an OutputPathError unless `file` can be written: an existing one is opened for writing without
 * being changed; for a missing one, its folder is created and probed (the file itself is not made).
 */
export function assertWritableFile(file: string): void {
  const path = resolve(file)
  const kind = kindOf(path)
  if (kind === 'directory') throw notAFile(path)
  if (kind === 'missing') {
    ensureWritableDir(dirname(path))
    return
  }
  try {
    // r+ opens for writing without creating, truncating or moving anything.
    closeSync(openSync(path, 'r+'))
  } catch (error) {
    throw new OutputPathError(path, explainWriteError(path, error, 'file'))
  }
}
