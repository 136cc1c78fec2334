import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/config/config.js'
import type { TrackerOptions } from '../src/config/options.js'
import { WattprintError } from '../src/core/errors.js'
import type { BudgetEvent } from '../src/model/events.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { readCsv } from './helpers/csv.js'
import { makePowercapTree } from './helpers/powercap.mjs'
import { makeTempDir, onCleanup } from './helpers/temp-dir.js'

const tempDir = (): string => makeTempDir('wattprint-budget-')

/** A tracker writing to `dir`, at a fixed intensity, sampling every 50 ms, its budget events collected. */
function budgetTracker(
  dir: string,
  options: TrackerOptions,
): { tracker: EmissionsTracker; events: BudgetEvent[] } {
  const tracker = new EmissionsTracker({
    outputDir: dir,
    intervalMs: 50,
    logLevel: 'silent',
    carbonIntensityGPerKWh: 100,
    ...options,
  })
  const events: BudgetEvent[] = []
  tracker.on('budget', (e) => events.push(e))
  return { tracker, events }
}

describe.each(['worker', 'inline'] as const)('budget, %s sampling', (sampling) => {
  it('emits one budget event, aborts tracker.signal and marks the row budget-exceeded', async () => {
    const dir = tempDir()
    // The estimates draw over 20 W here (RAM alone): 1 mWh is crossed within a fraction of a second.
    const { tracker, events } = budgetTracker(dir, {
      sampling,
      raplRoot: join(dir, 'none'),
      budget: { energyKWh: 0.000001, durationS: 60 },
    })
    await tracker.start()
    const aborted = await new Promise<unknown>((resolve) => {
      // On a loaded machine the limit can be crossed before start() resolves, the abort already past.
      if (tracker.signal.aborted) resolve(tracker.signal.reason)
      tracker.signal.addEventListener('abort', () => resolve(tracker.signal.reason), { once: true })
      setTimeout(() => resolve('not aborted'), 5000)
    })
    await new Promise((r) => setTimeout(r, 200))
    const record = await tracker.stop()
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ limit: 'energyKWh', budget: 0.000001 })
    expect(events[0]?.actual).toBeGreaterThanOrEqual(0.000001)
    expect((aborted as Error).message).toBe(events[0]?.message)
    expect(record.status).toBe('budget-exceeded')
    expect(record.notes).toContain(events[0]?.message)
    expect(readCsv(join(dir, 'emissions.csv'))[0]?.status).toBe('budget-exceeded')
  })

  it('takes a forecast over the budget as the budget crossed only with stopOnBudget, through the same path', async () => {
    const dir = tempDir()
    // A package counter the test steps by 0.5 J per unit of work, RAM at 0 W, a 2 J budget.
    const tree = makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0', energyUj: 1_000_000 }])
    onCleanup(() => tree.cleanup())
    const J = 1 / 3.6e6
    const { tracker, events } = budgetTracker(dir, {
      sampling,
      raplRoot: tree.root,
      ramPowerW: 0,
      gpuIds: [],
      // The package's joules alone (CPU+GPU+RAM): the wall would add the modelled rest of the machine.
      emissionsScope: 'components',
      budget: { energyKWh: 2 * J },
    })
    await tracker.start()
    tracker.predict({ done: 0, total: 10 })
    tree.setEnergy('intel-rapl:0', 1_500_000)
    // 0.5 J done of 10 units: 5 J forecast. Without stopOnBudget, a forecast and nothing more.
    expect(tracker.predict({ done: 1, total: 10 })?.exceeds).toBe('energyKWh')
    expect(events).toHaveLength(0)
    expect(tracker.signal.aborted).toBe(false)
    const forecast = tracker.predict({ done: 1, total: 10 }, { stopOnBudget: true })
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ limit: 'energyKWh', budget: 2 * J, predicted: forecast?.energyKWh })
    expect((events[0]?.actual ?? 0) / J).toBeCloseTo(0.5, 6)
    expect(tracker.signal.aborted).toBe(true)
    expect((tracker.signal.reason as Error).message).toBe(events[0]?.message)
    // The measured figure crossing it later is the same crossing, not a second one.
    tree.setEnergy('intel-rapl:0', 4_000_000)
    await new Promise((r) => setTimeout(r, 200))
    const record = await tracker.stop()
    expect(events).toHaveLength(1)
    expect(record.energyKWh / J).toBeCloseTo(3, 6)
    expect(record.status).toBe('budget-exceeded')
    expect(record.notes).toContain(events[0]?.message)
    expect(readCsv(join(dir, 'emissions.csv'))[0]?.status).toBe('budget-exceeded')
  })
})

describe('budget option', () => {
  it('refuses a budget without limits, or with a limit that is not a positive number', () => {
    const fail = (budget: unknown) => {
      try {
        resolveConfig({ saveToFile: false, budget: budget as never }, {})
      } catch (error) {
        if (error instanceof WattprintError) return error.message
      }
      return 'accepted'
    }
    expect(fail({})).toContain('at least one of energyKWh, emissionsKg, durationS')
    expect(fail({ energyKWh: -1 })).toContain('positive number of kWh')
    expect(fail(5)).toContain('must be an object')
    expect(fail({ durationS: 3600 })).toBe('accepted')
  })

  it('leaves a run without a budget alone: the signal never aborts', async () => {
    const tracker = new EmissionsTracker({
      saveToFile: false,
      logLevel: 'silent',
      carbonIntensityGPerKWh: 1,
      sampling: 'inline',
    })
    await tracker.start()
    await new Promise((r) => setTimeout(r, 100))
    const record = await tracker.stop()
    expect(tracker.signal.aborted).toBe(false)
    expect(record.status).toBe('finished')
  })
})
