import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  energyWithRange,
  type IntervalCells,
  intervalTotals,
  massWithRange,
  sumIntervals,
} from '../src/cli/report/intervals.js'
import {
  CSV_COLUMNS,
  CSV_HEADER,
  type CsvCell,
  type CsvColumn,
  formatCsvLine,
  rowToLine,
  WATTPRINT_COLUMNS,
} from '../src/output/csv/format.js'
import { makeTempDir } from './helpers/temp-dir.js'

// `wattprint report` with the 80 % intervals and the whole machine at the wall: figures by hand, files
// with the columns and without (older wattprint files, CodeCarbon's), and a hostile wall_source.

const cli = resolve('dist/cli.js')
const codecarbon = resolve('test/fixtures/codecarbon-emissions.csv')
const wattprint = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

/** The columns this change added: a file written before it has none of them. */
const NEW_COLUMNS: readonly string[] = CSV_COLUMNS.slice(
  CSV_COLUMNS.indexOf('energy_low'),
  CSV_COLUMNS.indexOf('status'),
)

interface Run {
  id: string
  project: string
  /** kWh, CPU + GPU + RAM, and its interval; kg CO2e at 300 g/kWh. */
  energy: number
  low?: number
  high?: number
  /** The wall, kWh, and its interval (emissions at 300 g/kWh too). */
  wall?: number
  wallLow?: number
  wallHigh?: number
  wallSource?: string
  timestamp?: string
}

const KG_PER_KWH = 0.3

/** A row's cells by column: the required ones, and the interval and wall ones where the run has them. */
function cellsOf(run: Run, i: number): Partial<Record<CsvColumn, CsvCell>> {
  const kg = (kWh: number | undefined) => (kWh === undefined ? null : kWh * KG_PER_KWH)
  return {
    timestamp: run.timestamp ?? new Date(Date.UTC(2026, 10, 1, 8) + i * 3_600_000).toISOString(),
    project_name: run.project,
    run_id: run.id,
    experiment_id: 'e',
    duration: 60,
    emissions: kg(run.energy),
    energy_consumed: run.energy,
    cpu_energy: run.energy * 0.75,
    gpu_energy: 0,
    ram_energy: run.energy * 0.25,
    energy_low: run.low ?? null,
    energy_high: run.high ?? null,
    emissions_low: kg(run.low),
    emissions_high: kg(run.high),
    wall_energy: run.wall ?? null,
    wall_energy_low: run.wallLow ?? null,
    wall_energy_high: run.wallHigh ?? null,
    wall_emissions: kg(run.wall),
    wall_emissions_low: kg(run.wallLow),
    wall_emissions_high: kg(run.wallHigh),
    wall_source: run.wall === undefined ? null : (run.wallSource ?? 'cpu-model+ram-model+rest-model'),
    status: 'finished',
  }
}

/** A file under the current header. */
function currentFile(dir: string, name: string, runs: readonly Run[]): string {
  const path = join(dir, name)
  writeFileSync(path, CSV_HEADER + runs.map((r, i) => rowToLine(cellsOf(r, i), '\n')).join(''))
  return path
}

/** A file under the header wattprint wrote before the interval and wall columns (read and migrated as such). */
function earlierFile(dir: string, name: string, runs: readonly Run[]): string {
  const path = join(dir, name)
  const header = CSV_COLUMNS.filter((c) => !NEW_COLUMNS.includes(c))
  const lines = runs.map((r, i) => {
    const cells = cellsOf(r, i + 100)
    return formatCsvLine(
      header.map((c) => String(cells[c] ?? '')),
      '\n',
    )
  })
  writeFileSync(path, formatCsvLine(header, '\n') + lines.join(''))
  return path
}

/** The cells of the table line whose first cell is `key` (cells are two spaces or more apart). */
function tableRow(stdout: string, key: string): Record<string, string> {
  const lines = stdout.split('\n')
  const head = (lines[0] ?? '').split(/\s{2,}/)
  const cells = lines.find((l) => l.split(/\s{2,}/)[0] === key)?.split(/\s{2,}/) ?? []
  return Object.fromEntries(head.map((h, i) => [h, cells[i] ?? '']))
}

