import { spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A folder that cannot be written, even by root, and how to undo that; null with the reason when none can be made. */
export interface ReadOnlyFolder {
  readonly path: string
  /** How it was made read-only: `chattr +i` or a read-only tmpfs mount. */
  readonly how: string
  /** Makes it writable again (for a test that recovers later). */
  makeWritable(): void
  /** Undoes everything and removes it. */
  remove(): void
}

function writable(dir: string): boolean {
  const probe = join(dir, 'probe')
  try {
    closeSync(openSync(probe, 'wx'))
    unlinkSync(probe)
    return true
  } catch {
    return false
  }
}

const quiet = (command: string, args: string[]): boolean =>
  spawnSync(command, args, { stdio: 'ignore', timeout: 5000 }).status === 0

/**
 * A temporary folder nobody can write in: chattr +i (immutable), else a read-only tmpfs mounted on it.
 * Tests run as root, for whom chmod 0500 stops nothing. Returns the reason instead when neither works.
 */
export function readOnlyFolder(): ReadOnlyFolder | string {
  const path = mkdtempSync(join(tmpdir(), 'wattprint-ro-'))
  const clean = (undo: () => void) => () => {
    undo()
    rmSync(path, { recursive: true, force: true })
  }
  if (quiet('chattr', ['+i', path]) && !writable(path)) {
    const makeWritable = () => quiet('chattr', ['-i', path])
    return { path, how: 'chattr +i', makeWritable, remove: clean(makeWritable) }
  }
  quiet('chattr', ['-i', path])
  if (quiet('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', path]) && !writable(path)) {
    const makeWritable = () => quiet('umount', [path])
    return { path, how: 'read-only tmpfs', makeWritable, remove: clean(makeWritable) }
  }
  quiet('umount', [path])
  rmSync(path, { recursive: true, force: true })
  return 'neither chattr +i nor a read-only tmpfs mount works here (not root, or no CAP_LINUX_IMMUTABLE / CAP_SYS_ADMIN)'
}

/** In `dir`: a dangling symbolic link and a regular file, for paths that can never be folders. */
export function blockedPaths(dir: string): { dangling: string; file: string } {
  const dangling = join(dir, 'dangling')
  symlinkSync(join(dir, 'no-such-target'), dangling)
  const file = join(dir, 'a-file')
  writeFileSync(file, 'in the way\n')
  return { dangling, file }
}
