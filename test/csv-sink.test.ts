import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  CSV_COLUMNS,
  csvSink,
  EmissionsTracker,
  type Sink,
  type TrackerWarning,
  WattprintError,
} from '../src/index.js'
import { SinkFanout } from '../src/output/fanout.js'
import { makeTempDir, onCleanup } from './helpers/temp-dir.js'

// The CSV writer is a Sink: the tracker's own file (saveToFile) goes through the fan-out like any other
// sink, and csvSink() writes a second file with the same rows, read back here by Python's csv module.

const base = {
  logLevel: 'silent' as const,
  carbonIntensityGPerKWh: 200,
  intervalMs: 50,
  sampling: 'inline' as const,
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The rows of a CSV as Python's csv.DictReader reads them. */
function pythonRows(path: string): Record<string, string>[] {
  const script =
    'import csv, json, sys\nprint(json.dumps(list(csv.DictReader(open(sys.argv[1], newline="")))))'
  const run = spawnSync('python3', ['-c', script, path], { encoding: 'utf8' })
  expect(run.stderr).toBe('')
  return JSON.parse(run.stdout) as Record<string, string>[]
}

describe('csvSink', () => {
  it("writes the tracker's rows to a second file: one at flush(), one at stop(), as the tracker's own", async () => {
    const dir = makeTempDir('wattprint-csv-sink-')
    const second = join(dir, 'per-node', 'node-a.csv')
    const hostile = 'job "1",\r\n=SUM(A1)\u202e'
    const warnings: TrackerWarning[] = []
    const tracker = new EmissionsTracker({
      ...base,
      outputDir: dir,
      projectName: hostile,
      runId: 'csv-sink-1',
      sinks: [csvSink({ path: second })],
    })
    tracker.on('warning', (w) => warnings.push(w))
    onCleanup(() => void tracker.stop().catch(() => {}))
    await tracker.start()
    await sleep(120)
    const flushed = await tracker.flush()
    await sleep(120)
    const record = await tracker.stop()
    expect(warnings.filter((w) => w.code.startsWith('CSV_'))).toEqual([])

    const own = pythonRows(join(dir, 'emissions.csv'))
    const copy = pythonRows(second)
    expect(copy).toEqual(own)
    expect(copy.map((r) => r.status)).toEqual(['running', 'finished'])
    expect(Object.keys(copy[0] ?? {})).toEqual([...CSV_COLUMNS])
    expect(copy[1]?.run_id).toBe('csv-sink-1')
    expect(copy[1]?.project_name).toBe(hostile)
    expect(Number(copy[0]?.energy_consumed)).toBeCloseTo(flushed?.energyKWh ?? Number.NaN, 12)
    expect(Number(copy[1]?.energy_consumed)).toBeCloseTo(record.energyKWh, 12)
    expect(Number(copy[1]?.duration)).toBeGreaterThan(Number(copy[0]?.duration))
  })

  it("with saveToFile: false, the tracker writes no file of its own and the sink's is the only one", async () => {
    const dir = makeTempDir('wattprint-csv-sink-')
    const path = join(dir, 'only.csv')
    const tracker = new EmissionsTracker({
      ...base,
      outputDir: dir,
      saveToFile: false,
      sinks: [csvSink({ path })],
    })
    onCleanup(() => void tracker.stop().catch(() => {}))
    await tracker.start()
    await sleep(80)
    await tracker.stop()
    expect(existsSync(join(dir, 'emissions.csv'))).toBe(false)
    expect(pythonRows(path).map((r) => r.status)).toEqual(['finished'])
  })

  it('a file it cannot write is a CSV_WRITE_FAILED warning through the run, and the run and its own CSV go on', async () => {
    const dir = makeTempDir('wattprint-csv-sink-')
    // Under a regular file: no folder can be made there, for root either.
    writeFileSync(join(dir, 'a-file'), 'x')
    const blocked = join(dir, 'a-file', 'cannot.csv')
    const warnings: TrackerWarning[] = []
    const tracker = new EmissionsTracker({ ...base, outputDir: dir, sinks: [csvSink({ path: blocked })] })
    tracker.on('warning', (w) => warnings.push(w))
    onCleanup(() => void tracker.stop().catch(() => {}))
    await tracker.start()
    await sleep(80)
    const record = await tracker.stop()
    expect(record.status).toBe('finished')
    expect(warnings.map((w) => w.code).filter((c) => c.startsWith('CSV_'))).toEqual(['CSV_WRITE_FAILED'])
    expect(warnings.find((w) => w.code === 'CSV_WRITE_FAILED')?.message).toContain(blocked)
    expect(pythonRows(join(dir, 'emissions.csv')).map((r) => r.status)).toEqual(['finished'])
    expect(readFileSync(join(dir, 'emissions.csv'), 'utf8').split('\n')[0]).toBe(CSV_COLUMNS.join(','))
  })

  it('a sink that takes neither intervals nor requests does not make the fan-out want them', () => {
    // The CSV (and a sink that only wants the record) leaves the worker batching its intervals.
    const warn = () => {}
    const config = { projectName: 'p', experimentId: '', runId: 'r', pue: 1, maxRouteLabels: 100 }
    const recordOnly: Sink = { name: 'record-only', start: () => {} }
    expect(new SinkFanout([csvSink({ path: 'x.csv' }), recordOnly], config, warn).any).toBe(false)
    expect(new SinkFanout([recordOnly, { ...recordOnly, sample: () => {} }], config, warn).any).toBe(true)
    expect(new SinkFanout([{ ...recordOnly, request: () => {} }], config, warn).any).toBe(true)
  })

  it('refuses a path that is no file name, with a WattprintError naming the option', () => {
    for (const bad of [undefined, '', '  ', 'a\0b', 42]) {
      let error: unknown
      try {
        csvSink({ path: bad as string })
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(WattprintError)
      expect((error as WattprintError).code).toBe('INVALID_OPTION')
      expect((error as Error).message).toMatch(/^csvSink: path .* must be the CSV file/)
    }
    expect(() => csvSink(null as never)).toThrow(WattprintError)
  })
})
