import { COMPONENTS, type Component } from '../core/components.js'
import { joulesToKWh } from '../core/units.js'
import { EXACT, type Factors, factorsOf } from '../estimates/uncertainty.js'
import type { ResolvedLocation } from '../intensity/location.js'
import { gpuModelSummary } from '../meters/gpu.js'
import type { FootprintFields } from '../model/footprint.js'
import type { MeterDescription } from '../model/interval.js'
import type { JobFields } from '../model/job.js'
import type {
  ComponentRecord,
  EmissionsRecord,
  EmissionsScope,
  Headline,
  Measurement,
  RunStatus,
  ScheduleFields,
  WallRecord,
} from '../model/record.js'
import type { RequestFields } from '../model/requests.js'
import type { SystemInfo } from '../platform/system.js'
import type { LedgerTotals } from './ledger.js'

/** The job's fields of a run outside any launcher (or with `distributed: 'off'`). */
export const NO_JOB: JobFields = {
  jobId: null,
  nodeName: null,
  rank: null,
  localRank: null,
  worldSize: null,
  launcher: null,
  jobRole: null,
}

/** The schedule's fields of a run started at once (not by `run --within`). */
export const UNSCHEDULED: ScheduleFields = {
  plannedStart: null,
  forecastIntensityGPerKWh: null,
  forecastSource: null,
  counterfactualEmissionsKg: null,
  pausedS: null,
}

const safeDiv = (a: number, b: number): number => (b > 0 && Number.isFinite(a / b) ? a / b : 0)

/** A measured meter's interval factors by its allowance; an estimate's, none unless given. */
const measuredOnly = (meter: MeterDescription): Factors => factorsOf(meter, null, 0)

/**
 * The interval factors of what some meters measured together: their joules' weighted factors (as if
 * their errors moved together, the honest side when they may).
 */
function blendFactors(
  meters: readonly MeterDescription[],
  joules: readonly number[],
  factors: (meter: MeterDescription) => Factors,
  include: (meter: MeterDescription) => boolean,
): Factors {
  let total = 0
  let low = 0
  let high = 0
  meters.forEach((meter, i) => {
    if (!include(meter)) return
    const j = joules[i] ?? 0
    const f = factors(meter)
    total += j
    low += j * f.low
    high += j * f.high
  })
  return total > 0 ? { low: low / total, high: high / total } : EXACT
}

/**
 * Turns ledger totals into a measurement. `factors` gives each meter's interval (the power model's at the
 * run's load for its estimates); by default measured meters carry their allowance and estimates none.
 */
