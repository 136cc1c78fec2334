import type { EmissionsRecord, WallRecord } from '../../model/record.js'

/**
 * The emissions CSV's columns, one entry each, in file order: the one source of the header (format.ts),
 * of each row's cells (recordToCells in sink.ts), of which cells are text, and of docs/reference/csv.md
 * (`npm run docs:reference`). A new column is one entry here, before `status`, reading a field of the
 * record (model/record.ts) that accounting/record.ts fills.
 */

/** A cell's value: text, a number, or null for unknown (written empty, never dropped). */
export type CsvCell = string | number | null

/**
 * How a column's cell is read from a record. A text column says `text: true` (its cells are neutralised
 * against spreadsheet formulas when written and restored when read); every other one holds a number. The
 * compiler holds each `cell` to its kind.
 */
type CellOf =
  | { readonly text: true; readonly cell: (record: EmissionsRecord) => string | null }
  | { readonly text?: undefined; readonly cell: (record: EmissionsRecord) => number | null }

/** What one CSV column holds. */
export interface CsvColumnDoc {
  /** The unit, or the values the column takes (`ISO 8601, UTC`, `kWh, with PUE`); `text` for free text. */
  readonly unit: string
  /** What the column holds in wattprint's files. */
  readonly meaning: string
  /** What the column holds in CodeCarbon's own files; given for CodeCarbon's 38 columns only. */
  readonly codecarbon?: string
}

/** One column of the CSV: its name, how its cell is read from a record, and what it holds. */
export type CsvColumnEntry = CellOf &
  CsvColumnDoc & {
    /** Its name in the header. */
    readonly name: string
  }

/** CodeCarbon's columns: each says what it holds in CodeCarbon's files. */
const codecarbonColumns = <const T extends readonly (CsvColumnEntry & { readonly codecarbon: string })[]>(
  entries: T,
) => entries
/** wattprint's own columns: none has a `codecarbon`. */
const wattprintColumns = <const T extends readonly (CsvColumnEntry & { readonly codecarbon?: undefined })[]>(
  entries: T,
) => entries

/**
 * The record's wall figure. A checkpoint written before the wall figure and the intervals existed has none
 * of them: their cells are empty.
 */
const wallOf = (record: EmissionsRecord) => record.wall as WallRecord | undefined

/**
 * CodeCarbon's 38 columns, with its names, in its order (`EmissionsData` in CodeCarbon's
 * output_methods/emissions_data.py). wattprint leaves `python_version` and `codecarbon_version` empty.
 */
