import type { IntervalCells, IntervalTotals } from './intervals.js'
import type { SlurmEnergy } from './slurm.js'

/** A run's footprint beyond its electricity, as its row says; null where the row has no figure. */
export interface FootprintCells {
  readonly embodiedKg: number | null
  readonly waterL: number | null
}

/** One run as a CSV row describes it (wattprint's or CodeCarbon's columns). */
export interface RunRow extends FootprintCells, IntervalCells {
  readonly file: string
  readonly timestamp: string
  readonly project: string
  readonly experiment: string
  readonly runId: string
  readonly status: string
  readonly durationS: number
  readonly emissionsKg: number
  readonly energyKWh: number
  readonly cpuKWh: number
  readonly gpuKWh: number
  readonly ramKWh: number
  /** run --within's figures, when the run was scheduled: kg had it started at once, and the forecast's g/kWh. */
  readonly counterfactualKg: number | null
  readonly forecastGPerKWh: number | null
  readonly forecastSource: string
  /** Requests measured (empty in runs that measured none), their output tokens, and the energy of each, J. */
  readonly requests: number
  readonly outputTokens: number
  readonly requestEnergyJ: number
  readonly tokenEnergyJ: number
  /** The job across machines (empty outside a launcher): its id, the node, the rank and what the row counts. */
  readonly jobId: string
  readonly nodeName: string
  readonly rank: number | null
  readonly worldSize: number | null
  readonly jobRole: string
  /** Whose environment gave the job (`slurm`, `torchrun` …); empty outside a launcher. */
  readonly launcher: string
}

export const GROUPINGS = ['project', 'experiment', 'run', 'day', 'job', 'node', 'rank'] as const
export type Grouping = (typeof GROUPINGS)[number]

/**
 * Totals of a group of runs. With them (IntervalTotals), the 80 % intervals on energy and emissions and
 * the whole machine at the wall, each summed only where known (see intervalTotals).
 */
export interface GroupTotals extends IntervalTotals {
  readonly key: string
  readonly runs: number
  readonly durationS: number
  readonly cpuKWh: number
  readonly gpuKWh: number
  readonly ramKWh: number
  readonly energyKWh: number
  readonly emissionsKg: number
  /** Energy-weighted, g CO2e/kWh. */
  readonly intensityGPerKWh: number
  readonly requests: number
  readonly outputTokens: number
  /** The requests' energy ÷ their number, J; null without requests. */
  readonly energyPerRequestJ: number | null
  /** The energy of the requests that gave tokens ÷ those tokens, J; null without tokens. */
  readonly energyPerOutputTokenJ: number | null
  /** Embodied kg CO2e and litres of water of the runs that have them; null when none does. */
  readonly embodiedKg: number | null
  readonly waterL: number | null
  /** With --by job: its nodes and ranks, and why it is incomplete (null when whole). */
  readonly job?: JobTotals
}

/** What `report --by job` says of a job besides its sums. */
export interface JobTotals {
  readonly nodes: number
  readonly ranks: number
  /** The ranks the launcher said the job has; null when no row says. */
  readonly worldSize: number | null
  /** Why the job's figure may be short (a node's run recovered from its checkpoint, ranks missing); null when whole. */
  readonly incomplete: string | null
  /**
   * Whether SLURM may have run it (a row's launcher is `slurm`, or torchrun's or MPI's ranks with an id of
   * SLURM's form, digits): then `report --sacct` asks SLURM's accounting.
   */
  readonly slurm: boolean
  /** SLURM's own figure (`report --sacct`), beside wattprint's. */
  readonly sacct?: SlurmEnergy
}

/** The heading of the grouping column: `day` groups by the timestamps' date, which is UTC, and says so. */
export const groupHeading = (by: string): string => (by === 'day' ? 'day (UTC)' : by)

/** A timeline's samples: elapsed seconds and power by component (malformed lines skipped). */
export interface TimelinePoint {
  readonly elapsedS: number
  readonly cpuW: number
  readonly gpuW: number
  readonly ramW: number
}
