import { AttributionAccount, type AttributionFacts, type AttributionSetup } from '../attribution/account.js'
import type { ComponentSplit } from '../attribution/split.js'
import { COMPONENTS, type Component } from '../core/components.js'
import { emissionsKg, joulesToKWh } from '../core/units.js'
import type { IntensityProvider } from '../intensity/provider.js'
import type { IntervalReport, MeterDescription } from '../model/interval.js'
import type { EmissionsScope } from '../model/record.js'

/** Cumulative totals of a run (or of the part of it a task covers). */
export interface LedgerTotals {
  /** Seconds covered by the intervals counted. */
  readonly durationS: number
  /** Joules per component, before PUE: the job's with attribution, else the machine's as measured. */
  readonly joules: Readonly<Record<Component, number>>
  /** The machine's joules per component, before PUE (equal to `joules` without attribution). */
  readonly machineJoules: Readonly<Record<Component, number>>
  /** Idle joules per component not charged to the job, before PUE (all 0 without attribution). */
  readonly idleJoules: Readonly<Record<Component, number>>
  /**
   * With attribution, the tracker's own CPU seconds (null where they could not be told apart from the
   * job's in any interval) and the CPU joules they stand for by the job's rule, before PUE: part of the
   * others' energy (and with idle `include` of the idle energy), never the job's. Both null without
   * attribution.
   */
  readonly trackerCpuS: number | null
  readonly trackerJoules: number | null
  /** The machine's energy, PUE included, in kWh. */
  readonly machineEnergyKWh: number
  /** Joules per meter, before PUE, in the order of the ledger's meters. */
  readonly meterJoules: readonly number[]
  /** Joules per meter and channel, before PUE. */
  readonly channelJoules: readonly (readonly number[])[]
  /** Blind seconds per meter (the most of any of its channels, summed over intervals). */
  readonly meterBlindS: readonly number[]
  /** Energy drawn from the grid, PUE included, in kWh. */
  readonly energyKWh: number
  /** kg CO2e: each interval's kWh × the intensity valid then. */
  readonly emissionsKg: number
  /**
   * The whole machine at the wall, before PUE: the node meter's joules where there is one, else the
   * components' plus the modelled rest of the machine. With attribution, the job's part: its components'
   * joules × the machine's wall over the machine's components, interval by interval.
   */
  readonly wallJoules: number
  /** The machine's own wall joules, before PUE. */
  readonly machineWallJoules: number
  /** The wall energy, PUE included, kWh. */
  readonly wallEnergyKWh: number
  /** kg CO2e of the wall energy (PUE included): each interval's × the intensity valid then. */
  readonly wallEmissionsKg: number
  /** Carbon intensity used for the last interval, g/kWh. */
  readonly lastGPerKWh: number | null
  /** True while every interval so far used the same intensity (then it is the mean, exactly). */
  readonly singleGPerKWh: boolean
  /** Every intensity source used, in order of first use. */
  readonly intensitySources: readonly string[]
  readonly intervals: number
  /** Time-weighted GPU utilisation: Σ % × s, and the seconds it covers. */
  readonly gpuUtilizationPercentS: number
  readonly gpuUtilizationS: number
}

/** What one interval added. */
export interface LedgerStep {
  /** Joules per component, before PUE (the job's with attribution). */
  readonly joules: Readonly<Record<Component, number>>
  /** With attribution, each component's machine joules split into the job's, idle and others'. */
  readonly split: Readonly<Record<Component, ComponentSplit>> | null
  readonly energyKWh: number
  readonly emissionsKg: number
  readonly gPerKWh: number
  readonly intensitySource: string
}

const zeroByComponent = (): Record<Component, number> => ({ cpu: 0, gpu: 0, ram: 0 })

/**
 * Pure accounting: interval joules × PUE → kWh; each interval's kWh × the intensity valid at its time
 * → kg. Holds cumulative totals; a task is the difference of two snapshots.
 */
export class Ledger {
  private durationS = 0
  private readonly joules = zeroByComponent()
  private readonly machineJoules = zeroByComponent()
  private readonly idleJoules = zeroByComponent()
  private machineEnergyKWh = 0
  private trackerCpuS: number | null = null
  private trackerJoules = 0
  private readonly account: AttributionAccount | null
  private readonly meterJoules: number[]
  private readonly channelJoules: number[][]
  private readonly meterBlindS: number[]
  private energyKWh = 0
  private emissionsKg = 0
  private wallJoules = 0
  private machineWallJoules = 0
  private wallEnergyKWh = 0
  private wallEmissionsKg = 0
  private lastGPerKWh: number | null = null
  private singleGPerKWh = true
  private readonly sources: string[] = []
  private intervals = 0
  private gpuUtilizationPercentS = 0
  private gpuUtilizationS = 0

