import { readdirSync } from 'node:fs'
import { readSmallFile } from '../platform/sysfs.js'

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

/** Whose a process of the tree is: the job's, or the tracker's own. */
export type Side = 'job' | 'tracker'

/**
 * Where the tracker is, as procRoot numbers processes and threads. `thread`: inside the job's process
 * `pid` (a library): its sampler thread `tid` and the children that thread forks are the tracker's, the
 * rest of the process the job's (`tid` null: the sampler runs on the job's own thread, or its thread is
 * not known, and nothing can be told apart). `process`: all of process `pid`, which the reader then
 * roots the tree at (`wattprint run`): the job is the tree of its descendant `jobPid` (null until the
 * command is started), every other descendant (a guard, nvidia-smi) is the tracker's.
 */
export type TrackerPlace =
  | { readonly kind: 'thread'; readonly pid: number; readonly tid: number | null }
  | { readonly kind: 'process'; readonly pid: number; readonly jobPid: number | null }

/** What one reading of a process tree found. */
export interface TreeReading {
  /** CPU ticks the job used since the previous reading (0 on the first). */
  readonly cpuTicks: number
  /**
   * CPU ticks the tracker used since then (its sampler thread or its whole process, and the processes it
   * started), never part of cpuTicks; null without a tracker place, or where its thread cannot be read.
   */
  readonly trackerTicks: number | null
  /** The job's processes alive now (in the tree of a library's tracker, the root included). */
  readonly processCount: number
  /** The job's live processes' pids (for the memory and GPU readers). */
  readonly pids: readonly number[]
  /** The tracker's own live processes (wattprint and its helpers; the sampler thread's children). */
  readonly trackerPids: readonly number[]
  /** False when the root itself could not be read (it has ended, or /proc is not there). */
  readonly rootAlive: boolean
}

/** A process of the tree, and whose it is. */
interface Member extends ProcessTimes {
  side: Side
}

const key = (p: ProcessTimes): string => `${p.pid}:${p.startTicks}`

/**
 * The CPU time of a process and all its descendants, interval by interval, read from /proc.
 *
 * Children are found through /proc/<pid>/task/<tid>/children (every thread's: a child belongs to the
 * thread that forked it), or, on kernels without it, by scanning every process's parent. Time is kept
 * across deaths: a child reaped by a process of the tree reaches its reaper's cutime/cstime, so children
 * born and gone between two readings (a `make -j` of short jobs) are counted. What a dead child had
 * already been counted for is taken off the increase of its nearest living ancestor (its reaper), so
 * nothing is counted twice; a child reaped outside the tree (re-parented to init) keeps what was counted
 * and loses the rest.
 *
 * With a tracker place, each process is the job's or the tracker's (see TrackerPlace), and the rest of a
 * reaper's increase (the time a child used after its last reading) goes to the side of the children it
 * reaped: the command's last moments reach wattprint's cutime, and are the job's.
 */
export class ProcessTreeReader {
  #previous = new Map<string, Member>()
  #first = true
  #reads = 0
  #childrenFiles: boolean | undefined
  #tracker: TrackerPlace | null
  #thread: ThreadTimeReader | null = null
  /**
   * Sampler ticks not yet taken off its process's: the two are counted apart, each rounded to ticks, so
   * over a short interval the thread's count may move while its process's has not yet.
   */
  #owedTicks = 0
  readonly #buffer = Buffer.allocUnsafe(4096)

  constructor(
    readonly rootPid: number,
    private readonly procRoot = '/proc',
    tracker: TrackerPlace | null = null,
    /**
     * Read the tracker's processes only: the job's root, but none of its descendants (where the job's
     * share is read elsewhere, from its cgroup, and only the tracker's time is wanted of the tree).
     */
    private readonly trackerOnly = false,
  ) {
    this.#tracker = tracker
  }

