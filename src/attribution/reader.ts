import { readlinkSync } from 'node:fs'
import { getHeapStatistics } from 'node:v8'
import type { AttributionSample } from '../model/attribution.js'
import { parseProcStat } from '../platform/cpu-load.js'
import { readSmallFile } from '../platform/sysfs.js'
import { CgroupReader } from './cgroup.js'
import type { GpuProcessReader } from './gpu-processes.js'
import { ProcessMemoryReader } from './memory.js'
import { ProcessTreeReader, ThreadTimeReader, type TrackerPlace, threadTicks } from './process-tree.js'
import { shareOf } from './split.js'

/**
 * /proc/<pid>/stat and /proc/stat count in USER_HZ, which Linux fixes at 100 for user space whatever the
 * kernel's own tick rate; cgroups count in microseconds.
 */
export const USER_HZ = 100

/**
 * What the sampler thread is told to read for attribution: plain data, sent among the meter specs.
 * Without `command`, the tracker runs inside the job (a library): its sampler thread, and what that thread
 * starts, are carved out of the job. With it (`wattprint run`), this process is the tracker's, all of it
 * and the helpers it starts: the job is the tree of the command it starts (`command.pid`, null until then)
 * within the tree of `pid` (this process), or the cgroup less wattprint.
 */
export type AttributionSpec = {
  readonly type: 'attribution'
  readonly procRoot: string
  readonly procStatPath: string
  readonly command?: { readonly pid: number | null }
} & ({ readonly kind: 'process'; readonly pid: number } | { readonly kind: 'cgroup'; readonly dir: string })

const MEMINFO = (name: string) => new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm')

/**
 * This process and the calling thread as `procRoot` numbers them: its `thread-self` link, which a procfs
 * resolves in its own PID namespace (a host's /proc mounted in a container gives the host's ids); else
 * `self`, else process.pid.
 */
export function ownIds(procRoot: string): { readonly pid: number; readonly tid: number | null } {
  try {
    const match = /(\d+)\/task\/(\d+)$/.exec(readlinkSync(`${procRoot}/thread-self`))
    if (match) return { pid: Number(match[1]), tid: Number(match[2]) }
  } catch {}
  try {
    const pid = Number(readlinkSync(`${procRoot}/self`))
    if (Number.isInteger(pid) && pid > 0) return { pid, tid: null }
  } catch {}
  return { pid: process.pid, tid: null }
}

/** Reads the job's share of the machine each interval, in the sampler thread. Never throws. */
export class AttributionReader {
  readonly #tree: ProcessTreeReader | null
  readonly #cgroup: CgroupReader | null
  /**
   * With a cgroup, to take off its figures when the tracker's process is in it: `wattprint run`'s own
   * process and helpers, or a library's sampler thread.
   */
  readonly #trackerTree: ProcessTreeReader | null
  readonly #samplerTime: ThreadTimeReader | null
  readonly #memory: ProcessMemoryReader
  readonly #trackerMemory: ProcessMemoryReader
  readonly #self: { readonly pid: number; readonly tid: number | null }
  readonly #samplerThread: boolean
  readonly #buffer = Buffer.allocUnsafe(4096)
  /** cgroup.procs: a pid a line, room for thousands; allocated once, not on every sample. */
  readonly #procsBuffer = Buffer.allocUnsafe(64 * 1024)
  #lastCgroupCpuS: number | null = null
  /** The tracker's CPU seconds not yet taken off the cgroup's (counted apart, in ticks and in µs). */
  #owedCpuS = 0
  /** The tracker's start-up work on the job's main thread (see startedAt()), not yet taken off the job's. */
  #startOwedCpuS = 0
  /** The main thread's CPU ticks when the baseline was read; null before it, or where unreadable. */
  #mainTicksAtBaseline: number | null | undefined = undefined
  #lastBusy: number | null = null
  #lastTotal: number | null = null

