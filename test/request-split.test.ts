import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type SpanInterval, splitInterval } from '../src/accounting/request-split.js'
import { Span, type SpanKeeper } from '../src/requests/span.js'

// The split on its own, with spans placed by hand on the spans' clock: an interval of a known wattage,
// whose energy must end up in the spans and the idle part, and nowhere else.

const keeper: SpanKeeper = {
  runId: 'r',
  ended: () => {},
  misuse: () => {},
  formerName: () => {},
  readNow: () => {},
  hold: () => {},
  release: () => {},
}
const span = (startMs: number, endMs: number, weight = 1): Span => {
  const s = new Span(keeper, 's', weight, startMs)
  s.endMs = endMs
  return s
}
/** An interval of `watts` from `startMs` to `endMs`, split 70/20/10 between CPU, GPU and RAM. */
const interval = (startMs: number, endMs: number, watts: number): SpanInterval => {
  const energyJ = (watts * (endMs - startMs)) / 1000
  return {
    startMs,
    endMs,
    energyJ,
    cpuJ: energyJ * 0.7,
    gpuJ: energyJ * 0.2,
    ramJ: energyJ * 0.1,
    emissionsKg: energyJ * 1e-7,
  }
}
const sum = (spans: readonly Span[]) => spans.reduce((a, s) => a + s.energyJ, 0)

describe('splitting an interval among request spans', () => {
  it('gives a span alone the whole interval, and the time before and after it to idle', () => {
    const whole = span(-5, 2000)
    expect(splitInterval([whole], interval(0, 1000, 50))).toBe(0)
    expect(whole.energyJ).toBeCloseTo(50, 12)
    const inner = span(250, 750)
    const idle = splitInterval([inner], interval(0, 1000, 50))
    expect(inner.energyJ).toBeCloseTo(25, 12)
    expect(idle).toBeCloseTo(25, 12)
  })

  it('gives two fully overlapping spans equal halves, and splits by weight when they have one', () => {
    const a = span(0, 1000)
    const b = span(0, 1000)
    splitInterval([a, b], interval(0, 1000, 80))
    expect(a.energyJ).toBe(b.energyJ)
    expect(a.energyJ).toBeCloseTo(40, 12)
    const heavy = span(0, 1000, 3)
    const light = span(0, 1000, 1)
    splitInterval([heavy, light], interval(0, 1000, 80))
    expect(heavy.energyJ).toBeCloseTo(60, 12)
    expect(light.energyJ).toBeCloseTo(20, 12)
  })

  it('shares only the instants two spans are open together (hand-worked)', () => {
    // 100 W over 0–1000 ms: a alone 0–400 (40 J), a and b 400–600 (10 J each), b alone 600–800 (20 J),
    // nobody 800–1000 (20 J idle).
    const a = span(0, 600)
    const b = span(400, 800)
    const idle = splitInterval([a, b], interval(0, 1000, 100))
    expect(a.energyJ).toBeCloseTo(50, 12)
    expect(b.energyJ).toBeCloseTo(30, 12)
    expect(idle).toBeCloseTo(20, 12)
    // Shares of each component and of the emissions follow the energy.
    expect(a.cpuJ).toBeCloseTo(35, 12)
    expect(a.gpuJ).toBeCloseTo(10, 12)
    expect(a.ramJ).toBeCloseTo(5, 12)
    expect(a.emissionsKg).toBeCloseTo(50e-7, 18)
  })

  it('never shares between a span that ends where the next one starts', () => {
    const a = span(0, 500)
    const b = span(500, 1000)
    splitInterval([a, b], interval(0, 1000, 10))
    expect(a.energyJ).toBeCloseTo(5, 12)
    expect(b.energyJ).toBeCloseTo(5, 12)
  })

  it('splits a span at its first token into prefill and decode', () => {
    const s = span(0, 1000)
    s.firstTokenMs = 300
    const other = span(0, 1000)
    splitInterval([s, other], interval(0, 1000, 100))
    expect(s.energyJ).toBeCloseTo(50, 12)
    expect(s.prefillJ).toBeCloseTo(15, 12)
    const record = s.record()
    expect(record.prefillEnergyJ).toBeCloseTo(15, 12)
    expect(record.decodeEnergyJ).toBeCloseTo(35, 12)
    // Across intervals: all of the first before the token is prefill, all of the second after it decode.
    const long = span(0, 2000)
    long.firstTokenMs = 1500
    splitInterval([long], interval(0, 1000, 10))
    splitInterval([long], interval(1000, 2000, 10))
    expect(long.prefillJ).toBeCloseTo(15, 12)
    expect(long.energyJ).toBeCloseTo(20, 12)
  })

  it('conserves the energy of 1,000 overlapping spans to 1e-9', () => {
    const spans = Array.from({ length: 1000 }, (_, i) => {
      const start = (i * 7919) % 9000
      return span(start, start + 50 + ((i * 104729) % 3000), 1 + (i % 5))
    })
    let idle = 0
    let measured = 0
    for (let t = 0; t < 12_000; t += 1000) {
      const iv = interval(t, t + 1000, 42.5)
      measured += iv.energyJ
      idle += splitInterval(spans, iv)
    }
    expect(Math.abs(sum(spans) + idle - measured) / measured).toBeLessThan(1e-9)
    expect(spans.every((s) => s.energyJ > 0)).toBe(true)
  })

  it('conserves energy for any spans, weights and intervals (property)', () => {
    const spanArb = fc.record({
      start: fc.integer({ min: -500, max: 3000 }),
      length: fc.integer({ min: 1, max: 3000 }),
      weight: fc.double({ min: 0.01, max: 100, noNaN: true }),
      token: fc.option(fc.integer({ min: 0, max: 3000 })),
    })
    fc.assert(
      fc.property(fc.array(spanArb, { maxLength: 60 }), fc.integer({ min: 1, max: 6 }), (defs, cuts) => {
        const spans = defs.map((d) => {
          const s = span(d.start, d.start + d.length, d.weight)
          if (d.token !== null) s.firstTokenMs = d.start + (d.token % d.length)
          return s
        })
        let idle = 0
        let measured = 0
        const step = 3000 / cuts
        for (let k = 0; k < cuts; k++) {
          const iv = interval(k * step, (k + 1) * step, 17)
          measured += iv.energyJ
          idle += splitInterval(spans, iv)
        }
        expect(Math.abs(sum(spans) + idle - measured)).toBeLessThan(1e-9 * measured)
        for (const s of spans) {
          expect(s.energyJ).toBeGreaterThanOrEqual(0)
          expect(s.prefillJ).toBeLessThanOrEqual(s.energyJ + 1e-9)
        }
      }),
      { numRuns: 300 },
    )
  })
})
