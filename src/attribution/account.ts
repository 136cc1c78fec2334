import type { Component } from '../core/components.js'
import type { AttributionSample } from '../model/attribution.js'
import { type ComponentSplit, type IdleMode, IdlePower, shareOf, splitEnergy } from './split.js'

/** What the ledger needs to split a run's energy: the idle rule and the idle power priors. */
export interface AttributionSetup {
  readonly idle: IdleMode
  /** The CPU's idle power when no low-load interval has been seen: the estimate's own idle term, if any. */
  readonly cpuIdlePriorW: number | null
}

/** One interval's meter joules, as the ledger has them: per component, and the GPU's per channel. */
export interface IntervalJoules {
  readonly durationS: number
  readonly joules: Readonly<Record<Component, number>>
  /** Joules of each GPU measured by NVML (in its channel order); null when no NVML meter measures GPUs. */
  readonly nvmlGpuJoules: readonly number[] | null
}

/** How each component's share was found over a run, for the note in the row. */
export interface AttributionFacts {
  readonly mostProcesses: number
  readonly memoryMeasures: readonly string[]
  readonly gpuMethods: readonly string[]
  readonly foreignGpuProcesses: number
  readonly cpuIdleW: number
  readonly cpuIdleSource: string
  readonly intervalsWithoutSample: number
  /**
   * Intervals whose CPU or RAM share could not be read (a cgroup's cpu.stat, no process's memory):
   * `bridged` took the last share read, `unknown` came before any was read and were charged to others.
   */
  readonly unreadShares: Readonly<
    Record<'cpu' | 'ram', { readonly bridged: number; readonly unknown: number }>
  >
}

type SharedComponent = 'cpu' | 'ram'

/**
 * One interval's split, component by component, and `trackerJ`: the tracker's own CPU joules, by the
 * job's rule on its own CPU time. They are part of the CPU's `othersJ` (with idle `include`, its share
 * of the idle floor part of `idleJ`), never of the job's.
 */
export type IntervalSplit = Readonly<Record<Component, ComponentSplit>> & { readonly trackerJ: number }

const ZERO: ComponentSplit = { jobJ: 0, idleJ: 0, othersJ: 0 }

/**
 * The CPU share is the job's CPU time over the machine's busy time summed over at least this long, not over
 * one interval alone: both are counted in ticks of 10 ms, read a moment apart, so over a 100 ms interval a
 * tick either way is a tenth of the share, and an interval in which the machine's count has not moved
 * would give the job nothing. Sums over a second settle that; with the default 1 s interval it is the
 * interval itself.
 */
const CPU_WINDOW_S = 1

/** CPU seconds of a part of the machine and of all its busy time, summed over the last CPU_WINDOW_S. */
class CpuWindow {
  /** The last intervals' CPU times, newest last. */
  #entries: { durationS: number; partS: number; busyS: number }[] = []

  /** Adds an interval; the sums over it and those of the last second. */
  add(durationS: number, partS: number, busyS: number): { partS: number; busyS: number } {
    this.#entries.push({ durationS, partS, busyS })
    // Drop the oldest while the rest still reach back CPU_WINDOW_S.
    let spanS = this.#entries.reduce((sum, w) => sum + w.durationS, 0)
    while (this.#entries.length > 1 && spanS - (this.#entries[0]?.durationS ?? 0) >= CPU_WINDOW_S) {
      spanS -= this.#entries.shift()?.durationS ?? 0
    }
    let part = 0
    let busy = 0
    for (const w of this.#entries) {
      part += w.partS
      busy += w.busyS
    }
    return { partS: part, busyS: busy }
  }
}

/**
 * Splits each interval's energy between the job, idle and other processes, component by component,
 * interval by interval (the parts add up to the machine's energy exactly), and keeps what the note says.
 */
export class AttributionAccount {
  readonly #cpuIdle: IdlePower
  readonly #gpuIdle: IdlePower[] = []
  #mostProcesses = 0
  readonly #memoryMeasures = new Set<string>()
  readonly #gpuMethods = new Set<string>()
  #foreignGpuProcesses = 0
  #withoutSample = 0
  readonly #cpuWindow = new CpuWindow()
  /** The tracker's own CPU time, over the same window. */
  readonly #trackerWindow = new CpuWindow()
  /** The last share read per component, to bridge an interval whose share could not be read. */
  readonly #lastShare: Record<SharedComponent, number | null> = { cpu: null, ram: null }
  readonly #unread = { cpu: { bridged: 0, unknown: 0 }, ram: { bridged: 0, unknown: 0 } }

  constructor(private readonly setup: AttributionSetup) {
    this.#cpuIdle = new IdlePower(setup.cpuIdlePriorW)
  }

