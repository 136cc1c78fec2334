import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import {
  CODECARBON_COLUMNS,
  CSV_COLUMNS,
  formatCsvLine,
  LEGACY_CSV_COLUMNS,
} from '../src/output/csv/format.js'
import { parseEmissionsCsv } from '../src/output/csv/read.js'
import { CSV_HEADER, CsvSink, recordToLine } from '../src/output/csv/sink.js'
import { readCsvWithPython } from './helpers/csv.js'
import { sampleRecord } from './helpers/records.js'
import { runTrackerProcesses } from './helpers/writers.js'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-csv-files-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const backups = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('emissions.backup-'))

/** Appends one record to `content` written as emissions.csv; the file's text after, and the warnings. */
async function appendTo(content: string, over = {}) {
  const dir = tempDir()
  const path = join(dir, 'emissions.csv')
  writeFileSync(path, content)
  const warnings: TrackerWarning[] = []
  const written = await new CsvSink(path, (w) => warnings.push(w)).append(
    sampleRecord({ runId: 'new', ...over }),
  )
  return { dir, path, written, warnings, text: readFileSync(path, 'utf8') }
}

describe('an existing wattprint CSV', () => {
  const old = CSV_HEADER + recordToLine(sampleRecord({ runId: 'old' }))

  it('without its final newline gets one, and the row after it, with nothing backed up', async () => {
    const { dir, text, warnings, path } = await appendTo(old.slice(0, -1))
    expect(warnings).toEqual([])
    expect(backups(dir)).toEqual([])
    expect(text).toBe(old + recordToLine(sampleRecord({ runId: 'new' })))
    expect(readCsvWithPython(path).map((r) => r.run_id)).toEqual(['old', 'new'])
  })

  it('holding only its header, without a newline, is appended to', async () => {
    const { text, warnings } = await appendTo(CSV_HEADER.slice(0, -1))
    expect(warnings).toEqual([])
    expect(text).toBe(CSV_HEADER + recordToLine(sampleRecord({ runId: 'new' })))
  })

  it('with CRLF line ends (a spreadsheet or a Windows editor) gets its rows with CRLF too', async () => {
    const crlf = old.replaceAll('\n', '\r\n')
    const { dir, text, warnings, path } = await appendTo(crlf)
    expect(warnings).toEqual([])
    expect(backups(dir)).toEqual([])
    expect(text).toBe(crlf + recordToLine(sampleRecord({ runId: 'new' }), '\r\n'))
    expect(readCsvWithPython(path).map((r) => r.run_id)).toEqual(['old', 'new'])
    expect(parseEmissionsCsv(text).rows.map((r) => r.run_id)).toEqual(['old', 'new'])
  })

  it('with CRLF, a byte order mark and no final newline is accepted too', async () => {
    const edited = `\uFEFF${old.replaceAll('\n', '\r\n').slice(0, -2)}`
    const { text, warnings } = await appendTo(edited)
    expect(warnings).toEqual([])
    expect(text).toBe(`${edited}\r\n${recordToLine(sampleRecord({ runId: 'new' }), '\r\n')}`)
  })

  it.each([
    ['inside the status', old.slice(0, -4), '\n', 2, 0],
    ['at a cell boundary', old.slice(0, old.lastIndexOf(',')), '\n', 1, 1],
    // Right after the line feed inside the quoted project name: a row that looks like two lines.
    [
      'inside a quoted cell',
      CSV_HEADER + recordToLine(sampleRecord({ projectName: 'a\nb' })).slice(0, 28),
      '"\n',
      1,
      1,
    ],
  ])(
    'cut off %s keeps its place and every byte: the cut row is ended, and the new row follows it',
    async (_, cut, ending, rows, malformed) => {
      const { dir, text, warnings } = await appendTo(cut)
      expect(warnings.map((w) => w.code)).toEqual(['CSV_ROW_CUT'])
      expect(warnings[0]?.message).toContain('ended in the middle of a row')
      expect(backups(dir)).toEqual([])
      expect(readdirSync(dir)).toEqual(['emissions.csv'])
      expect(text).toBe(cut + ending + recordToLine(sampleRecord({ runId: 'new' })))
      // The cut row is one malformed row (or, cut inside its status, a whole row with a cut status word).
      const table = parseEmissionsCsv(text)
      expect(table.rows.map((r) => r.run_id).at(-1)).toBe('new')
      expect([table.rows.length, table.malformed]).toEqual([rows, malformed])
    },
  )

  it('cut off mid-row, is ended once however many processes append to it at the same time', async () => {
    const dir = tempDir()
    const path = join(dir, 'emissions.csv')
    // Cut inside a quoted cell: a second closing quote would open a cell that swallows every later row.
    const cut = CSV_HEADER + recordToLine(sampleRecord({ projectName: 'a\nb' })).slice(0, 28)
    writeFileSync(path, cut)
    await runTrackerProcesses(4, dir, "runId: 'w' + writer")
    const text = readFileSync(path, 'utf8')
    expect(text.startsWith(`${cut}"\n`)).toBe(true)
    const table = parseEmissionsCsv(text)
    expect(table.rows.map((r) => r.run_id).sort()).toEqual(['w0', 'w1', 'w2', 'w3'])
    expect(table.malformed).toBe(1)
    expect(readdirSync(dir)).toEqual(['emissions.csv'])
  }, 60_000)
})