  /**
   * With a `process` tracker place: from now on the job is the tree of `pid` (the command, just started).
   * Its time so far, counted as the tracker's if a reading came first, stays so; none is lost.
   */
  setJob(pid: number): void {
    if (this.#tracker?.kind !== 'process') return
    this.#tracker = { ...this.#tracker, jobPid: pid }
    let known = false
    for (const member of this.#previous.values()) {
      if (member.pid !== pid) continue
      member.side = 'job'
      known = true
    }
    // Known as the job's from its start, so that a command that ends before the next reading still has
    // its time counted as the job's when it reaches its reaper (wattprint), not as the tracker's.
    const stat = known ? null : this.#stat(pid)
    if (stat) this.#previous.set(key(stat), { ...stat, side: 'job' })
  }

  /** Reads the tree now. Never throws. */
  read(): TreeReading {
    const tree = this.#members()
    const now = new Map<string, Member>()
    const byPid = new Map<number, Member>()
    for (const p of tree) {
      now.set(key(p), p)
      byPid.set(p.pid, p)
    }
    const ticks = { job: 0, tracker: 0 }
    const ownDelta = new Map<Member, number>()
    for (const [k, p] of now) {
      const own = Math.max(0, p.ownTicks - (this.#previous.get(k)?.ownTicks ?? 0))
      ownDelta.set(p, own)
      ticks[p.side] += own
    }
    // Each process gone since the last reading: its last times are taken off the increase of its nearest
    // living ancestor, which reaped it (or reaped its reaper).
    const gone = new Map<Member, { ticks: number; job: boolean; tracker: boolean }>()
    const dead = new Map<number, Member>()
    for (const [k, p] of this.#previous) if (!now.has(k)) dead.set(p.pid, p)
    for (const p of dead.values()) {
      const reaper = nearestLiving(p, byPid, dead)
      if (!reaper) continue
      const entry = gone.get(reaper) ?? { ticks: 0, job: false, tracker: false }
      entry.ticks += p.ownTicks + p.reapedTicks
      entry[p.side] = true
      gone.set(reaper, entry)
    }
    for (const [k, p] of now) {
      const increase = p.reapedTicks - (this.#previous.get(k)?.reapedTicks ?? 0)
      const children = gone.get(p)
      const rest = Math.max(0, increase - (children?.ticks ?? 0))
      // The rest is the time its reaped children used since they were last read, or children too short-lived
      // to be read at all: the job's where a child of the job's died or where a process of the job reaped
      // only children of its own.
      const side = children?.job || (p.side === 'job' && !children?.tracker) ? 'job' : 'tracker'
      ticks[side] += rest
    }
    const trackerTicks = this.#samplerThread(byPid, ownDelta, ticks)
    const first = this.#first
    this.#first = false
    this.#previous = now
    const job = tree.filter((p) => p.side === 'job')
    return {
      cpuTicks: first ? 0 : ticks.job,
      trackerTicks: trackerTicks === null ? null : first ? 0 : trackerTicks,
      processCount: job.length,
      pids: job.map((p) => p.pid),
      trackerPids: tree.filter((p) => p.side === 'tracker').map((p) => p.pid),
      rootAlive: tree.length > 0,
    }
  }

  /**
   * The tracker's ticks: its side's, and with a `thread` place its sampler thread's, taken off its
   * process's where that process is the job's. Null where they cannot be told apart.
   */
  #samplerThread(
    byPid: ReadonlyMap<number, Member>,
    ownDelta: ReadonlyMap<Member, number>,
    ticks: { job: number; tracker: number },
  ): number | null {
    const place = this.#tracker
    if (!place) return null
    if (place.kind === 'process') return ticks.tracker
    if (place.tid === null) return null
    this.#thread ??= new ThreadTimeReader(place.pid, place.tid, this.procRoot)
    const delta = this.#thread.read()
    if (delta === null) return null
    const self = byPid.get(place.pid)
    if (self?.side === 'job') {
      // Never more than the process itself was counted in this interval: the rest is taken off later.
      this.#owedTicks += delta
      const taken = Math.min(this.#owedTicks, ownDelta.get(self) ?? 0)
      ticks.job -= taken
      this.#owedTicks -= taken
    } else this.#owedTicks = 0
    return ticks.tracker + delta
  }

  #stat(pid: number): ProcessTimes | null {
    try {
      return parseProcessStat(readSmallFile(`${this.procRoot}/${pid}/stat`, this.#buffer))
    } catch {
      return null
    }
  }

  /** The root and its live descendants (a zombie still counts: its times are there until reaped). */
  #members(): Member[] {
    const stat = this.#stat(this.rootPid)
    if (!stat) return []
    const place = this.#tracker
    const root: Member = {
      ...stat,
      side: place?.kind === 'process' && place.pid === stat.pid ? 'tracker' : 'job',
    }
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

  /** Whose a child of `parent` is, forked by its thread `tid` (null: not known). */
  #sideOf(child: number, parent: Member, tid: string | null): Side {
    const place = this.#tracker
    if (place?.kind === 'process' && child === place.jobPid) return 'job'
    if (place?.kind === 'thread' && parent.pid === place.pid && tid !== null && tid === String(place.tid))
      return 'tracker'
    return parent.side
  }

  /**
   * Breadth-first through the children files; null when this kernel has none. A reading of the main
   * threads' files alone does not list a child forked by another thread: one the last reading had, still
   * alive (the same start time) and still the child of a member, is kept, with its own descendants.
   */
  #walkChildren(root: Member, allThreads: boolean): Member[] | null {
    const members = [root]
    const seen = new Set([root.pid])
    for (let i = 0; i <= members.length; i++) {
      if (i === members.length) {
        if (allThreads || !this.#keepForked(members, seen)) break
      }
      const parent = members[i] as Member
      if (this.trackerOnly && parent.side === 'job') continue
      const pid = parent.pid
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
          if (stat) members.push({ ...stat, side: this.#sideOf(child, parent, tid) })
        }
      }
    }
    return members
  }

  /** Adds the last reading's members that this one missed and that are still children of members. */
  #keepForked(members: Member[], seen: Set<number>): boolean {
    let kept = false
    for (const before of this.#previous.values()) {
      if (seen.has(before.pid) || !seen.has(before.ppid)) continue
      const now = this.#stat(before.pid)
      if (!now || now.startTicks !== before.startTicks || now.ppid !== before.ppid) continue
      seen.add(now.pid)
      members.push({ ...now, side: before.side })
      kept = true
    }
    return kept
  }

  /**
   * Every process's parent from /proc/*\/stat: the fallback, costlier with many processes. Which thread
   * forked a child is not known here: the sampler thread's children count as its process's.
   */
  #scanParents(root: Member): Member[] {
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
      const parent = members[i] as Member
      if (this.trackerOnly && parent.side === 'job') continue
      for (const child of byParent.get(parent.pid) ?? []) {
        if (seen.has(child.pid)) continue
        seen.add(child.pid)
        members.push({ ...child, side: this.#sideOf(child.pid, parent, null) })
      }
    }
    return members
  }
}

/** The nearest ancestor of a process gone since the last reading that is alive now; null when none in the tree. */
function nearestLiving(
  gone: ProcessTimes,
  living: ReadonlyMap<number, Member>,
  dead: ReadonlyMap<number, Member>,
): Member | null {
  let ppid = gone.ppid
  // A bound, not a depth anyone reaches: pids recycled into a loop must not hang the sampler.
  for (let hops = 0; hops < 1000; hops++) {
    const found = living.get(ppid)
    if (found) return found
    const parent = dead.get(ppid)
    if (!parent) return null
    ppid = parent.ppid
  }
  return null
}

/** One thread's own CPU time (utime + stime of /proc/<pid>/task/<tid>/stat), interval by interval. */
export class ThreadTimeReader {
  #last: number | null = null
  readonly #buffer = Buffer.allocUnsafe(1024)

  constructor(
    readonly pid: number,
    readonly tid: number,
    private readonly procRoot = '/proc',
  ) {}

  /** Ticks since the last call (0 on the first that could read); null when the thread cannot be read. Never throws. */
  read(): number | null {
    let ticks: number | null = null
    try {
      ticks =
        parseProcessStat(readSmallFile(`${this.procRoot}/${this.pid}/task/${this.tid}/stat`, this.#buffer))
          ?.ownTicks ?? null
    } catch {}
    if (ticks === null) return null
    const delta = this.#last === null ? 0 : Math.max(0, ticks - this.#last)
    this.#last = ticks
    return delta
  }
}

/** A thread's own CPU time so far, in ticks; null when it cannot be read. Never throws. */
export function threadTicks(pid: number, tid: number, procRoot = '/proc'): number | null {
  try {
    return (
      parseProcessStat(readSmallFile(`${procRoot}/${pid}/task/${tid}/stat`, Buffer.allocUnsafe(1024)))
        ?.ownTicks ?? null
    )
  } catch {
    return null
  }
}
