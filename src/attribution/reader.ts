import { parseProcStat } from '../meters/cpu-load.js'
import { readSmallFile } from '../meters/sysfs.js'
import { CgroupReader } from './cgroup.js'
import type { GpuProcessReader, GpuShare } from './gpu-processes.js'
import { type MemoryMeasure, ProcessMemoryReader } from './memory.js'
import { ProcessTreeReader } from './process-tree.js'
import { shareOf } from './split.js'

/**
 * /proc/<pid>/stat and /proc/stat count in USER_HZ, which Linux fixes at 100 for user space whatever the
 * kernel's own tick rate; cgroups count in microseconds.
 */
export const USER_HZ = 100

/** What the sampler thread is told to read for attribution: plain data, sent among the meter specs. */
export type AttributionSpec = {
  readonly type: 'attribution'
  readonly procRoot: string
  readonly procStatPath: string
} & ({ readonly kind: 'process'; readonly pid: number } | { readonly kind: 'cgroup'; readonly dir: string })

/** The job's and the machine's use of each component over one interval: plain numbers for the ledger. */
export interface AttributionSample {
  /** CPU seconds the job used in the interval; null when they could not be read (the cgroup's cpu.stat). */
  readonly jobCpuS: number | null
  /** CPU seconds the whole machine was busy in it (all CPUs), from /proc/stat. */
  readonly machineBusyCpuS: number
  /** CPU seconds the machine had in it (busy and idle). */
  readonly machineTotalCpuS: number
  /**
   * The job's memory at the interval's end (PSS, RSS or the cgroup's memory.current); null when unknown
   * (no process's could be read), never 0 for unknown.
   */
  readonly jobMemoryBytes: number | null
  /** The machine's used memory then (MemTotal − MemAvailable); null if unknown. */
  readonly usedMemoryBytes: number | null
  readonly memoryMeasure: MemoryMeasure | 'cgroup' | null
  /** Live processes of the job (0 once the process tree has ended). */
  readonly processes: number
  /** Each measured GPU's share, in the GPU meter's channel order; null without NVML's process queries. */
  readonly gpu: readonly GpuShare[] | null
}

const MEMINFO = (name: string) => new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm')

/** Reads the job's share of the machine each interval, in the sampler thread. Never throws. */
export class AttributionReader {
  readonly #tree: ProcessTreeReader | null
  readonly #cgroup: CgroupReader | null
  readonly #memory: ProcessMemoryReader
  readonly #buffer = Buffer.allocUnsafe(4096)
  /** cgroup.procs: a pid a line, room for thousands; allocated once, not on every sample. */
  readonly #procsBuffer = Buffer.allocUnsafe(64 * 1024)
  #lastCgroupCpuS: number | null = null
  #lastBusy: number | null = null
  #lastTotal: number | null = null

  constructor(
    private readonly spec: AttributionSpec,
    private readonly gpus: GpuProcessReader | null = null,
  ) {
    this.#tree = spec.kind === 'process' ? new ProcessTreeReader(spec.pid, spec.procRoot) : null
    this.#cgroup = spec.kind === 'cgroup' ? new CgroupReader(spec.dir) : null
    this.#memory = new ProcessMemoryReader(spec.procRoot)
  }

  /** The interval since the previous call (the first call sets the baseline and reports zeros). */
  read(): AttributionSample {
    const machine = this.#machineCpu()
    const used = this.#usedMemory()
    let jobCpuS: number | null = 0
    let jobMemoryBytes: number | null = null
    let memoryMeasure: AttributionSample['memoryMeasure'] = null
    // null: the cgroup's process list could not be read.
    let pids: readonly number[] | null = []
    if (this.#tree) {
      const tree = this.#tree.read()
      jobCpuS = tree.cpuTicks / USER_HZ
      pids = tree.pids
    } else if (this.#cgroup) {
      const cgroup = this.#cgroup.read()
      if (cgroup.cpuS !== null) {
        jobCpuS = this.#lastCgroupCpuS === null ? 0 : Math.max(0, cgroup.cpuS - this.#lastCgroupCpuS)
        this.#lastCgroupCpuS = cgroup.cpuS
      } else jobCpuS = null
      jobMemoryBytes = cgroup.memoryBytes
      memoryMeasure = cgroup.memoryBytes === null ? null : 'cgroup'
      pids = this.#cgroupPids()
    }
    // A process tree's memory, and a cgroup's without memory.current (its memory controller is not
    // enabled there, as on a host whose memory controller is on cgroup v1): its processes' PSS.
    if (memoryMeasure === null && pids !== null) {
      const memory = this.#memory.read(pids)
      // No process left holds no memory; processes none of whose memory could be read hold an unknown amount.
      if (pids.length === 0 || memory.unreadable < pids.length) {
        jobMemoryBytes = memory.bytes
        memoryMeasure = pids.length === 0 ? null : memory.measure
      }
    }
    return {
      jobCpuS,
      ...machine,
      jobMemoryBytes,
      usedMemoryBytes: used,
      memoryMeasure,
      processes: pids?.length ?? 0,
      gpu: this.gpus?.supported ? this.gpus.read(new Set(pids ?? [])) : null,
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
