import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readSmallFile } from '../platform/sysfs.js'
import { ProcessTreeReader, parseProcessStat } from './process-tree.js'

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
  // The root's path is `/`: its folder is the mount point itself, written without a trailing slash.
  return { dir: path === '/' ? mount : join(mount, path) }
}

/**
 * Whether a cgroup v2 folder is its hierarchy's root: the kernel gives every cgroup but the root a
 * `cgroup.events` file. The root holds every process not placed in another cgroup: the machine, not a job.
 * (A container's own cgroup, seen as `/` through its cgroup namespace, is not the root and has the file.)
 */
export function isRootCgroup(dir: string): boolean {
  return !existsSync(join(dir, 'cgroup.events'))
}

/** The pids in a cgroup's `cgroup.procs`; [] when it cannot be read. */
export function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((line) => /^\d+$/.test(line))
      .map(Number)
  } catch {
    return []
  }
}

/** `pid`, its descendants and its ancestors (the shell, npm: whatever launched it), from /proc. */
function kinOf(pid: number, procRoot: string): Set<number> {
  const kin = new Set(new ProcessTreeReader(pid, procRoot).read().pids)
  kin.add(pid)
  for (let at = pid, steps = 0; at > 1 && steps < 256; steps++) {
    let parent: number | undefined
    try {
      parent = parseProcessStat(readFileSync(`${procRoot}/${at}/stat`, 'utf8'))?.ppid
    } catch {}
    if (parent === undefined || parent < 1 || kin.has(parent)) break
    kin.add(parent)
    at = parent
  }
  return kin
}

/** The cgroup a job's figures would be read from, or why there is none to read. */
export type JobCgroup =
  | {
      readonly dir: string
      /** The hierarchy's root (only when named explicitly: this process's own root cgroup is refused). */
      readonly root: boolean
      /** Processes in it that are neither this process, its descendants nor its ancestors. */
      readonly others: readonly number[]
      /** Whether it has memory.current (the memory controller is enabled for it). */
      readonly memoryCurrent: boolean
    }
  | { readonly dir: null; readonly why: string }

/**
 * The cgroup attribution would read: `dir` as named, or this process's own cgroup v2. This process's own
 * is refused when it is the root (a host mixing cgroup v1 and v2 often leaves every process in the v2
 * root): charging the job for the whole machine and calling it the job's would be wrong.
 */
export function jobCgroup(dir: string | null, procRoot = '/proc'): JobCgroup {
  const own = dir === null ? ownCgroupDir('self', procRoot) : { dir }
  if (own.dir === null) return own
  if (!existsSync(join(own.dir, 'cpu.stat'))) return { dir: null, why: `${own.dir}/cpu.stat cannot be read` }
  const root = isRootCgroup(own.dir)
  if (dir === null && root) {
    return {
      dir: null,
      why:
        `this process is in the root cgroup (${own.dir}), which holds every process of the machine, not a ` +
        'cgroup of its own (on a host mixing cgroup v1 and v2 the v2 root often holds everything); run the job ' +
        'in a cgroup of its own (systemd-run --user --scope -- <command>, a container) to attribute to it',
    }
  }
  const kin = dir === null ? kinOf(process.pid, procRoot) : new Set<number>()
  const others = dir === null ? cgroupPids(own.dir).filter((pid) => !kin.has(pid)) : []
  return { dir: own.dir, root, others, memoryCurrent: existsSync(join(own.dir, 'memory.current')) }
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
