import type { MeterMethod, MeterSource } from '../core/components.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { MeterInfo } from '../model/meter.js'

/**
 * A source of energy readings, built inside the sampler (the worker thread) from a plain-data spec.
 * `read` writes one raw value per channel into `out` (NaN for a channel that could not be read) and may
 * throw when the whole meter failed this time; the sampler turns both into gaps, never into a crash.
 */
export interface Meter extends MeterInfo {
  read(out: Float64Array): void
  /** Why a channel of the last read() came back NaN, when the meter can tell. */
  lastError?: string | undefined
  /**
   * Estimate meters whose wattage needs slow facts (TDP table, memory layout) start with it unknown and
   * get it here, before their first interval closes; until then their reads are NaN.
   */
  setWatts?(watts: number | readonly number[]): void
  /**
   * Warnings the last read() found that are not a failed read (a counter frozen while the device draws, a
   * die reading 0 W beside its sibling); the sampler passes them on.
   */
  takeWarnings?(): readonly TrackerWarning[]
  /** Mean utilisation of the device(s) as of the last read(), in %; NaN when unknown (GPU meters). */
  utilizationPercent?(): number
  /**
   * Its readings arrive through the thread's event loop (a child process's output): the sampler worker
   * then keeps its event loop turning between samples instead of sleeping in Atomics.wait.
   */
  readonly needsEventLoop?: boolean
  close?(): void
}

/** The outcome of one counter difference. */
export interface CounterStep {
  /** Energy in raw counter units; never negative, never NaN. */
  readonly deltaRaw: number
  /** `wrap`: the counter passed its known range; `reset`: it went down with no known range. */
  readonly event: 'ok' | 'wrap' | 'reset'
}

/**
 * Difference of a cumulative counter between two readings. A counter that went down wrapped when its
 * range is known (the range is added); otherwise it was reset, and the interval counts as 0 rather than
 * as a negative or made-up delta.
 */
export function counterStep(previousRaw: number, currentRaw: number, rangeRaw: number | null): CounterStep {
  if (currentRaw >= previousRaw) return { deltaRaw: currentRaw - previousRaw, event: 'ok' }
  if (rangeRaw !== null && rangeRaw > 0 && previousRaw <= rangeRaw) {
    return { deltaRaw: currentRaw - previousRaw + rangeRaw, event: 'wrap' }
  }
  return { deltaRaw: 0, event: 'reset' }
}

/**
 * Energy of a power channel over one interval of `seconds`.
 * `instant` readings are integrated with the trapezoid rule between the previous and the current
 * reading; `average` readings describe the interval just ended, so the rectangle rule applies.
 */
export function powerEnergyJ(
  previousW: number,
  currentW: number,
  seconds: number,
  mode: 'instant' | 'average',
): number {
  if (!(seconds > 0)) return 0
  const joules = mode === 'instant' ? ((previousW + currentW) / 2) * seconds : currentW * seconds
  return Number.isFinite(joules) && joules > 0 ? joules : 0
}

/** True for a raw reading that can be used (finite and not negative). */
export const isUsable = (value: number | undefined): value is number =>
  value !== undefined && Number.isFinite(value) && value >= 0

/** The sources that are estimates; every other source is measured. */
const ESTIMATED_SOURCES: readonly MeterSource[] = ['cpu-model', 'ram-model', 'rest-model', 'constant']

/** The method implied by a source. */
export function methodOf(source: MeterSource): MeterMethod {
  return ESTIMATED_SOURCES.includes(source) ? 'estimated' : 'measured'
}

/**
 * What estimate meters are given once the slow facts are known, by meter id: a wattage, or watts per load
 * step of the power model (a curve the meter interpolates at the machine's load).
 */
export type EstimateWatts = Readonly<Record<string, number | readonly number[]>>