const CODECARBON_TABLE = codecarbonColumns([
  {
    name: 'timestamp',
    cell: (record) => record.timestamp,
    text: true,
    unit: 'ISO 8601, UTC',
    meaning:
      'When the record was made: at `stop()` or `flush()`, when the run ended, or the time of the checkpoint a recovered row comes from.',
    codecarbon: 'Time of the row, `%Y-%m-%dT%H:%M:%S` in local time, without a time zone.',
  },
  {
    name: 'project_name',
    cell: (record) => record.projectName,
    text: true,
    unit: 'text',
    meaning: '`projectName` (default `wattprint`).',
    codecarbon: 'Name of the project, default `codecarbon`.',
  },
  {
    name: 'run_id',
    cell: (record) => record.runId,
    text: true,
    unit: 'text',
    meaning: '`runId`: identifies the run (default a random UUID); every row of one run has the same.',
    codecarbon: 'ID of the run (a UUID).',
  },
  {
    name: 'experiment_id',
    cell: (record) => record.experimentId,
    text: true,
    unit: 'text',
    meaning: '`experimentId`: groups runs (default empty).',
    codecarbon: "ID of the experiment (CodeCarbon's API).",
  },
  {
    name: 'duration',
    cell: (record) => record.durationS,
    unit: 's',
    meaning: 'Seconds measured, from the first reading to the row.',
    codecarbon: 'Duration of the compute, in seconds.',
  },
  {
    name: 'emissions',
    cell: (record) => record.emissionsKg,
    unit: 'kg CO2e',
    meaning:
      "Emissions of `energy_consumed` (CPU + GPU + RAM, CodeCarbon's scope), each interval at its own carbon intensity; the whole machine's are `wall_emissions`.",
    codecarbon: 'Emissions as CO2-equivalents, in kg.',
  },
  {
    name: 'emissions_rate',
    cell: (record) => record.emissionsRateKgPerS,
    unit: 'kg CO2e/s',
    meaning: '`emissions` ÷ `duration`.',
    codecarbon: 'Emissions divided by the duration, in kg/s.',
  },
  {
    name: 'cpu_power',
    cell: (record) => record.cpu.powerW,
    unit: 'W, mean over the run, without PUE',
    meaning: "The CPU's mean power (the job's share, with attribution).",
    codecarbon: 'Mean CPU power (W).',
  },
  {
    name: 'gpu_power',
    cell: (record) => record.gpu.powerW,
    unit: 'W, mean over the run, without PUE',
    meaning: "The GPUs' mean power (the job's share, with attribution).",
    codecarbon: 'Mean GPU power (W).',
  },
  {
    name: 'ram_power',
    cell: (record) => record.ram.powerW,
    unit: 'W, mean over the run, without PUE',
    meaning: "The memory's mean power (the job's share, with attribution).",
    codecarbon: 'Mean RAM power (W).',
  },
  {
    name: 'cpu_energy',
    cell: (record) => record.cpu.energyKWh,
    unit: 'kWh, with PUE',
    meaning: "The CPU's energy (the job's share, with attribution).",
    codecarbon: 'Energy used by the CPU (kWh).',
  },
  {
    name: 'gpu_energy',
    cell: (record) => record.gpu.energyKWh,
    unit: 'kWh, with PUE',
    meaning: "The GPUs' energy (the job's share, with attribution).",
    codecarbon: 'Energy used by the GPUs (kWh).',
  },
  {
    name: 'ram_energy',
    cell: (record) => record.ram.energyKWh,
    unit: 'kWh, with PUE',
    meaning: "The memory's energy (the job's share, with attribution).",
    codecarbon: 'Energy used by the RAM (kWh).',
  },
  {
    name: 'energy_consumed',
    cell: (record) => record.energyKWh,
    unit: 'kWh, with PUE',
    meaning:
      "CPU + GPU + RAM, CodeCarbon's scope, whatever `emissionsScope` says; the whole machine at the wall is `wall_energy`.",
    codecarbon: 'Sum of `cpu_energy`, `gpu_energy` and `ram_energy` (kWh).',
  },
  {
    name: 'water_consumed',
    cell: (record) => record.waterConsumedL,
    unit: 'L',
    meaning:
      "On-site (IT kWh × WUE) plus off-site (grid kWh × `waterIntensity` or WRI's grid factor), as far as known; empty when neither is; see `water_source`.",
    codecarbon: 'Water consumed (L): the energy × the `wue` parameter (0 by default).',
  },
  {
    name: 'country_name',
    cell: (record) => record.countryName,
    text: true,
    unit: 'text',
    meaning: "The country's name (given, from the zone or cloud region, or guessed).",
    codecarbon: 'Name of the country where the machine is hosted.',
  },
  {
    name: 'country_iso_code',
    cell: (record) => record.countryIsoCode,
    text: true,
    unit: 'ISO 3166 alpha-3',
    meaning: "The country's code (given, from the zone or cloud region, or guessed).",
    codecarbon: "The country's 3-letter ISO code.",
  },
  {
    name: 'region',
    cell: (record) => record.region,
    text: true,
    unit: 'Electricity Maps zone',
    meaning: 'The zone whose figures were used (`US-CAL-CISO`, `DE`); empty when none was.',
    codecarbon: 'Province, state or city where the machine is hosted.',
  },
  {
    name: 'cloud_provider',
    cell: (record) => record.cloudProvider,
    text: true,
    unit: '`aws`, `gcp` or `azure`',
    meaning: 'The cloud, when named or detected.',
    codecarbon: 'One of `aws`, `azure`, `gcp`.',
  },
  {
    name: 'cloud_region',
    cell: (record) => record.cloudRegion,
    text: true,
    unit: 'text',
    meaning: "The region's API name (`eu-north-1`, `europe-west4`, `westeurope`).",
    codecarbon: "The cloud provider's region (`us-east-2`, `brazilsouth`, `asia-east1`).",
  },
  {
    name: 'os',
    cell: (record) => record.os,
    text: true,
    unit: 'text',
    meaning: 'The operating system, as `<type>-<release>-<arch>` (`Linux-6.8.0-45-generic-x64`).',
    codecarbon: 'The operating system (`Windows-10-10.0.19044-SP0`).',
  },
  // CodeCarbon's Python columns, kept in their places so that its readers find every column.
  {
    name: 'python_version',
    cell: () => null,
    text: true,
    unit: 'empty',
    meaning: "CodeCarbon's, left empty (the Node version is in `node_version`).",
    codecarbon: 'The Python version (`3.11.4`).',
  },
  {
    name: 'codecarbon_version',
    cell: () => null,
    text: true,
    unit: 'empty',
    meaning: "CodeCarbon's, left empty (wattprint's version is in `wattprint_version`).",
    codecarbon: 'The version of CodeCarbon.',
  },
  {
    name: 'cpu_count',
    cell: (record) => record.cpuCount,
    unit: 'logical CPUs',
    meaning: "The machine's logical CPUs.",
    codecarbon: 'Number of CPUs.',
  },
  {
    name: 'cpu_model',
    cell: (record) => record.cpuModel,
    text: true,
    unit: 'text',
    meaning: "The CPU's brand string.",
    codecarbon: 'The CPU model (`Intel(R) Core(TM) i7-1065G7 CPU @ 1.30GHz`).',
  },
  {
    name: 'gpu_count',
    cell: (record) => record.gpuCount,
    unit: 'GPUs',
    meaning: 'GPUs measured; empty without GPU.',
    codecarbon: 'Number of GPUs.',
  },
  {
    name: 'gpu_model',
    cell: (record) => record.gpuModel,
    text: true,
    unit: 'text',
    meaning: 'The GPUs measured, counted by model (`2 x NVIDIA H100 80GB HBM3`); empty without GPU.',
    codecarbon: 'The GPU models (`1 x NVIDIA GeForce GTX 1080 Ti`).',
  },
  // wattprint does not geolocate the machine.
  {
    name: 'longitude',
    cell: () => null,
    unit: 'empty',
    meaning: 'Left empty: wattprint does not geolocate the machine.',
    codecarbon: 'Longitude, with its precision reduced to about 11 km for privacy.',
  },
  {
    name: 'latitude',
    cell: () => null,
    unit: 'empty',
    meaning: 'Left empty: wattprint does not geolocate the machine.',
    codecarbon: 'Latitude, with its precision reduced to about 11 km for privacy.',
  },
  {
    name: 'ram_total_size',
    cell: (record) => record.ramTotalSizeGiB,
    unit: 'GiB',
    meaning: "The machine's memory.",
    codecarbon: 'Total RAM available (GB).',
  },
  {
    name: 'tracking_mode',
    cell: (record) => record.trackingMode,
    text: true,
    unit: '`machine` or `process`',
    meaning:
      "Whose the energy columns are: `machine` (the whole machine) or `process` (the job: a process tree or a cgroup, by `attribution`; the machine's are `machine_energy_consumed`).",
    codecarbon: '`machine` or `process` (default `machine`).',
  },
  {
    name: 'cpu_utilization_percent',
    cell: (record) => record.cpuUtilizationPercent,
    unit: '%',
    meaning: 'The mean machine CPU load over the run.',
    codecarbon: 'Average CPU utilisation over the run (%).',
  },
  {
    name: 'gpu_utilization_percent',
    cell: (record) => record.gpuUtilizationPercent,
    unit: '%',
    meaning:
      'The mean `utilization.gpu` of the GPUs measured, time-weighted (NVML or nvidia-smi); empty without GPU meters.',
    codecarbon: 'Average GPU utilisation over the run (%).',
  },
  {
    name: 'ram_utilization_percent',
    cell: (record) => record.ramUtilizationPercent,
    unit: '%',
    meaning: "The machine's memory in use, at the row's time.",
    codecarbon: 'Average RAM utilisation over the run (%).',
  },
  {
    name: 'ram_used_gb',
    cell: (record) => record.ramUsedGiB,
    unit: 'GiB',
    meaning: "The machine's memory in use, at the row's time.",
    codecarbon: 'Average RAM used over the run (GB).',
  },
  // CodeCarbon's flag: `Y` or `N`, never empty.
  {
    name: 'on_cloud',
    cell: (record) => (record.onCloud ? 'Y' : 'N'),
    text: true,
    unit: '`Y` or `N`',
    meaning: '`Y` when a cloud was named or detected, else `N`.',
    codecarbon: '`Y` on a cloud, `N` on private infrastructure.',
  },
  {
    name: 'pue',
    cell: (record) => record.pue,
    unit: 'ratio',
    meaning: "The data centre's power usage effectiveness applied to every energy figure (`pue`, default 1).",
    codecarbon: "The data centre's PUE (the `pue` parameter, default 1).",
  },
  {
    name: 'wue',
    cell: (record) => record.wueLPerKWh,
    unit: 'L per IT kWh',
    meaning: 'The WUE used for on-site water; empty when none is known.',
    codecarbon: "The data centre's WUE, L/kWh (the `wue` parameter, default 0).",
  },
])

