import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ForecastSlot } from '../src/intensity/forecast/provider.js'
import { IntensityTimeline } from '../src/scheduling/timeline.js'
import { firstAtOrBelow, searchWindow } from '../src/scheduling/window.js'

const H = 3_600_000
const T0 = Date.UTC(2026, 11, 1, 12)

/** Slots of `stepMs` from `startMs` with these figures (null: a missing slot). */
function slots(values: readonly (number | null)[], stepMs = H, startMs = T0): ForecastSlot[] {
  return values.flatMap((g, i) =>
    g === null
      ? []
      : [{ startMs: startMs + i * stepMs, endMs: startMs + (i + 1) * stepMs, gPerKWh: g, source: 'test' }],
  )
}

/** The mean over a window by brute force, millisecond by second, for property checks. */
function bruteBest(forecast: ForecastSlot[], durationMs: number, earliestMs: number, deadlineMs: number) {
  const timeline = new IntensityTimeline(forecast)
  let best: { s: number; covered: number; mean: number } | null = null
  for (let s = earliestMs; s <= deadlineMs - durationMs; s += 60_000) {
    const { meanGPerKWh, coveredMs } = timeline.meanOver(s, s + durationMs)
    if (meanGPerKWh === null) continue
    if (!best || coveredMs > best.covered || (coveredMs === best.covered && meanGPerKWh < best.mean - 1e-9))
      best = { s, covered: coveredMs, mean: meanGPerKWh }
  }
  return best
}

