import { appendFileSync, existsSync, renameSync, unlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  backupPath,
  type CsvFileState,
  createExclusive,
  endsWithCompleteRow,
  inspectCsv,
  quotesBalanced,
} from '../csv-file.js'
import { CSV_HEADER, type CsvCell, type CsvColumn, rowToLine } from '../csv-format.js'
import { migrateLegacyCsv } from '../csv-migrate.js'
import { describeError } from '../errors.js'
import { ensureDir } from '../output-dir.js'
import type { EmissionsRecord } from '../record.js'
import type { TrackerWarning } from '../warnings.js'

export { CSV_COLUMNS, CSV_HEADER, type CsvColumn } from '../csv-format.js'

/** A record as CSV cells, one per column; unknown values are null (written empty), never dropped. */
export function recordToCells(record: EmissionsRecord): Record<CsvColumn, CsvCell> {
  return {
    timestamp: record.timestamp,
    project_name: record.projectName,
    run_id: record.runId,
    experiment_id: record.experimentId,
    duration: record.durationS,
    emissions: record.emissionsKg,
    emissions_rate: record.emissionsRateKgPerS,
    cpu_power: record.cpu.powerW,
    gpu_power: record.gpu.powerW,
    ram_power: record.ram.powerW,
    cpu_energy: record.cpu.energyKWh,
    gpu_energy: record.gpu.energyKWh,
    ram_energy: record.ram.energyKWh,
    energy_consumed: record.energyKWh,
    water_consumed: record.waterConsumedL,
    country_name: record.countryName,
    country_iso_code: record.countryIsoCode,
    region: record.region,
    cloud_provider: record.cloudProvider,
    cloud_region: record.cloudRegion,
    os: record.os,
    // CodeCarbon's Python columns, kept in their places so that its readers find every column.
    python_version: null,
    codecarbon_version: null,
    cpu_count: record.cpuCount,
    cpu_model: record.cpuModel,
    gpu_count: record.gpuCount,
    gpu_model: record.gpuModel,
    longitude: null,
    latitude: null,
    ram_total_size: record.ramTotalSizeGiB,
    tracking_mode: record.trackingMode,
    cpu_utilization_percent: record.cpuUtilizationPercent,
    gpu_utilization_percent: record.gpuUtilizationPercent,
    ram_utilization_percent: record.ramUtilizationPercent,
    ram_used_gb: record.ramUsedGiB,
    on_cloud: record.onCloud ? 'Y' : 'N',
    pue: record.pue,
    wue: record.wueLPerKWh,
    node_version: record.nodeVersion,
    wattprint_version: record.wattprintVersion,
    cpu_source: record.cpu.source,
    gpu_source: record.gpu.source,
    ram_source: record.ram.source,
    carbon_intensity: record.carbonIntensityGPerKWh,
    intensity_source: record.intensitySource,
    status: record.status,
    machine_energy_consumed: record.machine.energyKWh,
    idle_energy: record.idleEnergyKWh,
    attribution_note: record.attributionNote,
    planned_start: record.plannedStart,
    forecast_intensity: record.forecastIntensityGPerKWh,
    forecast_source: record.forecastSource,
    counterfactual_emissions: record.counterfactualEmissionsKg,
    paused_duration: record.pausedS,
    node_energy: record.node.source === null ? null : record.node.energyKWh,
    node_source: record.node.source,
    requests: record.requests,
    input_tokens: record.inputTokens,
    output_tokens: record.outputTokens,
    energy_per_request: record.energyPerRequestJ,
    energy_per_output_token: record.energyPerOutputTokenJ,
    embodied_emissions: record.embodiedEmissionsKg,
    embodied_source: record.embodiedSource,
    water_source: record.waterSource,
    sci: record.sci,
    functional_unit: record.functionalUnit,
    functional_unit_count: record.functionalUnitCount,
  }
}

/**
 * One complete CSV line for a record, `eol` (the file's line ending) included. Text cells that could hold
 * a line break, a quote or a comma are quoted; text that a spreadsheet would run as a formula gets a
 * leading `'` (see neutraliseText), undone by wattprint's reader.
 */
export function recordToLine(record: EmissionsRecord, eol = '\n'): string {
  return rowToLine(recordToCells(record), eol)
}

