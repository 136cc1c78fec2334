import { describe, expect, it } from 'vitest'
import { formatWater } from '../src/output/quantities.js'

describe('water as the terminal shows it', () => {
  it('keeps a short run’s microlitres visible instead of rounding them to a zero that reads as none', () => {
    expect(formatWater(9.5e-7)).toBe('0.95 µL')
    expect(formatWater(0.0042)).toBe('4.20 mL')
    expect(formatWater(3.7)).toBe('3.700 L')
    expect(formatWater(0)).toBe('0.00 mL')
  })
})
