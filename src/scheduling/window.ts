import type { ForecastSlot } from '../intensity/forecast/provider.js'
import { IntensityTimeline } from './timeline.js'

/** What to search: a job of `durationMs`, to start at or after `earliestMs` and end by `deadlineMs`. */
export interface WindowQuery {
  /** How long the job runs, ms. */
  readonly durationMs: number
  /** Usually now. */
  readonly earliestMs: number
  /** The job must end by then; when it cannot (too long), the only start is `earliestMs`. */
  readonly deadlineMs: number
}

/** The best start found, and what starting at once would have meant. */
export interface WindowChoice {
  /** The best start, wall-clock milliseconds (UTC). */
  readonly startMs: number
  /** The job's end when started then (startMs + its duration), wall-clock milliseconds (UTC). */
  readonly endMs: number
  /** Mean forecast intensity over the part of the window the forecast covers. */
  readonly meanGPerKWh: number
  /** The same for a start at `earliestMs`; null when the forecast says nothing about it. */
  readonly nowGPerKWh: number | null
  /** (now − best) / now, in %; 0 when now is unknown or zero. */
  readonly savingPercent: number
  /** The fraction of the chosen window the forecast covers (1: all of it; less: gaps, or it ends early). */
  readonly coverage: number
  /** False when the job is longer than the time to the deadline (then it starts at once). */
  readonly fitsDeadline: boolean
  /** The slots' source. */
  readonly source: string
}

/**
 * The start in [earliest, deadline − duration] with the lowest mean forecast intensity, preferring the
 * windows the forecast covers most (a window over a gap or past the forecast's end is not judged on the
 * part nobody knows), then the earliest of equal ones. The mean is piecewise linear in the start between
 * the moments a window's start or end crosses a slot boundary, so its minimum is at one of those: they,
 * and the two ends of the range, are the only starts tried, in order, with two cursors over the slots'
 * running integral. Linear in the number of slots (after a sort when they come unsorted); a window may
 * start inside a slot. Null when the forecast overlaps no candidate window.
 */
export function searchWindow(
  slots: readonly ForecastSlot[] | IntensityTimeline,
  query: WindowQuery,
): WindowChoice | null {
  const timeline = slots instanceof IntensityTimeline ? slots : new IntensityTimeline(slots)
  // A window of no length is a moment: a millisecond stands for it, and the earliest best moment wins.
  const d = Math.max(1, query.durationMs)
  const lo = query.earliestMs
  const fitsDeadline = query.deadlineMs - d >= lo
  const hi = fitsDeadline ? query.deadlineMs - d : lo
  const startAt = timeline.cursor()
  const endAt = timeline.cursor()
  type Candidate = { s: number; covered: number; mean: number }
  let best = null as Candidate | null
  let now = null as Candidate | null
  const consider = (s: number) => {
    const a = startAt(s)
    const b = endAt(s + d)
    const covered = b.covered - a.covered
    if (covered <= 0) return
    const mean = (b.integral - a.integral) / covered
    if (s === lo) now = { s, covered, mean }
    // Relative tolerance: equal means computed in another order must not move the start later.
    if (
      best === null ||
      covered > best.covered ||
      (covered === best.covered && mean < best.mean - 1e-12 * Math.max(1, Math.abs(best.mean)))
    )
      best = { s, covered, mean }
  }

  consider(lo)
  // Merge the two sorted streams of breakpoints: slot boundaries b (the start crosses one) and b − d
  // (the end does), both strictly inside (lo, hi).
  const n = timeline.length
  const boundary = (k: number): number =>
    (k & 1) === 0 ? (timeline.starts[k >> 1] ?? 0) : (timeline.ends[k >> 1] ?? 0)
  let p = 0
  let q = 0
  let last = lo
  while (p < 2 * n || q < 2 * n) {
    const viaStart = p < 2 * n ? boundary(p) : Number.POSITIVE_INFINITY
    const viaEnd = q < 2 * n ? boundary(q) - d : Number.POSITIVE_INFINITY
    const s = Math.min(viaStart, viaEnd)
    if (viaStart <= viaEnd) p++
    else q++
    // Each stream is sorted, so the first breakpoint at or past hi ends both.
    if (s >= hi) break
    if (s > last) {
      consider(s)
      last = s
    }
  }
  if (hi > last) consider(hi)
  const chosen = best
  if (chosen === null) return null
  const nowGPerKWh = now === null ? null : now.mean
  return {
    startMs: chosen.s,
    endMs: chosen.s + query.durationMs,
    meanGPerKWh: chosen.mean,
    nowGPerKWh,
    savingPercent: nowGPerKWh && nowGPerKWh > 0 ? ((nowGPerKWh - chosen.mean) / nowGPerKWh) * 100 : 0,
    coverage: chosen.covered / d,
    fitsDeadline,
    source: sourceOf(slots),
  }
}

const sourceOf = (slots: readonly ForecastSlot[] | IntensityTimeline): string =>
  slots instanceof IntensityTimeline ? 'forecast' : (slots[0]?.source ?? 'forecast')

/**
 * The first moment in [fromMs, latestMs] at which the forecast is at or below `maxGPerKWh`; null when
 * there is none (then the job waits for `latestMs`). Linear in the slots.
 */
export function firstAtOrBelow(
  slots: readonly ForecastSlot[] | IntensityTimeline,
  maxGPerKWh: number,
  fromMs: number,
  latestMs: number,
): number | null {
  const timeline = slots instanceof IntensityTimeline ? slots : new IntensityTimeline(slots)
  for (let i = Math.max(0, timeline.slotBefore(fromMs)); i < timeline.length; i++) {
    const start = Math.max(fromMs, timeline.starts[i] ?? 0)
    if (start > latestMs) break
    if ((timeline.ends[i] ?? 0) > start && (timeline.values[i] ?? Number.POSITIVE_INFINITY) <= maxGPerKWh)
      return start
  }
  return null
}
