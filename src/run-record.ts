import { freemem, totalmem } from 'node:os'
import type { AttributionSetup } from './attribution/account.js'
import { type AttributionPlan, attributionNote } from './attribution/plan.js'
import type { ResolvedConfig } from './config.js'
import { withFootprint } from './footprint/record.js'
import type { IntensityResolution } from './intensity/resolve.js'
import { emptyTotals, type Ledger } from './ledger.js'
import { cpuPowerAtLoad } from './meters/cpu-estimate.js'
import { type CpuTimes, loadBetween, readCpuTimes } from './meters/cpu-load.js'
import type { MeterPlan } from './meters/detect.js'
import {
  type EmissionsRecord,
  type RunContext,
  type RunStatus,
  toEmissionsRecord,
  toMeasurement,
} from './record.js'
import { type RequestTotals, requestFields } from './requests/book.js'
import type { SamplingSession } from './sampling/session.js'
import { fallbackSystemInfo, type SystemInfo } from './system.js'
import { BYTES_PER_GIB } from './units.js'
import { wattprintVersion } from './version.js'

/** A run's parts, filled in as start() gets each one; what its records are assembled from. */
export interface RunParts {
  /** What the record's notes say, in the order it was learnt. */
  readonly notes: string[]
  plan: MeterPlan | undefined
  attribution: AttributionPlan | undefined
  session: SamplingSession | undefined
  ledger: Ledger | undefined
  intensity: IntensityResolution | undefined
  system: SystemInfo | undefined
  /** Estimate meters' wattage by meter id, once known. */
  watts: Readonly<Record<string, number>>
  cpuTimesAtStart: CpuTimes | null
  /** The request spans' totals; null while no span was opened. */
  requests: () => RequestTotals | null
}

/** The parts of a run not started yet. */
export function noRunParts(): RunParts {
  return {
    notes: [],
    plan: undefined,
    attribution: undefined,
    session: undefined,
    ledger: undefined,
    intensity: undefined,
    system: undefined,
    watts: {},
    cpuTimesAtStart: null,
    requests: () => null,
  }
}

/** The options a record reads. */
export type RecordConfig = Pick<
  ResolvedConfig,
  | 'projectName'
  | 'runId'
  | 'experimentId'
  | 'pue'
  | 'procStatPath'
  | 'idle'
  | 'cpuPowerW'
  | 'embodied'
  | 'cloudInstanceType'
  | 'wue'
  | 'waterIntensity'
  | 'functionalUnit'
  | 'procRoot'
  | 'sysRoot'
>

/** The intensity valid now; NaN (source `none`) before the intensity is known. */
export function intensityNow(run: RunParts): { gPerKWh: number; source: string } {
  return run.intensity?.provider.at(Date.now()) ?? { gPerKWh: Number.NaN, source: 'none' }
}

/** The run's record as of now, with this status: its totals, where and on what it ran, and its notes. */
export function assembleRecord(config: RecordConfig, run: RunParts, status: RunStatus): EmissionsRecord {
  const totals = run.ledger?.totals() ?? emptyTotals()
  const meters = run.session?.meters ?? []
  const measurement = toMeasurement(totals, meters, config.pue, intensityNow(run))
  const notes = [...run.notes, ...(run.intensity?.notes ?? [])]
  meters.forEach((meter, i) => {
    const blind = totals.meterBlindS[i] ?? 0
    if (blind > 0)
      notes.push(
        `${meter.id} could not be read for ${blind.toFixed(1)} s (bridged from neighbouring readings)`,
      )
  })
  const now = readCpuTimes(config.procStatPath)
  const load = run.cpuTimesAtStart && now ? loadBetween(run.cpuTimesAtStart, now) : null
  const total = totalmem()
  const used = total - freemem()
  const system = run.system ?? fallbackSystemInfo()
  const context: RunContext = {
    projectName: config.projectName,
    runId: config.runId,
    experimentId: config.experimentId,
    pue: config.pue,
    location: run.intensity?.location ?? null,
    gpus: run.session?.gpu?.devices ?? [],
    system,
    wattprintVersion: wattprintVersion(),
    cpuUtilizationPercent: load === null ? null : load * 100,
    ram: total > 0 ? { usedGiB: used / BYTES_PER_GIB, utilizationPercent: (used / total) * 100 } : null,
    notes,
    attribution: attributionContext(config, run),
    requests: requestFields(run.requests()),
  }
  const record = toEmissionsRecord(measurement, context, status)
  return withFootprint(config, run, record, system, run.intensity?.location?.cloudInstanceType ?? null)
}

/** How the ledger splits energy, or null in machine mode. */
export function attributionSetup(
  config: RecordConfig,
  run: RunParts,
  watts: Readonly<Record<string, number>>,
): AttributionSetup | null {
  if (!run.attribution?.spec) return null
  const tdpW = watts['cpu-tdp'] ?? config.cpuPowerW
  const estimated = run.session?.meters.some((m) => m.source === 'cpu-tdp') === true
  return {
    idle: config.idle,
    // The estimate's own idle term: TDP × the load curve at no load. RAPL learns it from a quiet interval.
    cpuIdlePriorW: estimated && tdpW !== null ? cpuPowerAtLoad(tdpW, 0) : null,
  }
}

/** Whose energy the record's figures are, and how the share was found. */
function attributionContext(config: RecordConfig, run: RunParts): RunContext['attribution'] {
  const plan = run.attribution
  const facts = run.ledger?.attributionFacts()
  if (!plan?.spec || !facts) {
    return { mode: 'machine', note: plan?.warnings.map((w) => w.message).join(' ') || null }
  }
  return { mode: 'process', note: attributionNote(plan.job, config.idle, facts) }
}
