import type { ResolvedAttribution } from '../attribution/plan.js'
import type { IdleMode } from '../attribution/split.js'
import type { LogLevel } from '../core/log.js'
import type { DistributedMode } from '../distributed/role.js'
import type { EmbodiedOption, FunctionalUnitOption } from '../footprint/options.js'
import type {
  ForecastOnlyOption,
  ForecastPlaceOption,
  ForecastProviderName,
} from '../intensity/forecast/select.js'
import type { IntensityConfig } from '../intensity/resolve.js'
import type { IntensityOption } from '../intensity/sources.js'
import type { JobPlace } from '../model/job.js'
import type { EmissionsScope } from '../model/record.js'
import type { Sink } from '../output/sink.js'

/** Options of an EmissionsTracker. Each can also be set as `WATTPRINT_<SCREAMING_SNAKE>`; options win. */
export interface TrackerOptions {
  /** Name of the project, in every row. Default `wattprint`. */
  projectName?: string
  /** Groups runs of one experiment. Default empty. */
  experimentId?: string
  /** Identifies this run. Default a random UUID. */
  runId?: string
  /** Folder of the CSV. Default `.` (created when missing). */
  outputDir?: string
  /** CSV file name inside outputDir. Default `emissions.csv`. */
  outputFile?: string
  /** Append a row to the CSV on stop() and flush(). Default true. */
  saveToFile?: boolean
  /**
   * How often a running tracker saves its state to `<outputDir>/.wattprint/<runId>.json`, in
   * milliseconds, 100 to 3,600,000, so that a killed process still leaves its row. Default 10,000.
   */
  checkpointIntervalMs?: number
  /** Sampling period in milliseconds, 10 to 3,600,000. Default 1000. */
  intervalMs?: number
  /** `worker` (a worker thread, immune to a busy main thread; default) or `inline` (main thread timers). */
  sampling?: 'worker' | 'inline'
  /** ISO 3166 alpha-2 or alpha-3 country code of the machine (`FR`, `fra`). */
  country?: string
  /** Electricity Maps zone of the machine (`US-CAL-CISO`, `CA-ON`, `SE-SE2`, `DE`); finer than a country. */
  zone?: string
  /** Cloud the machine runs on: `aws`, `gcp` or `azure`; give cloudRegion with it. */
  cloudProvider?: string
  /** The cloud region (`eu-north-1`, `europe-west4`, `westeurope`): its grid zone sets the intensity. */
  cloudRegion?: string
  /** Ask the cloud's instance metadata service for the provider and region (1 s at most). Default false. */
  detectCloud?: boolean
  /** Base URL of the instance metadata service. Default `http://169.254.169.254`. */
  cloudMetadataUrl?: string
  /** Electricity Maps API token: turns on live intensity for the zone. Env `WATTPRINT_ELECTRICITYMAPS_TOKEN`. */
  electricityMapsToken?: string
  /** Base URL of the Electricity Maps API. Default `https://api.electricitymaps.com`. Env `WATTPRINT_ELECTRICITYMAPS_URL`. */
  electricityMapsUrl?: string
  /**
   * Live intensity for Great Britain from NESO's Carbon Intensity API (no token):
   * `'national'`, a region id 1–17 (`13` is London) or a postcode (`'RG10'`).
   */
  ukCarbonIntensity?: string | number
  /** Base URL of the UK Carbon Intensity API. Default `https://api.carbonintensity.org.uk`. */
  ukCarbonIntensityUrl?: string
  /** @deprecated a forecast option (wattTimeUsername of ForecastOptions), which the tracker never read: pass it to forecast() or bestWindow(), or set its WATTPRINT_ variable for `wattprint when` and `run --within`. */
  wattTimeUsername?: string
  /** @deprecated a forecast option (wattTimePassword of ForecastOptions), which the tracker never read: pass it to forecast() or bestWindow(), or set its WATTPRINT_ variable for `wattprint when` and `run --within`. */
  wattTimePassword?: string
  /** @deprecated a forecast option (wattTimeRegion of ForecastOptions), which the tracker never read: pass it to forecast() or bestWindow(), or set its WATTPRINT_ variable for `wattprint when` and `run --within`. */
  wattTimeRegion?: string
  /** @deprecated a forecast option (wattTimeUrl of ForecastOptions), which the tracker never read: pass it to forecast() or bestWindow(), or set its WATTPRINT_ variable for `wattprint when` and `run --within`. */
  wattTimeUrl?: string
  /** @deprecated a forecast option (carbonAwareSdkUrl of ForecastOptions), which the tracker never read: pass it to forecast() or bestWindow(), or set its WATTPRINT_ variable for `wattprint when` and `run --within`. */
  carbonAwareSdkUrl?: string
  /** @deprecated a forecast option (carbonAwareLocation of ForecastOptions), which the tracker never read: pass it to forecast() or bestWindow(), or set its WATTPRINT_ variable for `wattprint when` and `run --within`. */
  carbonAwareLocation?: string
  /** @deprecated a forecast option (forecastProvider of ForecastOptions), which the tracker never read: pass it to forecast() or bestWindow(), or set its WATTPRINT_ variable for `wattprint when` and `run --within`. */
  forecastProvider?: ForecastProviderName
  /** Time limit of one live intensity (or forecast) request, in milliseconds. Default 3000. */
  intensityTimeoutMs?: number
  /**
   * Where the live carbon intensity comes from, as one object: `electricityMaps({ token })`,
   * `ukCarbonIntensity({ area })`, or your own provider, `{ at(wallMs) { return { gPerKWh, source } } }`,
   * asked for every interval (synchronously: keep it fast). Beside the flat options, which keep working
   * (this one wins over electricityMapsToken and ukCarbonIntensity); carbonIntensityGPerKWh still
   * overrides it. When the API cannot answer, or your provider throws or returns no figure, the place's
   * yearly figure stands in, with a LIVE_INTENSITY_FAILED warning.
   */
  intensity?: IntensityOption
  /**
   * Forced carbon intensity in g CO2e/kWh; overrides every other source. Formerly `carbonIntensity`
   * (`WATTPRINT_CARBON_INTENSITY`), still read, with a `DEPRECATED_OPTION` warning.
   */
  carbonIntensityGPerKWh?: number
  /** @deprecated use carbonIntensityGPerKWh (the same figure, g CO2e/kWh). */
  carbonIntensity?: number
  /**
   * Limits of the run. When one is crossed: a `budget` event, `tracker.signal` aborts, and the row's status
   * is `budget-exceeded`. The tracker measures on; stopping the work is the caller's decision.
   */
  budget?: Budget
  /** Power usage effectiveness of the data centre, 1 to 5. Default 1. */
  pue?: number
  /**
   * The hardware's embodied emissions and life; default: looked up (cloud instance type, server model).
   * Its `emissionsKg` was formerly `kgCO2e`, still read, with a `DEPRECATED_OPTION` warning.
   */
  embodied?: EmbodiedOption
  /** The cloud instance type (`p4d.24xlarge`, `n2-standard-8`, `Standard_D4s_v5`), for its embodied emissions. */
  cloudInstanceType?: string
  /**
   * The data centre's water usage effectiveness, litres per IT kWh. Default: the provider's published
   * figure. Formerly `wue` (`WATTPRINT_WUE`), still read, with a `DEPRECATED_OPTION` warning.
   */
  wueLPerKWh?: number
  /** @deprecated use wueLPerKWh (the same figure, litres per IT kWh). */
  wue?: number
  /**
   * Water consumed generating the electricity, litres per kWh drawn. Default: WRI's 2020 factor for the
   * zone or country, where it has one. Formerly `waterIntensity` (`WATTPRINT_WATER_INTENSITY`), still
   * read, with a `DEPRECATED_OPTION` warning.
   */
  waterIntensityLPerKWh?: number
  /** @deprecated use waterIntensityLPerKWh (the same figure, litres per kWh). */
  waterIntensity?: number
  /** What SCI is counted per: `{ name: 'epoch', count: 10 }`. The record's `sci` is null without it. */
  functionalUnit?: FunctionalUnitOption
  /** CPU TDP in watts for the estimate, instead of the table's (RAPL, when readable, is still preferred). */
  cpuPowerW?: number
  /** RAM power in watts, instead of the module model (RAPL DRAM, when readable, is still preferred). */
  ramPowerW?: number
  /**
   * Which GPUs to measure: indices or UUID prefixes (`[0, 1]`, `['GPU-8f6c']`, MIG UUIDs measure their
   * parent GPU), or a comma-separated string; `[]` measures none. Default: CUDA_VISIBLE_DEVICES, else
   * NVIDIA_VISIBLE_DEVICES, else all.
   */
  gpuIds?: readonly (string | number)[] | string
  /** The NVML library to load. Default `libnvidia-ml.so.1` (Linux), `nvml.dll` (Windows). Env `WATTPRINT_NVML_LIBRARY`. */
  nvmlLibraryPath?: string
  /**
   * Read each NVIDIA GPU's energy counter where it has one (default `true`). `false` integrates
   * nvmlDeviceGetPowerUsage instead, as for GPUs without a counter: to cross-check the counter, or where a
   * virtual GPU's counter is wrong. Env `WATTPRINT_NVML_ENERGY_COUNTER`.
   */
  nvmlEnergyCounter?: boolean
  /** The nvidia-smi executable, used when NVML cannot be. Default `nvidia-smi` on PATH. Env `WATTPRINT_NVIDIA_SMI`. */
  nvidiaSmiPath?: string
  /** The amdsmi library to load (AMD GPUs). Default `libamd_smi.so`. Env `WATTPRINT_AMD_SMI_LIBRARY`. */
  amdSmiLibraryPath?: string
  /** The ROCm SMI library, used when amdsmi cannot be. Default `librocm_smi64.so`. Env `WATTPRINT_ROCM_SMI_LIBRARY`. */
  rocmSmiLibraryPath?: string
  /** The Level Zero loader (Intel GPUs). Default `libze_loader.so.1`. Env `WATTPRINT_LEVEL_ZERO_LIBRARY`. */
  levelZeroLibraryPath?: string
  /** Root of the hwmon tree (GPU fallbacks, the server's ACPI power meter). Default `/sys/class/hwmon`. */
  hwmonRoot?: string
  /** Root of the powercap tree. Default `/sys/class/powercap`. */
  raplRoot?: string
  /** Machine CPU time source for the load-based CPU estimate. Default `/proc/stat`. */
  procStatPath?: string
  /**
   * Whose energy the figures are: `'machine'` (default: the whole machine, as CodeCarbon's machine mode),
   * `'process'` (this process and all its descendants), `{ pid }` (another process's tree), `'cgroup'`
   * (this process's cgroup v2: a container, a pod, a systemd unit, a SLURM job) or `{ cgroup: dir }`.
   */
  attribution?: Attribution
  /** With attribution: whether the job also carries its share of the idle power. Default `'exclude'`. */
  idle?: IdleMode
  /**
   * Which figure the summary, budgets, equivalents and SCI price: `'wall'` (default: the whole machine at
   * the wall, what the grid supplies) or `'components'` (CPU + GPU + RAM, CodeCarbon's scope, for
   * side-by-side comparisons). Every row has both; the CSV's `energy_consumed` and `emissions` are always
   * CodeCarbon's scope, as there, and `wall_energy` and `wall_emissions` the whole machine's.
   */
  emissionsScope?: EmissionsScope
  /**
   * A job of many ranks (SLURM, torchrun, Open MPI, MPICH, PBS, LSF, read from the launcher's
   * environment): `'auto'` (default) counts each node once, by its local rank 0 (or the first rank to take
   * the node's lock), the node's other ranks deferring to it with rows of no energy; `'per-rank'` makes
   * every rank count its own process tree's share, idle left out (so does `'auto'` for a rank given an
   * `attribution`); `'off'` ignores the launcher (each rank
   * measures the machine, as alone). Under a launcher every row carries the job, the node and the rank,
   * and the CSV is `emissions-<node>.csv` unless `outputFile` is given, so nodes never share a file.
   */
  distributed?: DistributedMode
  /**
   * The job's id where no launcher gives one: a launcher without an id, or none at all (processes started
   * by hand, or by a tool wattprint does not know). Outside a launcher the rows then carry it and the host
   * name, and the job's processes on one node elect one measurer through the node's lock, as under PBS.
   */
  jobId?: string
  /**
   * Where /proc is (attribution, the guest-memory check, and whether this is a virtual machine or a
   * container for its embodied share; containers may mount the host's elsewhere). Default `/proc`.
   */
  procRoot?: string
  /**
   * Where /sys is, for the embodied emissions' hardware facts: the firmware's DMI (chassis, hypervisor,
   * an EC2 instance type) and the block devices. Default `/sys`.
   */
  sysRoot?: string
  /** What is printed on stderr: `debug`, `info`, `warning` (default), `error`, `silent`. */
  logLevel?: LogLevel
  /**
   * The most distinct request names (`route` labels) the metric sinks keep, per run (default 100); the
   * names after them are counted under `other`, with one `ROUTE_LABELS_CAPPED` warning, so that a name per
   * user or per URL cannot grow /metrics and memory without bound. Env `WATTPRINT_MAX_ROUTE_LABELS`.
   */
  maxRouteLabels?: number
  /** Where the figures go besides the CSV: `prometheusSink(…)`, `otelSink(…)`. */
  sinks?: readonly Sink[]
}

