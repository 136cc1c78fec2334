import { describe, expect, it } from 'vitest'
import { emptyTotals, type LedgerTotals } from '../src/accounting/ledger.js'
import { headline } from '../src/accounting/record.js'
import type { BudgetEvent } from '../src/model/events.js'
import type { EmissionsRecord } from '../src/model/record.js'
import { BudgetWatch } from '../src/tracker/budget-watch.js'
import { footprintOf } from '../src/tracker/footprint.js'
import { NO_FOOTPRINT_OPTIONS } from './helpers/footprint.js'
import { sampleRecord } from './helpers/records.js'

/** A run that drew 1 kWh in CPU, GPU and RAM and 1.5 kWh at the wall, at 400 g/kWh. */
const totals: LedgerTotals = {
  ...emptyTotals(),
  durationS: 60,
  energyKWh: 1,
  emissionsKg: 0.4,
  wallEnergyKWh: 1.5,
  wallEmissionsKg: 0.6,
}

describe('emissionsScope', () => {
  it('holds budgets to the wall by default, to CPU+GPU+RAM with components', () => {
    const crossed: BudgetEvent[] = []
    new BudgetWatch({ energyKWh: 1.2 }, (e) => crossed.push(e), 'wall').check(totals)
    expect(crossed.map((e) => e.actual)).toEqual([1.5])
    new BudgetWatch({ energyKWh: 1.2 }, (e) => crossed.push(e), 'components').check(totals)
    expect(crossed).toHaveLength(1)
    new BudgetWatch({ emissionsKg: 0.39 }, (e) => crossed.push(e), 'components').check(totals)
    expect(crossed.map((e) => [e.limit, e.actual])).toEqual([
      ['energyKWh', 1.5],
      ['emissionsKg', 0.4],
    ])
  })

  it("names the priced figure, and falls back to CodeCarbon's scope for a record without the wall", () => {
    const record = sampleRecord()
    expect(headline(record)).toMatchObject({ what: 'at the wall', energyKWh: record.wall.energyKWh })
    expect(headline({ ...record, emissionsScope: 'components' })).toMatchObject({
      what: 'CPU+GPU+RAM',
      emissionsKg: record.emissionsKg,
      emissionsLowKg: record.emissionsLowKg,
    })
    // A checkpoint from before the wall figure: no wall, no intervals.
    const old = { ...record, wall: undefined, energyLowKWh: undefined } as unknown as EmissionsRecord
    expect(headline(old)).toMatchObject({ what: 'CPU+GPU+RAM', lowKWh: record.energyKWh })
  })

  it('prices SCI on the scope: the wall, or CPU+GPU+RAM', () => {
    const options = {
      ...NO_FOOTPRINT_OPTIONS,
      functionalUnit: { name: 'epoch', count: 2 },
      embodied: { emissionsKg: 0 },
    }
    const sci = (emissionsScope: 'wall' | 'components') =>
      footprintOf(options, {}, sampleRecord({ emissionsScope }), { sockets: 1 }, null).fields.sci ??
      Number.NaN
    const record = sampleRecord()
    expect(sci('wall')).toBeCloseTo(record.wall.emissionsKg / 2, 12)
    expect(sci('components')).toBeCloseTo(record.emissionsKg / 2, 12)
  })
})