  /** The split of one interval. An interval without a sample (the reader failed) is charged as idle/others. */
  split(interval: IntervalJoules, sample: AttributionSample | undefined): IntervalSplit {
    const { durationS, joules } = interval
    if (!sample) {
      this.#withoutSample += 1
      return {
        cpu: { ...ZERO, othersJ: joules.cpu },
        ram: { ...ZERO, othersJ: joules.ram },
        gpu: { ...ZERO, othersJ: joules.gpu },
        trackerJ: 0,
      }
    }
    this.#mostProcesses = Math.max(this.#mostProcesses, sample.processes)
    if (sample.memoryMeasure) this.#memoryMeasures.add(sample.memoryMeasure)

    // CPU: the job's share of busy time, of the active energy (the part above the idle floor).
    const load = sample.machineTotalCpuS > 0 ? sample.machineBusyCpuS / sample.machineTotalCpuS : Number.NaN
    if (durationS > 0) this.#cpuIdle.observe(joules.cpu / durationS, load)
    // Over the last second of CPU times where both were read; an interval where either could not be read
    // keeps the last share (and is counted for the note).
    let cpuShare: number
    if (sample.jobCpuS !== null && sample.machineBusyCpuS !== null) {
      const window = this.#cpuWindow.add(durationS, sample.jobCpuS, sample.machineBusyCpuS)
      cpuShare = this.#share('cpu', 0, window.partS, window.busyS)
    } else cpuShare = this.#share('cpu', joules.cpu, null, null)
    const cpu = splitEnergy(joules.cpu, this.#cpuIdle.watts, durationS, cpuShare, this.setup.idle)

    // The tracker's own CPU time, by the job's rule, out of what is not the job's: what the job would have
    // been charged for it had it counted as the job's.
    let trackerJ = 0
    if (sample.trackerCpuS !== null && sample.machineBusyCpuS !== null) {
      const window = this.#trackerWindow.add(durationS, sample.trackerCpuS, sample.machineBusyCpuS)
      const share = Math.min(shareOf(window.partS, window.busyS), 1 - Math.min(1, Math.max(0, cpuShare)))
      const tracker = splitEnergy(joules.cpu, this.#cpuIdle.watts, durationS, share, this.setup.idle)
      trackerJ = Math.min(tracker.jobJ, cpu.othersJ + cpu.idleJ)
    }

    // RAM: the job's memory over the memory in use; RAM has no idle split.
    const ramShare = this.#share('ram', joules.ram, sample.jobMemoryBytes, sample.usedMemoryBytes)
    const ram = splitEnergy(joules.ram, 0, durationS, ramShare, 'exclude')

    return { cpu, ram, gpu: this.#gpu(interval, sample), trackerJ }
  }

  /**
   * The job's share `job / of`; where `job` or `of` could not be read, the last share read (a gap bridged,
   * as a meter bridges one), else 0: never a 0 taken for a reading. Each such interval is counted for the note.
   */
  #share(component: SharedComponent, joules: number, job: number | null, of: number | null): number {
    if (job !== null && of !== null) {
      const share = shareOf(job, of)
      // A share is only learnt from an interval that had something to share.
      if (of > 0) this.#lastShare[component] = share
      return share
    }
    if (!(joules > 0)) return 0
    const last = this.#lastShare[component]
    if (last === null) this.#unread[component].unknown += 1
    else this.#unread[component].bridged += 1
    return last ?? 0
  }

  #gpu(interval: IntervalJoules, sample: AttributionSample): ComponentSplit {
    const { durationS, joules, nvmlGpuJoules } = interval
    if (!nvmlGpuJoules || !sample.gpu) {
      if (joules.gpu > 0) this.#gpuMethods.add(nvmlGpuJoules ? 'unknown' : 'not-nvml')
      return { ...ZERO, othersJ: joules.gpu }
    }
    let jobJ = 0
    let idleJ = 0
    nvmlGpuJoules.forEach((gpuJ, i) => {
      const share = sample.gpu?.[i]
      const idle = this.#gpuIdle[i] ?? new IdlePower(null)
      this.#gpuIdle[i] = idle
      if (durationS > 0) idle.observe(gpuJ / durationS, share?.method === 'idle' ? 0 : 1)
      if (share) {
        this.#gpuMethods.add(share.method)
        this.#foreignGpuProcesses = Math.max(this.#foreignGpuProcesses, share.foreignProcesses)
      }
      const part = splitEnergy(gpuJ, idle.watts, durationS, share?.share ?? 0, this.setup.idle)
      jobJ += part.jobJ
      idleJ += part.idleJ
    })
    // GPUs measured otherwise (none today beside NVML's) and rounding: by difference, so the parts add up.
    return { jobJ, idleJ, othersJ: Math.max(0, joules.gpu - jobJ - idleJ) }
  }

  /** What was found so far, for the row's note. */
  facts(): AttributionFacts {
    return {
      mostProcesses: this.#mostProcesses,
      memoryMeasures: [...this.#memoryMeasures],
      gpuMethods: [...this.#gpuMethods],
      foreignGpuProcesses: this.#foreignGpuProcesses,
      cpuIdleW: this.#cpuIdle.watts,
      cpuIdleSource: this.#cpuIdle.source,
      intervalsWithoutSample: this.#withoutSample,
      unreadShares: { cpu: { ...this.#unread.cpu }, ram: { ...this.#unread.ram } },
    }
  }
}
