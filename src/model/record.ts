import type { MeterComponent, MeterMethod, MeterSource } from '../core/components.js'
import type { FootprintFields } from './footprint.js'
import type { JobFields } from './job.js'
import type { RequestFields } from './requests.js'

/** Which figure the summary, budgets, equivalents and SCI price: the whole machine at the wall, or CodeCarbon's CPU + GPU + RAM. */
export type EmissionsScope = 'wall' | 'components'

/**
 * How a run ended, as the CSV's `status` column says: `running` marks a flush() row; `interrupted` a
 * row written on SIGINT, SIGTERM, SIGHUP or SIGQUIT, or recovered from the checkpoint of a process that died;
 * `budget-exceeded` a run that crossed its budget.
 */
export type RunStatus = 'running' | 'finished' | 'failed' | 'interrupted' | 'budget-exceeded'

/** One component's share of a run. */
export interface ComponentRecord {
  /** kWh drawn from the grid, PUE included. */
  readonly energyKWh: number
  /**
   * The 80 % interval on energyKWh: the power model's where it is modelled, the source's measurement
   * allowance where measured, none for a wattage the user set (docs/accuracy.md).
   */
  readonly lowKWh: number
  /** The upper end of the 80 % interval on energyKWh, kWh (equal to it where there is no interval). */
  readonly highKWh: number
  /** Mean power over the run, PUE excluded. */
  readonly powerW: number
  /** The source of the figure; null when no meter covers the component. */
  readonly source: MeterSource | null
  /** Whether the source measured or estimated the figure; null when no meter covers the component. */
  readonly method: MeterMethod | null
}

/** The whole machine at the wall. */
export interface WallRecord {
  /** kWh the whole machine drew from the grid (the job's part of it, with attribution), PUE included. */
  readonly energyKWh: number
  /** The lower end of the 80 % interval on energyKWh, kWh: the blend of its parts' intervals. */
  readonly lowKWh: number
  /** The upper end of the 80 % interval on energyKWh, kWh. */
  readonly highKWh: number
  /** Mean power over the span, PUE excluded. */
  readonly powerW: number
  /** kg CO2e of energyKWh, at each interval's intensity. */
  readonly emissionsKg: number
  /** The lower end of the interval on emissionsKg, kg CO2e, from the energy's (not the intensity's error). */
  readonly emissionsLowKg: number
  /** The upper end of the interval on emissionsKg, kg CO2e. */
  readonly emissionsHighKg: number
  /** What it is made of: the node meter's source, or the sources added (`rapl+nvml-energy+rest-model`). */
  readonly source: string
}

/** One meter's share, with its channels (RAPL packages, GPUs …). */
export interface MeterRecord {
  /** The meter's id, unique within a tracker (`rapl-package`, `cpu-model`, `acpi-power-meter` …). */
  readonly id: string
  /** What the meter measures: a component, the whole server (`node`) or the modelled rest of the machine. */
  readonly component: MeterComponent
  /** Where the meter's figure comes from. */
  readonly source: MeterSource
  /** Whether the meter reads the hardware or models it. */
  readonly method: MeterMethod
  /** kWh the meter counted over the span, PUE included: the machine's, whatever the attribution. */
  readonly energyKWh: number
  /** The meter's mean power over the span, W, PUE excluded. */
  readonly powerW: number
  /** Seconds the meter could not be read (bridged from neighbouring readings). */
  readonly blindS: number
  /** The meter's channels (a RAPL zone such as `package-0`, one GPU …), in the meter's order. */
  readonly channels: readonly {
    /** The channel's name, as its source spells it. */
    readonly name: string
    /** kWh the channel counted over the span, PUE included. */
    readonly energyKWh: number
    /** The channel's mean power over the span, W, PUE excluded. */
    readonly powerW: number
  }[]
}

