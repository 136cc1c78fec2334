import { describe, expect, it, vi } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import type { Meter } from '../src/meters/meter.js'
import type { Channel } from '../src/model/meter.js'
import { Sampler } from '../src/sampling/sampler.js'
import { FixedRateSchedule } from '../src/sampling/schedule.js'

/** A meter whose readings the test scripts: one value (or NaN, or a throw) per read. */
function scripted(channel: Channel, values: (number | 'throw')[], component: 'cpu' | 'ram' = 'cpu'): Meter {
  let i = 0
  return {
    id: `fake-${channel.kind}`,
    component,
    source: channel.kind === 'counter' ? 'rapl' : 'cpu-model',
    method: channel.kind === 'counter' ? 'measured' : 'estimated',
    channels: [channel],
    read(out) {
      const value = values[Math.min(i++, values.length - 1)]
      if (value === 'throw') throw new Error('device gone')
      out[0] = value ?? Number.NaN
    },
  }
}

const S = 1_000_000_000n
/** Runs the sampler over readings one second apart; returns joules and blind seconds per interval. */
function run(meter: Meter, intervals: number, warnings: TrackerWarning[] = []) {
  const sampler = new Sampler([meter], (w) => warnings.push(w))
  sampler.begin(0n)
  return Array.from({ length: intervals }, (_, k) => sampler.sample(BigInt(k + 1) * S, 0).meters[0])
}

describe('Sampler', () => {
  const counter: Channel = { name: 'pkg', kind: 'counter', unitJ: 1e-6, rangeRaw: 10_000_000 }

  it('integrates a counter by difference, across a wrap', () => {
    const result = run(scripted(counter, [9_000_000, 9_500_000, 1_500_000, 2_000_000]), 3)
    expect(result.map((r) => r?.joules)).toEqual([0.5, 2, 0.5])
  })

  it('bridges a counter read that failed without losing energy, and is not blind', () => {
    const warnings: TrackerWarning[] = []
    const result = run(scripted(counter, [0, 1_000_000, Number.NaN, 3_000_000]), 3, warnings)
    expect(result.map((r) => r?.joules)).toEqual([1, 0, 2])
    expect(result.map((r) => r?.blindS)).toEqual([0, 0, 0])
    expect(warnings.map((w) => w.code)).toEqual(['METER_READ_FAILED', 'METER_RECOVERED'])
  })

  it('counts a decrease without a range as a reset (0 J) with a warning', () => {
    const warnings: TrackerWarning[] = []
    const noRange: Channel = { ...counter, rangeRaw: null }
    const result = run(scripted(noRange, [5_000_000, 6_000_000, 1_000, 2_001_000]), 3, warnings)
    expect(result.map((r) => r?.joules)).toEqual([1, 0, 2])
    expect(warnings.map((w) => w.code)).toEqual(['COUNTER_RESET'])
  })

  it('integrates instant power by the trapezoid rule and bridges a blind read linearly', () => {
    const instant: Channel = { name: 'gpu', kind: 'power', mode: 'instant' }
    const result = run(scripted(instant, [100, 200, Number.NaN, 400]), 3)
    // 1 s at 100→200 W, then 2 s from 200 to 400 W counted when the reading comes back.
    expect(result.map((r) => r?.joules)).toEqual([150, 0, 600])
    expect(result.map((r) => r?.blindS)).toEqual([0, 1, 0])
  })

  it('integrates interval-average power by the rectangle rule and holds the last value when blind', () => {
    const average: Channel = { name: 'cpu', kind: 'power', mode: 'average' }
    const result = run(scripted(average, [Number.NaN, 10, 'throw', 30]), 3)
    expect(result.map((r) => r?.joules)).toEqual([10, 10, 30])
    expect(result.map((r) => r?.blindS)).toEqual([0, 1, 0])
  })

  it('never lets a meter that always throws escape, and reports it blind', () => {
    const warnings: TrackerWarning[] = []
    const result = run(scripted({ name: 'x', kind: 'power', mode: 'instant' }, ['throw']), 5, warnings)
    expect(result.every((r) => r?.joules === 0 && r.blindS === 1)).toBe(true)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.message).toContain('device gone')
  })

  it('numbers intervals and covers the time between readings exactly', () => {
    const sampler = new Sampler([scripted(counter, [0])])
    sampler.begin(10n * S)
    const a = sampler.sample(10n * S + 250_000_000n, 1)
    const b = sampler.sample(11n * S, 2, true)
    expect([a.seq, b.seq]).toEqual([1, 2])
    expect(a.durationS).toBe(0.25)
    expect(b.durationS).toBe(0.75)
    expect(b.final).toBe(true)
  })
})