/** wattprint's own columns, after CodeCarbon's; `status` last. */
const WATTPRINT_TABLE = wattprintColumns([
  {
    name: 'node_version',
    cell: (record) => record.nodeVersion,
    text: true,
    unit: 'text',
    meaning: '`process.versions.node`.',
  },
  {
    name: 'wattprint_version',
    cell: (record) => record.wattprintVersion,
    text: true,
    unit: 'text',
    meaning: "wattprint's version.",
  },
  {
    name: 'cpu_source',
    cell: (record) => record.cpu.source,
    text: true,
    unit: 'source',
    meaning:
      "Where the CPU figure came from: `rapl`, `rapl-psys` (measured) or `cpu-model` (the power model's estimate); empty when nothing covers the CPU.",
  },
  {
    name: 'gpu_source',
    cell: (record) => record.gpu.source,
    text: true,
    unit: 'source',
    meaning:
      'Where the GPU figure came from: `nvml-energy`, `nvml-power`, `nvidia-smi`, `amdsmi-energy`, `amdsmi-power`, `rocm-smi`, `level-zero` or `hwmon` (all measured); empty without GPU.',
  },
  {
    name: 'ram_source',
    cell: (record) => record.ram.source,
    text: true,
    unit: 'source',
    meaning:
      "Where the RAM figure came from: `rapl-dram` (measured), `ram-model` (the power model's estimate) or `constant` (the `ramPowerW` you set).",
  },
  {
    name: 'carbon_intensity',
    cell: (record) => record.carbonIntensityGPerKWh,
    unit: 'g CO2e/kWh',
    meaning: 'The carbon intensity, energy-weighted over the run.',
  },
  {
    name: 'intensity_source',
    cell: (record) => record.intensitySource,
    text: true,
    unit: 'text',
    meaning:
      'Where the intensity came from (`electricitymaps-yearly-2025:DE`, `fixed`, `world-average` …); sources joined by `+` when the run used several (a live API that failed).',
  },
  {
    name: 'machine_energy_consumed',
    cell: (record) => record.machine.energyKWh,
    unit: 'kWh, with PUE',
    meaning: 'CPU + GPU + RAM of the whole machine; the same as `energy_consumed` in machine mode.',
  },
  {
    name: 'idle_energy',
    cell: (record) => record.idleEnergyKWh,
    unit: 'kWh, with PUE',
    meaning: 'Idle energy not charged to the job (0 in machine mode).',
  },
  {
    name: 'attribution_note',
    cell: (record) => record.attributionNote,
    text: true,
    unit: 'text',
    meaning: "How each share of the job's was found, or why it could not be; empty in machine mode.",
  },
  // Empty without a node meter (its source null): unknown, not 0.
  {
    name: 'node_energy',
    cell: (record) => (record.node.source === null ? null : record.node.energyKWh),
    unit: 'kWh, with PUE',
    meaning:
      'The whole server at the wall, from an ACPI power meter, beside `energy_consumed` and never part of it; empty without one.',
  },
  {
    name: 'node_source',
    cell: (record) => record.node.source,
    text: true,
    unit: 'source',
    meaning: "`node_energy`'s meter: `acpi-power-meter`; empty without one.",
  },
  {
    name: 'planned_start',
    cell: (record) => record.plannedStart,
    text: true,
    unit: 'ISO 8601, UTC',
    meaning: 'The start `run --within` chose from the forecast; empty for a run started at once.',
  },
  {
    name: 'forecast_intensity',
    cell: (record) => record.forecastIntensityGPerKWh,
    unit: 'g CO2e/kWh',
    meaning: "The forecast's intensity, energy-weighted over the run as it ran; empty when not scheduled.",
  },
  {
    name: 'forecast_source',
    cell: (record) => record.forecastSource,
    text: true,
    unit: 'text',
    meaning:
      "The forecast's source (`forecast:uk-carbon-intensity`, `forecast:watttime-marginal:<region>` …); `watttime-marginal` in it marks a marginal signal.",
  },
  {
    name: 'counterfactual_emissions',
    cell: (record) => record.counterfactualEmissionsKg,
    unit: 'kg CO2e',
    meaning:
      "The emissions had the run started at once and never paused: its measured energy profile moved to the moment it was asked for, at the same forecast's intensities.",
  },
  {
    name: 'paused_duration',
    cell: (record) => record.pausedS,
    unit: 's',
    meaning: 'Seconds paused by `--pause-above`; empty without it.',
  },
  {
    name: 'requests',
    cell: (record) => record.requests,
    unit: 'count',
    meaning:
      'Request spans settled (`tracker.request`, `measure`, the adapters and wrappers), failed ones not counted; empty when the run measured none.',
  },
  {
    name: 'input_tokens',
    cell: (record) => record.inputTokens,
    unit: 'count',
    meaning: "The requests' input (prompt) tokens.",
  },
  {
    name: 'output_tokens',
    cell: (record) => record.outputTokens,
    unit: 'count',
    meaning: "The requests' output (generated) tokens.",
  },
  {
    name: 'energy_per_request',
    cell: (record) => record.energyPerRequestJ,
    unit: 'J, with PUE',
    meaning: "The requests' energy ÷ their number.",
  },
  {
    name: 'energy_per_output_token',
    cell: (record) => record.energyPerOutputTokenJ,
    unit: 'J, with PUE',
    meaning: 'The energy of the requests that gave output tokens ÷ those tokens.',
  },
  // The footprint beyond electricity (footprint/): embodied kg CO2e, SCI kg CO2e per functional unit.
  {
    name: 'embodied_emissions',
    cell: (record) => record.embodiedEmissionsKg,
    unit: 'kg CO2e',
    meaning:
      "The run's share of its hardware's embodied emissions (SCI's M); empty when unknown (never 0 for unknown).",
  },
  {
    name: 'embodied_source',
    cell: (record) => record.embodiedSource,
    text: true,
    unit: 'text',
    meaning:
      "Where `embodied_emissions` came from: `option`, `ccf-embodied:<provider>/<type>`, `ccf-components` or `ccf-components:assumed-host`, then the host's kg, the share and the life used.",
  },
  {
    name: 'water_source',
    cell: (record) => record.waterSource,
    text: true,
    unit: 'text',
    meaning: "Where `water_consumed`'s on-site and off-site parts came from, or why each is not counted.",
  },
  {
    name: 'sci',
    cell: (record) => record.sci,
    unit: 'kg CO2e per functional unit',
    meaning:
      "Software Carbon Intensity: (`wall_emissions` + `embodied_emissions`) ÷ `functional_unit_count` (`emissions` with `emissionsScope: 'components'`); empty without both.",
  },
  {
    name: 'functional_unit',
    cell: (record) => record.functionalUnit,
    text: true,
    unit: 'text',
    meaning: "The functional unit's name (`epoch`, `request`).",
  },
  {
    name: 'functional_unit_count',
    cell: (record) => record.functionalUnitCount,
    unit: 'count',
    meaning: "How many functional units the run delivered (SCI's R).",
  },
  // What measuring cost, with attribution: the tracker's own CPU seconds and the kWh they stand for. A
  // checkpoint written before these fields existed has neither: empty, as unknown.
  {
    name: 'tracker_cpu_seconds',
    cell: (record) => record.trackerCpuS ?? null,
    unit: 's',
    meaning:
      "CPU time the tracker itself used (its sampler thread; for `run`, wattprint and its helpers), never the job's; empty in machine mode and with inline sampling.",
  },
  {
    name: 'tracker_energy',
    cell: (record) => record.trackerEnergyKWh ?? null,
    unit: 'kWh, with PUE',
    meaning:
      "The CPU energy `tracker_cpu_seconds` stands for by the job's rule; part of the others', never in `energy_consumed`.",
  },
  // The 80 % interval on energy_consumed and emissions (the power model's for estimates, an allowance for
  // measurements), and the whole machine at the wall with its interval and what it is made of. A checkpoint
  // written before they existed has none of them: empty.
  {
    name: 'energy_low',
    cell: (record) => record.energyLowKWh ?? null,
    unit: 'kWh, with PUE',
    meaning: 'The low end of the 80 % interval on `energy_consumed`.',
  },
  {
    name: 'energy_high',
    cell: (record) => record.energyHighKWh ?? null,
    unit: 'kWh, with PUE',
    meaning: 'The high end of the 80 % interval on `energy_consumed`.',
  },
  {
    name: 'emissions_low',
    cell: (record) => record.emissionsLowKg ?? null,
    unit: 'kg CO2e',
    meaning:
      "The low end of the interval on `emissions` (from the energy's; the intensity's own error not included).",
  },
  {
    name: 'emissions_high',
    cell: (record) => record.emissionsHighKg ?? null,
    unit: 'kg CO2e',
    meaning:
      "The high end of the interval on `emissions` (from the energy's; the intensity's own error not included).",
  },
  {
    name: 'wall_energy',
    cell: (record) => wallOf(record)?.energyKWh ?? null,
    unit: 'kWh, with PUE',
    meaning:
      "The whole machine at the wall (the job's part of it, with attribution): the ACPI power meter where there is one, else the components plus the modelled rest of the machine; never part of `energy_consumed`.",
  },
  {
    name: 'wall_energy_low',
    cell: (record) => wallOf(record)?.lowKWh ?? null,
    unit: 'kWh, with PUE',
    meaning: 'The low end of the 80 % interval on `wall_energy`.',
  },
  {
    name: 'wall_energy_high',
    cell: (record) => wallOf(record)?.highKWh ?? null,
    unit: 'kWh, with PUE',
    meaning: 'The high end of the 80 % interval on `wall_energy`.',
  },
  {
    name: 'wall_emissions',
    cell: (record) => wallOf(record)?.emissionsKg ?? null,
    unit: 'kg CO2e',
    meaning: 'The emissions of `wall_energy`.',
  },
  {
    name: 'wall_emissions_low',
    cell: (record) => wallOf(record)?.emissionsLowKg ?? null,
    unit: 'kg CO2e',
    meaning: 'The low end of the interval on `wall_emissions`.',
  },
  {
    name: 'wall_emissions_high',
    cell: (record) => wallOf(record)?.emissionsHighKg ?? null,
    unit: 'kg CO2e',
    meaning: 'The high end of the interval on `wall_emissions`.',
  },
  {
    name: 'wall_source',
    cell: (record) => wallOf(record)?.source ?? null,
    text: true,
    unit: 'text',
    meaning:
      'What the wall figure is: `acpi-power-meter`, or the sources added (`rapl+rapl-dram+rest-model`).',
  },
  // The job across machines (distributed/): `?? null` for records from before them (old checkpoints).
  {
    name: 'job_id',
    cell: (record) => record.jobId ?? null,
    text: true,
    unit: 'text',
    meaning:
      "The job's id from its launcher (SLURM_JOB_ID, PBS_JOBID, LSB_JOBID, TORCHELASTIC_RUN_ID, PMIX_NAMESPACE) or the `jobId` option; empty outside a launcher. A job's rows, from every node, sum to the job.",
  },
  {
    name: 'node_name',
    cell: (record) => record.nodeName ?? null,
    text: true,
    unit: 'text',
    meaning:
      'The node the row was measured on (SLURMD_NODENAME, else the host name); empty outside a launcher.',
  },
  {
    name: 'rank',
    cell: (record) => record.rank ?? null,
    unit: 'integer',
    meaning: "The process's rank in its job, from 0; empty where the launcher gives none.",
  },
  {
    name: 'local_rank',
    cell: (record) => record.localRank ?? null,
    unit: 'integer',
    meaning: "Its rank among the job's processes on its node, from 0; empty where the launcher gives none.",
  },
  {
    name: 'world_size',
    cell: (record) => record.worldSize ?? null,
    unit: 'integer',
    meaning: "The job's number of ranks; empty where the launcher gives none.",
  },
  {
    name: 'launcher',
    cell: (record) => record.launcher ?? null,
    text: true,
    unit: '`slurm`, `torchrun`, `openmpi`, `mpich`, `pbs` or `lsf`',
    meaning:
      'Whose environment gave the job and the rank (the innermost launcher: torchrun inside SLURM is `torchrun`).',
  },
  {
    name: 'job_role',
    cell: (record) => record.jobRole ?? null,
    text: true,
    unit: '`node`, `rank` or `deferred`',
    meaning:
      "What the row counts (option `distributed`): `node` the whole machine, once per node; `rank` the rank's own process tree's share; `deferred` nothing, its node's measurer counting it. Summing a job's rows counts each node once.",
  },
  // Last, so that a row cut short is told from a whole one by its last cell (see file.ts); new columns go
  // before it.
  {
    name: 'status',
    cell: (record) => record.status,
    text: true,
    unit: '`running`, `finished`, `failed`, `interrupted` or `budget-exceeded`',
    meaning:
      'How the run ended: `running` marks a `flush()` row; `interrupted` a run ended by a signal or recovered from its checkpoint; `budget-exceeded` a run that crossed its budget. Always the last column.',
  },
])