/**
 * The options of forecast(), bestWindow(), `wattprint when` and `run --within`: where the forecast is for
 * (the tracker's location options) and which service makes it. Each can also be set as its
 * `WATTPRINT_<SCREAMING_SNAKE>` variable, as the tracker's options can; options win.
 */
export interface ForecastOptions extends Pick<TrackerOptions, ForecastPlaceOption> {
  /** WattTime account name, for its marginal (MOER) forecast. Env `WATTPRINT_WATTTIME_USERNAME`. */
  wattTimeUsername?: string
  /** WattTime password (never printed). Env `WATTPRINT_WATTTIME_PASSWORD`. */
  wattTimePassword?: string
  /** WattTime region (`CAISO_NORTH`, `DE`): WattTime names its own grids. Env `WATTPRINT_WATTTIME_REGION`. */
  wattTimeRegion?: string
  /** Base URL of the WattTime API. Default `https://api.watttime.org`. Env `WATTPRINT_WATTTIME_URL`. */
  wattTimeUrl?: string
  /** Base URL of an organisation's Carbon Aware SDK web API: turns on its forecasts. */
  carbonAwareSdkUrl?: string
  /** The Carbon Aware SDK's name of the location (`westeurope`, `eastus`). Default: cloudRegion. */
  carbonAwareLocation?: string
  /**
   * Which forecast `wattprint when`, `run --within` and bestWindow() use: `uk-carbon-intensity`,
   * `electricitymaps`, `watttime` or `carbon-aware-sdk`. Default: the first of these that is configured.
   */
  forecastProvider?: ForecastProviderName
}

