import type { RunStatus } from '../../model/record.js'

/**
 * The emissions CSV's columns and cell encoding, shared by the writer (sinks/csv.ts), the reader
 * (csv-read.ts) and the migration of older files (csv-migrate.ts).
 */

/**
 * CodeCarbon's 38 columns, with its names, in its order (`EmissionsData` in CodeCarbon's
 * output_methods/emissions_data.py). wattprint leaves `python_version` and `codecarbon_version` empty.
 */
export const CODECARBON_COLUMNS = [
  'timestamp',
  'project_name',
  'run_id',
  'experiment_id',
  'duration',
  'emissions',
  'emissions_rate',
  'cpu_power',
  'gpu_power',
  'ram_power',
  'cpu_energy',
  'gpu_energy',
  'ram_energy',
  'energy_consumed',
  'water_consumed',
  'country_name',
  'country_iso_code',
  'region',
  'cloud_provider',
  'cloud_region',
  'os',
  'python_version',
  'codecarbon_version',
  'cpu_count',
  'cpu_model',
  'gpu_count',
  'gpu_model',
  'longitude',
  'latitude',
  'ram_total_size',
  'tracking_mode',
  'cpu_utilization_percent',
  'gpu_utilization_percent',
  'ram_utilization_percent',
  'ram_used_gb',
  'on_cloud',
  'pue',
  'wue',
] as const

/** wattprint's own columns, after CodeCarbon's. */
export const WATTPRINT_COLUMNS = [
  'node_version',
  'wattprint_version',
  'cpu_source',
  'gpu_source',
  'ram_source',
  'carbon_intensity',
  'intensity_source',
  'machine_energy_consumed',
  'idle_energy',
  'attribution_note',
  'node_energy',
  'node_source',
  'planned_start',
  'forecast_intensity',
  'forecast_source',
  'counterfactual_emissions',
  'paused_duration',
  'requests',
  'input_tokens',
  'output_tokens',
  'energy_per_request',
  'energy_per_output_token',
  // The footprint beyond electricity (footprint/): embodied kg CO2e, SCI kg CO2e per functional unit.
  'embodied_emissions',
  'embodied_source',
  'water_source',
  'sci',
  'functional_unit',
  'functional_unit_count',
  // What measuring cost, with attribution: the tracker's own CPU seconds and the kWh they stand for.
  'tracker_cpu_seconds',
  'tracker_energy',
  // The 80 % interval on energy_consumed and emissions (the power model's for estimates, an allowance for
  // measurements), and the whole machine at the wall with its interval and what it is made of.
  'energy_low',
  'energy_high',
  'emissions_low',
  'emissions_high',
  'wall_energy',
  'wall_energy_low',
  'wall_energy_high',
  'wall_emissions',
  'wall_emissions_low',
  'wall_emissions_high',
  'wall_source',
  // Last, so that a row cut short is told from a whole one by its last cell (see csv-file.ts); new
  // columns go before it.
  'status',
] as const

/**
 * The CSV's columns: CodeCarbon's 38, then wattprint's 42 (node_energy: the whole server at the wall, kWh
 * with PUE, beside energy_consumed and never part of it; node_source: its meter, empty without one).
 * Units: duration s; emissions kg CO2e; emissions_rate kg/s; *_power W (mean over the run, without PUE); *_energy and energy_consumed kWh (with
 * PUE); water L; ram_total_size and ram_used_gb GiB; carbon_intensity and forecast_intensity g CO2e/kWh;
 * counterfactual_emissions kg CO2e; paused_duration s; machine_energy_consumed and idle_energy kWh (with PUE);
 * water_consumed L (on-site and off-site), wue L per IT kWh; embodied_emissions kg CO2e; sci kg CO2e per
 * functional unit; requests, input_tokens and output_tokens counts; energy_per_request and
 * energy_per_output_token J (with PUE); tracker_cpu_seconds s; tracker_energy kWh (with PUE); energy_low and
 * energy_high kWh, emissions_low and emissions_high kg CO2e (the 80 % interval); wall_energy (and its low
 * and high) kWh with PUE, wall_emissions (and its low and high) kg CO2e: the whole machine at the wall.
 */
export const CSV_COLUMNS = [...CODECARBON_COLUMNS, ...WATTPRINT_COLUMNS] as const

/** A column of the CSV. */
export type CsvColumn = (typeof CSV_COLUMNS)[number]