/** Every column of the CSV, in file order: CodeCarbon's 38, then wattprint's own, `status` last. */
export const CSV_TABLE = [...CODECARBON_TABLE, ...WATTPRINT_TABLE] as const

/** The names of a table's columns, as a tuple of literals. */
type Names<T extends readonly { readonly name: string }[]> = {
  readonly [K in keyof T]: T[K] extends { readonly name: infer N } ? N : never
}
const names = <T extends readonly { readonly name: string }[]>(table: T) =>
  table.map((column) => column.name) as unknown as Names<T>

/** CodeCarbon's 38 columns' names, in its order. */
export const CODECARBON_COLUMNS = names(CODECARBON_TABLE)

/** wattprint's own columns' names, after CodeCarbon's. */
export const WATTPRINT_COLUMNS = names(WATTPRINT_TABLE)

/**
 * The CSV's columns: CodeCarbon's 38, then wattprint's own, `status` last. Each one's unit and meaning are
 * its entry in CSV_TABLE (and docs/reference/csv.md).
 */
export const CSV_COLUMNS = [...CODECARBON_COLUMNS, ...WATTPRINT_COLUMNS] as const

/** A column of the CSV. */
export type CsvColumn = (typeof CSV_COLUMNS)[number]

/** One of CodeCarbon's 38 columns. */
type CodeCarbonColumn = (typeof CODECARBON_COLUMNS)[number]

/**
 * Every CSV column's unit and meaning, and for CodeCarbon's 38 its meaning there, by name: what
 * docs/reference/csv.md is made from (`npm run docs:reference`).
 */
export const CSV_COLUMN_DOCS = Object.fromEntries(
  CSV_TABLE.map(({ name, unit, meaning, codecarbon }: CsvColumnEntry) => [
    name,
    codecarbon === undefined ? { unit, meaning } : { unit, meaning, codecarbon },
  ]),
) as {
  readonly [C in CsvColumn]: C extends CodeCarbonColumn
    ? CsvColumnDoc & { readonly codecarbon: string }
    : CsvColumnDoc
}