describe('report: intervals and the wall, by hand', () => {
  // mnist: 1.2 Wh (0.9–1.6) and 2.0 Wh (1.5–2.6); the wall 2.0 Wh (1.5–2.8) and 3.0 Wh (2.2–4.1).
  // Their sums: 3.20 Wh (2.40–4.20), the wall 5.00 Wh (3.70–6.90); emissions at 0.3 kg/kWh.
  const mnist: Run[] = [
    {
      id: 'a',
      project: 'mnist',
      energy: 0.0012,
      low: 0.0009,
      high: 0.0016,
      wall: 0.002,
      wallLow: 0.0015,
      wallHigh: 0.0028,
    },
    {
      id: 'b',
      project: 'mnist',
      energy: 0.002,
      low: 0.0015,
      high: 0.0026,
      wall: 0.003,
      wallLow: 0.0022,
      wallHigh: 0.0041,
    },
  ]

  it('shows each figure with its 80 % interval, and a sum from the sum of the lows to the sum of the highs', () => {
    const dir = makeTempDir('wattprint-intervals-')
    const run = wattprint('report', currentFile(dir, 'emissions.csv', mnist))
    expect(run.status, run.stderr).toBe(0)
    const lines = run.stdout.split('\n')
    expect(lines[0]).toMatch(
      /\senergy\s+emissions\s+g\/kWh\s+wall energy\s+wall emissions\s+embodied\s+water$/,
    )
    expect(tableRow(run.stdout, 'mnist')).toMatchObject({
      runs: '2',
      energy: '3.20 Wh (2.40–4.20)',
      // The interval in its figure's unit, though its high is past 1 g, to three significant figures.
      emissions: '960.00 mg (720–1260)',
      'wall energy': '5.00 Wh (3.70–6.90)',
      'wall emissions': '1.50 g (1.11–2.07)',
    })
    expect(tableRow(run.stdout, 'total')).toMatchObject({ energy: '3.20 Wh (2.40–4.20)' })
    expect(run.stdout).toContain("energy and emissions: CPU, GPU and RAM (CodeCarbon's scope)")
    expect(run.stdout).toContain('(low–high): the 80 % interval')
    // No group mixes runs with and without the wall: nothing is marked.
    expect(run.stdout).not.toContain('*')

    const byRun = wattprint('report', join(dir, 'emissions.csv'), '--by', 'run').stdout
    expect(tableRow(byRun, 'a')).toMatchObject({
      energy: '1.20 Wh (0.90–1.60)',
      'wall energy': '2.00 Wh (1.50–2.80)',
    })
    expect(tableRow(byRun, 'b')).toMatchObject({ emissions: '600.00 mg (450–780)' })

    type Json = { total: Record<string, unknown> }
    const json = JSON.parse(wattprint('report', join(dir, 'emissions.csv'), '--json').stdout) as Json
    expect(json.total.wallRuns).toBe(2)
    expect(json.total.wallKWh).toBeCloseTo(0.005, 12)
    const interval = json.total.energyIntervalKWh as { low: number; high: number }
    expect(interval.low).toBeCloseTo(0.0024, 12)
    expect(interval.high).toBeCloseTo(0.0042, 12)
  })

  it('shows old rows without an interval and their wall as unknown, and says when a group mixes them', () => {
    const dir = makeTempDir('wattprint-intervals-')
    const now = currentFile(dir, 'now.csv', mnist)
    // Older wattprint rows of the same project and of another, and CodeCarbon's file (bert-finetune).
    const old = earlierFile(dir, 'old.csv', [
      { id: 'c', project: 'mnist', energy: 0.001 },
      { id: 'd', project: 'legacy', energy: 0.004 },
    ])
    const run = wattprint('report', now, old, codecarbon)
    expect(run.status, run.stderr).toBe(0)
    // legacy: its figures, no interval, the wall unknown.
    expect(tableRow(run.stdout, 'legacy')).toMatchObject({
      energy: '4.00 Wh',
      emissions: '1.20 g',
      'wall energy': '–',
      'wall emissions': '–',
    })
    expect(tableRow(run.stdout, 'bert-finetune')['wall energy']).toBe('–')
    // mnist: 4.20 Wh, no interval (one run has none); the wall of the two runs that have it, marked.
    expect(tableRow(run.stdout, 'mnist')).toMatchObject({
      runs: '3',
      energy: '4.20 Wh',
      emissions: '1.26 g',
      'wall energy': '5.00 Wh (3.70–6.90)*',
      'wall emissions': '1.50 g (1.11–2.07)*',
    })
    expect(tableRow(run.stdout, 'total')['wall energy']).toBe('5.00 Wh (3.70–6.90)*')
    expect(run.stdout).toMatch(
      /^\* the wall of only the runs that have it, summed: mnist 2 of 3 runs, total 2 of 6 runs/m,
    )
    // Unknown is never summed as zero: a group with no wall figure has none, in JSON too.
    type Group = { key: string; wallKWh: number | null; wallRuns: number; energyIntervalKWh: unknown }
    const json = JSON.parse(wattprint('report', now, old, codecarbon, '--json').stdout) as { groups: Group[] }
    const legacy = json.groups.find((g) => g.key === 'legacy')
    expect(legacy).toMatchObject({ wallKWh: null, wallRuns: 0, energyIntervalKWh: null })
    expect(json.groups.find((g) => g.key === 'mnist')).toMatchObject({ wallRuns: 2, energyIntervalKWh: null })

    // Only old files: no interval, no wall, and no note about either.
    const plain = wattprint('report', old, codecarbon)
    expect(plain.status).toBe(0)
    expect(tableRow(plain.stdout, 'legacy')).toMatchObject({ energy: '4.00 Wh', 'wall energy': '–' })
    expect(plain.stdout).not.toContain('(low–high)')
    expect(plain.stdout).not.toContain('wall: the whole machine')
  })

  it('the HTML table and cards show the wall and the intervals, and mark a group that mixes', () => {
    const dir = makeTempDir('wattprint-intervals-')
    const now = currentFile(dir, 'now.csv', mnist)
    const old = earlierFile(dir, 'old.csv', [{ id: 'c', project: 'mnist', energy: 0.001 }])
    const html = join(dir, 'report.html')
    expect(wattprint('report', now, '--html', html).status).toBe(0)
    let page = readFileSync(html, 'utf8')
    expect(page).toContain('<th>wall energy</th><th>wall emissions</th>')
    expect(page).toContain('<td>3.20 Wh<span class="range">(2.40–4.20)</span></td>')
    expect(page).toContain('<td>5.00 Wh<span class="range">(3.70–6.90)</span></td>')
    expect(page).toMatch(
      /Wall energy \(whole machine\)<\/span><b>5\.00 Wh<\/b><span class="range">\(3\.70–6\.90\)</,
    )
    // Both runs have an interval: both get an error bar, at every layout width.
    expect(page.match(/<g class="error-bar"/g)).toHaveLength(2 * 3)
    expect(page).toContain('with its 80 % interval as an error bar')

    expect(wattprint('report', now, old, '--html', html).status).toBe(0)
    page = readFileSync(html, 'utf8')
    expect(page).toContain('<td>4.20 Wh</td>')
    expect(page).toContain('<td>5.00 Wh*<span class="range">(3.70–6.90)</span></td>')
    expect(page).toContain('2 of 3 runs')
    expect(page).toContain('* the wall of only the runs that have it, summed: mnist 2 of 3 runs')
    // The old run has no interval, so no error bar.
    expect(page.match(/<g class="error-bar"/g)).toHaveLength(2 * 3)
  })

  it('leaves out an interval that does not hold its figure and says so; a figure that is not a number is malformed', () => {
    const dir = makeTempDir('wattprint-intervals-')
    const path = currentFile(dir, 'emissions.csv', [
      {
        id: 'a',
        project: 'p',
        energy: 0.002,
        low: 0.0025,
        high: 0.003,
        wall: 0.003,
        wallLow: 0.002,
        wallHigh: 0.004,
      },
      { id: 'b', project: 'p', energy: 0.001, low: 0.0008, high: 0.0012 },
    ])
    const run = wattprint('report', path)
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('emissions.csv: 2 interval(s) left out that did not contain their figure')
    expect(tableRow(run.stdout, 'p')).toMatchObject({
      energy: '3.00 Wh',
      emissions: '900.00 mg',
      'wall energy': '3.00 Wh (2.00–4.00)*',
    })
    // A wall figure that is not a number: the row is malformed, as any other figure's.
    const cells = {
      ...cellsOf({ id: 'c', project: 'p', energy: 0.001 }, 5),
      wall_energy: 'lots',
      wall_emissions: 1,
    }
    writeFileSync(path, CSV_HEADER + rowToLine(cells, '\n'))
    const bad = wattprint('report', path)
    expect(bad.stdout).toContain('1 malformed row(s) skipped')
  })
})

