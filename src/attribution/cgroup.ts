import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readSmallFile } from '../meters/sysfs.js'

/** The cgroup v2 mount point in a /proc/<pid>/mountinfo text; null when there is none. */
export function cgroup2Mount(mountinfo: string): string | null {
  for (const line of mountinfo.split('\n')) {
    // `36 25 0:31 / /sys/fs/cgroup rw,nosuid … - cgroup2 cgroup2 rw`: the mount point is field 5, the
    // file system type the first field after the lone `-`.
    const [before, after] = line.split(' - ')
    if (!after?.startsWith('cgroup2 ')) continue
    const point = before?.split(' ')[4]
    if (point)
      return point.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))
  }
  return null
}

/** The cgroup v2 path (`/user.slice/…`) in a /proc/<pid>/cgroup text; null on a v1-only system. */
export function cgroup2Path(procCgroup: string): string | null {
  for (const line of procCgroup.split('\n')) if (line.startsWith('0::')) return line.slice(3).trim() || '/'
  return null
}

/**
 * The folder of a process's own cgroup v2, from its /proc files (`procRoot` for tests and containers);
 * null, with the reason, when it cannot be found.
 */
export function ownCgroupDir(
  pid: number | 'self' = 'self',
  procRoot = '/proc',
): { dir: string } | { dir: null; why: string } {
  let mountinfo: string
  let cgroups: string
  try {
    mountinfo = readFileSync(`${procRoot}/${pid}/mountinfo`, 'utf8')
    cgroups = readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8')
  } catch {
    return { dir: null, why: `${procRoot}/${pid}/cgroup cannot be read (not Linux?)` }
  }
  const mount = cgroup2Mount(mountinfo)
  const path = cgroup2Path(cgroups)
  if (!mount || !path) return { dir: null, why: 'no cgroup v2 hierarchy is mounted (cgroup v1 only)' }
  return { dir: join(mount, path) }
}

/** What one reading of a cgroup found. */
export interface CgroupReading {
  /** cpu.stat's usage_usec as seconds (cumulative); null when unreadable. */
  readonly cpuS: number | null
  /** memory.current in bytes; null when the memory controller is not enabled there. */
  readonly memoryBytes: number | null
}

/** Reads a cgroup v2 folder's CPU time and memory, one read each. Never throws. */
export class CgroupReader {
  readonly #buffer = Buffer.allocUnsafe(1024)

  constructor(readonly dir: string) {}

  read(): CgroupReading {
    return { cpuS: this.#cpuS(), memoryBytes: this.#memoryBytes() }
  }

  #cpuS(): number | null {
    try {
      const match = /^usage_usec (\d+)$/m.exec(readSmallFile(join(this.dir, 'cpu.stat'), this.#buffer))
      return match ? Number(match[1]) / 1e6 : null
    } catch {
      return null
    }
  }

  #memoryBytes(): number | null {
    try {
      const text = readSmallFile(join(this.dir, 'memory.current'), this.#buffer).trim()
      return /^\d+$/.test(text) ? Number(text) : null
    } catch {
      return null
    }
  }
}
