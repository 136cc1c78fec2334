import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { EmissionsRecord } from '../src/model/record.js'
import { CSV_COLUMNS, neutraliseText, restoreText, TEXT_COLUMNS } from '../src/output/csv/format.js'
import { parseEmissionsCsv } from '../src/output/csv/read.js'
import { CsvSink, recordToLine } from '../src/output/csv/sink.js'
import { readCsvWithPython } from './helpers/csv.js'
import { sampleRecord } from './helpers/records.js'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-roundtrip-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Strings that have broken CSV writers: line breaks of every kind, quotes, commas, formulas, big ones. */
const HOSTILE = [
  'a\rb',
  'a\nb',
  'a\r\nb',
  '\r',
  '\n',
  'end\r',
  '"',
  'say "hi", then leave',
  '""',
  'a,b',
  ',,,',
  '=1+1',
  '+1',
  '-1',
  '@SUM(A1:A9)',
  '\tindented',
  '\rstarts with CR',
  '=HYPERLINK("http://example.com","x")',
  "'=1+1",
  "''=x",
  "'plain",
  "O'Brien",
  "'",
  'tab\tinside',
  ' leading and trailing ',
  'naïve café ß',
  '日本語のプロジェクト',
  '😀 astral 𝄞 chars',
  'line\u2028separator',
  'back\\slash',
  '',
  `${'x,"\r\n😀='.repeat(2_000)}${'y'.repeat(10_000)}`, // 20,000 UTF-16 units
]

/** Record i: every text field holds a corpus string, each field a different one, so each sees them all. */
function hostileRecords(): EmissionsRecord[] {
  const at = (i: number) => HOSTILE[i % HOSTILE.length] as string
  return HOSTILE.map((_, i) =>
    sampleRecord({
      projectName: at(i),
      experimentId: at(i + 1),
      runId: at(i + 2),
      cpuModel: at(i + 3),
      gpuModel: at(i + 4),
      countryName: at(i + 5),
      region: at(i + 6),
      cloudProvider: at(i + 7),
      cloudRegion: at(i + 8),
      os: at(i + 9),
      intensitySource: at(i + 10),
      attributionNote: at(i + 11),
      forecastSource: at(i + 12),
      plannedStart: at(i + 13),
      embodiedSource: at(i + 14),
      waterSource: at(i + 15),
      functionalUnit: at(i + 16),
      // A launcher's variables are text too: a job's id and a node's name as they came.
      jobId: at(i + 17),
      nodeName: at(i + 18),
      durationS: i + 0.5,
    }),
  )
}

const TEXT_FIELDS = {
  project_name: 'projectName',
  experiment_id: 'experimentId',
  run_id: 'runId',
  cpu_model: 'cpuModel',
  gpu_model: 'gpuModel',
  country_name: 'countryName',
  region: 'region',
  cloud_provider: 'cloudProvider',
  cloud_region: 'cloudRegion',
  os: 'os',
  intensity_source: 'intensitySource',
  attribution_note: 'attributionNote',
  forecast_source: 'forecastSource',
  planned_start: 'plannedStart',
  embodied_source: 'embodiedSource',
  water_source: 'waterSource',
  functional_unit: 'functionalUnit',
  job_id: 'jobId',
  node_name: 'nodeName',
} as const