describe('FixedRateSchedule', () => {
  it('ticks on absolute slots t0 + k × period without drift, and skips slots it missed', () => {
    // Timers and the clock under the test's control: a real machine's timers fire late by whatever its load
    // is, and that lateness is the scheduler's, not the schedule's. What the schedule decides is which
    // slot each timer aims at.
    vi.useFakeTimers()
    try {
      let blockedNs = 0n
      const now = () => BigInt(Date.now()) * 1_000_000n + blockedNs
      const t0 = now()
      const ticks: bigint[] = []
      const schedule = new FixedRateSchedule(
        t0,
        20,
        (at) => {
          ticks.push(at)
          // A blocked thread: 70 ms pass before the third tick returns, slots 4 to 6 are missed.
          if (ticks.length === 3) blockedNs += 70_000_000n
        },
        { now },
      )
      schedule.start()
      vi.advanceTimersByTime(330)
      schedule.stop()
      const slots = ticks.map((t) => Number(t - t0) / 20e6)
      // Each tick on its slot, none twice, the missed ones skipped rather than caught up in a burst, and no
      // drift after ~20 periods.
      expect(slots.slice(0, 6)).toEqual([1, 2, 3, 7, 8, 9])
      expect(slots.every((slot) => Number.isInteger(slot))).toBe(true)
      expect(slots.at(-1)).toBe(20)
    } finally {
      vi.useRealTimers()
    }
  })

  it('on real timers: one tick per slot at most, never a burst to catch up', async () => {
    // However late a busy machine fires them: more ticks than slots would be a slot served twice.
    const ticks: bigint[] = []
    const t0 = process.hrtime.bigint()
    const schedule = new FixedRateSchedule(t0, 20, (at) => ticks.push(at))
    schedule.start()
    await new Promise((r) => setTimeout(r, 330))
    schedule.stop()
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6
    expect(ticks.length).toBeGreaterThan(0)
    expect(ticks.length).toBeLessThanOrEqual(Math.floor(elapsedMs / 20) + 1)
  })
})

describe('Sampler plausibility', () => {
  it('counts a step above the channel maxWatts as 0 J with a warning (a glitch, or a wrong stated range)', () => {
    const warnings: TrackerWarning[] = []
    // Stated range 1e12 µJ but the counter really went back from 9e6 to 8.9e6: "wrap" = ~1 MJ in 1 s.
    const glitchy: Channel = { name: 'pkg', kind: 'counter', unitJ: 1e-6, rangeRaw: 1e12, maxWatts: 2000 }
    const result = run(scripted(glitchy, [8_000_000, 9_000_000, 8_900_000, 9_900_000]), 3, warnings)
    expect(result.map((r) => r?.joules)).toEqual([1, 0, 1])
    expect(warnings.map((w) => w.code)).toEqual(['COUNTER_IMPLAUSIBLE'])
    expect(warnings[0]?.message).toContain('a wrap at range 1000000000000')
  })

  it('accepts a real wrap below maxWatts', () => {
    const wrapping: Channel = {
      name: 'pkg',
      kind: 'counter',
      unitJ: 1e-6,
      rangeRaw: 60_000_000,
      maxWatts: 2000,
    }
    const result = run(scripted(wrapping, [59_000_000, 1_000_000]), 1)
    expect(result[0]?.joules).toBe(2)
  })
})