/** A finished 5 s row of 2026-11-01 under `columns`, with `cells` filled in and every other cell empty. */
function rowUnder(columns: readonly string[], cells: Readonly<Record<string, string>>): string {
  const fixed: Record<string, string> = {
    timestamp: '2026-11-01T00:00:00.000Z',
    status: 'finished',
    duration: '5',
  }
  return formatCsvLine(
    columns.map((c) => cells[c] ?? fixed[c] ?? ''),
    '\n',
  )
}

describe("a CSV under wattprint's earlier header", () => {
  // The header wattprint wrote before (node_version and wattprint_version in CodeCarbon's Python columns).
  const legacyHeader = formatCsvLine(LEGACY_CSV_COLUMNS, '\n')
  const legacyRow = (runId: string, project: string) =>
    rowUnder(LEGACY_CSV_COLUMNS, { run_id: runId, project_name: project, node_version: '22.1.0' })
  const legacy = legacyHeader + legacyRow('r1', '=raw, "quoted"') + legacyRow('r2', "'x")

  it('is migrated: rewritten under the current header, the original kept, its text and versions kept', async () => {
    const { dir, path, text, warnings } = await appendTo(legacy)
    expect(warnings.map((w) => w.code)).toEqual(['CSV_MIGRATED'])
    expect(warnings[0]?.message).toMatch(/its 2 row\(s\) were rewritten under the current header/)
    expect(readFileSync(join(dir, backups(dir)[0] as string), 'utf8')).toBe(legacy)
    expect(text.startsWith(CSV_HEADER)).toBe(true)
    const rows = parseEmissionsCsv(text).rows
    expect(rows.map((r) => [r.run_id, r.project_name, r.node_version, r.python_version])).toEqual([
      ['r1', '=raw, "quoted"', '22.1.0', ''],
      ['r2', "'x", '22.1.0', ''],
      ['new', 'mnist, "quoted" project', '20.20.2', ''],
    ])
    // The migrated names are neutralised like new ones.
    expect(readCsvWithPython(path)[0]?.project_name).toBe(`'=raw, "quoted"`)
    expect(readdirSync(dir).sort()).toEqual(['emissions.csv', ...backups(dir)].sort())
  })

  it('is migrated once when four processes append to it at the same time, losing no row', async () => {
    const dir = tempDir()
    const path = join(dir, 'emissions.csv')
    writeFileSync(path, legacy)
    await runTrackerProcesses(4, dir, "runId: 'w' + writer")
    const text = readFileSync(path, 'utf8')
    expect(text.split(CSV_HEADER)).toHaveLength(2)
    const ids = readCsvWithPython(path).map((r) => r.run_id)
    expect([...ids].sort()).toEqual(['r1', 'r2', 'w0', 'w1', 'w2', 'w3'])
    expect(backups(dir)).toHaveLength(1)
    expect(
      readdirSync(dir).filter((f) => f !== 'emissions.csv' && !f.startsWith('emissions.backup-')),
    ).toEqual([])
  }, 60_000)
})