  constructor(
    private readonly meters: readonly MeterDescription[],
    private readonly pue: number,
    private readonly intensity: IntensityProvider,
    /** Splits each interval between the job, idle and others; null: the figures are the machine's. */
    attribution: AttributionSetup | null = null,
  ) {
    this.account = attribution ? new AttributionAccount(attribution) : null
    this.meterJoules = meters.map(() => 0)
    this.channelJoules = meters.map((m) => m.channels.map(() => 0))
    this.meterBlindS = meters.map(() => 0)
  }

  /** Adds one interval and returns what it contributed. */
  add(report: IntervalReport): LedgerStep {
    const joules = zeroByComponent()
    let nodeJ: number | null = null
    let restJ = 0
    report.meters.forEach((interval, i) => {
      const meter = this.meters[i]
      if (!meter) return
      // A whole-node meter already includes every component, and the rest of the machine is not one of
      // them: both kept per meter and for the wall figure, never added to the components.
      if (meter.component === 'node') nodeJ = (nodeJ ?? 0) + interval.joules
      else if (meter.component === 'rest') restJ += interval.joules
      else joules[meter.component] += interval.joules
      this.meterJoules[i] = (this.meterJoules[i] ?? 0) + interval.joules
      this.meterBlindS[i] = (this.meterBlindS[i] ?? 0) + interval.blindS
      const channels = this.channelJoules[i] ?? []
      interval.channelJoules.forEach((j, c) => {
        channels[c] = (channels[c] ?? 0) + j
      })
    })
    const split = this.account?.split(
      { durationS: report.durationS, joules, nvmlGpuJoules: this.nvmlGpuJoules(report) },
      report.attribution,
    )
    if (split) {
      this.trackerJoules += split.trackerJ
      const trackerCpuS = report.attribution?.trackerCpuS ?? null
      if (trackerCpuS !== null) this.trackerCpuS = (this.trackerCpuS ?? 0) + trackerCpuS
    }
    let totalJ = 0
    let machineJ = 0
    for (const component of COMPONENTS) {
      this.machineJoules[component] += joules[component]
      machineJ += joules[component]
      if (split) {
        this.idleJoules[component] += split[component].idleJ
        joules[component] = split[component].jobJ
      }
      this.joules[component] += joules[component]
      totalJ += joules[component]
    }
    this.machineEnergyKWh += joulesToKWh(machineJ * this.pue)
    const { gPerKWh, source } = this.intensity.at(report.wallTimeMs)
    const energyKWh = joulesToKWh(totalJ * this.pue)
    const kg = emissionsKg(energyKWh, gPerKWh)
    // The rest of the machine (and a power supply's losses) serve its components: the job's part of the
    // wall is its part of the components, so the parts still add up to the machine's wall.
    const machineWallJ: number = nodeJ ?? machineJ + restJ
    const wallJ = split ? (machineJ > 0 ? (machineWallJ * totalJ) / machineJ : 0) : machineWallJ
    this.machineWallJoules += machineWallJ
    this.wallJoules += wallJ
    const wallKWh = joulesToKWh(wallJ * this.pue)
    this.wallEnergyKWh += wallKWh
    this.wallEmissionsKg += emissionsKg(wallKWh, gPerKWh)
    this.durationS += report.durationS
    this.energyKWh += energyKWh
    this.emissionsKg += kg
    if (this.lastGPerKWh !== null && gPerKWh !== this.lastGPerKWh) this.singleGPerKWh = false
    this.lastGPerKWh = gPerKWh
    if (!this.sources.includes(source)) this.sources.push(source)
    this.intervals += 1
    if (report.gpuUtilizationPercent !== null) {
      this.gpuUtilizationPercentS += report.gpuUtilizationPercent * report.durationS
      this.gpuUtilizationS += report.durationS
    }
    return { joules, split: split ?? null, energyKWh, emissionsKg: kg, gPerKWh, intensitySource: source }
  }

  /** The joules of each GPU NVML measures, in the order the sampler's GPU process reader has them. */
  private nvmlGpuJoules(report: IntervalReport): number[] | null {
    const joules: number[] = []
    this.meters.forEach((meter, i) => {
      if (meter.component === 'gpu' && meter.source.startsWith('nvml')) {
        joules.push(...(report.meters[i]?.channelJoules ?? []))
      }
    })
    return joules.length > 0 ? joules : null
  }

  /** How attribution found the job's shares so far; null without attribution. */
  attributionFacts(): AttributionFacts | null {
    return this.account?.facts() ?? null
  }

