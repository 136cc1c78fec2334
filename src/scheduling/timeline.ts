import type { ForecastSlot } from '../intensity/forecast/provider.js'

/**
 * A forecast as a step function of time, for integrals over any span: slots sorted, overlaps cut (a slot
 * starts where the one before it ended), gaps kept as gaps. Built in O(n) for sorted slots.
 */
export class IntensityTimeline {
  /** Slot starts, wall-clock ms, sorted (a slot that overlapped the one before starts where it ended). */
  readonly starts: Float64Array
  /** Slot ends, wall-clock ms, exclusive: each at or before the next slot's start. */
  readonly ends: Float64Array
  /** The slots' figures, g CO2e/kWh. */
  readonly values: Float64Array
  /** Integral of g/kWh × ms, and of covered ms, before slot i. */
  readonly #integral: Float64Array
  readonly #covered: Float64Array

  constructor(slots: readonly ForecastSlot[]) {
    let sorted = slots
    for (let i = 1; i < slots.length; i++) {
      if ((slots[i]?.startMs ?? 0) < (slots[i - 1]?.startMs ?? 0)) {
        sorted = [...slots].sort((a, b) => a.startMs - b.startMs)
        break
      }
    }
    const kept = sorted.filter((s) => Number.isFinite(s.gPerKWh) && s.endMs > s.startMs)
    const n = kept.length
    this.starts = new Float64Array(n)
    this.ends = new Float64Array(n)
    this.values = new Float64Array(n)
    this.#integral = new Float64Array(n + 1)
    this.#covered = new Float64Array(n + 1)
    let previousEnd = Number.NEGATIVE_INFINITY
    let m = 0
    for (const slot of kept) {
      const start = Math.max(slot.startMs, previousEnd)
      if (slot.endMs <= start) continue
      this.starts[m] = start
      this.ends[m] = slot.endMs
      this.values[m] = slot.gPerKWh
      this.#integral[m + 1] = (this.#integral[m] ?? 0) + slot.gPerKWh * (slot.endMs - start)
      this.#covered[m + 1] = (this.#covered[m] ?? 0) + (slot.endMs - start)
      previousEnd = slot.endMs
      m++
    }
    this.length = m
  }

  /** The number of slots kept. */
  readonly length: number

  /** The first slot's start, wall-clock ms; NaN when empty. */
  get startMs(): number {
    return this.length > 0 ? (this.starts[0] ?? Number.NaN) : Number.NaN
  }
  /** The last slot's end, wall-clock ms; NaN when empty. */
  get endMs(): number {
    return this.length > 0 ? (this.ends[this.length - 1] ?? Number.NaN) : Number.NaN
  }

  /** The index of the last slot starting at or before `t`, or -1 (binary search). */
  slotBefore(t: number): number {
    let lo = 0
    let hi = this.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if ((this.starts[mid] ?? 0) <= t) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  /** The figure at `t`, or null in a gap or outside the forecast. */
  at(t: number): number | null {
    const i = this.slotBefore(t)
    return i >= 0 && t < (this.ends[i] ?? 0) ? (this.values[i] ?? null) : null
  }

  /** ∫ figure dt and covered ms from the forecast's start to `t`, given the slot before `t`. */
  cumulative(
    t: number,
    i: number,
  ): {
    /** ∫ figure dt from the forecast's start to `t`, over the covered time only, g/kWh × ms. */
    integral: number
    /** Milliseconds of that span the forecast covers. */
    covered: number
  } {
    if (i < 0) return { integral: 0, covered: 0 }
    const inside = Math.max(0, Math.min(t, this.ends[i] ?? 0) - (this.starts[i] ?? 0))
    return {
      integral: (this.#integral[i] ?? 0) + (this.values[i] ?? 0) * inside,
      covered: (this.#covered[i] ?? 0) + inside,
    }
  }

  /**
   * The mean figure over [fromMs, toMs] where the forecast covers it, and how many ms it covers. Summed
   * slot by slot rather than from the running integral, so that a span inside one slot gets its figure
   * exactly.
   */
  meanOver(
    fromMs: number,
    toMs: number,
  ): {
    /** The mean figure over the covered part, g CO2e/kWh; null when the forecast covers none of it. */
    meanGPerKWh: number | null
    /** Milliseconds of [fromMs, toMs] the forecast covers. */
    coveredMs: number
  } {
    let weighted = 0
    let coveredMs = 0
    for (let i = Math.max(0, this.slotBefore(fromMs)); i < this.length; i++) {
      const start = this.starts[i] ?? 0
      if (start >= toMs) break
      const overlap = Math.min(toMs, this.ends[i] ?? 0) - Math.max(fromMs, start)
      if (overlap <= 0) continue
      weighted += (this.values[i] ?? 0) * overlap
      coveredMs += overlap
    }
    return { meanGPerKWh: coveredMs > 0 ? weighted / coveredMs : null, coveredMs }
  }

  /** A reader of cumulative() for times that never decrease: amortised O(1) a call. */
  cursor(): (t: number) => {
    /** ∫ figure dt from the forecast's start to `t`, over the covered time only, g/kWh × ms. */
    integral: number
    /** Milliseconds of that span the forecast covers. */
    covered: number
  } {
    let i = -1
    return (t) => {
      while (i + 1 < this.length && (this.starts[i + 1] ?? 0) <= t) i++
      return this.cumulative(t, i)
    }
  }
}