export function toMeasurement(
  totals: LedgerTotals,
  meters: readonly MeterDescription[],
  pue: number,
  fallback: { readonly gPerKWh: number; readonly source: string },
  factors: (meter: MeterDescription) => Factors = measuredOnly,
): Measurement {
  const seconds = totals.durationS
  const component = (c: Component): ComponentRecord => {
    const meter = meters.find((m) => m.component === c)
    const energyKWh = joulesToKWh(totals.joules[c] * pue)
    const f = blendFactors(meters, totals.meterJoules, factors, (m) => m.component === c)
    return {
      energyKWh,
      lowKWh: energyKWh * f.low,
      highKWh: energyKWh * f.high,
      powerW: safeDiv(totals.joules[c], seconds),
      source: meter?.source ?? null,
      method: meter?.method ?? null,
    }
  }
  const components = { cpu: component('cpu'), gpu: component('gpu'), ram: component('ram') }
  const energyKWh = COMPONENTS.reduce((sum, c) => sum + joulesToKWh(totals.joules[c] * pue), 0)
  const energyLowKWh = COMPONENTS.reduce((sum, c) => sum + components[c].lowKWh, 0)
  const energyHighKWh = COMPONENTS.reduce((sum, c) => sum + components[c].highKWh, 0)
  // The node's joules are kept per meter only (the ledger never adds them to the components).
  const nodeJ = meters.reduce(
    (sum, m, i) => sum + (m.component === 'node' ? (totals.meterJoules[i] ?? 0) : 0),
    0,
  )
  const nodeMeter = meters.find((m) => m.component === 'node')
  const emissions = totals.emissionsKg
  // The wall: the node meter's where there is one, else every component's and the modelled rest's.
  const wallParts = (m: MeterDescription) => (nodeMeter ? m.component === 'node' : m.component !== 'node')
  const wallFactors = blendFactors(meters, totals.meterJoules, factors, wallParts)
  const wallKWh = joulesToKWh(totals.wallJoules * pue)
  const wallSources = nodeMeter
    ? nodeMeter.source
    : [...new Set(meters.filter(wallParts).map((m) => m.source))].join('+')
  const scale = (kg: number, kWh: number, part: number) => (kWh > 0 ? (kg * part) / kWh : 0)
  return {
    durationS: seconds,
    energyKWh,
    energyLowKWh,
    energyHighKWh,
    emissionsKg: emissions,
    emissionsLowKg: scale(emissions, energyKWh, energyLowKWh),
    emissionsHighKg: scale(emissions, energyKWh, energyHighKWh),
    emissionsRateKgPerS: safeDiv(emissions, seconds),
    wall: {
      energyKWh: wallKWh,
      lowKWh: wallKWh * wallFactors.low,
      highKWh: wallKWh * wallFactors.high,
      powerW: safeDiv(totals.wallJoules, seconds),
      emissionsKg: totals.wallEmissionsKg,
      emissionsLowKg: totals.wallEmissionsKg * wallFactors.low,
      emissionsHighKg: totals.wallEmissionsKg * wallFactors.high,
      source: wallSources || 'none',
    },
    ...components,
    node: {
      energyKWh: joulesToKWh(nodeJ * pue),
      lowKWh: joulesToKWh(nodeJ * pue) * (nodeMeter ? measuredOnly(nodeMeter).low : 1),
      highKWh: joulesToKWh(nodeJ * pue) * (nodeMeter ? measuredOnly(nodeMeter).high : 1),
      powerW: safeDiv(nodeJ, seconds),
      source: nodeMeter?.source ?? null,
      method: nodeMeter?.method ?? null,
    },
    // One intensity throughout is reported as is, not as emissions ÷ energy with rounding noise.
    carbonIntensityGPerKWh:
      totals.singleGPerKWh || energyKWh <= 0
        ? (totals.lastGPerKWh ?? fallback.gPerKWh)
        : (emissions * 1000) / energyKWh,
    intensitySource: totals.intensitySources.length > 0 ? totals.intensitySources.join('+') : fallback.source,
    gpuUtilizationPercent:
      totals.gpuUtilizationS > 0 ? totals.gpuUtilizationPercentS / totals.gpuUtilizationS : null,
    machine: {
      energyKWh: totals.machineEnergyKWh,
      cpuKWh: joulesToKWh(totals.machineJoules.cpu * pue),
      gpuKWh: joulesToKWh(totals.machineJoules.gpu * pue),
      ramKWh: joulesToKWh(totals.machineJoules.ram * pue),
      wallKWh: joulesToKWh(totals.machineWallJoules * pue),
    },
    idleEnergyKWh: COMPONENTS.reduce((sum, c) => sum + joulesToKWh(totals.idleJoules[c] * pue), 0),
    // A sum of 10 ms ticks: 0.28, not 0.28000000000000014.
    trackerCpuS: totals.trackerCpuS === null ? null : Math.round(totals.trackerCpuS * 1e6) / 1e6,
    trackerEnergyKWh:
      totals.trackerCpuS === null || totals.trackerJoules === null
        ? null
        : joulesToKWh(totals.trackerJoules * pue),
    meters: meters.map((meter, i) => ({
      id: meter.id,
      component: meter.component,
      source: meter.source,
      method: meter.method,
      energyKWh: joulesToKWh((totals.meterJoules[i] ?? 0) * pue),
      powerW: safeDiv(totals.meterJoules[i] ?? 0, seconds),
      blindS: totals.meterBlindS[i] ?? 0,
      channels: meter.channels.map((channel, c) => ({
        name: channel.name,
        energyKWh: joulesToKWh((totals.channelJoules[i]?.[c] ?? 0) * pue),
        powerW: safeDiv(totals.channelJoules[i]?.[c] ?? 0, seconds),
      })),
    })),
  }
}

/** What a run's record says of the run besides its measurement, its schedule and its footprint. */
export interface RunFacts {
  readonly projectName: string
  readonly runId: string
  readonly experimentId: string
  readonly pue: number
  readonly location: ResolvedLocation | null
  /** The GPUs measured, with their names. */
  readonly gpus: readonly { readonly name: string }[]
  readonly system: SystemInfo
  readonly wattprintVersion: string
  readonly cpuUtilizationPercent: number | null
  readonly ram: { readonly usedGiB: number; readonly utilizationPercent: number } | null
  readonly notes: readonly string[]
  /** Whose energy the figures are, and how the share was found. */
  readonly attribution: { readonly mode: 'machine' | 'process'; readonly note: string | null }
  readonly emissionsScope: EmissionsScope
  /** The requests measured (tracker.request, measure, the runtime wrappers). */
  readonly requests: RequestFields
  /** The job and the rank (NO_JOB outside a launcher). */
  readonly job: JobFields
}