describe('report: a hostile wall_source', () => {
  const hostile = `=cmd|' /C calc'!A0\r\n"quoted"\x1b[2J\x1b]0;title\x07\u202eesrever\u2066${'x'.repeat(20_000)}`

  it('never reaches the terminal, and reaches the HTML escaped and cut to a tooltip', () => {
    const dir = makeTempDir('wattprint-intervals-')
    const path = currentFile(dir, 'emissions.csv', [
      {
        id: 'run-1',
        project: 'p',
        energy: 0.002,
        low: 0.0015,
        high: 0.0025,
        wall: 0.003,
        wallLow: 0.002,
        wallHigh: 0.004,
        wallSource: hostile,
      },
    ])
    const html = join(dir, 'report.html')
    for (const args of [[], ['--by', 'run'], ['--json'], ['--html', html]]) {
      const run = wattprint('report', path, ...args)
      expect(run.status, run.stderr).toBe(0)
      const out = run.stdout + run.stderr
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
      expect(out.replaceAll('\n', '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/)
      expect(out).not.toContain('xxxxxxxxxx')
      expect(out).not.toContain('=cmd')
      for (const line of out.split('\n')) expect(line.length).toBeLessThan(400)
    }
    const page = readFileSync(html, 'utf8')
    expect(page).not.toMatch(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
      /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/,
    )
    // In the bars' tooltips, written out and escaped: the line ends and escapes shown, the quotes as entities.
    expect(page).toContain(
      '(=cmd|&#39; /C calc&#39;!A0\\r\\n&quot;quoted&quot;\\u001b[2J\\u001b]0;title\\u0007\\u202eesrever\\u2066x',
    )
    expect(page).not.toContain('x'.repeat(100))
    expect(page.length).toBeLessThan(200_000)
  })
})

describe('the interval arithmetic', () => {
  it("writes an interval in its figure's unit, to three significant figures and no more decimals than the figure", () => {
    expect(energyWithRange(0.00102, { low: 0.00085, high: 0.0012 })).toBe('1.02 Wh (0.85–1.20)')
    // 2.5 J, its high over 3600 J's threshold is still in J.
    expect(energyWithRange(2.5 / 3.6e6, { low: 1 / 3.6e6, high: 4000 / 3.6e6 })).toBe('2.50 J (1–4000)')
    expect(energyWithRange(2.5, { low: 1.9, high: 3.25 })).toBe('2.500 kWh (1.90–3.25)')
    expect(energyWithRange(2.5, null)).toBe('2.500 kWh')
    expect(massWithRange(0.0009, { low: 0.0007, high: 0.0011 })).toBe('900.00 mg (700–1100)')
    expect(massWithRange(1.5, { low: 0.9, high: 2 })).toBe('1.500 kg (0.90–2.00)')
    expect(energyWithRange(0.0012, { low: 0.0009, high: 0.0016 })).toBe('1.20 Wh (0.90–1.60)')
    expect(energyWithRange(0, { low: 0, high: 0 })).toBe('0.00 J (0.00–0.00)')
  })

  it('sums lows and highs; a part without an interval leaves the sum without one, and the wall sums the known', () => {
    expect(
      sumIntervals([
        { low: 1, high: 3 },
        { low: 2, high: 5 },
      ]),
    ).toEqual({ low: 3, high: 8 })
    expect(sumIntervals([{ low: 1, high: 3 }, null])).toBeNull()
    const cells = (wall: number | null, interval = true): IntervalCells => ({
      energyIntervalKWh: interval ? { low: 1, high: 2 } : null,
      emissionsIntervalKg: interval ? { low: 0.1, high: 0.2 } : null,
      wallKWh: wall,
      wallIntervalKWh: wall === null ? null : { low: wall * 0.5, high: wall * 2 },
      wallEmissionsKg: wall === null ? null : wall * 0.3,
      wallEmissionsIntervalKg: wall === null ? null : { low: wall * 0.15, high: wall * 0.6 },
      wallSource: '',
    })
    expect(intervalTotals([cells(2), cells(4)])).toMatchObject({
      energyIntervalKWh: { low: 2, high: 4 },
      wallKWh: 6,
      wallIntervalKWh: { low: 3, high: 12 },
      wallRuns: 2,
    })
    expect(intervalTotals([cells(2), cells(null, false)])).toMatchObject({
      energyIntervalKWh: null,
      wallKWh: 2,
      wallIntervalKWh: { low: 1, high: 4 },
      wallRuns: 1,
    })
    expect(intervalTotals([cells(null, false)])).toMatchObject({ wallKWh: null, wallRuns: 0 })
    expect(WATTPRINT_COLUMNS).toEqual(expect.arrayContaining([...NEW_COLUMNS]))
  })
})