/** Whose energy the figures are (see TrackerOptions.attribution). */
export type Attribution =
  | 'machine'
  | 'process'
  | 'cgroup'
  | {
      /** The process whose tree (it and all its descendants) is the job. */
      readonly pid: number
    }
  | {
      /** The cgroup v2 folder that is the job (`/sys/fs/cgroup/system.slice/train.service`). */
      readonly cgroup: string
    }

/** Limits of a run; any may be left out. */
export interface Budget {
  /** kWh, PUE included, of the figure emissionsScope names (default: the whole machine at the wall). */
  readonly energyKWh?: number
  /** kg CO2e of that figure. */
  readonly emissionsKg?: number
  /** Seconds of wall-clock time (the time `run --within` holds the command paused is left out). */
  readonly durationS?: number
}

/**
 * The options that have a default (`default` in the options' table, DEFINITIONS in config/schema.ts):
 * never null once resolved. schema.ts fails to compile when this list and the table disagree.
 */
export type DefaultedOption =
  | 'projectName'
  | 'experimentId'
  | 'runId'
  | 'outputDir'
  | 'outputFile'
  | 'saveToFile'
  | 'checkpointIntervalMs'
  | 'intervalMs'
  | 'sampling'
  | 'detectCloud'
  | 'cloudMetadataUrl'
  | 'electricityMapsUrl'
  | 'ukCarbonIntensityUrl'
  | 'wattTimeUrl'
  | 'intensityTimeoutMs'
  | 'pue'
  | 'nvmlEnergyCounter'
  | 'nvidiaSmiPath'
  | 'hwmonRoot'
  | 'raplRoot'
  | 'procStatPath'
  | 'maxRouteLabels'
  | 'sinks'
  | 'attribution'
  | 'idle'
  | 'emissionsScope'
  | 'distributed'
  | 'procRoot'
  | 'sysRoot'
  | 'logLevel'

