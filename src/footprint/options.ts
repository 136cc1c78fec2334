/** The machine's embodied emissions, as the user knows them (option `embodied`). */
export interface EmbodiedOption {
  /** Total embodied emissions of the machine (or of the instance's host), kg CO2e. Default: looked up. */
  readonly kgCO2e?: number
  /** The hardware's expected life, years. Default 4 (Cloud Carbon Footprint's and SCI guidance's). */
  readonly lifetimeYears?: number
  /**
   * The share of that hardware the run reserved (SCI's RR/ToR), 0 to 1: `1 / 8` for one GPU of eight.
   * Default: the instance's vCPUs (or GPUs) over its host's, times the job's share under attribution.
   */
  readonly share?: number
}

/** What SCI is counted per (option `functionalUnit`): `{ name: 'epoch', count: 10 }`. */
export interface FunctionalUnitOption {
  /** The unit's name: `epoch`, `request`, `token`, `image` … */
  readonly name: string
  /** How many units the run delivered. Required for `sci` until the run itself counts them. */
  readonly count?: number
}

/** The footprint's options, resolved. */
export interface FootprintConfig {
  readonly embodied: EmbodiedOption | null
  readonly cloudInstanceType: string | null
  readonly wue: number | null
  readonly waterIntensity: number | null
  readonly functionalUnit: FunctionalUnitOption | null
  /** Where /sys is: the firmware's DMI, the block devices. */
  readonly sysRoot: string
}

/** Default hardware life, years. */
export const DEFAULT_LIFETIME_YEARS = 4
