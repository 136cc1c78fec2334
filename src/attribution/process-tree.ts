import { readdirSync } from 'node:fs'
import { readSmallFile } from '../meters/sysfs.js'

/** One process's CPU times from /proc/<pid>/stat, in clock ticks (USER_HZ, as /proc/stat counts). */
export interface ProcessTimes {
  readonly pid: number
  readonly ppid: number
  /** Start time in ticks since boot: with the pid, it names the process (pids are reused). */
  readonly startTicks: number
  /** utime + stime: the process's own CPU time. */
  readonly ownTicks: number
  /** cutime + cstime: the time of children it has reaped. */
  readonly reapedTicks: number
}

/** Parses /proc/<pid>/stat; null when the text is not one. Fields after the command name, which may hold spaces and parentheses, are read from the last `)`. */
export function parseProcessStat(text: string): ProcessTimes | null {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 1 || close < open) return null
  const pid = Number(text.slice(0, open))
  // From field 3 (state) on: ppid is field 4, utime..cstime 14..17, starttime 22.
  const fields = text.slice(close + 2).split(' ')
  const at = (field: number): number => Number(fields[field - 3])
  const values = [at(4), at(14), at(15), at(16), at(17), at(22)]
  if (!Number.isInteger(pid) || values.some((v) => !Number.isFinite(v) || v < 0)) return null
  const [ppid = 0, utime = 0, stime = 0, cutime = 0, cstime = 0, startTicks = 0] = values
  return { pid, ppid, startTicks, ownTicks: utime + stime, reapedTicks: cutime + cstime }
}

/** What one reading of a process tree found. */
export interface TreeReading {
  /** CPU ticks the tree used since the previous reading (0 on the first). */
  readonly cpuTicks: number
  /** Processes alive in the tree now, the root included. */
  readonly processCount: number
  /** The live processes' pids (for the memory and GPU readers). */
  readonly pids: readonly number[]
  /** False when the root itself could not be read (it has ended, or /proc is not there). */
  readonly rootAlive: boolean
}

const key = (p: ProcessTimes): string => `${p.pid}:${p.startTicks}`

/**
 * The CPU time of a process and all its descendants, interval by interval, read from /proc.
 *
 * Children are found through /proc/<pid>/task/<tid>/children (every thread's: a child belongs to the
 * thread that forked it), or, on kernels without it, by scanning every process's parent. Time is kept
 * across deaths: a child reaped by a process of the tree reaches its reaper's cutime/cstime, so children
 * born and gone between two readings (a `make -j` of short jobs) are counted. What a dead child had
 * already been counted for is taken off its reaper's increase, so nothing is counted twice; a child
 * reaped outside the tree (re-parented to init) keeps what was counted and loses the rest.
 */
export class ProcessTreeReader {
  #previous = new Map<string, ProcessTimes>()
  #first = true
  #reads = 0
  #childrenFiles: boolean | undefined
  readonly #buffer = Buffer.allocUnsafe(4096)

  constructor(
    readonly rootPid: number,
    private readonly procRoot = '/proc',
  ) {}

