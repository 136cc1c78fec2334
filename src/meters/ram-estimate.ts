import type { Channel } from '../model/meter.js'
import type { Meter } from './meter.js'

/** Plain-data description of a constant-power meter: a wattage the user set (ramPowerW). */
export interface ConstantMeterSpec {
  readonly type: 'constant'
  readonly id: string
  readonly component: 'cpu' | 'gpu' | 'ram'
  readonly source: 'constant'
  /** Null until set with setWatts(). */
  readonly watts: number | null
}

// CodeCarbon v3's RAM model, kept public for comparisons with its figures; the tracker's own RAM estimate
// is the power model's (src/estimates/, docs/accuracy.md).

/**
 * Memory modules guessed from the total size, when the real layout is unknown (CodeCarbon v3's model):
 * ≤2 GB → 1, ≤16 → 2, ≤64 → 4, ≤128 → 8; above, modules of the largest size in {128, 64, 32, 16, 8, 4} GB
 * not above total/8, at most 32 of them.
 */
export function guessModuleCount(totalGB: number): number {
  if (totalGB <= 2) return 1
  if (totalGB <= 16) return 2
  if (totalGB <= 64) return 4
  if (totalGB <= 128) return 8
  const size = [128, 64, 32, 16, 8, 4].find((s) => s <= totalGB / 8) ?? 4
  return Math.min(32, Math.ceil(totalGB / size))
}

/**
 * RAM power for `modules` modules: 5 W each (1.5 W on ARM), modules 1–4 at 100 %, 5–8 at 90 %, 9–16 at
 * 80 %, 17 and more at 70 %; at least 10 W (3 W on ARM). 8 GB → 10 W, 32 GB → 20 W, 128 GB → 38 W,
 * 4 TB → 126 W.
 */
export function ramPowerW(modules: number, isArm: boolean): number {
  const perModule = isArm ? 1.5 : 5
  let watts = 0
  for (let m = 1; m <= modules; m++) {
    const efficiency = m <= 4 ? 1 : m <= 8 ? 0.9 : m <= 16 ? 0.8 : 0.7
    watts += perModule * efficiency
  }
  return Math.max(isArm ? 3 : 10, watts)
}

/** A meter that reports a fixed wattage (a value the user forced). */
export class ConstantMeter implements Meter {
  readonly id: string
  readonly component: ConstantMeterSpec['component']
  readonly source: ConstantMeterSpec['source']
  readonly method = 'estimated' as const
  readonly channels: readonly Channel[]
  private watts: number | null

  constructor(spec: ConstantMeterSpec) {
    this.id = spec.id
    this.component = spec.component
    this.source = spec.source
    this.watts = spec.watts
    this.channels = [{ name: spec.component, kind: 'power', mode: 'average' }]
  }

  setWatts(watts: number | readonly number[]): void {
    if (typeof watts !== 'number') return
    this.watts = watts
  }

  read(out: Float64Array): void {
    out[0] = this.watts ?? Number.NaN
  }
}
