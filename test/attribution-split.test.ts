import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { IdlePower, splitEnergy } from '../src/attribution/split.js'

describe('splitEnergy', () => {
  it('gives the job its share of the active energy, and of the idle energy only when included', () => {
    // 100 J in 2 s with a 20 W floor: 40 J idle, 60 J active.
    expect(splitEnergy(100, 20, 2, 0.25, 'exclude')).toEqual({ jobJ: 15, idleJ: 40, othersJ: 45 })
    expect(splitEnergy(100, 20, 2, 0.25, 'include')).toEqual({ jobJ: 25, idleJ: 30, othersJ: 45 })
  })

  it('never counts more idle than was measured, nor a share outside [0, 1], nor NaN', () => {
    expect(splitEnergy(10, 20, 2, 1, 'exclude')).toEqual({ jobJ: 0, idleJ: 10, othersJ: 0 })
    expect(splitEnergy(10, 0, 1, 7, 'exclude').jobJ).toBe(10)
    expect(splitEnergy(10, 0, 1, -1, 'exclude').jobJ).toBe(0)
    expect(splitEnergy(Number.NaN, 5, 1, 0.5, 'exclude')).toEqual({ jobJ: 0, idleJ: 0, othersJ: 0 })
    expect(splitEnergy(10, Number.NaN, 1, Number.NaN, 'include')).toEqual({ jobJ: 0, idleJ: 0, othersJ: 10 })
  })

  it('conserves energy exactly: the job, idle and others add up to the machine, in every interval', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1e4, noNaN: true }),
        fc.double({ min: 0, max: 3600, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('include' as const, 'exclude' as const),
        (machineJ, idleW, durationS, share, idle) => {
          const { jobJ, idleJ, othersJ } = splitEnergy(machineJ, idleW, durationS, share, idle)
          for (const part of [jobJ, idleJ, othersJ]) expect(part).toBeGreaterThanOrEqual(0)
          expect(jobJ + idleJ + othersJ).toBeCloseTo(machineJ, 6)
          expect(jobJ).toBeLessThanOrEqual(machineJ * (1 + 1e-12))
        },
      ),
    )
  })

  it("lets several jobs' shares of one machine add up to no more than the machine", () => {
    const shares = [0.5, 0.3, 0.2]
    const jobs = shares.map((s) => splitEnergy(100, 10, 3, s, 'exclude').jobJ)
    expect(jobs.reduce((a, b) => a + b, 0)).toBeCloseTo(70, 9)
  })
})

describe('IdlePower', () => {
  it('keeps the lowest power seen at low activity, else the prior, else none', () => {
    const idle = new IdlePower(12)
    expect([idle.watts, idle.source]).toEqual([12, 'estimate'])
    idle.observe(30, 0.8) // busy: not idle
    expect(idle.source).toBe('estimate')
    idle.observe(9, 0.05)
    idle.observe(11, 0.02)
    expect([idle.watts, idle.source]).toEqual([9, 'observed'])
    idle.observe(Number.NaN, 0)
    expect(idle.watts).toBe(9)
    const none = new IdlePower(null)
    expect([none.watts, none.source]).toEqual([0, 'none'])
  })
})
