import { freemem, totalmem } from 'node:os'
import { emptyTotals, type Ledger } from '../accounting/ledger.js'
import {
  footprintFacts,
  NO_JOB,
  type RunFacts,
  toEmissionsRecord,
  toMeasurement,
  UNSCHEDULED,
} from '../accounting/record.js'
import type { AttributionSetup } from '../attribution/account.js'
import { type AttributionPlan, attributionNote } from '../attribution/plan.js'
import type { ResolvedConfig } from '../config/config.js'
import { BYTES_PER_GIB } from '../core/units.js'
import { wattprintVersion } from '../core/version.js'
import { type Factors, factorsOf } from '../estimates/uncertainty.js'
import type { IntensityResolution } from '../intensity/resolve.js'
import { LOAD_UNKNOWN } from '../meters/cpu-estimate.js'
import type { ModelEstimate } from '../meters/detect.js'
import type { EstimateWatts } from '../meters/meter.js'
import type { MeterDescription } from '../model/interval.js'
import type { JobFields, JobPlace, JobRole } from '../model/job.js'
import type { EmissionsRecord, Measurement, RunStatus, ScheduleFields } from '../model/record.js'
import type { RequestTotals } from '../model/requests.js'
import { type CpuTimes, loadBetween, readCpuTimes } from '../platform/cpu-load.js'
import { fallbackSystemInfo, type SystemInfo } from '../platform/system.js'
import { requestFields } from '../requests/book.js'
import type { SamplingSession } from '../sampling/session.js'
import type { SamplingPlan } from '../sampling/supervisor.js'
import { type FootprintCache, footprintOf } from './footprint.js'

/**
 * What `wattprint run --within` gives its run (through the tracker's `scheduledBy`): the schedule's figures,
 * in every record of the run (checkpoints, flush rows, the final row, the crash guard's), and the time it
 * held the command paused, which is not the command's to spend.
 */
export interface RunSchedule {
  /** The schedule's fields as they stand, for the run measured so far. */
  fields(measurement: Measurement): ScheduleFields
  /** Seconds the command was held paused from outside the tracker, left out of its duration budget. */
  heldPausedS(): number
}

