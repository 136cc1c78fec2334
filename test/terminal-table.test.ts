import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CELL_MAX_COLUMNS, tableLines } from '../src/cli/table.js'
import { displayWidth, fitColumns } from '../src/core/text.js'
import { CSV_HEADER, recordToLine } from '../src/output/csv/sink.js'
import { sampleRecord } from './helpers/records.js'

// A terminal table pads every row to its columns' widths: one long name (a project, a region as typed)
// would widen every line. Cells are cut to CELL_MAX_COLUMNS with an ellipsis, in every table the CLI prints.

const cli = resolve('dist/cli.js')
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

describe('a terminal table', () => {
  it('cuts a long cell to its width with an ellipsis, and pads the rest to the columns', () => {
    const long = 'x'.repeat(20_000)
    const lines = tableLines(
      [
        ['name', 'kWh'],
        [long, '1.5'],
        ['short', '12.25'],
      ],
      { right: (c) => c > 0, rulesBefore: [1] },
    )
    expect(lines).toEqual([
      `${'name'.padEnd(CELL_MAX_COLUMNS)}    kWh`,
      `${'-'.repeat(CELL_MAX_COLUMNS)}  -----`,
      `${'x'.repeat(CELL_MAX_COLUMNS - 1)}…    1.5`,
      `${'short'.padEnd(CELL_MAX_COLUMNS)}  12.25`,
    ])
  })

  it('counts the columns a terminal shows: wide characters two, combining marks none, never half a character', () => {
    expect(displayWidth('東京')).toBe(4)
    expect(displayWidth('e\u0301t\u0301e\u0301')).toBe(3)
    expect(displayWidth('🚀')).toBe(2)
    const cut = fitColumns('東'.repeat(30), 9)
    expect(cut).toBe('東東東東…')
    expect(displayWidth(cut)).toBeLessThanOrEqual(9)
    expect(fitColumns('🚀'.repeat(10), 6)).toBe('🚀🚀…')
    const lines = tableLines([
      ['東京', 'a'],
      ['ab', 'b'],
    ])
    expect(lines.map((l) => displayWidth(l))).toEqual([7, 7])
  })

  it('writes control characters out before it measures the cell', () => {
    const [line] = tableLines([['a\u001b[2J\u202eb', 'c']])
    expect(line).toBe('a\\u001b[2J\\u202eb  c')
  })

  it("keeps report's output to the table's width, whatever the length of a project's name", () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-table-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const csv = join(dir, 'emissions.csv')
    const name = `project-${'n'.repeat(1_000_000)}`
    writeFileSync(
      csv,
      CSV_HEADER +
        recordToLine(sampleRecord({ runId: 'a', projectName: name })) +
        recordToLine(sampleRecord({ runId: 'b', projectName: 'other' })),
    )
    const run = spawnSync(process.execPath, [cli, 'report', csv], { encoding: 'utf8', maxBuffer: 1 << 26 })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout.length).toBeLessThan(4000)
    // The table's six lines (header, rule, two projects, rule, total), the saving of run --within, then
    // what the columns hold (CodeCarbon's scope, the wall, the interval).
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(10)
    expect(lines.some((l) => l.startsWith(`project-${'n'.repeat(CELL_MAX_COLUMNS - 9)}… `))).toBe(true)
    // The table's own width (its columns with their intervals, about 220), not the name's million.
    for (const line of lines) expect(line.length).toBeLessThan(260)
  })
})
