import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import { CSV_TABLE } from '../src/output/csv/columns.js'
import { TEXT_COLUMNS } from '../src/output/csv/format.js'
import { parseEmissionsCsv } from '../src/output/csv/read.js'
import { CSV_COLUMNS, CSV_HEADER, CsvSink, recordToCells, recordToLine } from '../src/output/csv/sink.js'
import { readCsv } from './helpers/csv.js'
import { sampleRecord } from './helpers/records.js'
import { runTrackerProcesses } from './helpers/writers.js'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-csv-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    chmodSync(dir, 0o700)
    rmSync(dir, { recursive: true, force: true })
  }
})

const read = readCsv

/** CodeCarbon 3.3's header: its EmissionsData fields, in order (see test/codecarbon.test.ts). */
const CODECARBON_FIELDS = readFileSync('test/fixtures/codecarbon-offline-3-runs.csv', 'utf8')
  .split('\n', 1)[0]
  ?.split(',')

describe('CSV columns', () => {
  it("are CodeCarbon's 38, named and ordered as its EmissionsData, then wattprint's own", () => {
    expect(CSV_COLUMNS.slice(0, 38)).toEqual(CODECARBON_FIELDS)
    // Spelt out on purpose, not read from the table: the header is a file format that other programs read
    // by position, so a column added or moved must be seen here too.
    expect(CSV_COLUMNS.slice(38)).toEqual([
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
      'embodied_emissions',
      'embodied_source',
      'water_source',
      'sci',
      'functional_unit',
      'functional_unit_count',
      'tracker_cpu_seconds',
      'tracker_energy',
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
      'job_id',
      'node_name',
      'rank',
      'local_rank',
      'world_size',
      'launcher',
      'job_role',
      'status',
    ])
  })

  it('are each one entry of the table, named once, with a unit and a meaning', () => {
    expect(CSV_TABLE.map((column) => column.name)).toEqual(CSV_COLUMNS)
    expect(new Set(CSV_COLUMNS).size).toBe(CSV_COLUMNS.length)
    for (const column of CSV_TABLE) {
      expect(column.unit, column.name).not.toBe('')
      expect(column.meaning, column.name).not.toBe('')
    }
    expect(Object.keys(recordToCells(sampleRecord())).sort()).toEqual([...CSV_COLUMNS].sort())
  })

  it("leave CodeCarbon's Python columns empty and put the Node and wattprint versions in their own", () => {
    const [row] = parse(CSV_HEADER + recordToLine(sampleRecord()), { columns: true }) as Record<
      string,
      string
    >[]
    expect(row).toMatchObject({
      python_version: '',
      codecarbon_version: '',
      node_version: '20.20.2',
      wattprint_version: '0.1.0',
    })
  })

  it('name as text exactly the columns a record fills with text', () => {
    const cells = recordToCells(
      sampleRecord({
        gpuModel: '1 x NVIDIA L4',
        gpu: { energyKWh: 0, lowKWh: 0, highKWh: 0, powerW: 0, source: 'nvml-energy', method: 'measured' },
        attributionNote: 'process tree of pid 42',
        node: {
          energyKWh: 0,
          lowKWh: 0,
          highKWh: 0,
          powerW: 0,
          source: 'acpi-power-meter',
          method: 'measured',
        },
      }),
    )
    const text = Object.entries(cells)
      .filter(([, v]) => typeof v === 'string')
      .map(([c]) => c)
    // python_version and codecarbon_version are text too, always empty.
    expect(new Set([...text, 'python_version', 'codecarbon_version'])).toEqual(TEXT_COLUMNS)
  })
})

