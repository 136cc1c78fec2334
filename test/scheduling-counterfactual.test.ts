import { describe, expect, it } from 'vitest'
import type { ForecastSlot } from '../src/intensity/forecast/provider.js'
import { CounterfactualLedger, mergeForecasts } from '../src/scheduling/counterfactual.js'

const S = 1000
/** [from s, to s, g/kWh] as slots. */
const slots = (spec: [number, number, number][]): ForecastSlot[] =>
  spec.map(([a, b, g]) => ({ startMs: a * S, endMs: b * S, gPerKWh: g, source: 'test' }))
const FORECAST = slots([
  [0, 10, 400],
  [10, 20, 100],
  [20, 30, 300],
])
/** 1 kWh in every second from `from` to `to`, with `paused` seconds fully paused. */
function run(
  ledger: CounterfactualLedger,
  from: number,
  to: number,
  paused: (s: number) => boolean = () => false,
) {
  for (let s = from; s < to; s++) ledger.add(s * S, (s + 1) * S, 1, paused(s) ? S : 0)
}

describe('CounterfactualLedger (figures checked by hand)', () => {
  it('moves the run to the moment it was asked for: 4 kWh at 100 would have been 4 kWh at 400', () => {
    const ledger = new CounterfactualLedger(FORECAST, 0)
    run(ledger, 10, 14)
    expect(ledger.forecastIntensityGPerKWh).toBe(100)
    // 4 kWh × 400 g/kWh = 1.6 kg.
    expect(ledger.counterfactualKg(4)).toBeCloseTo(1.6, 12)
  })

  it('prices the shifted profile across slot boundaries', () => {
    // Asked for at 8 s, run from 20 s to 25 s: at once, it would have run 8–13 s: 2 s at 400, 3 s at 100.
    const ledger = new CounterfactualLedger(FORECAST, 8 * S)
    run(ledger, 20, 25)
    expect(ledger.forecastIntensityGPerKWh).toBe(300)
    // 5 kWh × (2 × 400 + 3 × 100) / 5 = 1100 g.
    expect(ledger.counterfactualKg(5)).toBeCloseTo(1.1, 12)
  })

  it('moves the running stretches only, and prices the draw while paused where it was drawn, on both sides', () => {
    // 8–16 s, paused 10–13 s: 5 s running, which at once would have been 0–5 s, all at 400.
    const ledger = new CounterfactualLedger(FORECAST, 0)
    run(ledger, 8, 16, (s) => s >= 10 && s < 13)
    // As it ran: 2 kWh at 400, 6 kWh at 100 → 1400 / 8 = 175.
    expect(ledger.forecastIntensityGPerKWh).toBe(175)
    // 5 kWh running × 400, and the 3 kWh drawn paused at 10–13 s × 100, as on the actual side: 2.3 kg.
    // (Before: 2 kg, the paused draw left out of this side only, so pausing itself counted as a loss.)
    expect(ledger.counterfactualKg(8)).toBeCloseTo(2.3, 12)
  })

  it('never counts pausing as a loss: the saving is the work moved, whatever the machine drew while paused', () => {
    // Asked for at 0 s; runs 10–15 s and is paused 15–20 s, 1 kWh a second throughout, all at 100.
    const ledger = new CounterfactualLedger(FORECAST, 0)
    run(ledger, 10, 20, (s) => s >= 15)
    expect(ledger.forecastIntensityGPerKWh).toBe(100)
    // As it ran: 10 kWh × 100 = 1 kg. At once: its 5 kWh of work at 0–5 s × 400 = 2 kg, plus the 5 kWh drawn
    // while paused, at 100 where it was drawn = 0.5 kg: 2.5 kg, a saving of 1.5 kg (the work's, 5 × 300 g).
    expect(ledger.counterfactualKg(10)).toBeCloseTo(2.5, 12)
  })

  it('a run paused all along is priced the same on both sides', () => {
    const ledger = new CounterfactualLedger(FORECAST, 0)
    run(ledger, 0, 4, () => true)
    expect(ledger.forecastIntensityGPerKWh).toBe(400)
    expect(ledger.counterfactualKg(4)).toBeCloseTo(1.6, 12)
  })

  it('scales to the record’s energy and says nothing without a forecast of the time', () => {
    const ledger = new CounterfactualLedger(FORECAST, 0)
    expect(ledger.counterfactualKg(1)).toBeNull()
    run(ledger, 10, 12)
    // The final record drew a little more than the samples: the same profile, scaled.
    expect(ledger.counterfactualKg(2.5)).toBeCloseTo(1, 12)
    const blind = new CounterfactualLedger(FORECAST, 100 * S)
    run(blind, 10, 12)
    expect(blind.counterfactualKg(2)).toBeNull()
  })
})

describe('mergeForecasts', () => {
  it('keeps the hours a newer forecast no longer sends', () => {
    const merged = mergeForecasts(FORECAST, slots([[10, 20, 90]]))
    expect(merged.map((s) => [s.startMs / S, s.gPerKWh])).toEqual([
      [0, 400],
      [10, 90],
    ])
  })
})
