import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { counterStep, methodOf, powerEnergyJ } from '../src/meters/meter.js'

describe('counterStep', () => {
  it('is the plain difference while the counter rises', () => {
    expect(counterStep(1000, 4500, 10_000)).toEqual({ deltaRaw: 3500, event: 'ok' })
  })

  it('adds the range when the counter wraps', () => {
    expect(counterStep(9000, 500, 10_000)).toEqual({ deltaRaw: 1500, event: 'wrap' })
  })

  it('counts a decrease with no known range as a reset of 0, never negative', () => {
    expect(counterStep(9000, 500, null)).toEqual({ deltaRaw: 0, event: 'reset' })
  })

  it('treats a previous value above the stated range as a reset (the range is wrong)', () => {
    expect(counterStep(20_000, 500, 10_000)).toEqual({ deltaRaw: 0, event: 'reset' })
  })

  it('equals the truth over any sequence of increments with a known range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (range, startRaw, fractions) => {
          // Each increment is below one range, as when sampling at least once per wrap period.
          const start = startRaw % range
          let raw = start
          let truth = 0
          let measured = 0
          for (const fraction of fractions) {
            const increment = Math.floor(fraction * range)
            truth += increment
            const next = (raw + increment) % range
            const step = counterStep(raw, next, range)
            expect(step.deltaRaw).toBeGreaterThanOrEqual(0)
            measured += step.deltaRaw
            raw = next
          }
          expect(measured).toBe(truth)
        },
      ),
    )
  })

  it('is never negative nor NaN over arbitrary readings, with or without a range', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 45 }), { minLength: 2, maxLength: 100 }),
        fc.option(fc.integer({ min: 1, max: 2 ** 45 }), { nil: null }),
        (readings, range) => {
          for (let i = 1; i < readings.length; i++) {
            const { deltaRaw } = counterStep(readings[i - 1] as number, readings[i] as number, range)
            expect(Number.isFinite(deltaRaw)).toBe(true)
            expect(deltaRaw).toBeGreaterThanOrEqual(0)
          }
        },
      ),
    )
  })
})

describe('powerEnergyJ', () => {
  it('integrates instant readings with the trapezoid rule', () => {
    expect(powerEnergyJ(100, 200, 2, 'instant')).toBe(300)
  })

  it('integrates interval averages with the rectangle rule (the current reading)', () => {
    expect(powerEnergyJ(100, 200, 2, 'average')).toBe(400)
  })

  it('gives 0 for no time, and never a negative or non-finite figure', () => {
    expect(powerEnergyJ(100, 200, 0, 'instant')).toBe(0)
    expect(powerEnergyJ(-5, -5, 1, 'average')).toBe(0)
    expect(powerEnergyJ(Number.NaN, 10, 1, 'instant')).toBe(0)
  })
})

describe('methodOf', () => {
  it('calls counters and sensors measured, models estimated', () => {
    expect(methodOf('rapl')).toBe('measured')
    expect(methodOf('rapl-dram')).toBe('measured')
    expect(methodOf('cpu-model')).toBe('estimated')
    expect(methodOf('ram-model')).toBe('estimated')
    expect(methodOf('rest-model')).toBe('estimated')
    expect(methodOf('constant')).toBe('estimated')
  })
})