  /** Reads the tree now. Never throws. */
  read(): TreeReading {
    const tree = this.#members()
    const now = new Map<string, ProcessTimes>()
    for (const p of tree) now.set(key(p), p)
    let own = 0
    let reaped = 0
    for (const [k, p] of now) {
      const before = this.#previous.get(k)
      own += Math.max(0, p.ownTicks - (before?.ownTicks ?? 0))
      reaped += p.reapedTicks - (before?.reapedTicks ?? 0)
    }
    for (const [k, p] of this.#previous) if (!now.has(k)) reaped -= p.ownTicks + p.reapedTicks
    const first = this.#first
    this.#first = false
    this.#previous = now
    return {
      cpuTicks: first ? 0 : own + Math.max(0, reaped),
      processCount: tree.length,
      pids: tree.map((p) => p.pid),
      rootAlive: tree.length > 0,
    }
  }

  #stat(pid: number): ProcessTimes | null {
    try {
      return parseProcessStat(readSmallFile(`${this.procRoot}/${pid}/stat`, this.#buffer))
    } catch {
      return null
    }
  }

  /** The root and its live descendants (a zombie still counts: its times are there until reaped). */
  #members(): ProcessTimes[] {
    const root = this.#stat(this.rootPid)
    if (!root) return []
    if (this.#childrenFiles !== false) {
      // Every thread's children file every tenth reading, the main threads' in between: most children are
      // forked by a main thread, and one forked by another thread is found a few readings later with
      // nothing lost (a process seen for the first time brings all its time; one gone before that reaches
      // its reaper's cutime).
      const found = this.#walkChildren(root, this.#reads++ % 10 === 0)
      if (found) return found
      this.#childrenFiles = false
    }
    return this.#scanParents(root)
  }

  /**
   * Breadth-first through the children files; null when this kernel has none. A reading of the main
   * threads' files alone does not list a child forked by another thread: one the last reading had, still
   * alive (the same start time) and still the child of a member, is kept, with its own descendants.
   */
  #walkChildren(root: ProcessTimes, allThreads: boolean): ProcessTimes[] | null {
    const members = [root]
    const seen = new Set([root.pid])
    for (let i = 0; i <= members.length; i++) {
      if (i === members.length) {
        if (allThreads || !this.#keepForked(members, seen)) break
      }
      const pid = (members[i] as ProcessTimes).pid
      let tasks: string[] = [String(pid)]
      if (allThreads) {
        try {
          tasks = readdirSync(`${this.procRoot}/${pid}/task`)
        } catch {
          continue // ended meanwhile
        }
      }
      for (const tid of tasks) {
        let text: string
        try {
          text = readSmallFile(`${this.procRoot}/${pid}/task/${tid}/children`, this.#buffer)
          this.#childrenFiles = true
        } catch (error) {
          if (this.#childrenFiles === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') {
            // No children file on the root's own main thread: the kernel lacks CONFIG_PROC_CHILDREN.
            if (pid === root.pid && tid === String(pid)) return null
          }
          continue
        }
        for (const word of text.split(' ')) {
          const child = Number(word)
          if (word === '' || !Number.isInteger(child) || seen.has(child)) continue
          seen.add(child)
          const stat = this.#stat(child)
          if (stat) members.push(stat)
        }
      }
    }
    return members
  }

  /** Adds the last reading's members that this one missed and that are still children of members. */
  #keepForked(members: ProcessTimes[], seen: Set<number>): boolean {
    let kept = false
    for (const before of this.#previous.values()) {
      if (seen.has(before.pid) || !seen.has(before.ppid)) continue
      const now = this.#stat(before.pid)
      if (!now || now.startTicks !== before.startTicks || now.ppid !== before.ppid) continue
      seen.add(now.pid)
      members.push(now)
      kept = true
    }
    return kept
  }

  /** Every process's parent from /proc/*\/stat: the fallback, costlier with many processes. */
  #scanParents(root: ProcessTimes): ProcessTimes[] {
    const byParent = new Map<number, ProcessTimes[]>()
    let entries: string[] = []
    try {
      entries = readdirSync(this.procRoot)
    } catch {}
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue
      const stat = this.#stat(Number(entry))
      if (!stat) continue
      const siblings = byParent.get(stat.ppid)
      if (siblings) siblings.push(stat)
      else byParent.set(stat.ppid, [stat])
    }
    const members = [root]
    const seen = new Set([root.pid])
    for (let i = 0; i < members.length; i++) {
      for (const child of byParent.get((members[i] as ProcessTimes).pid) ?? []) {
        if (seen.has(child.pid)) continue
        seen.add(child.pid)
        members.push(child)
      }
    }
    return members
  }
}
