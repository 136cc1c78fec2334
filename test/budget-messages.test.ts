import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { emptyTotals } from '../src/accounting/ledger.js'
import type { BudgetEvent } from '../src/model/events.js'
import { BudgetWatch } from '../src/tracker/budget-watch.js'
import { describePrediction } from '../src/tracker/progress.js'

// A budget's messages are read by people: in words (the run's energy, emissions, duration), not the
// option's field names, and on the command line once, with the flag that set the limit.

const cli = resolve('dist/cli.js')
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const FIELD_NAMES = /energyKWh|emissionsKg|durationS/

describe('budget messages', () => {
  it('name the quantity in words, measured or forecast', () => {
    const events: BudgetEvent[] = []
    const watch = new BudgetWatch({ durationS: 2 }, (e) => events.push(e))
    watch.check({ ...emptyTotals(), durationS: 2.5 })
    expect(events[0]?.limit).toBe('durationS')
    expect(events[0]?.message).toBe('Budget crossed: the duration 2.5 s reached the limit of 2.0 s.')

    const forecast = new BudgetWatch({ energyKWh: 0.001 }, (e) => events.push(e))
    const prediction = {
      done: 1,
      total: 10,
      durationS: 100,
      energyKWh: 0.002,
      emissionsKg: 0.001,
      exceeds: 'energyKWh' as const,
    }
    forecast.crossByForecast(prediction, { ...emptyTotals(), wallEnergyKWh: 0.0002 })
    expect(events[1]?.message).toBe(
      'Budget crossed by the forecast: the energy predicted at 2.00 Wh after 1 of 10, over the limit of 1.00 Wh (720.0 J so far).',
    )
    expect(describePrediction(prediction)).toMatch(/: over the energy budget$/)
    for (const e of events) expect(e.message).not.toMatch(FIELD_NAMES)
  })

  it('are printed once by wattprint run, with the flag that set the limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-budget-'))
    dirs.push(dir)
    const run = spawnSync(
      process.execPath,
      [
        cli,
        'run',
        '-o',
        dir,
        '--interval',
        '100ms',
        '--max-duration',
        '1s',
        '--',
        process.execPath,
        '-e',
        'setTimeout(() => {}, 60000)',
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          WATTPRINT_RAPL_ROOT: '/nonexistent',
          WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
        },
        timeout: 60_000,
      },
    )
    expect(run.status).toBe(128 + 15)
    expect(run.stderr.match(/Budget crossed/g)).toHaveLength(1)
    expect(run.stderr).toMatch(/Budget crossed: the duration [\d.]+ s reached the limit of 1\.0 s\./)
    expect(run.stderr).toMatch(
      /wattprint: stopping the command for --max-duration 1s: SIGTERM, then SIGKILL after 10 s/,
    )
    expect(run.stderr).not.toMatch(FIELD_NAMES)
  })
})