/**
 * Each option as resolved: its default where it has one, else null for "not given"; the docs are the
 * options' own (a homomorphic mapped type keeps them).
 */
export type Settled<T> = {
  readonly [K in keyof T]-?: K extends DefaultedOption
    ? Exclude<T[K], undefined>
    : Exclude<T[K], undefined> | null
}

/**
 * The options in force: each TrackerOptions option validated, with its default or its environment value
 * filled in and paths made absolute. Derived from TrackerOptions; the intensity options are the room's
 * own slice (IntensityConfig), the forecast options are not the tracker's (ForecastOptions), and the few
 * that change form when resolved are declared here. The slices the other rooms declare of it
 * (FootprintConfig, FanoutConfig, AttributionConfig) are held to it by the compiler (config/schema.ts).
 */
export interface ResolvedConfig
  extends IntensityConfig,
    Settled<Omit<TrackerOptions, keyof IntensityConfig | ForecastOnlyOption | 'gpuIds' | 'attribution'>> {
  /** The GPUs to measure, as indices or UUID prefixes; null: CUDA_VISIBLE_DEVICES, NVIDIA_VISIBLE_DEVICES, else all. */
  readonly gpuIds: readonly string[] | null
  /** Whose energy the figures are: the machine, a process tree (its pid) or a cgroup (its folder). */
  readonly attribution: ResolvedAttribution
  /** The job and the rank, from the launcher's environment; null outside one, or with distributed 'off'. */
  readonly job: JobPlace | null
}