/** A run's parts, filled in as start() gets each one; what its records are assembled from. */
export interface RunParts {
  /** What the record's notes say, in the order it was learnt. */
  readonly notes: string[]
  plan: SamplingPlan | undefined
  attribution: AttributionPlan | undefined
  session: SamplingSession | undefined
  ledger: Ledger | undefined
  intensity: IntensityResolution | undefined
  system: SystemInfo | undefined
  /** Model meters' curves by meter id, once known. */
  watts: EstimateWatts
  /** The power model's estimate for this machine (its interval); null when nothing is estimated. */
  estimate: ModelEstimate | null
  cpuTimesAtStart: CpuTimes | null
  /** The request spans' totals; null while no span was opened. */
  requests: () => RequestTotals | null
  /** The schedule `run --within` started the run by; null for a run started at once. */
  schedule: RunSchedule | null
  /** The footprint's look-ups, the run's own. */
  readonly footprint: FootprintCache
  /** This rank's role in its job (distributed); null outside a launcher, or before start(). */
  role: JobRole | null
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
    estimate: null,
    cpuTimesAtStart: null,
    requests: () => null,
    schedule: null,
    footprint: {},
    role: null,
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
  | 'wueLPerKWh'
  | 'waterIntensityLPerKWh'
  | 'functionalUnit'
  | 'procRoot'
  | 'sysRoot'
  | 'emissionsScope'
  | 'job'
>

/** The intensity valid now; NaN (source `none`) before the intensity is known. */
export function intensityNow(run: RunParts): { gPerKWh: number; source: string } {
  return run.intensity?.provider.at(Date.now()) ?? { gPerKWh: Number.NaN, source: 'none' }
}

/** The run's record as of now, with this status: its totals, where and on what it ran, and its notes. */
export function assembleRecord(config: RecordConfig, run: RunParts, status: RunStatus): EmissionsRecord {
  const totals = run.ledger?.totals() ?? emptyTotals()
  const meters = run.session?.meters ?? []
  const load = runLoad(config, run)
  const measurement = toMeasurement(totals, meters, config.pue, intensityNow(run), meterFactors(run, load))
  const notes = [...run.notes, ...(run.intensity?.notes ?? [])]
  meters.forEach((meter, i) => {
    const blind = totals.meterBlindS[i] ?? 0
    if (blind > 0)
      notes.push(
        `${meter.id} could not be read for ${blind.toFixed(1)} s (bridged from neighbouring readings)`,
      )
  })
  const total = totalmem()
  const used = total - freemem()
  const system = run.system ?? fallbackSystemInfo()
  const facts: RunFacts = {
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
    emissionsScope: config.emissionsScope,
    requests: requestFields(run.requests()),
    job: jobFields(config.job, run.role),
  }
  // The footprint needs the measurement and the facts, not the record: the record is built once, with it.
  const instanceType = run.intensity?.location?.cloudInstanceType ?? null
  const footprint = footprintOf(
    config,
    run.footprint,
    footprintFacts(measurement, facts),
    system,
    instanceType,
  )
  return toEmissionsRecord(
    measurement,
    { ...facts, schedule: scheduleOf(run, measurement), footprint },
    status,
  )
}

/** The schedule's fields of a run so measured: none for a run started at once. */
function scheduleOf(run: RunParts, measurement: Measurement): ScheduleFields {
  if (!run.schedule) return UNSCHEDULED
  try {
    return run.schedule.fields(measurement)
  } catch {
    // A record must be made whatever the schedule's arithmetic did.
    return UNSCHEDULED
  }
}

/** The machine's mean load since the run started, in [0, 1]; null when it cannot be read. */
export function runLoad(config: Pick<RecordConfig, 'procStatPath'>, run: RunParts): number | null {
  const now = readCpuTimes(config.procStatPath)
  return run.cpuTimesAtStart && now ? loadBetween(run.cpuTimesAtStart, now) : null
}

/** Each meter's interval factors: the power model's at this load for its estimates, allowances else. */
export function meterFactors(run: RunParts, load: number | null): (meter: MeterDescription) => Factors {
  const curves = run.estimate?.curves ?? null
  return (meter) => factorsOf(meter, curves, load ?? LOAD_UNKNOWN)
}

/** How the ledger splits energy, or null in machine mode. */
export function attributionSetup(config: RecordConfig, run: RunParts): AttributionSetup | null {
  if (!run.attribution?.spec) return null
  const curve = run.watts['cpu-model']
  const estimated = run.session?.meters.some((m) => m.source === 'cpu-model') === true
  const idleW = typeof curve === 'number' ? curve : curve?.[0]
  return {
    idle: config.idle,
    // The estimate's own idle term: its curve at no load. RAPL learns it from a quiet interval.
    cpuIdlePriorW: estimated && idleW !== undefined ? idleW : null,
  }
}

/** The job's fields of the record: the launcher's place and this rank's role. */
export function jobFields(place: JobPlace | null, role: JobRole | null): JobFields {
  if (!place) return NO_JOB
  return { ...place, jobRole: role }
}

/** Whose energy the record's figures are, and how the share was found. */
function attributionContext(config: RecordConfig, run: RunParts): RunFacts['attribution'] {
  // A deferring rank's figures are nobody's: its node's measurer counts them.
  if (run.role === 'deferred') return { mode: 'process', note: null }
  const plan = run.attribution
  const facts = run.ledger?.attributionFacts()
  if (!plan?.spec || !facts) {
    return { mode: 'machine', note: plan?.warnings.map((w) => w.message).join(' ') || null }
  }
  return { mode: 'process', note: attributionNote(plan.job, config.idle, facts) }
}