describe('Sampler hand-over (resume)', () => {
  const counter: Channel = { name: 'pkg', kind: 'counter', unitJ: 1e-6, rangeRaw: 10_000_000 }
  const instant: Channel = { name: 'gpu', kind: 'power', mode: 'instant' }
  const average: Channel = { name: 'cpu', kind: 'power', mode: 'average' }

  /**
   * The same meter read by two samplers, as the calling thread's first reading and the worker that takes
   * over from it read it: `before` what the first reads (baseline, then the interval it closes), `after`
   * what the second reads (its own reading when it takes over, which must not count, then its intervals).
   */
  function handOver(channel: Channel, before: number[], after: number[], warnings: TrackerWarning[] = []) {
    const first = new Sampler([scripted(channel, before)], (w) => warnings.push(w))
    first.begin(0n)
    const a = first.sample(S, 1)
    const second = new Sampler([scripted(channel, after)], (w) => warnings.push(w))
    second.resume(first.state())
    const rest = [second.sample(2n * S, 2), second.sample(3n * S, 3)]
    return [a, ...rest]
  }

  it('counts a counter once across the hand-over, from the last raw reading of the thread handing over', () => {
    // The worker's own reading when it takes over (9 999 999) is not the baseline of its first interval.
    const intervals = handOver(counter, [1_000_000, 2_000_000], [9_999_999, 3_500_000, 4_000_000])
    expect(intervals.map((r) => r.meters[0]?.joules)).toEqual([1, 1.5, 0.5])
    // 3 J in all, 4 000 000 − 1 000 000 µJ: none lost, none counted twice.
    expect(intervals.reduce((sum, r) => sum + (r.meters[0]?.joules ?? 0), 0)).toBe(3)
    // One sequence of intervals, each beginning where the last ended.
    expect(intervals.map((r) => r.seq)).toEqual([1, 2, 3])
    expect(intervals.map((r) => [r.startNs, r.endNs])).toEqual([
      [0n, S],
      [S, 2n * S],
      [2n * S, 3n * S],
    ])
  })

  it('integrates instant power across the hand-over with no gap, from the last reading handed over', () => {
    const intervals = handOver(instant, [100, 200], [0, 400, 400])
    // 100→200 W, then 200→400 W (the trapezoid from the first thread's last reading), then 400 W.
    expect(intervals.map((r) => r.meters[0]?.joules)).toEqual([150, 300, 400])
    expect(intervals.map((r) => r.meters[0]?.blindS)).toEqual([0, 0, 0])
  })

  it('integrates interval-average power over the whole interval after the hand-over', () => {
    const intervals = handOver(average, [Number.NaN, 10], [99, 20, 30])
    expect(intervals.map((r) => r.meters[0]?.joules)).toEqual([10, 20, 30])
  })

  it('carries a meter that was failing across the hand-over: its recovery is said once, by the taker', () => {
    const warnings: TrackerWarning[] = []
    const intervals = handOver(counter, [1_000_000, Number.NaN], [0, 3_000_000, 3_000_000], warnings)
    // The failed read is bridged: its energy comes with the next good reading, after the hand-over.
    expect(intervals.map((r) => r.meters[0]?.joules)).toEqual([0, 2, 0])
    expect(warnings.map((w) => w.code)).toEqual(['METER_READ_FAILED', 'METER_RECOVERED'])
  })

  it('reads each meter once when it takes over (a model meter measures its load from there) and uses none of it', () => {
    let reads = 0
    const meter: Meter = {
      ...scripted(counter, [5_000_000]),
      read: (out) => {
        out[0] = 5_000_000 + reads++
      },
    }
    const first = new Sampler([scripted(counter, [1_000_000])])
    first.begin(0n)
    const second = new Sampler([meter])
    second.resume(first.state())
    expect(reads).toBe(1)
    // From the first thread's 1 000 000, not from the 5 000 000 read when taking over.
    expect(second.sample(S, 1).meters[0]?.joules).toBeCloseTo(4.000001, 9)
  })

  it('joins the interval closed on handing over to the next one, into one interval on the schedule', () => {
    // The calling thread closes its part at 0.4 s (the hand-over); the worker's first slot is at 1 s.
    const first = new Sampler([scripted(counter, [1_000_000, 1_400_000])])
    first.begin(0n)
    const part = first.sample(400_000_000n, 1)
    const second = new Sampler([scripted(counter, [0, 2_000_000, 2_500_000])])
    second.resume(first.state(), part)
    const [a, b] = [second.sample(S, 2), second.sample(2n * S, 3)]
    expect(a).toMatchObject({ seq: 1, startNs: 0n, endNs: S, durationS: 1, wallTimeMs: 2 })
    expect(a.meters[0]?.joules).toBeCloseTo(1, 12)
    expect(a.meters[0]?.channelJoules[0]).toBeCloseTo(1, 12)
    expect(b).toMatchObject({ seq: 2, startNs: S, endNs: 2n * S })
    expect(b.meters[0]?.joules).toBeCloseTo(0.5, 12)
  })

  it('refuses to go on from a sampler of other meters', () => {
    const first = new Sampler([scripted(counter, [0])])
    first.begin(0n)
    const other = new Sampler([scripted(instant, [0])])
    expect(() => other.resume(first.state())).toThrow(/other meters/)
  })
})