  constructor(
    private readonly spec: AttributionSpec,
    private readonly gpus: GpuProcessReader | null = null,
    /**
     * Whether the thread building this reader is the tracker's own sampler thread (a worker), whose CPU
     * time is then the tracker's; false on the job's main thread (inline sampling), where it cannot be told apart.
     */
    samplerThread = false,
  ) {
    this.#self = ownIds(spec.procRoot)
    this.#samplerThread = samplerThread
    const tracker: TrackerPlace = spec.command
      ? { kind: 'process', pid: this.#self.pid, jobPid: spec.command.pid }
      : { kind: 'thread', pid: this.#self.pid, tid: samplerThread ? this.#self.tid : null }
    this.#tree =
      spec.kind === 'process'
        ? new ProcessTreeReader(tracker.kind === 'process' ? tracker.pid : spec.pid, spec.procRoot, tracker)
        : null
    this.#cgroup = spec.kind === 'cgroup' ? new CgroupReader(spec.dir) : null
    const cgroup = spec.kind === 'cgroup'
    this.#trackerTree =
      cgroup && tracker.kind === 'process'
        ? new ProcessTreeReader(tracker.pid, spec.procRoot, tracker, true)
        : null
    this.#samplerTime =
      cgroup && tracker.kind === 'thread' && tracker.tid !== null
        ? new ThreadTimeReader(tracker.pid, tracker.tid, spec.procRoot)
        : null
    this.#memory = new ProcessMemoryReader(spec.procRoot)
    this.#trackerMemory = new ProcessMemoryReader(spec.procRoot)
  }

  /**
   * The tracker finished starting on its process's main thread, which had then used `mainTicks` of CPU:
   * what it used since the baseline (the system's description, the CPU table and the power model, the
   * intensity tables) is the tracker's, not the job's. Taken off the job's CPU time as it shows up, where
   * the tracker's process is in the job and its own time is counted apart (a worker sampler).
   */
  startedAt(mainTicks: number): void {
    const baseline = this.#mainTicksAtBaseline
    if (!this.#samplerThread || baseline === null || baseline === undefined) return
    if (Number.isFinite(mainTicks) && mainTicks > baseline)
      this.#startOwedCpuS += (mainTicks - baseline) / USER_HZ
  }

  /** What of the start-up work owed can be taken off `jobCpuS` now. */
  #takeStartOwed(jobCpuS: number): number {
    const taken = Math.min(this.#startOwedCpuS, Math.max(0, jobCpuS))
    this.#startOwedCpuS -= taken
    return taken
  }

  /** `wattprint run`'s command has started: from now on the job is its process tree. */
  setJob(pid: number): void {
    this.#tree?.setJob(pid)
    this.#trackerTree?.setJob(pid)
  }

  /** The interval since the previous call (the first call sets the baseline and reports zeros). */
  read(): AttributionSample {
    // At the baseline: where the main thread's CPU stood, for what the tracker then owes (startedAt()).
    if (this.#mainTicksAtBaseline === undefined)
      this.#mainTicksAtBaseline = threadTicks(this.#self.pid, this.#self.pid, this.spec.procRoot)
    const machine = this.#machineCpu()
    const used = this.#usedMemory()
    let jobCpuS: number | null = 0
    let trackerCpuS: number | null = null
    let jobMemoryBytes: number | null = null
    let memoryMeasure: AttributionSample['memoryMeasure'] = null
    // null: the cgroup's process list could not be read.
    let pids: readonly number[] | null = []
    /** The tracker's own memory to take off the job's: where the tracker is inside the job. */
    let trackerBytes = 0
    if (this.#tree) {
      const tree = this.#tree.read()
      jobCpuS = tree.cpuTicks / USER_HZ
      trackerCpuS = tree.trackerTicks === null ? null : tree.trackerTicks / USER_HZ
      pids = tree.pids
      if (pids.includes(this.#self.pid)) {
        trackerBytes = this.#samplerHeapBytes()
        if (trackerCpuS !== null) {
          const taken = this.#takeStartOwed(jobCpuS)
          jobCpuS -= taken
          trackerCpuS += taken
        }
      }
    } else if (this.#cgroup) {
      const cgroup = this.#cgroup.read()
      const tracker = this.#trackerTree?.read()
      const trackerTicks = tracker ? tracker.trackerTicks : (this.#samplerTime?.read() ?? null)
      trackerCpuS = trackerTicks === null ? null : trackerTicks / USER_HZ
      pids = this.#cgroupPids()
      // The tracker's time and memory are the cgroup's when its process is in it.
      const inside = pids?.includes(this.#self.pid) === true
      if (inside && trackerCpuS !== null && this.#startOwedCpuS > 0) {
        // The start-up work is in the cgroup's time too: owed like the sampler's.
        trackerCpuS += this.#startOwedCpuS
        this.#startOwedCpuS = 0
      }
      if (inside) this.#owedCpuS += trackerCpuS ?? 0
      if (cgroup.cpuS !== null) {
        const usedS = this.#lastCgroupCpuS === null ? 0 : Math.max(0, cgroup.cpuS - this.#lastCgroupCpuS)
        const taken = Math.min(this.#owedCpuS, usedS)
        this.#owedCpuS -= taken
        jobCpuS = usedS - taken
        this.#lastCgroupCpuS = cgroup.cpuS
      } else jobCpuS = null
      if (inside && pids) {
        if (tracker) {
          const own = new Set(tracker.trackerPids)
          pids = pids.filter((pid) => !own.has(pid))
          trackerBytes = this.#trackerMemory.read(tracker.trackerPids).bytes
        } else trackerBytes = this.#samplerHeapBytes()
      }
      jobMemoryBytes = cgroup.memoryBytes === null ? null : Math.max(0, cgroup.memoryBytes - trackerBytes)
      memoryMeasure = cgroup.memoryBytes === null ? null : 'cgroup'
    }
    // A process tree's memory, and a cgroup's without memory.current (its memory controller is not
    // enabled there, as on a host whose memory controller is on cgroup v1): its processes' PSS.
    if (memoryMeasure === null && pids !== null) {
      const memory = this.#memory.read(pids)
      // No process left holds no memory; processes none of whose memory could be read hold an unknown amount.
      if (pids.length === 0 || memory.unreadable < pids.length) {
        jobMemoryBytes = Math.max(0, memory.bytes - (this.spec.command ? 0 : trackerBytes))
        memoryMeasure = pids.length === 0 ? null : memory.measure
      }
    }
    return {
      jobCpuS,
      trackerCpuS,
      ...machine,
      jobMemoryBytes,
      usedMemoryBytes: used,
      memoryMeasure,
      processes: pids?.length ?? 0,
      gpu: this.gpus?.supported ? this.gpus.read(new Set(pids ?? [])) : null,
    }
  }

  /**
   * The sampler worker's own JavaScript heap, resident (V8's physical size of its isolate's heap): the part
   * of the tracker's memory inside the job's process that can be told apart. 0 on the job's own thread.
   */
  #samplerHeapBytes(): number {
    if (!this.#samplerThread || this.spec.command) return 0
    try {
      return getHeapStatistics().total_physical_size
    } catch {
      return 0
    }
  }

  /** Busy and total CPU seconds of the machine since the last call. */
  #machineCpu(): { machineBusyCpuS: number; machineTotalCpuS: number } {
    let times: ReturnType<typeof parseProcStat> = null
    try {
      times = parseProcStat(readSmallFile(this.spec.procStatPath, this.#buffer))
    } catch {}
    if (!times) return { machineBusyCpuS: 0, machineTotalCpuS: 0 }
    const busy = this.#lastBusy === null ? 0 : Math.max(0, times.busy - this.#lastBusy)
    const total = this.#lastTotal === null ? 0 : Math.max(0, times.total - this.#lastTotal)
    this.#lastBusy = times.busy
    this.#lastTotal = times.total
    return { machineBusyCpuS: busy / USER_HZ, machineTotalCpuS: total / USER_HZ }
  }

  #usedMemory(): number | null {
    try {
      const text = readSmallFile(`${this.spec.procRoot}/meminfo`, this.#buffer)
      const total = MEMINFO('MemTotal').exec(text)?.[1]
      const available = MEMINFO('MemAvailable').exec(text)?.[1]
      if (total === undefined || available === undefined) return null
      return Math.max(0, Number(total) - Number(available)) * 1024
    } catch {
      return null
    }
  }

  #cgroupPids(): number[] | null {
    if (this.spec.kind !== 'cgroup') return []
    try {
      return readSmallFile(`${this.spec.dir}/cgroup.procs`, this.#procsBuffer)
        .split('\n')
        .filter((line) => /^\d+$/.test(line))
        .map(Number)
    } catch {
      return null
    }
  }
}

/** The job's share of one interval's CPU, RAM and each GPU, from a sample, in [0, 1]. */
export function sharesOf(sample: AttributionSample): {
  cpu: number
  ram: number
  gpu: readonly number[] | null
} {
  return {
    cpu: shareOf(sample.jobCpuS, sample.machineBusyCpuS),
    ram: shareOf(sample.jobMemoryBytes, sample.usedMemoryBytes),
    gpu: sample.gpu?.map((g) => g.share) ?? null,
  }
}