/**
 * The header of wattprint 0.1's first files: CodeCarbon's columns with python_version and
 * codecarbon_version replaced by node_version and wattprint_version, then six of wattprint's. Such files are
 * read as they are and migrated to the current header before a row is appended.
 */
export const LEGACY_CSV_COLUMNS: readonly string[] = [
  ...CODECARBON_COLUMNS.slice(0, 21),
  'node_version',
  'wattprint_version',
  ...CODECARBON_COLUMNS.slice(23),
  // Spelt out: the current columns grow, this header does not.
  'cpu_source',
  'gpu_source',
  'ram_source',
  'carbon_intensity',
  'intensity_source',
  'status',
]

/**
 * Whether a header is one of wattprint's earlier ones since CodeCarbon's 38 columns came back: those 38,
 * then some of wattprint's columns (each once, `status` among them, in any order). Such a file is migrated
 * to the current header by column name, the columns it lacks left empty.
 */
export function isEarlierHeader(header: readonly string[]): boolean {
  if (header.length <= CODECARBON_COLUMNS.length || header.length > CSV_COLUMNS.length) return false
  if (!CODECARBON_COLUMNS.every((c, i) => header[i] === c)) return false
  const rest = header.slice(CODECARBON_COLUMNS.length)
  const known = new Set<string>(WATTPRINT_COLUMNS)
  return rest.includes('status') && new Set(rest).size === rest.length && rest.every((c) => known.has(c))
}

/** The columns that hold text; every other one holds a number or nothing. */
export const TEXT_COLUMNS: ReadonlySet<string> = new Set<CsvColumn>([
  'wall_source',
  'timestamp',
  'project_name',
  'run_id',
  'experiment_id',
  'country_name',
  'country_iso_code',
  'region',
  'cloud_provider',
  'cloud_region',
  'os',
  'python_version',
  'codecarbon_version',
  'cpu_model',
  'gpu_model',
  'tracking_mode',
  'on_cloud',
  'node_version',
  'wattprint_version',
  'cpu_source',
  'gpu_source',
  'ram_source',
  'intensity_source',
  'status',
  'attribution_note',
  'planned_start',
  'forecast_source',
  'node_source',
  'embodied_source',
  'water_source',
  'functional_unit',
])

/** The first characters a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"). */
const FORMULA_START = /^'*[=+\-@\t\r]/

/**
 * A text cell made safe to open in a spreadsheet: a value that starts with `=`, `+`, `-`, `@`, a tab or a
 * carriage return, after any leading `'`s, gets one more `'` in front. Exactly undone by restoreText(),
 * so a name that really starts with `'` survives too.
 */
export function neutraliseText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value
}

/** Undoes neutraliseText(): the cell's text as it was given. */
export function restoreText(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell
}

const NEEDS_QUOTES = /[",\r\n]/

/**
 * One CSV line, `eol` included. A cell holding a quote, a comma, a carriage return or a line feed is
 * quoted (quotes doubled), whatever the line ending: a bare CR left unquoted splits the row for Python's
 * csv module and pandas.
 */
export function formatCsvLine(cells: readonly string[], eol: string): string {
  return cells.map((c) => (NEEDS_QUOTES.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',') + eol
}

/** The header line, `\n` included. */
export const CSV_HEADER = formatCsvLine(CSV_COLUMNS, '\n')

/** A cell's value: text, a number, or null for unknown. */
export type CsvCell = string | number | null

/**
 * One row under the current header, `eol` included: a missing or null cell, NaN or Infinity is written
 * empty (never dropped, so no cell moves); text cells are neutralised, numbers written as they are.
 */
export function rowToLine(row: Partial<Record<CsvColumn, CsvCell>>, eol: string): string {
  const cells = CSV_COLUMNS.map((column) => {
    const value = row[column]
    if (value === null || value === undefined) return ''
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
    return TEXT_COLUMNS.has(column) ? neutraliseText(value) : value
  })
  return formatCsvLine(cells, eol)
}

// Every RunStatus, checked by the compiler: a status added there must be added here.
const STATUSES: Record<RunStatus, true> = {
  running: true,
  finished: true,
  failed: true,
  interrupted: true,
  'budget-exceeded': true,
}

/** The statuses a row may have, to tell a complete last row from one cut inside its last cell. */
export const ROW_STATUSES: ReadonlySet<string> = new Set(Object.keys(STATUSES))
