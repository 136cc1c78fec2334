import type { CODECARBON_COLUMNS, CsvColumn } from './format.js'

/** One of CodeCarbon's 38 columns. */
type CodeCarbonColumn = (typeof CODECARBON_COLUMNS)[number]

/** What one CSV column holds. */
export interface CsvColumnDoc {
  /** The unit, or the values the column takes (`ISO 8601, UTC`, `kWh, with PUE`); `text` for free text. */
  readonly unit: string
  /** What the column holds in wattprint's files. */
  readonly meaning: string
  /** What the column holds in CodeCarbon's own files; given for CodeCarbon's 38 columns only. */
  readonly codecarbon?: string
}

/**
 * Every CSV column's unit and meaning, and for CodeCarbon's 38 its meaning there: the source of
 * docs/reference/csv.md (`npm run docs:reference`). Typed so that a column added to CSV_COLUMNS without
 * its entry here (or one of CodeCarbon's without its `codecarbon`) fails the type check.
 */
export const CSV_COLUMN_DOCS: {
  readonly [C in CsvColumn]: C extends CodeCarbonColumn
    ? CsvColumnDoc & { readonly codecarbon: string }
    : CsvColumnDoc
} = {
  timestamp: {
    unit: 'ISO 8601, UTC',
    meaning:
      'When the record was made: at `stop()` or `flush()`, when the run ended, or the time of the checkpoint a recovered row comes from.',
    codecarbon: 'Time of the row, `%Y-%m-%dT%H:%M:%S` in local time, without a time zone.',
  },
  project_name: {
    unit: 'text',
    meaning: '`projectName` (default `wattprint`).',
    codecarbon: 'Name of the project, default `codecarbon`.',
  },
  run_id: {
    unit: 'text',
    meaning: '`runId`: identifies the run (default a random UUID); every row of one run has the same.',
    codecarbon: 'ID of the run (a UUID).',
  },
  experiment_id: {
    unit: 'text',
    meaning: '`experimentId`: groups runs (default empty).',
    codecarbon: "ID of the experiment (CodeCarbon's API).",
  },
  duration: {
    unit: 's',
    meaning: 'Seconds measured, from the first reading to the row.',
    codecarbon: 'Duration of the compute, in seconds.',
  },
  emissions: {
    unit: 'kg CO2e',
    meaning:
      "Emissions of `energy_consumed` (CPU + GPU + RAM, CodeCarbon's scope), each interval at its own carbon intensity; the whole machine's are `wall_emissions`.",
    codecarbon: 'Emissions as CO2-equivalents, in kg.',
  },
  emissions_rate: {
    unit: 'kg CO2e/s',
    meaning: '`emissions` ÷ `duration`.',
    codecarbon: 'Emissions divided by the duration, in kg/s.',
  },
  cpu_power: {
    unit: 'W, mean over the run, without PUE',
    meaning: "The CPU's mean power (the job's share, with attribution).",
    codecarbon: 'Mean CPU power (W).',
  },
  gpu_power: {
    unit: 'W, mean over the run, without PUE',
    meaning: "The GPUs' mean power (the job's share, with attribution).",
    codecarbon: 'Mean GPU power (W).',
  },
  ram_power: {
    unit: 'W, mean over the run, without PUE',
    meaning: "The memory's mean power (the job's share, with attribution).",
    codecarbon: 'Mean RAM power (W).',
  },
  cpu_energy: {
    unit: 'kWh, with PUE',
    meaning: "The CPU's energy (the job's share, with attribution).",
    codecarbon: 'Energy used by the CPU (kWh).',
  },
  gpu_energy: {
    unit: 'kWh, with PUE',
    meaning: "The GPUs' energy (the job's share, with attribution).",
    codecarbon: 'Energy used by the GPUs (kWh).',
  },
  ram_energy: {
    unit: 'kWh, with PUE',
    meaning: "The memory's energy (the job's share, with attribution).",
    codecarbon: 'Energy used by the RAM (kWh).',
  },
  energy_consumed: {
    unit: 'kWh, with PUE',
    meaning:
      "CPU + GPU + RAM, CodeCarbon's scope, whatever `emissionsScope` says; the whole machine at the wall is `wall_energy`.",
    codecarbon: 'Sum of `cpu_energy`, `gpu_energy` and `ram_energy` (kWh).',
  },
  water_consumed: {
    unit: 'L',
    meaning:
      "On-site (IT kWh × WUE) plus off-site (grid kWh × `waterIntensity` or WRI's grid factor), as far as known; empty when neither is; see `water_source`.",
    codecarbon: 'Water consumed (L): the energy × the `wue` parameter (0 by default).',
  },
  country_name: {
    unit: 'text',
    meaning: "The country's name (given, from the zone or cloud region, or guessed).",
    codecarbon: 'Name of the country where the machine is hosted.',
  },
  country_iso_code: {
    unit: 'ISO 3166 alpha-3',
    meaning: "The country's code (given, from the zone or cloud region, or guessed).",
    codecarbon: "The country's 3-letter ISO code.",
  },
  region: {
    unit: 'Electricity Maps zone',
    meaning: 'The zone whose figures were used (`US-CAL-CISO`, `DE`); empty when none was.',
    codecarbon: 'Province, state or city where the machine is hosted.',
  },
  cloud_provider: {
    unit: '`aws`, `gcp` or `azure`',
    meaning: 'The cloud, when named or detected.',
    codecarbon: 'One of `aws`, `azure`, `gcp`.',
  },
  cloud_region: {
    unit: 'text',
    meaning: "The region's API name (`eu-north-1`, `europe-west4`, `westeurope`).",
    codecarbon: "The cloud provider's region (`us-east-2`, `brazilsouth`, `asia-east1`).",
  },
  os: {
    unit: 'text',
    meaning: 'The operating system, as `<type>-<release>-<arch>` (`Linux-6.8.0-45-generic-x64`).',
    codecarbon: 'The operating system (`Windows-10-10.0.19044-SP0`).',
  },
  python_version: {
    unit: 'empty',
    meaning: "CodeCarbon's, left empty (the Node version is in `node_version`).",
    codecarbon: 'The Python version (`3.11.4`).',
  },
  codecarbon_version: {
    unit: 'empty',
    meaning: "CodeCarbon's, left empty (wattprint's version is in `wattprint_version`).",
    codecarbon: 'The version of CodeCarbon.',
  },
  cpu_count: {
    unit: 'logical CPUs',
    meaning: "The machine's logical CPUs.",
    codecarbon: 'Number of CPUs.',
  },
  cpu_model: {
    unit: 'text',
    meaning: "The CPU's brand string.",
    codecarbon: 'The CPU model (`Intel(R) Core(TM) i7-1065G7 CPU @ 1.30GHz`).',
  },
  gpu_count: {
    unit: 'GPUs',
    meaning: 'GPUs measured; empty without GPU.',
    codecarbon: 'Number of GPUs.',
  },
  gpu_model: {
    unit: 'text',
    meaning: 'The GPUs measured, counted by model (`2 x NVIDIA H100 80GB HBM3`); empty without GPU.',
    codecarbon: 'The GPU models (`1 x NVIDIA GeForce GTX 1080 Ti`).',
  },
  longitude: {
    unit: 'empty',
    meaning: 'Left empty: wattprint does not geolocate the machine.',
    codecarbon: 'Longitude, with its precision reduced to about 11 km for privacy.',
  },
  latitude: {
    unit: 'empty',
    meaning: 'Left empty: wattprint does not geolocate the machine.',
    codecarbon: 'Latitude, with its precision reduced to about 11 km for privacy.',
  },
  ram_total_size: {
    unit: 'GiB',
    meaning: "The machine's memory.",
    codecarbon: 'Total RAM available (GB).',
  },
  tracking_mode: {
    unit: '`machine` or `process`',
    meaning:
      "Whose the energy columns are: `machine` (the whole machine) or `process` (the job: a process tree or a cgroup, by `attribution`; the machine's are `machine_energy_consumed`).",
    codecarbon: '`machine` or `process` (default `machine`).',
  },
  cpu_utilization_percent: {
    unit: '%',
    meaning: 'The mean machine CPU load over the run.',
    codecarbon: 'Average CPU utilisation over the run (%).',
  },
  gpu_utilization_percent: {
    unit: '%',
    meaning:
      'The mean `utilization.gpu` of the GPUs measured, time-weighted (NVML or nvidia-smi); empty without GPU meters.',
    codecarbon: 'Average GPU utilisation over the run (%).',
  },
  ram_utilization_percent: {
    unit: '%',
    meaning: "The machine's memory in use, at the row's time.",
    codecarbon: 'Average RAM utilisation over the run (%).',
  },
  ram_used_gb: {
    unit: 'GiB',
    meaning: "The machine's memory in use, at the row's time.",
    codecarbon: 'Average RAM used over the run (GB).',
  },
  on_cloud: {
    unit: '`Y` or `N`',
    meaning: '`Y` when a cloud was named or detected, else `N`.',
    codecarbon: '`Y` on a cloud, `N` on private infrastructure.',
  },
  pue: {
    unit: 'ratio',
    meaning: "The data centre's power usage effectiveness applied to every energy figure (`pue`, default 1).",
    codecarbon: "The data centre's PUE (the `pue` parameter, default 1).",
  },
  wue: {
    unit: 'L per IT kWh',
    meaning: 'The WUE used for on-site water; empty when none is known.',
    codecarbon: "The data centre's WUE, L/kWh (the `wue` parameter, default 0).",
  },
  node_version: {
    unit: 'text',
    meaning: '`process.versions.node`.',
  },
  wattprint_version: {
    unit: 'text',
    meaning: "wattprint's version.",
  },
  cpu_source: {
    unit: 'source',
    meaning:
      "Where the CPU figure came from: `rapl`, `rapl-psys` (measured) or `cpu-model` (the power model's estimate); empty when nothing covers the CPU.",
  },
  gpu_source: {
    unit: 'source',
    meaning:
      'Where the GPU figure came from: `nvml-energy`, `nvml-power`, `nvidia-smi`, `amdsmi-energy`, `amdsmi-power`, `rocm-smi`, `level-zero` or `hwmon` (all measured); empty without GPU.',
  },
  ram_source: {
    unit: 'source',
    meaning:
      "Where the RAM figure came from: `rapl-dram` (measured), `ram-model` (the power model's estimate) or `constant` (the `ramPowerW` you set).",
  },
  carbon_intensity: {
    unit: 'g CO2e/kWh',
    meaning: 'The carbon intensity, energy-weighted over the run.',
  },
  intensity_source: {
    unit: 'text',
    meaning:
      'Where the intensity came from (`electricitymaps-yearly-2025:DE`, `fixed`, `world-average` …); sources joined by `+` when the run used several (a live API that failed).',
  },
  machine_energy_consumed: {
    unit: 'kWh, with PUE',
    meaning: 'CPU + GPU + RAM of the whole machine; the same as `energy_consumed` in machine mode.',
  },
  idle_energy: {
    unit: 'kWh, with PUE',
    meaning: 'Idle energy not charged to the job (0 in machine mode).',
  },
  attribution_note: {
    unit: 'text',
    meaning: "How each share of the job's was found, or why it could not be; empty in machine mode.",
  },
  node_energy: {
    unit: 'kWh, with PUE',
    meaning:
      'The whole server at the wall, from an ACPI power meter, beside `energy_consumed` and never part of it; empty without one.',
  },
  node_source: {
    unit: 'source',
    meaning: "`node_energy`'s meter: `acpi-power-meter`; empty without one.",
  },
  planned_start: {
    unit: 'ISO 8601, UTC',
    meaning: 'The start `run --within` chose from the forecast; empty for a run started at once.',
  },
  forecast_intensity: {
    unit: 'g CO2e/kWh',
    meaning: "The forecast's intensity, energy-weighted over the run as it ran; empty when not scheduled.",
  },
  forecast_source: {
    unit: 'text',
    meaning:
      "The forecast's source (`forecast:uk-carbon-intensity`, `forecast:watttime-marginal:<region>` …); `watttime-marginal` in it marks a marginal signal.",
  },
  counterfactual_emissions: {
    unit: 'kg CO2e',
    meaning:
      "The emissions had the run started at once and never paused: its measured energy profile moved to the moment it was asked for, at the same forecast's intensities.",
  },
  paused_duration: {
    unit: 's',
    meaning: 'Seconds paused by `--pause-above`; empty without it.',
  },
  requests: {
    unit: 'count',
    meaning:
      'Request spans settled (`tracker.request`, `measure`, the adapters and wrappers), failed ones not counted; empty when the run measured none.',
  },
  input_tokens: {
    unit: 'count',
    meaning: "The requests' input (prompt) tokens.",
  },
  output_tokens: {
    unit: 'count',
    meaning: "The requests' output (generated) tokens.",
  },
  energy_per_request: {
    unit: 'J, with PUE',
    meaning: "The requests' energy ÷ their number.",
  },
  energy_per_output_token: {
    unit: 'J, with PUE',
    meaning: 'The energy of the requests that gave output tokens ÷ those tokens.',
  },
  embodied_emissions: {
    unit: 'kg CO2e',
    meaning:
      "The run's share of its hardware's embodied emissions (SCI's M); empty when unknown (never 0 for unknown).",
  },
  embodied_source: {
    unit: 'text',
    meaning:
      "Where `embodied_emissions` came from: `option`, `ccf-embodied:<provider>/<type>`, `ccf-components` or `ccf-components:assumed-host`, then the host's kg, the share and the life used.",
  },
  water_source: {
    unit: 'text',
    meaning: "Where `water_consumed`'s on-site and off-site parts came from, or why each is not counted.",
  },
  sci: {
    unit: 'kg CO2e per functional unit',
    meaning:
      "Software Carbon Intensity: (`wall_emissions` + `embodied_emissions`) ÷ `functional_unit_count` (`emissions` with `emissionsScope: 'components'`); empty without both.",
  },
  functional_unit: {
    unit: 'text',
    meaning: "The functional unit's name (`epoch`, `request`).",
  },
  functional_unit_count: {
    unit: 'count',
    meaning: "How many functional units the run delivered (SCI's R).",
  },
  tracker_cpu_seconds: {
    unit: 's',
    meaning:
      "CPU time the tracker itself used (its sampler thread; for `run`, wattprint and its helpers), never the job's; empty in machine mode and with inline sampling.",
  },
  tracker_energy: {
    unit: 'kWh, with PUE',
    meaning:
      "The CPU energy `tracker_cpu_seconds` stands for by the job's rule; part of the others', never in `energy_consumed`.",
  },
  energy_low: {
    unit: 'kWh, with PUE',
    meaning: 'The low end of the 80 % interval on `energy_consumed`.',
  },
  energy_high: {
    unit: 'kWh, with PUE',
    meaning: 'The high end of the 80 % interval on `energy_consumed`.',
  },
  emissions_low: {
    unit: 'kg CO2e',
    meaning:
      "The low end of the interval on `emissions` (from the energy's; the intensity's own error not included).",
  },
  emissions_high: {
    unit: 'kg CO2e',
    meaning:
      "The high end of the interval on `emissions` (from the energy's; the intensity's own error not included).",
  },
  wall_energy: {
    unit: 'kWh, with PUE',
    meaning:
      "The whole machine at the wall (the job's part of it, with attribution): the ACPI power meter where there is one, else the components plus the modelled rest of the machine; never part of `energy_consumed`.",
  },
  wall_energy_low: {
    unit: 'kWh, with PUE',
    meaning: 'The low end of the 80 % interval on `wall_energy`.',
  },
  wall_energy_high: {
    unit: 'kWh, with PUE',
    meaning: 'The high end of the 80 % interval on `wall_energy`.',
  },
  wall_emissions: {
    unit: 'kg CO2e',
    meaning: 'The emissions of `wall_energy`.',
  },
  wall_emissions_low: {
    unit: 'kg CO2e',
    meaning: 'The low end of the interval on `wall_emissions`.',
  },
  wall_emissions_high: {
    unit: 'kg CO2e',
    meaning: 'The high end of the interval on `wall_emissions`.',
  },
  wall_source: {
    unit: 'text',
    meaning:
      'What the wall figure is: `acpi-power-meter`, or the sources added (`rapl+rapl-dram+rest-model`).',
  },
  status: {
    unit: '`running`, `finished`, `failed`, `interrupted` or `budget-exceeded`',
    meaning:
      'How the run ended: `running` marks a `flush()` row; `interrupted` a run ended by a signal or recovered from its checkpoint; `budget-exceeded` a run that crossed its budget. Always the last column.',
  },
}
