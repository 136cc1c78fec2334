import { describe, expect, it } from 'vitest'
import { ConstantMeter, guessModuleCount, ramPowerW } from '../src/meters/ram-estimate.js'

const watts = (gb: number, arm = false) => ramPowerW(guessModuleCount(gb), arm)

describe('the RAM module model', () => {
  it('gives the published figures: 8 GB → 10 W, 32 GB → 20 W, 128 GB → 38 W, 4 TB → 126 W', () => {
    expect(watts(8)).toBe(10)
    expect(watts(32)).toBe(20)
    expect(watts(128)).toBeCloseTo(38)
    expect(watts(4096)).toBeCloseTo(126)
  })

  it('guesses module counts from the total size', () => {
    expect([2, 16, 32, 64, 128, 256, 1024, 100_000].map(guessModuleCount)).toEqual([1, 2, 4, 4, 8, 8, 8, 32])
  })

  it('uses 1.5 W per module and a 3 W floor on ARM', () => {
    expect(watts(8, true)).toBe(3)
    expect(ramPowerW(4, true)).toBe(6)
  })

  it('reads NaN until its wattage is set, then a constant', () => {
    const meter = new ConstantMeter({
      type: 'constant',
      id: 'ram-constant',
      component: 'ram',
      source: 'constant',
      watts: null,
    })
    const out = new Float64Array(1)
    meter.read(out)
    expect(out[0]).toBeNaN()
    meter.setWatts(20)
    meter.read(out)
    expect(out[0]).toBe(20)
  })
})