  /** A copy of the cumulative totals. */
  totals(): LedgerTotals {
    return {
      durationS: this.durationS,
      joules: { ...this.joules },
      machineJoules: { ...this.machineJoules },
      idleJoules: { ...this.idleJoules },
      trackerCpuS: this.account ? this.trackerCpuS : null,
      trackerJoules: this.account ? this.trackerJoules : null,
      machineEnergyKWh: this.machineEnergyKWh,
      meterJoules: [...this.meterJoules],
      channelJoules: this.channelJoules.map((c) => [...c]),
      meterBlindS: [...this.meterBlindS],
      energyKWh: this.energyKWh,
      emissionsKg: this.emissionsKg,
      wallJoules: this.wallJoules,
      machineWallJoules: this.machineWallJoules,
      wallEnergyKWh: this.wallEnergyKWh,
      wallEmissionsKg: this.wallEmissionsKg,
      lastGPerKWh: this.lastGPerKWh,
      singleGPerKWh: this.singleGPerKWh,
      intensitySources: [...this.sources],
      intervals: this.intervals,
      gpuUtilizationPercentS: this.gpuUtilizationPercentS,
      gpuUtilizationS: this.gpuUtilizationS,
    }
  }
}

const subComponents = (
  after: Readonly<Record<Component, number>>,
  before: Readonly<Record<Component, number>>,
): Record<Component, number> => ({
  cpu: Math.max(0, after.cpu - before.cpu),
  gpu: Math.max(0, after.gpu - before.gpu),
  ram: Math.max(0, after.ram - before.ram),
})

/** The totals between two snapshots of the same ledger (a task). */
export function difference(after: LedgerTotals, before: LedgerTotals): LedgerTotals {
  const sub = (a: number, b: number) => Math.max(0, a - b)
  return {
    durationS: sub(after.durationS, before.durationS),
    joules: subComponents(after.joules, before.joules),
    machineJoules: subComponents(after.machineJoules, before.machineJoules),
    idleJoules: subComponents(after.idleJoules, before.idleJoules),
    trackerCpuS: after.trackerCpuS === null ? null : sub(after.trackerCpuS, before.trackerCpuS ?? 0),
    trackerJoules: after.trackerJoules === null ? null : sub(after.trackerJoules, before.trackerJoules ?? 0),
    machineEnergyKWh: sub(after.machineEnergyKWh, before.machineEnergyKWh),
    meterJoules: after.meterJoules.map((j, i) => sub(j, before.meterJoules[i] ?? 0)),
    channelJoules: after.channelJoules.map((c, i) =>
      c.map((j, k) => sub(j, before.channelJoules[i]?.[k] ?? 0)),
    ),
    meterBlindS: after.meterBlindS.map((s, i) => sub(s, before.meterBlindS[i] ?? 0)),
    energyKWh: sub(after.energyKWh, before.energyKWh),
    emissionsKg: sub(after.emissionsKg, before.emissionsKg),
    wallJoules: sub(after.wallJoules, before.wallJoules),
    machineWallJoules: sub(after.machineWallJoules, before.machineWallJoules),
    wallEnergyKWh: sub(after.wallEnergyKWh, before.wallEnergyKWh),
    wallEmissionsKg: sub(after.wallEmissionsKg, before.wallEmissionsKg),
    lastGPerKWh: after.lastGPerKWh,
    // A span of a run that used one intensity throughout used that one too.
    singleGPerKWh: after.singleGPerKWh,
    intensitySources: after.intensitySources,
    intervals: after.intervals - before.intervals,
    gpuUtilizationPercentS: sub(after.gpuUtilizationPercentS, before.gpuUtilizationPercentS),
    gpuUtilizationS: sub(after.gpuUtilizationS, before.gpuUtilizationS),
  }
}

/** Totals of a run that measured nothing. */
export function emptyTotals(): LedgerTotals {
  return {
    durationS: 0,
    joules: zeroByComponent(),
    machineJoules: zeroByComponent(),
    idleJoules: zeroByComponent(),
    trackerCpuS: null,
    trackerJoules: null,
    machineEnergyKWh: 0,
    meterJoules: [],
    channelJoules: [],
    meterBlindS: [],
    energyKWh: 0,
    emissionsKg: 0,
    wallJoules: 0,
    machineWallJoules: 0,
    wallEnergyKWh: 0,
    wallEmissionsKg: 0,
    lastGPerKWh: null,
    singleGPerKWh: true,
    intensitySources: [],
    intervals: 0,
    gpuUtilizationPercentS: 0,
    gpuUtilizationS: 0,
  }
}

/** The figures a scope prices, from totals: the wall's, or CodeCarbon's CPU + GPU + RAM. */
export function scopedTotals(
  totals: LedgerTotals,
  scope: EmissionsScope,
): { readonly energyKWh: number; readonly emissionsKg: number; readonly durationS: number } {
  return scope === 'wall'
    ? { energyKWh: totals.wallEnergyKWh, emissionsKg: totals.wallEmissionsKg, durationS: totals.durationS }
    : { energyKWh: totals.energyKWh, emissionsKg: totals.emissionsKg, durationS: totals.durationS }
}
