/** A carbon intensity and where it came from. */
export interface IntensityReading {
  /** Grams of CO2e per kWh. */
  readonly gPerKWh: number
  /** `fixed`, `electricitymaps-yearly-2025:DE`, `ember:DEU`, `world-average` … */
  readonly source: string
}

/** Answers the carbon intensity valid at a moment (wall-clock milliseconds). */
export interface IntensityProvider {
  /** The intensity valid at `wallMs` (wall-clock milliseconds, as Date.now() gives them), with its source. */
  at(wallMs: number): IntensityReading
}

/** The same figure at every moment: a forced value, a yearly average, the world average. */
export class ConstantIntensity implements IntensityProvider {
  constructor(private readonly reading: IntensityReading) {}
  at(): IntensityReading {
    return this.reading
  }
}

/** IEA 2019 world average, the figure CodeCarbon uses when nothing is known. */
export const WORLD_AVERAGE_G_PER_KWH = 475
