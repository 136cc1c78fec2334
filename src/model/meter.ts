import type { MeterComponent, MeterMethod, MeterSource } from '../core/components.js'

/**
 * One quantity a meter reads each sample.
 * - `counter`: a cumulative energy counter in `unitJ` joules per raw unit (RAPL µJ: 1e-6), which wraps
 *   back to 0 after `rangeRaw` raw units when that range is known, and can never truly draw more than
 *   `maxWatts`.
 * - `power`: watts, either `instant` (integrated with the trapezoid rule) or the `average` over the
 *   interval that just ended (rectangle rule).
 */
export type Channel =
  | {
      readonly name: string
      readonly kind: 'counter'
      readonly unitJ: number
      readonly rangeRaw: number | null
      /** A step implying more power than this is a glitch (or a wrong range), never energy. */
      readonly maxWatts?: number
    }
  | { readonly name: string; readonly kind: 'power'; readonly mode: 'instant' | 'average' }

/** What a meter tells about itself: it reaches every output row. */
export interface MeterInfo {
  /** Stable id, unique within a tracker (`rapl-package`, `cpu-tdp`, …). */
  readonly id: string
  readonly component: MeterComponent
  readonly source: MeterSource
  readonly method: MeterMethod
  readonly channels: readonly Channel[]
}
