import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { formatEnergy, formatMass } from '../format.js'
import { checkOutputFile } from './output-checks.js'
import { renderHtmlReport } from './report-html.js'
import { UsageError } from './units.js'

/** One run as a CSV row describes it (wattprint's or CodeCarbon's columns). */
export interface RunRow {
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
}

/** A file read: its runs, and how many rows were malformed. */
export interface ReadResult {
  readonly runs: RunRow[]
  readonly malformed: number
}

const GROUPINGS = ['project', 'experiment', 'run', 'day'] as const
type Grouping = (typeof GROUPINGS)[number]

const num = (value: string | undefined): number =>
  value === undefined || value.trim() === '' ? 0 : Number(value)

/**
 * Reads an emissions CSV (wattprint's, or CodeCarbon's: same column names). A row with the wrong number
 * of cells, no timestamp, or a figure that is not a finite, non-negative number is malformed: skipped
 * and counted, never guessed at. Rows of one run (a flush's `running` rows, then the final one) count as
 * that run once: its last row.
 */
export function readEmissionsCsv(path: string): ReadResult {
  const { parse } = createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync')
  const records = parse(readFileSync(path), {
    columns: true,
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  }) as { record: Record<string, string>; info: { invalid_field_length: number } }[]
  let malformed = 0
  const byRun = new Map<string, RunRow>()
  records.forEach(({ record, info }, i) => {
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
    }
    const figures = [row.durationS, row.emissionsKg, row.energyKWh, row.cpuKWh, row.gpuKWh, row.ramKWh]
    if (
      info.invalid_field_length > 0 ||
      Number.isNaN(Date.parse(row.timestamp)) ||
      figures.some((f) => !Number.isFinite(f) || f < 0)
    ) {
      malformed += 1
      return
    }
    byRun.set(row.runId, row)
  })
  return { runs: [...byRun.values()], malformed }
}

/** Totals of a group of runs. */
export interface GroupTotals {
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
}

const keyOf = (run: RunRow, by: Grouping): string =>
  by === 'project'
    ? run.project || '(none)'
    : by === 'experiment'
      ? run.experiment || '(none)'
      : by === 'run'
        ? run.runId
        : run.timestamp.slice(0, 10)

/** Sums runs by project, experiment, run or day, sorted by key. */
export function groupRuns(runs: readonly RunRow[], by: Grouping): GroupTotals[] {
  const groups = new Map<string, RunRow[]>()
  for (const run of runs) {
    const key = keyOf(run, by)
    groups.set(key, [...(groups.get(key) ?? []), run])
  }
  return [...groups].map(([key, members]) => total(key, members)).sort((a, b) => a.key.localeCompare(b.key))
}

export function total(key: string, runs: readonly RunRow[]): GroupTotals {
  const sum = (f: (r: RunRow) => number) => runs.reduce((s, r) => s + f(r), 0)
  const energyKWh = sum((r) => r.energyKWh)
  const emissionsKg = sum((r) => r.emissionsKg)
  return {
    key,
    runs: runs.length,
    durationS: sum((r) => r.durationS),
    cpuKWh: sum((r) => r.cpuKWh),
    gpuKWh: sum((r) => r.gpuKWh),
    ramKWh: sum((r) => r.ramKWh),
    energyKWh,
    emissionsKg,
    intensityGPerKWh: energyKWh > 0 ? (emissionsKg * 1000) / energyKWh : 0,
  }
}

const hours = (s: number) => (s < 3600 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(2)} h`)

/** The terminal table. */
export function renderTable(groups: readonly GroupTotals[], by: Grouping, all: GroupTotals): string {
  const header = [by, 'runs', 'duration', 'cpu', 'gpu', 'ram', 'energy', 'emissions', 'g/kWh']
  const line = (g: GroupTotals) => [
    g.key,
    String(g.runs),
    hours(g.durationS),
    formatEnergy(g.cpuKWh),
    formatEnergy(g.gpuKWh),
    formatEnergy(g.ramKWh),
    formatEnergy(g.energyKWh),
    formatMass(g.emissionsKg),
    g.intensityGPerKWh.toFixed(0),
  ]
  const rows = [header, ...groups.map(line), line({ ...all, key: 'total' })]
  const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  const format = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return [format(header), rule, ...rows.slice(1, -1).map(format), rule, format(rows.at(-1) ?? [])].join('\n')
}

/** `wattprint report [files...] [--by …] [--html file] [--timeline file.jsonl …] [--json]`. */
export async function reportCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      by: { type: 'string', default: 'project' },
      html: { type: 'string' },
      timeline: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: true,
  })
  const by = values.by as Grouping
  if (!GROUPINGS.includes(by)) {
    throw new UsageError(
      `--by ${JSON.stringify(values.by)} must be one of ${GROUPINGS.join(', ')}: for example --by day.`,
    )
  }
  // The report's one output is checked before any work: a folder that cannot hold it is a usage error.
  if (values.html) checkOutputFile('--html', values.html)
  const files = positionals.length > 0 ? positionals : ['emissions.csv']
  const runs: RunRow[] = []
  const skipped: string[] = []
  for (const file of files) {
    let result: ReadResult
    try {
      result = readEmissionsCsv(file)
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
    }
    runs.push(...result.runs)
    if (result.malformed > 0) skipped.push(`${file}: ${result.malformed} malformed row(s) skipped`)
  }
  const groups = groupRuns(runs, by)
  const all = total('total', runs)
  if (values.json) process.stdout.write(`${JSON.stringify({ by, groups, total: all, skipped }, null, 2)}\n`)
  else {
    process.stdout.write(`${renderTable(groups, by, all)}\n`)
    for (const line of skipped) process.stdout.write(`${line}\n`)
  }
  if (values.html) {
    const timelines = (values.timeline ?? []).map((file) => ({ file, samples: readTimeline(file) }))
    writeFileSync(values.html, renderHtmlReport({ runs, groups, by, total: all, timelines, skipped }))
    if (!values.json) process.stdout.write(`report written to ${values.html}\n`)
  }
  return 0
}

/** A timeline's samples: elapsed seconds and power by component (malformed lines skipped). */
export interface TimelinePoint {
  readonly elapsedS: number
  readonly cpuW: number
  readonly gpuW: number
  readonly ramW: number
}

function readTimeline(file: string): TimelinePoint[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
  }
  const points: TimelinePoint[] = []
  for (const line of text.split('\n')) {
    try {
      const s = JSON.parse(line) as {
        elapsedS?: unknown
        powerW?: { cpu?: unknown; gpu?: unknown; ram?: unknown }
      }
      const values = [s.elapsedS, s.powerW?.cpu, s.powerW?.gpu, s.powerW?.ram]
      if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        const [elapsedS, cpuW, gpuW, ramW] = values as number[]
        points.push({ elapsedS: elapsedS ?? 0, cpuW: cpuW ?? 0, gpuW: gpuW ?? 0, ramW: ramW ?? 0 })
      }
    } catch {
      // a partial last line, or not a timeline: skipped
    }
  }
  return points
}