describe('searchWindow', () => {
  it('finds the cleanest hours, and what starting now would have cost', () => {
    const found = searchWindow(slots([300, 300, 100, 50, 120, 300]), {
      durationMs: 2 * H,
      earliestMs: T0,
      deadlineMs: T0 + 6 * H,
    })
    expect(found).toMatchObject({ startMs: T0 + 2 * H, meanGPerKWh: 75, nowGPerKWh: 300, coverage: 1 })
    expect(found?.savingPercent).toBeCloseTo(75, 10)
  })

  it('starts a window inside a slot when that is best', () => {
    // A 1.5 h job over [200, 0, 500]: ending with the clean hour's end (start 10:30 into slot 0) takes
    // 0.5 h of 200 and 1 h of 0, better than starting on any slot boundary.
    const found = searchWindow(slots([200, 0, 500]), {
      durationMs: 1.5 * H,
      earliestMs: T0,
      deadlineMs: T0 + 3 * H,
    })
    expect(found?.startMs).toBe(T0 + 0.5 * H)
    expect(found?.meanGPerKWh).toBeCloseTo(100 / 1.5, 10)
    // Now at 10:15 into the first slot: the job must start mid-slot (the range starts there).
    const mid = searchWindow(slots([100, 500]), {
      durationMs: 0.5 * H,
      earliestMs: T0 + 0.25 * H,
      deadlineMs: T0 + 2 * H,
    })
    expect(mid).toMatchObject({ startMs: T0 + 0.25 * H, meanGPerKWh: 100 })
    // A deadline that falls mid-slot: the last start allowed ends exactly at it, taking half a clean slot.
    const late = searchWindow(slots([500, 500, 0]), {
      durationMs: H,
      earliestMs: T0,
      deadlineMs: T0 + 2.5 * H,
    })
    expect(late).toMatchObject({ startMs: T0 + 1.5 * H, meanGPerKWh: 250 })
  })

  it('judges windows on what the forecast covers: a forecast shorter than the deadline or the window', () => {
    // The deadline is 10 h away, the forecast 3 h long: windows past its end are not judged on guesses.
    const short = searchWindow(slots([300, 200, 100]), {
      durationMs: H,
      earliestMs: T0,
      deadlineMs: T0 + 10 * H,
    })
    expect(short).toMatchObject({ startMs: T0 + 2 * H, meanGPerKWh: 100, coverage: 1 })
    // A 5 h job and a 3 h forecast: the most-covered start is now, and coverage says 60 %.
    const long = searchWindow(slots([300, 200, 100]), {
      durationMs: 5 * H,
      earliestMs: T0,
      deadlineMs: T0 + 10 * H,
    })
    expect(long).toMatchObject({ startMs: T0, meanGPerKWh: 200, coverage: 0.6 })
  })

  it('never bridges a missing slot, and prefers windows it fully knows', () => {
    // Slot 2 is missing: a window over it is less covered, so the 2 h window [3, 4] wins over [1, 2].
    const found = searchWindow(slots([500, 100, null, 200, 200, 400]), {
      durationMs: 2 * H,
      earliestMs: T0,
      deadlineMs: T0 + 6 * H,
    })
    expect(found).toMatchObject({ startMs: T0 + 3 * H, meanGPerKWh: 200, coverage: 1 })
  })

  it('starts at once when the job is longer than the time to the deadline', () => {
    const found = searchWindow(slots([300, 100]), {
      durationMs: 3 * H,
      earliestMs: T0,
      deadlineMs: T0 + 2 * H,
    })
    expect(found).toMatchObject({ startMs: T0, fitsDeadline: false })
  })

  it('returns null when the forecast says nothing about the range', () => {
    expect(searchWindow([], { durationMs: H, earliestMs: T0, deadlineMs: T0 + 4 * H })).toBeNull()
    expect(
      searchWindow(slots([100], H, T0 - 5 * H), { durationMs: H, earliestMs: T0, deadlineMs: T0 + 4 * H }),
    ).toBeNull()
  })

  it('reads a forecast across a DST change in UTC: the night of 25 October 2026 has 50 half-hours', () => {
    // Europe/London falls back at 01:00 UTC: local 01:00–02:00 happens twice, UTC has no seam.
    const from = Date.parse('2026-10-24T23:00Z')
    const values = Array.from({ length: 50 }, (_, i) => (i === 5 || i === 6 ? 40 : 250))
    const found = searchWindow(slots(values, H / 2, from), {
      durationMs: H,
      earliestMs: from,
      deadlineMs: from + 25 * H,
    })
    expect(new Date(found?.startMs ?? 0).toISOString()).toBe('2026-10-25T01:30:00.000Z')
    expect(found?.meanGPerKWh).toBe(40)
  })

  it('agrees with a brute-force search on random forecasts (starts on the minute)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 800 }), { freq: 8 }), { minLength: 1, maxLength: 24 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 8 }),
        (values, quarters, startQuarter) => {
          const forecast = slots(values, H / 4)
          const durationMs = quarters * 15 * 60_000
          const earliestMs = T0 + startQuarter * 15 * 60_000
          const deadlineMs = T0 + (values.length * H) / 4 + H
          const fast = searchWindow(forecast, { durationMs, earliestMs, deadlineMs })
          const slow = bruteBest(forecast, durationMs, earliestMs, deadlineMs)
          if (slow === null) return fast === null || fast.coverage > 0
          expect(fast).not.toBeNull()
          expect((fast?.coverage ?? 0) * durationMs).toBeGreaterThanOrEqual(slow.covered - 1e-6)
          if ((fast?.coverage ?? 0) * durationMs <= slow.covered + 1e-6)
            expect(fast?.meanGPerKWh ?? 0).toBeLessThanOrEqual(slow.mean + 1e-9)
          return true
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('firstAtOrBelow', () => {
  it('gives the first moment at or below the threshold, from now', () => {
    const forecast = slots([300, 250, 90, 300])
    expect(firstAtOrBelow(forecast, 100, T0 + 0.5 * H, T0 + 4 * H)).toBe(T0 + 2 * H)
    expect(firstAtOrBelow(forecast, 300, T0 + 0.5 * H, T0 + 4 * H)).toBe(T0 + 0.5 * H)
    expect(firstAtOrBelow(forecast, 50, T0, T0 + 4 * H)).toBeNull()
    expect(firstAtOrBelow(forecast, 100, T0, T0 + H)).toBeNull()
  })
})