describe('CsvSink', () => {
  it('round-trips a record: every column on the row, unknowns empty, commas and quotes escaped', async () => {
    const path = join(tempDir(), 'emissions.csv')
    const warnings: TrackerWarning[] = []
    const sink = new CsvSink(path, (w) => warnings.push(w))
    expect(await sink.append(sampleRecord())).toBe(true)
    expect(await sink.append(sampleRecord({ runId: 'run-2', status: 'running' }))).toBe(true)
    const text = readFileSync(path, 'utf8')
    expect(text.startsWith(CSV_HEADER)).toBe(true)
    const rows = read(path)
    expect(rows).toHaveLength(2)
    const row = rows[0] as Record<string, string>
    expect(Object.keys(row)).toEqual([...CSV_COLUMNS])
    expect(row).toMatchObject({
      timestamp: '2026-11-22T10:00:00.000Z',
      project_name: 'mnist, "quoted" project',
      duration: '12.5',
      emissions: '0.0004275',
      cpu_energy: '0.001',
      energy_consumed: '0.00125',
      gpu_source: '',
      gpu_count: '',
      water_consumed: '0.0042',
      wue: '0.27',
      embodied_emissions: '0.0125',
      sci: '0.0001',
      functional_unit: 'epoch',
      functional_unit_count: '130',
      country_iso_code: 'DEU',
      cpu_model: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz',
      cpu_source: 'rapl',
      ram_source: 'rapl-dram',
      carbon_intensity: '342',
      intensity_source: 'electricitymaps-yearly-2025:DE',
      pue: '1.2',
      status: 'finished',
    })
    expect(rows[1]?.status).toBe('running')
    expect(warnings).toEqual([])
  })

  it('writes an empty cell, never NaN or Infinity', async () => {
    const line = recordToLine(sampleRecord({ durationS: Number.NaN, emissionsKg: Number.POSITIVE_INFINITY }))
    expect(line).not.toMatch(/NaN|Infinity/)
    expect(line.endsWith('\n')).toBe(true)
  })

  it('keeps a file with another header as a backup and starts a new one', async () => {
    const dir = tempDir()
    const path = join(dir, 'emissions.csv')
    const codecarbon = 'timestamp,project_name,run_id,duration\n2024-01-01T00:00:00,x,y,1\n'
    writeFileSync(path, codecarbon)
    const warnings: TrackerWarning[] = []
    await new CsvSink(path, (w) => warnings.push(w)).append(sampleRecord())
    const backups = readdirSync(dir).filter((f) => f.startsWith('emissions.backup-'))
    expect(backups).toHaveLength(1)
    expect(readFileSync(join(dir, backups[0] as string), 'utf8')).toBe(codecarbon)
    expect(read(path)).toHaveLength(1)
    expect(warnings.map((w) => w.code)).toEqual(['CSV_BACKED_UP'])
    expect(warnings[0]?.message).toContain('different header')
  })

  it('ends a row cut off mid-line where it stops, never moving the file aside or appending to the broken line', async () => {
    const dir = tempDir()
    const path = join(dir, 'emissions.csv')
    const truncated = `${CSV_HEADER}2026-11-22T09:00:00.000Z,proj,run-0,,3.`
    writeFileSync(path, truncated)
    const warnings: TrackerWarning[] = []
    await new CsvSink(path, (w) => warnings.push(w)).append(sampleRecord())
    expect(warnings[0]?.message).toContain('middle of a row')
    expect(readdirSync(dir)).toEqual(['emissions.csv'])
    expect(readFileSync(path, 'utf8')).toBe(`${truncated}\n${recordToLine(sampleRecord())}`)
    const table = parseEmissionsCsv(readFileSync(path))
    expect([table.rows.length, table.malformed]).toEqual([1, 1])
  })

  it('appends to a file it recognises, under its single header', async () => {
    const path = join(tempDir(), 'emissions.csv')
    await new CsvSink(path, () => {}).append(sampleRecord({ runId: 'a' }))
    await new CsvSink(path, () => {}).append(sampleRecord({ runId: 'b' }))
    expect(read(path).map((r) => r.run_id)).toEqual(['a', 'b'])
    expect(readFileSync(path, 'utf8').split(CSV_HEADER)).toHaveLength(2)
  })

  it('creates a missing output directory', async () => {
    const path = join(tempDir(), 'deep', 'er', 'emissions.csv')
    expect(await new CsvSink(path, () => {}).append(sampleRecord())).toBe(true)
    expect(existsSync(path)).toBe(true)
  })

  it('warns instead of throwing when the directory cannot be created (even for root)', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'plain-file'), '')
    const warnings: TrackerWarning[] = []
    const sink = new CsvSink(join(dir, 'plain-file', 'sub', 'e.csv'), (w) => warnings.push(w))
    expect(await sink.append(sampleRecord())).toBe(false)
    expect(warnings[0]?.code).toBe('CSV_WRITE_FAILED')
    expect(warnings[0]?.message).toContain('ENOTDIR')
  })

  it('warns instead of throwing when the path is a directory', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'emissions.csv'))
    const warnings: TrackerWarning[] = []
    expect(
      await new CsvSink(join(dir, 'emissions.csv'), (w) => warnings.push(w)).append(sampleRecord()),
    ).toBe(false)
    expect(warnings[0]?.code).toBe('CSV_WRITE_FAILED')
  })
})

describe('concurrent writers', () => {
  it('8 processes × 50 rows through the public API give 400 parseable rows under one header', async () => {
    const dir = tempDir()
    await runTrackerProcesses(
      8,
      dir,
      "projectName: 'p' + writer",
      'await t.start()\nfor (let i = 0; i < 49; i++) await t.flush()\nawait t.stop()',
    )
    const text = readFileSync(join(dir, 'emissions.csv'), 'utf8')
    expect(text.split(CSV_HEADER)).toHaveLength(2)
    const rows = read(join(dir, 'emissions.csv'))
    expect(rows).toHaveLength(400)
    for (let n = 0; n < 8; n++) {
      const mine = rows.filter((r) => r.project_name === `p${n}`)
      expect(mine).toHaveLength(50)
      expect(mine.filter((r) => r.status === 'finished')).toHaveLength(1)
    }
    expect(readdirSync(dir).filter((f) => f !== 'emissions.csv')).toEqual([])
  }, 60_000)
})