/** How long a file must hold still, without a final newline, before it is judged. */
const SETTLE_MS = 25
const SETTLE_CHECKS = 3

/** Re-inspects a file a few times; `changed` when it grew or gained its final newline meanwhile. */
async function settled(path: string, first: CsvFileState): Promise<CsvFileState & { changed: boolean }> {
  let last = first
  for (let i = 0; i < SETTLE_CHECKS; i++) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    const now = inspectCsv(path)
    if (now.size !== last.size || now.endsWithNewline) return { ...now, changed: true }
    last = now
  }
  return { ...last, changed: false }
}

/**
 * Appends records to a CSV file, one complete line per write call. The file is created atomically with
 * its header (a temporary file hard-linked into place, which fails if another process got there first),
 * so concurrent writers produce exactly one header and no lock file exists to go stale. An existing file
 * is accepted with CRLF line ends (rows are appended with the same), a byte order mark, or without its
 * final newline after a complete row (the newline is added); a file under wattprint's earlier header is
 * migrated; one with another header, or cut off mid-row, is renamed to a backup, never overwritten.
 */
export class CsvSink {
  /** Whether this sink has checked the file's header and ending (done once, and again if it vanishes). */
  private verified = false
  /** The file's line ending, found when it was checked. */
  private eol: '\n' | '\r\n' = '\n'

  constructor(
    readonly path: string,
    private readonly warn: (warning: TrackerWarning) => void,
  ) {}

  /** Appends one row; false (with a warning) when it could not be written. Never rejects. */
  async append(record: EmissionsRecord): Promise<boolean> {
    try {
      ensureDir(dirname(this.path))
      if (!this.verified || !existsSync(this.path)) {
        await this.ensureFile()
        this.verified = true
      }
      appendFileSync(this.path, recordToLine(record, this.eol))
      return true
    } catch (error) {
      this.warn({
        code: 'CSV_WRITE_FAILED',
        message: `Could not write to ${this.path}: ${describeError(error)}. The record is still returned.`,
      })
      return false
    }
  }

  /**
   * Appends one row without waiting for anything, for a process that is exiting: a missing file is
   * created with its header; an existing one is appended to only when it ends with a complete line under
   * the current header (anything else needs the patient checks of append()). False when not written.
   */
  appendSync(record: EmissionsRecord): boolean {
    try {
      ensureDir(dirname(this.path))
      if (!existsSync(this.path) && !createExclusive(this.path, CSV_HEADER) && !existsSync(this.path)) {
        return false
      }
      const found = inspectCsv(this.path)
      if (found.header !== 'wattprint' || !found.endsWithNewline || !quotesBalanced(this.path)) return false
      appendFileSync(this.path, recordToLine(record, found.eol))
      return true
    } catch {
      return false
    }
  }

  private async ensureFile(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!existsSync(this.path) && createExclusive(this.path, CSV_HEADER)) {
        this.eol = '\n'
        return
      }
      let found: CsvFileState & { changed?: boolean } = inspectCsv(this.path)
      if (found.size === 0 || !found.endsWithNewline) {
        // Another process may be creating the file or appending a row right now: judge the file only once
        // it holds still. A file truncated by a crash stays as it is; a row being written lands at once.
        found = await settled(this.path, found)
        if (found.size === 0) {
          unlinkSync(this.path)
          continue
        }
        if (found.changed) continue
      }
      if (found.header === 'wattprint-legacy') {
        migrateLegacyCsv(this.path, this.warn)
        continue
      }
      if (found.header === 'wattprint' && found.endsWithNewline && quotesBalanced(this.path)) {
        this.eol = found.eol
        return
      }
      if (found.header === 'wattprint' && endsWithCompleteRow(this.path)) {
        // An editor saved the file without its final newline: the row is whole, so end its line.
        appendFileSync(this.path, found.eol)
        this.eol = found.eol
        return
      }
      const backup = backupPath(this.path, new Date())
      renameSync(this.path, backup)
      const why = found.header === 'other' ? 'has a different header' : 'ends in the middle of a line'
      this.warn({
        code: 'CSV_BACKED_UP',
        message: `${this.path} ${why}: kept as ${backup}, and a new file started.`,
      })
    }
  }
}
