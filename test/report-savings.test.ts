import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CSV_HEADER, recordToLine } from '../src/output/csv/sink.js'
import { sampleRecord } from './helpers/records.js'

const cli = resolve('dist/cli.js')
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('wattprint report: what waiting saved', () => {
  it('totals the counterfactuals of scheduled runs against the same forecasts (by hand: 0.4 kg)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-savings-'))
    dirs.push(dir)
    const file = join(dir, 'emissions.csv')
    const unscheduled = {
      plannedStart: null,
      forecastIntensityGPerKWh: null,
      forecastSource: null,
      counterfactualEmissionsKg: null,
      pausedS: null,
    }
    writeFileSync(
      file,
      CSV_HEADER +
        // 2 kWh at a forecast 100 g/kWh = 0.2 kg; 0.5 kg at once: 0.3 kg saved.
        recordToLine(
          sampleRecord({
            runId: 'a',
            energyKWh: 2,
            forecastIntensityGPerKWh: 100,
            counterfactualEmissionsKg: 0.5,
          }),
        ) +
        // 1 kWh at 200 g/kWh (marginal) = 0.2 kg; 0.3 kg at once: 0.1 kg saved.
        recordToLine(
          sampleRecord({
            runId: 'b',
            energyKWh: 1,
            forecastIntensityGPerKWh: 200,
            forecastSource: 'forecast:watttime-marginal:CAISO_NORTH',
            counterfactualEmissionsKg: 0.3,
          }),
        ) +
        recordToLine(sampleRecord({ runId: 'c', energyKWh: 5, ...unscheduled })),
    )
    const text = spawnSync(process.execPath, [cli, 'report', file], { encoding: 'utf8' })
    expect(text.status).toBe(0)
    expect(text.stdout).toContain(
      'waiting for cleaner hours (run --within): 2 run(s), 400.00 g CO2e by the forecast instead of 800.00 g had they started at once: 400.00 g saved; 1 of them by a marginal signal (WattTime)',
    )
    const json = spawnSync(process.execPath, [cli, 'report', file, '--json'], { encoding: 'utf8' })
    const waiting = (JSON.parse(json.stdout) as { waiting: Record<string, number> }).waiting
    expect(waiting.runs).toBe(2)
    expect(waiting.savedKg).toBeCloseTo(0.4, 12)
    expect(waiting.counterfactualKg).toBeCloseTo(0.8, 12)
  })
})