describe('a CSV of hostile text', () => {
  it("reads back the same rows through Python's csv module and csv-parse, and wattprint's reader restores every string", async () => {
    const path = join(tempDir(), 'emissions.csv')
    const sink = new CsvSink(path, () => {})
    const records = hostileRecords()
    for (const record of records) expect(await sink.append(record)).toBe(true)

    const python = readCsvWithPython(path)
    const csvParse = parse(readFileSync(path), { columns: true }) as Record<string, string>[]
    expect(python).toHaveLength(records.length)
    expect(csvParse).toEqual(python)
    expect(Object.keys(python[0] ?? {})).toEqual([...CSV_COLUMNS])

    const restored = parseEmissionsCsv(readFileSync(path))
    expect(restored.format).toBe('wattprint')
    expect(restored.malformed).toBe(0)
    records.forEach((record, i) => {
      const raw = python[i] as Record<string, string>
      const row = restored.rows[i] as Record<string, string>
      // Numbers stay numbers, in their columns.
      expect(raw.duration).toBe(String(i + 0.5))
      expect(raw.pue).toBe('1.2')
      for (const [column, field] of Object.entries(TEXT_FIELDS)) {
        const given = record[field] as string
        expect(row[column]).toBe(given)
        // What a spreadsheet sees never starts a formula.
        expect(raw[column]).not.toMatch(/^[=+\-@\t\r]/)
        expect(raw[column]).toBe(neutraliseText(given))
      }
    })
  })

  it('writes `wattprint run --project` with a carriage return as one row Python reads whole', () => {
    const dir = tempDir()
    const run = spawnSync(
      process.execPath,
      [resolve('dist/cli.js'), 'run', '--project', 'a\rb', '--experiment', '=1+1', '-o', dir, '--', 'true'],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
          WATTPRINT_RAPL_ROOT: join(dir, 'none'),
        },
      },
    )
    expect(run.status, run.stderr).toBe(0)
    const rows = readCsvWithPython(join(dir, 'emissions.csv'))
    expect(rows).toHaveLength(1)
    expect(rows[0]?.project_name).toBe('a\rb')
    expect(rows[0]?.experiment_id).toBe("'=1+1")
    expect(rows[0]?.status).toBe('finished')
    const report = spawnSync(
      process.execPath,
      [resolve('dist/cli.js'), 'report', join(dir, 'emissions.csv'), '--by', 'experiment', '--json'],
      { encoding: 'utf8' },
    )
    expect((JSON.parse(report.stdout) as { groups: { key: string }[] }).groups[0]?.key).toBe('=1+1')
  })
})

describe('formula neutralisation', () => {
  const triggered = /^[=+\-@\t\r]/
  it('is undone exactly, for any text, and leaves nothing a spreadsheet would run', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (text) => {
        const cell = neutraliseText(text)
        expect(restoreText(cell)).toBe(text)
        expect(cell).not.toMatch(triggered)
      }),
      { numRuns: 2_000 },
    )
    // Text built from the characters that matter, where a careless rule breaks.
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("'", '=', '+', '-', '@', '\t', '\r', 'a') }), (text) => {
        expect(restoreText(neutraliseText(text))).toBe(text)
        expect(neutraliseText(text)).not.toMatch(triggered)
      }),
      { numRuns: 2_000 },
    )
  })

  it('changes only text that needs it', () => {
    expect(neutraliseText("O'Brien")).toBe("O'Brien")
    expect(neutraliseText("'quoted'")).toBe("'quoted'")
    expect(neutraliseText('mnist-2')).toBe('mnist-2')
    expect(neutraliseText('-lr 0.1')).toBe("'-lr 0.1")
    expect(neutraliseText("'=x")).toBe("''=x")
  })

  it('applies to text columns only: numbers are never prefixed', () => {
    const line = recordToLine(sampleRecord({ projectName: '-p', cpuCount: 64, pue: 1.5 }))
    const [row] = parse(line, { columns: [...CSV_COLUMNS] }) as Record<string, string>[]
    expect(row?.project_name).toBe("'-p")
    expect(row?.cpu_count).toBe('64')
    for (const [column, cell] of Object.entries(row ?? {})) {
      if (!TEXT_COLUMNS.has(column)) expect(cell, column).not.toMatch(/^'/)
    }
  })
})

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

describe('any record', () => {
  it('round-trips its text through a CSV line and wattprint reader (fast-check)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), (project, run) => {
        // Lone surrogates cannot be written as UTF-8; a well-formed string always round-trips.
        fc.pre(!LONE_SURROGATE.test(run))
        const line = recordToLine(sampleRecord({ projectName: project, runId: run }), '\r\n')
        const header = `${CSV_COLUMNS.join(',')}\r\n`
        const [row] = parseEmissionsCsv(header + line).rows
        expect(row?.project_name).toBe(project)
        expect(row?.run_id).toBe(run)
      }),
      { numRuns: 500 },
    )
  })
})