describe('a CSV under an earlier header of this layout (columns added since)', () => {
  // Last release's header: CodeCarbon's 38, then wattprint's columns as they stood, status last.
  const earlier = [...CODECARBON_COLUMNS, 'node_version', 'wattprint_version', 'cpu_source', 'status']
  const row = (runId: string, project: string) =>
    rowUnder(earlier, { run_id: runId, project_name: project, cpu_source: 'rapl' })
  // Its text was neutralised as today's is: the reader restores it.
  const file = formatCsvLine(earlier, '\n') + row('e1', "'=sum") + row('e2', 'plain')

  it('is migrated by column name, the new columns left empty, and read back by Python', async () => {
    const { dir, path, text, warnings } = await appendTo(file)
    expect(warnings.map((w) => w.code)).toEqual(['CSV_MIGRATED'])
    expect(warnings[0]?.message).toContain('an earlier wattprint header')
    expect(readFileSync(join(dir, backups(dir)[0] as string), 'utf8')).toBe(file)
    expect(text.startsWith(CSV_HEADER)).toBe(true)
    const rows = readCsvWithPython(path)
    expect(rows.map((r) => [r.run_id, r.project_name, r.cpu_source, r.requests, r.status])).toEqual([
      ['e1', "'=sum", 'rapl', '', 'finished'],
      ['e2', 'plain', 'rapl', '', 'finished'],
      ['new', 'mnist, "quoted" project', 'rapl', '240', 'finished'],
    ])
    expect(parseEmissionsCsv(text).rows[0]?.project_name).toBe('=sum')
  })

  it('is not taken for ours when a column is unknown or repeated: backed up instead', async () => {
    const odd = formatCsvLine([...earlier.slice(0, -1), 'mystery', 'status'], '\n')
    const { warnings } = await appendTo(odd)
    expect(warnings.map((w) => w.code)).toEqual(['CSV_BACKED_UP'])
    const twice = formatCsvLine([...earlier, 'status'], '\n')
    expect((await appendTo(twice)).warnings.map((w) => w.code)).toEqual(['CSV_BACKED_UP'])
  })
})

describe("a CSV written before the tracker's overhead columns", () => {
  // The header as it stood: the columns of today up to tracker_cpu_seconds, then status.
  const before = [...CSV_COLUMNS.slice(0, CSV_COLUMNS.indexOf('tracker_cpu_seconds')), 'status']
  const file = formatCsvLine(before, '\n') + rowUnder(before, { run_id: 'old', cpu_source: 'rapl' })

  it('is migrated, its rows left without the overhead, and a new row carries it, read back by Python', async () => {
    const { path, text, warnings } = await appendTo(file, {
      trackingMode: 'process',
      trackerCpuS: 0.42,
      trackerEnergyKWh: 1.5e-6,
    })
    expect(warnings.map((w) => w.code)).toEqual(['CSV_MIGRATED'])
    expect(text.startsWith(CSV_HEADER)).toBe(true)
    const rows = readCsvWithPython(path)
    // Python's csv module finds the two columns by name, just before status, on every row.
    const columns = Object.keys(rows[0] ?? {})
    const at = columns.indexOf('tracker_cpu_seconds')
    expect(columns.slice(at, at + 3)).toEqual(['tracker_cpu_seconds', 'tracker_energy', 'energy_low'])
    expect(columns.at(-1)).toBe('status')
    expect(rows.map((r) => [r.run_id, r.tracker_cpu_seconds, r.tracker_energy, r.status])).toEqual([
      ['old', '', '', 'finished'],
      ['new', '0.42', '0.0000015', 'finished'],
    ])
    expect(Number(rows[1]?.tracker_energy)).toBe(1.5e-6)
  })
})