/** Energy and emissions over a span of time: a run or a task. */
export interface Measurement {
  /** Seconds measured: the intervals closed over the span, added up. */
  readonly durationS: number
  /** Total kWh drawn from the grid, PUE included: CPU + GPU + RAM, CodeCarbon's scope. */
  readonly energyKWh: number
  /** The 80 % interval on energyKWh: the sum of the components' (as if their errors moved together). */
  readonly energyLowKWh: number
  /** The upper end of the 80 % interval on energyKWh, kWh. */
  readonly energyHighKWh: number
  /** kg CO2e of energyKWh. */
  readonly emissionsKg: number
  /** The interval on emissionsKg, from the energy's (the intensity's own error is not included). */
  readonly emissionsLowKg: number
  /** The upper end of the interval on emissionsKg, kg CO2e. */
  readonly emissionsHighKg: number
  /** emissionsKg per second of durationS, kg CO2e/s (0 for a span of no time). */
  readonly emissionsRateKgPerS: number
  /**
   * The whole machine at the wall (the job's part of it, with attribution), PUE included: the node meter
   * where there is one, else the components plus the modelled rest of the machine (board, fans, drives,
   * power-supply losses). What the grid supplies: larger than energyKWh, never part of it.
   */
  readonly wall: WallRecord
  /** The CPU's share: the job's, with attribution. */
  readonly cpu: ComponentRecord
  /** The GPUs' share (all of them together): the job's, with attribution; 0 kWh with no GPU meter. */
  readonly gpu: ComponentRecord
  /** The memory's share: the job's, with attribution. */
  readonly ram: ComponentRecord
  /**
   * The whole server at the wall (an ACPI power meter), PUE included: every component and the power
   * supply's losses, shown beside the components' sum and never added to it (not in `energyKWh`). Its
   * source is null when no such meter exists.
   */
  readonly node: ComponentRecord
  /** Energy-weighted carbon intensity of the span, g CO2e/kWh. */
  readonly carbonIntensityGPerKWh: number
  /** Where the intensity came from (`electricitymaps-yearly-2025:DE`, `fixed`, `world-average` …). */
  readonly intensitySource: string
  /** Mean GPU utilisation over the span, %, from NVML or nvidia-smi; null without GPU meters. */
  readonly gpuUtilizationPercent: number | null
  /** The whole machine's energy, PUE included: the same as the job's figures without attribution. */
  readonly machine: {
    /** The machine's CPU + GPU + RAM energy, kWh (the job's is energyKWh). */
    readonly energyKWh: number
    /** The machine's CPU energy, kWh. */
    readonly cpuKWh: number
    /** The machine's GPU energy, kWh. */
    readonly gpuKWh: number
    /** The machine's memory energy, kWh. */
    readonly ramKWh: number
    /** The machine's whole wall energy, PUE included (the job's part is `wall`). */
    readonly wallKWh: number
  }
  /** Idle energy not charged to the job, PUE included, kWh (0 without attribution). */
  readonly idleEnergyKWh: number
  /**
   * What measuring cost, with attribution: the tracker's own CPU seconds (its sampler thread; for
   * `wattprint run` all of wattprint and the helpers it starts), never charged to the job. Null in machine
   * mode, and where it cannot be told from the job's (a library sampling on the job's own thread).
   */
  readonly trackerCpuS: number | null
  /**
   * The CPU energy that time stands for, PUE included, kWh, by the job's rule (its share of the machine's
   * busy CPU time, of the energy above idle; with idle `include`, of the idle power too): what the job
   * would have been charged for it. Part of the others' energy (with `include`, its idle part of
   * `idleEnergyKWh`), never the job's; null when trackerCpuS is.
   */
  readonly trackerEnergyKWh: number | null
  /** The machine's meters (their energy is the machine's, whatever the attribution). */
  readonly meters: readonly MeterRecord[]
}

