import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, extname, join } from 'node:path'
import { describeError } from '../errors.js'
import { ensureDir } from '../output-dir.js'
import type { EmissionsRecord } from '../record.js'
import type { TrackerWarning } from '../warnings.js'

/**
 * CodeCarbon's 38 columns, in its order and units (python_version → node_version, codecarbon_version →
 * wattprint_version), then wattprint's own. Units: duration s; emissions kg CO2e; emissions_rate kg/s;
 * *_power W (mean over the run, without PUE); *_energy and energy_consumed kWh (with PUE); water L;
 * ram_total_size and ram_used_gb GiB; carbon_intensity g CO2e/kWh.
 */
export const CSV_COLUMNS = [
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
  'node_version',
  'wattprint_version',
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
  'cpu_source',
  'gpu_source',
  'ram_source',
  'carbon_intensity',
  'intensity_source',
  'status',
] as const

export type CsvColumn = (typeof CSV_COLUMNS)[number]

/** The header line, newline included. */
export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\n`

type Cell = string | number | null

/** A record as CSV cells, one per column; unknown values are null (written empty), never dropped. */
export function recordToCells(record: EmissionsRecord): Record<CsvColumn, Cell> {
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
    water_consumed: null,
    country_name: record.countryName,
    country_iso_code: record.countryIsoCode,
    region: record.region,
    cloud_provider: record.cloudProvider,
    cloud_region: record.cloudRegion,
    os: record.os,
    node_version: record.nodeVersion,
    wattprint_version: record.wattprintVersion,
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
    wue: null,
    cpu_source: record.cpu.source,
    gpu_source: record.gpu.source,
    ram_source: record.ram.source,
    carbon_intensity: record.carbonIntensityGPerKWh,
    intensity_source: record.intensitySource,
    status: record.status,
  }
}

let stringifySync: typeof import('csv-stringify/sync').stringify | undefined

/**
 * One complete CSV line for a record, newline included. Synchronous, so that a process exiting can still
 * write its row; csv-stringify (its CommonJS build) is loaded on first use.
 */
export function recordToLine(record: EmissionsRecord): string {
  stringifySync ??= (
    createRequire(import.meta.url)('csv-stringify/sync') as typeof import('csv-stringify/sync')
  ).stringify
  const cells = recordToCells(record)
  const row = CSV_COLUMNS.map((column) => {
    const value = cells[column]
    if (value === null) return ''
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
    return value
  })
  return stringifySync([row], { eof: true, record_delimiter: '\n' })
}

/** A name for a backup of `path` that does not exist yet (emissions.csv → emissions.backup-<time>.csv). */
function backupPath(path: string, now: Date): string {
  const ext = extname(path)
  const stem = join(dirname(path), basename(path, ext))
  const stamp = now.toISOString().replace(/[:.]/g, '-')
  for (let n = 0; ; n++) {
    const candidate = `${stem}.backup-${stamp}${n > 0 ? `-${n}` : ''}${ext}`
    if (!existsSync(candidate)) return candidate
  }
}

/** How long a file must hold still, without a final newline, before it is judged cut off. */
const SETTLE_MS = 25
const SETTLE_CHECKS = 3

/** Re-inspects a file a few times; `changed` when it grew or gained its final newline meanwhile. */
async function settled(
  path: string,
  first: ReturnType<typeof inspect>,
): Promise<ReturnType<typeof inspect> & { changed: boolean }> {
  let last = first
  for (let i = 0; i < SETTLE_CHECKS; i++) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    const now = inspect(path)
    if (now.size !== last.size || now.endsWithNewline) return { ...now, changed: true }
    last = now
  }
  return { ...last, changed: false }
}

/** First line and whether the file ends with a newline, reading only its head and last byte. */
function inspect(path: string): { firstLine: string; endsWithNewline: boolean; size: number } {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const head = Buffer.alloc(Math.min(size, 64 * 1024))
    const bytes = readSync(fd, head, 0, head.length, 0)
    const text = head.toString('utf8', 0, bytes)
    const newline = text.indexOf('\n')
    const last = Buffer.alloc(1)
    if (size > 0) readSync(fd, last, 0, 1, size - 1)
    return {
      firstLine: newline === -1 ? text : text.slice(0, newline + 1),
      endsWithNewline: size > 0 && last[0] === 0x0a,
      size,
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * Appends records to a CSV file, one complete line per write call. The file is created atomically with
 * its header (a temporary file hard-linked into place, which fails if another process got there first),
 * so concurrent writers produce exactly one header and no lock file exists to go stale. An existing file
 * with another header, or cut off mid-line, is renamed to a backup, never overwritten.
 */
export class CsvSink {
  /** Whether this sink has checked the file's header and ending (done once, and again if it vanishes). */
  private verified = false

  constructor(
    readonly path: string,
    private readonly warn: (warning: TrackerWarning) => void,
  ) {}

  /** Appends one row; false (with a warning) when it could not be written. Never rejects. */
  async append(record: EmissionsRecord): Promise<boolean> {
    try {
      const line = recordToLine(record)
      ensureDir(dirname(this.path))
      if (!this.verified || !existsSync(this.path)) {
        await this.ensureFile()
        this.verified = true
      }
      appendFileSync(this.path, line)
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
   * the right header (anything else needs the patient checks of append()). False when not written.
   */
  appendSync(record: EmissionsRecord): boolean {
    try {
      const line = recordToLine(record)
      ensureDir(dirname(this.path))
      if (!existsSync(this.path) && !this.createWithHeader() && !existsSync(this.path)) return false
      const found = inspect(this.path)
      if (found.firstLine !== CSV_HEADER || !found.endsWithNewline) return false
      appendFileSync(this.path, line)
      return true
    } catch {
      return false
    }
  }

  private async ensureFile(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!existsSync(this.path) && this.createWithHeader()) return
      let found: ReturnType<typeof inspect> & { changed?: boolean } = inspect(this.path)
      if (found.size === 0 || !found.endsWithNewline) {
        // Another process may be creating the file or appending a row right now: judge the file only once
        // it holds still. A file truncated by a crash stays as it is; a row being written lands at once.
        found = await settled(this.path, found)
        if (found.size === 0) {
          unlinkSync(this.path)
          continue
        }
      }
      if (found.firstLine === CSV_HEADER && found.endsWithNewline) return
      if (found.firstLine === CSV_HEADER && found.changed) continue
      const backup = backupPath(this.path, new Date())
      renameSync(this.path, backup)
      const why = found.firstLine !== CSV_HEADER ? 'has a different header' : 'ends in the middle of a line'
      this.warn({
        code: 'CSV_BACKED_UP',
        message: `${this.path} ${why}: kept as ${backup}, and a new file started.`,
      })
    }
  }

  /** Creates the file with its header in one atomic step; false if it already exists. */
  private createWithHeader(): boolean {
    const temp = `${this.path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    writeFileSync(temp, CSV_HEADER, { flag: 'wx' })
    try {
      linkSync(temp, this.path)
      return true
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') return false
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
        // No hard links here (some network and FUSE file systems): exclusive create, then the header.
        try {
          writeFileSync(this.path, CSV_HEADER, { flag: 'wx' })
          return true
        } catch (inner) {
          if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false
          throw inner
        }
      }
      throw error
    } finally {
      try {
        unlinkSync(temp)
      } catch {}
    }
  }
}