/** Everything a run's record needs besides its measurement: its facts, its schedule and its footprint. */
export interface RunContext extends RunFacts {
  /** The schedule's figures as they stand (`run --within`); UNSCHEDULED for a run started at once. */
  readonly schedule: ScheduleFields
  /**
   * The footprint (embodied emissions, water, SCI), computed from the same measurement and facts (see
   * footprintFacts), and the notes it adds after the run's.
   */
  readonly footprint: { readonly fields: FootprintFields; readonly notes: readonly string[] }
}

/** Where the run ran, as its record says it. */
function placeFields(location: ResolvedLocation | null) {
  return {
    countryName: location?.country?.name ?? null,
    countryIsoCode: location?.country?.alpha3 ?? null,
    region: location?.zone ?? null,
    cloudProvider: location?.cloudProvider ?? null,
    cloudRegion: location?.cloudRegion ?? null,
    onCloud: location?.onCloud ?? false,
  }
}

/** What the run ran on, as its record says it. */
function hardwareFields(system: SystemInfo, gpus: RunFacts['gpus']) {
  return {
    cpuCount: system.cpuCount,
    cpuModel: system.cpuModel,
    gpuCount: gpus.length > 0 ? gpus.length : null,
    gpuModel: gpuModelSummary(gpus),
    ramTotalSizeGiB: system.ramTotalGiB,
  }
}

/**
 * What a run's footprint is computed from: its measurement and what its record says of where, on what and
 * whose it ran. A record has them all.
 */
export type FootprintFacts = Measurement &
  RequestFields &
  Pick<
    EmissionsRecord,
    | 'countryIsoCode'
    | 'region'
    | 'cloudProvider'
    | 'cloudRegion'
    | 'onCloud'
    | 'cpuCount'
    | 'ramTotalSizeGiB'
    | 'gpuCount'
    | 'gpuModel'
    | 'trackingMode'
    | 'pue'
    | 'emissionsScope'
  >

/** The footprint's facts of a run so measured, exactly as its record will give them. */
export function footprintFacts(measurement: Measurement, facts: RunFacts): FootprintFacts {
  return {
    ...measurement,
    ...placeFields(facts.location),
    ...hardwareFields(facts.system, facts.gpus),
    trackingMode: facts.attribution.mode,
    pue: facts.pue,
    emissionsScope: facts.emissionsScope,
    ...facts.requests,
  }
}

/** Builds a run's record, once, from its measurement and its context. */
export function toEmissionsRecord(
  measurement: Measurement,
  context: RunContext,
  status: RunStatus,
  now: Date = new Date(),
): EmissionsRecord {
  return {
    timestamp: now.toISOString(),
    projectName: context.projectName,
    runId: context.runId,
    experimentId: context.experimentId,
    status,
    ...measurement,
    ...placeFields(context.location),
    os: context.system.os,
    nodeVersion: process.versions.node,
    wattprintVersion: context.wattprintVersion,
    ...hardwareFields(context.system, context.gpus),
    trackingMode: context.attribution.mode,
    attributionNote: context.attribution.note,
    cpuUtilizationPercent: context.cpuUtilizationPercent,
    ramUtilizationPercent: context.ram?.utilizationPercent ?? null,
    ramUsedGiB: context.ram?.usedGiB ?? null,
    pue: context.pue,
    emissionsScope: context.emissionsScope,
    notes: [...context.notes, ...context.footprint.notes],
    ...context.requests,
    ...context.job,
    ...context.schedule,
    ...context.footprint.fields,
  }
}

/**
 * The figures the record's scope prices. A record from before the wall figure (an old checkpoint) has only
 * CodeCarbon's scope, whatever its scope says.
 */
export function headline(
  record: Pick<
    Measurement,
    | 'energyKWh'
    | 'energyLowKWh'
    | 'energyHighKWh'
    | 'emissionsKg'
    | 'emissionsLowKg'
    | 'emissionsHighKg'
    | 'wall'
  > & { readonly emissionsScope?: EmissionsScope },
): Headline {
  const wall = record.wall as WallRecord | undefined
  if ((record.emissionsScope ?? 'wall') === 'wall' && wall) {
    return {
      energyKWh: wall.energyKWh,
      lowKWh: wall.lowKWh,
      highKWh: wall.highKWh,
      emissionsKg: wall.emissionsKg,
      emissionsLowKg: wall.emissionsLowKg,
      emissionsHighKg: wall.emissionsHighKg,
      what: 'at the wall',
    }
  }
  return {
    energyKWh: record.energyKWh,
    lowKWh: record.energyLowKWh ?? record.energyKWh,
    highKWh: record.energyHighKWh ?? record.energyKWh,
    emissionsKg: record.emissionsKg,
    emissionsLowKg: record.emissionsLowKg ?? record.emissionsKg,
    emissionsHighKg: record.emissionsHighKg ?? record.emissionsKg,
    what: 'CPU+GPU+RAM',
  }
}