/** A run's result: what stop() and flush() return and what a CSV row holds. */
export interface EmissionsRecord extends Measurement, RequestFields, FootprintFields, JobFields {
  /** ISO 8601 UTC time the record was made. */
  readonly timestamp: string
  /** The project the run belongs to (option `projectName`). */
  readonly projectName: string
  /** The run's id (option `runId`, by default a random UUID). */
  readonly runId: string
  /** The experiment the run belongs to (option `experimentId`); empty when none was given. */
  readonly experimentId: string
  /** How the run ended, or `running` for a flush(). */
  readonly status: RunStatus
  /** The country's English name; null when the location is unknown. */
  readonly countryName: string | null
  /** ISO 3166 alpha-3. */
  readonly countryIsoCode: string | null
  /** The Electricity Maps zone whose figures were used (`US-CAL-CISO`, `DE`); null when none was. */
  readonly region: string | null
  /** `aws`, `gcp` or `azure`, when named or detected. */
  readonly cloudProvider: string | null
  /** The cloud region's API name (`us-east-1`, `europe-west4`), when named or detected. */
  readonly cloudRegion: string | null
  /** Whether the run was on a cloud, as named or detected. */
  readonly onCloud: boolean
  /** The operating system, kernel release and architecture (`Linux-6.1.0-x86_64`). */
  readonly os: string
  /** The Node.js version that ran the tracker (`20.19.0`). */
  readonly nodeVersion: string
  /** The wattprint version that made the record. */
  readonly wattprintVersion: string
  /** Logical CPUs (threads) of the machine. */
  readonly cpuCount: number
  /** The CPU's brand string as the OS reports it; `unknown` when it does not. */
  readonly cpuModel: string
  /** GPUs measured; null when none was. */
  readonly gpuCount: number | null
  /** The GPUs measured, counted by name (`2 x NVIDIA A100-SXM4-40GB`); null when none was. */
  readonly gpuModel: string | null
  /** The machine's memory, GiB. */
  readonly ramTotalSizeGiB: number
  /**
   * What the energy and emissions figures hold, as CodeCarbon's column says: `machine` (the whole machine) or
   * `process` (the job: a process tree or a cgroup; the machine's figures are in `machine`).
   */
  readonly trackingMode: 'machine' | 'process'
  /** How the job's share was found, or why it could not be; null in machine mode. */
  readonly attributionNote: string | null
  /** Mean machine CPU load over the run, %. */
  readonly cpuUtilizationPercent: number | null
  /** The machine's memory in use when the record was made, %; null when the OS gives no total. */
  readonly ramUtilizationPercent: number | null
  /** The machine's memory in use when the record was made, GiB; null when the OS gives no total. */
  readonly ramUsedGiB: number | null
  /** The data centre's power usage effectiveness the energy figures were multiplied by (option `pue`). */
  readonly pue: number
  /**
   * Which figure the summary, budgets, equivalents and SCI price: `wall` (the whole machine, the default)
   * or `components` (CPU + GPU + RAM, CodeCarbon's scope). energyKWh and emissionsKg are always the latter,
   * `wall` the former.
   */
  readonly emissionsScope: EmissionsScope
  /** What the reader should know about how the figures were obtained (fallbacks, gaps, guesses). */
  readonly notes: readonly string[]
  /** ISO 8601 UTC start that `run --within` chose from the forecast; null for a run started at once. */
  readonly plannedStart: string | null
  /** The forecast's energy-weighted intensity over the run as it ran, g CO2e/kWh; null when not scheduled. */
  readonly forecastIntensityGPerKWh: number | null
  /** The forecast's source; `watttime-marginal` in it marks a marginal signal. */
  readonly forecastSource: string | null
  /**
   * kg CO2e had the run started at once and never paused: its measured energy profile (paused time left
   * out) moved to the moment it was asked for, at the same forecast's intensities.
   */
  readonly counterfactualEmissionsKg: number | null
  /** Seconds the command was paused (`--pause-above`); null when it could not be. */
  readonly pausedS: number | null
}

/** The fields a scheduled run adds to its record. */
export type ScheduleFields = Pick<
  EmissionsRecord,
  'plannedStart' | 'forecastIntensityGPerKWh' | 'forecastSource' | 'counterfactualEmissionsKg' | 'pausedS'
>

/** A named task's result (startTask/stopTask). */
export interface TaskRecord extends Measurement {
  /** The name given to startTask. */
  readonly taskName: string
  /** The id of the run the task belongs to. */
  readonly runId: string
  /** ISO 8601 UTC. */
  readonly startedAt: string
  /** ISO 8601 UTC time stopTask ended the task. */
  readonly endedAt: string
}

/** The figures a record's emissionsScope prices, with their intervals, and what they hold in words. */
export interface Headline {
  readonly energyKWh: number
  readonly lowKWh: number
  readonly highKWh: number
  readonly emissionsKg: number
  readonly emissionsLowKg: number
  readonly emissionsHighKg: number
  /** `at the wall` or `CPU+GPU+RAM`. */
  readonly what: string
}
