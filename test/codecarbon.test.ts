import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { alignShortRow, parseEmissionsCsv } from '../src/output/csv/read.js'
import { CsvSink } from '../src/output/csv/sink.js'
import { sampleRecord } from './helpers/records.js'

const cli = resolve('dist/cli.js')
/**
 * CodeCarbon 3.3's output for three runs of an OfflineEmissionsTracker(country_iso_code="FRA") on a
 * machine without a GPU: the first row is written with the header and every column (region, longitude and
 * latitude are None, so empty); each later one is appended after `dropna(axis=1, how="all")`
 * (codecarbon/output_methods/file.py), so it lacks those three cells and its later cells move left.
 */
const offline = resolve('test/fixtures/codecarbon-offline-3-runs.csv')

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe("CodeCarbon's appended rows, shorter than its header", () => {
  it('are read whole: every cell under its own column', () => {
    const table = parseEmissionsCsv(readFileSync(offline))
    expect(table.format).toBe('codecarbon')
    expect(table.malformed).toBe(0)
    expect(table.rows).toHaveLength(3)
    for (const row of table.rows) {
      expect(row).toMatchObject({
        country_iso_code: 'FRA',
        region: '',
        longitude: '',
        latitude: '',
        os: 'Linux-6.8.0-49-generic-x86_64-with-glibc2.39',
        python_version: '3.12.3',
        ram_total_size: '62.5',
        tracking_mode: 'machine',
        on_cloud: 'N',
        wue: '0.0',
      })
    }
    expect(table.rows.map((r) => r.energy_consumed)).toEqual(['0.001754', '0.000877', '0.004385'])
  })

  it('are all counted by `wattprint report` (3 runs, not 1)', () => {
    const run = spawnSync(process.execPath, [cli, 'report', offline, '--json'], { encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    const json = JSON.parse(run.stdout) as { total: { runs: number; energyKWh: number }; skipped: string[] }
    expect(json.total.runs).toBe(3)
    expect(json.total.energyKWh).toBeCloseTo(0.001754 + 0.000877 + 0.004385, 12)
    expect(json.skipped).toEqual([])
  })

  it('are aligned only where every cell fits its column; otherwise the row is malformed', () => {
    const header = ['timestamp', 'duration', 'region', 'longitude', 'latitude', 'ram_total_size', 'on_cloud']
    expect(alignShortRow(header, ['2026-01-01T00:00:00', '5', '8.0', 'N'])).toEqual([
      '2026-01-01T00:00:00',
      '5',
      '',
      '',
      '',
      '8.0',
      'N',
    ])
    // Only region left out: longitude and latitude are numbers.
    expect(alignShortRow(header, ['2026-01-01T00:00:00', '5', '2.35', '48.85', '8.0', 'N'])).toEqual([
      '2026-01-01T00:00:00',
      '5',
      '',
      '2.35',
      '48.85',
      '8.0',
      'N',
    ])
    expect(alignShortRow(header, ['2026-01-01T00:00:00', 'five', 'N'])).toBeNull()
    expect(alignShortRow(header, ['2026-01-01T00:00:00'])).toBeNull()
  })
})

// CodeCarbon's EmissionsData, from an installed codecarbon or from its emissions_data.py named here.
const LOADER = `
import csv, dataclasses, importlib.util, json, os, sys
source = os.environ.get('CODECARBON_EMISSIONS_DATA_PY')
if source:
    spec = importlib.util.spec_from_file_location('emissions_data', source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    EmissionsData = module.EmissionsData
else:
    try:
        from codecarbon.output_methods.emissions_data import EmissionsData
    except ImportError:
        sys.exit(3)
fields = [f.name for f in dataclasses.fields(EmissionsData)]
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    reader = csv.DictReader(f)
    if reader.fieldnames[:len(fields)] != fields:
        sys.exit('the first columns are not EmissionsData fields: %r' % reader.fieldnames[:len(fields)])
    rows = [EmissionsData(**{name: row[name] for name in fields}) for row in reader]
json.dump([dict(r.values) for r in rows], sys.stdout)
`

describe("CodeCarbon's EmissionsData", () => {
  it('loads a wattprint row from its first 38 columns (skipped unless codecarbon is importable)', async (context) => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-codecarbon-'))
    dirs.push(dir)
    const path = join(dir, 'emissions.csv')
    const record = sampleRecord({ projectName: '=sum' })
    await new CsvSink(path, () => {}).append(record)
    const run = spawnSync('python3', ['-c', LOADER, path], { encoding: 'utf8' })
    if (run.status === 3) {
      context.skip()
      return
    }
    expect(run.status, run.stderr).toBe(0)
    const [row] = JSON.parse(run.stdout) as Record<string, string>[]
    expect(row).toMatchObject({
      project_name: "'=sum",
      run_id: 'run-1',
      duration: '12.5',
      energy_consumed: '0.00125',
      python_version: '',
      codecarbon_version: '',
      // The record's own figure (L per IT kWh), as CodeCarbon writes its wue.
      wue: String(record.wueLPerKWh),
    })
  })
})
