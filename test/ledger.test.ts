import { describe, expect, it } from 'vitest'
import { difference, Ledger } from '../src/accounting/ledger.js'
import { toMeasurement } from '../src/accounting/record.js'
import type { IntensityProvider } from '../src/intensity/provider.js'
import type { MeterDescription } from '../src/model/interval.js'
import { intervalReport, raplPackageMeter } from './helpers/intervals.js'

const meters: MeterDescription[] = [
  raplPackageMeter,
  {
    id: 'ram-model',
    component: 'ram',
    source: 'ram-model',
    method: 'estimated',
    channels: [{ name: 'ram', kind: 'power', mode: 'average' }],
  },
]

const interval = (seq: number, cpuJ: number, ramJ: number, wallTimeMs = seq * 1000) =>
  intervalReport(wallTimeMs, [cpuJ, ramJ], seq)

/** An intensity that changes every second: 100, 200, 300 g/kWh. */
const stepped: IntensityProvider = {
  at: (wallMs) => ({ gPerKWh: 100 * Math.round(wallMs / 1000), source: `step-${Math.round(wallMs / 1000)}` }),
}

describe('Ledger', () => {
  it("multiplies each interval's energy by the intensity valid for it: 1 kWh at 100, 200, 300 g → 0.1, 0.3, 0.6 kg", () => {
    const ledger = new Ledger(meters, 1, stepped)
    const cumulative = [1, 2, 3].map((seq) => {
      ledger.add(interval(seq, 3_600_000, 0))
      return ledger.totals().emissionsKg
    })
    expect(cumulative[0]).toBeCloseTo(0.1, 12)
    expect(cumulative[1]).toBeCloseTo(0.3, 12)
    expect(cumulative[2]).toBeCloseTo(0.6, 12)
    const totals = ledger.totals()
    expect(totals.energyKWh).toBeCloseTo(3, 12)
    expect(totals.intensitySources).toEqual(['step-1', 'step-2', 'step-3'])
    expect(totals.singleGPerKWh).toBe(false)
  })

  it('reports a single intensity exactly, not as emissions ÷ energy', () => {
    const ledger = new Ledger(meters, 1, { at: () => ({ gPerKWh: 20, source: 'fixed' }) })
    // Odd joule counts, whose kWh × 20 / 1000 × 1000 ÷ kWh is not 20 in floating point.
    for (const j of [7, 3.3, 1e-3, 123_456.789]) ledger.add(interval(1, j, j / 3))
    const record = toMeasurement(ledger.totals(), meters, 1, { gPerKWh: 0, source: 'none' })
    expect(record.carbonIntensityGPerKWh).toBe(20)
    expect(ledger.totals().singleGPerKWh).toBe(true)
  })

  it('applies PUE to energy and emissions, keeps raw joules per component', () => {
    const ledger = new Ledger(meters, 1.5, { at: () => ({ gPerKWh: 500, source: 'fixed' }) })
    ledger.add(interval(1, 1_800_000, 1_800_000))
    const totals = ledger.totals()
    expect(totals.joules).toEqual({ cpu: 1_800_000, gpu: 0, ram: 1_800_000 })
    expect(totals.energyKWh).toBeCloseTo(1.5, 12)
    expect(totals.emissionsKg).toBeCloseTo(0.75, 12)
  })

  it('gives a task as the difference of two snapshots', () => {
    const ledger = new Ledger(meters, 1, stepped)
    ledger.add(interval(1, 3_600_000, 0))
    const before = ledger.totals()
    ledger.add(interval(2, 3_600_000, 360_000))
    ledger.add(interval(3, 3_600_000, 0))
    const task = difference(ledger.totals(), before)
    expect(task.durationS).toBe(2)
    expect(task.joules.cpu).toBe(7_200_000)
    expect(task.joules.ram).toBe(360_000)
    expect(task.emissionsKg).toBeCloseTo(0.2 + 0.02 + 0.3, 12)
    expect(task.intervals).toBe(2)
  })
})
