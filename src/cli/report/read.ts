import { readFileSync } from 'node:fs'
import { type CsvFormat, parseEmissionsCsv, REQUIRED_COLUMNS } from '../../output/csv/read.js'
import { footprintCells } from './footprint.js'
import { checkIntervals, intervalCells, intervalFigures } from './intervals.js'
import type { RunRow } from './model.js'

/** A file read: its runs, how many rows were malformed, and what wrote it. */
export interface ReadResult {
  readonly runs: RunRow[]
  readonly malformed: number
  /** `foreign` when the header is neither wattprint's nor CodeCarbon's (then no row is read). */
  readonly format: CsvFormat
  /** Intervals left out because they did not hold their figure (see checkIntervals). */
  readonly intervalsDropped: number
}

const num = (value: string | undefined): number =>
  value === undefined || value.trim() === '' ? 0 : Number(value)
/** A figure that may be absent (an empty cell, a column older files lack); NaN when it is not a number. */
const optional = (value: string | undefined): number | null =>
  value === undefined || value.trim() === '' ? null : Number(value)

/**
 * Reads an emissions CSV: wattprint's (the current header or the earlier one) or CodeCarbon's (same column
 * names; its short appended rows aligned). A row with the wrong number of cells, no timestamp, or a figure
 * that is not a finite, non-negative number is malformed: skipped and counted, never guessed at; an 80 %
 * interval that does not hold its figure is left out (the row kept) and counted. Rows of
 * one run (a flush's `running` rows, then the final one) count as that run once: see latestPerRun. Throws
 * only when the file cannot be read.
 */
export function readEmissionsCsv(path: string): ReadResult {
  const table = parseEmissionsCsv(readFileSync(path))
  let malformed = table.malformed
  let intervalsDropped = 0
  const rows: RunRow[] = []
  table.rows.forEach((record, i) => {
    const row: RunRow = {
      file: path,
      timestamp: record.timestamp ?? '',
      project: record.project_name ?? '',
      experiment: record.experiment_id ?? '',
      runId: record.run_id || `${path}#${i}`,
      status: record.status ?? 'finished',
      durationS: num(record.duration),
      emissionsKg: num(record.emissions),
      energyKWh: num(record.energy_consumed),
      cpuKWh: num(record.cpu_energy),
      gpuKWh: num(record.gpu_energy),
      ramKWh: num(record.ram_energy),
      counterfactualKg: optional(record.counterfactual_emissions),
      forecastGPerKWh: optional(record.forecast_intensity),
      forecastSource: record.forecast_source ?? '',
      jobId: record.job_id ?? '',
      nodeName: record.node_name ?? '',
      rank: optional(record.rank),
      worldSize: optional(record.world_size),
      jobRole: record.job_role ?? '',
      launcher: record.launcher ?? '',
      ...requestFigures(record),
      ...footprintCells(record),
      ...intervalCells(record),
    }
    const figures = [
      row.durationS,
      row.emissionsKg,
      row.energyKWh,
      row.cpuKWh,
      row.gpuKWh,
      row.ramKWh,
      row.counterfactualKg ?? 0,
      row.forecastGPerKWh ?? 0,
      row.requests,
      row.outputTokens,
      row.requestEnergyJ,
      row.tokenEnergyJ,
      row.embodiedKg ?? 0,
      row.waterL ?? 0,
      row.rank ?? 0,
      row.worldSize ?? 0,
      ...intervalFigures(row),
    ]
    if (Number.isNaN(Date.parse(row.timestamp)) || figures.some((f) => !Number.isFinite(f) || f < 0)) {
      malformed += 1
      return
    }
    const checked = checkIntervals(row, row.energyKWh, row.emissionsKg)
    intervalsDropped += checked.dropped
    rows.push({ ...row, ...checked.cells })
  })
  return { runs: latestPerRun(rows), malformed, format: table.format, intervalsDropped }
}

/**
 * Each run once: a run is its run_id, within a file and across files (the same file given twice, a
 * backup beside the file it was migrated to). Its row is the latest by timestamp (a flush's `running`
 * rows come before the final one; a stale checkpoint recovered after the run's row is older than it),
 * the one read last on a tie.
 */
export function latestPerRun(rows: readonly RunRow[]): RunRow[] {
  const byRun = new Map<string, RunRow>()
  for (const row of rows) {
    const seen = byRun.get(row.runId)
    if (!seen || Date.parse(row.timestamp) >= Date.parse(seen.timestamp)) byRun.set(row.runId, row)
  }
  return [...byRun.values()]
}

/** A row's request figures: the CSV has counts and energies per unit, the totals multiply them back. */
function requestFigures(record: Readonly<Record<string, string>>) {
  const requests = num(record.requests)
  const outputTokens = num(record.output_tokens)
  return {
    requests,
    outputTokens,
    requestEnergyJ: requests * num(record.energy_per_request),
    tokenEnergyJ: outputTokens * num(record.energy_per_output_token),
  }
}

/** The line that says a file is neither wattprint's nor CodeCarbon's. */
export const foreignFileMessage = (file: string): string =>
  `${file}: not a wattprint or CodeCarbon file (a report needs the columns ${REQUIRED_COLUMNS.join(', ')})`
