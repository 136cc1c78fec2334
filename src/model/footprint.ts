/** What a run's record says of its embodied emissions, water and SCI. */
export interface FootprintFields {
  /** kg CO2e of the hardware's manufacture charged to the run (SCI's M); null when unknown. */
  readonly embodiedEmissionsKg: number | null
  /** Where M came from, with the share and life used; null when unknown. */
  readonly embodiedSource: string | null
  /** Litres of water consumed: on-site cooling plus off-site generation, as far as known; null when neither is. */
  readonly waterConsumedL: number | null
  /** The data centre's water usage effectiveness used for on-site water, L per IT kWh; null when unknown. */
  readonly wueLPerKWh: number | null
  /** Where each part of the water figure came from, or why it is missing. */
  readonly waterSource: string | null
  /** Software Carbon Intensity: (operational + embodied kg CO2e) per functional unit; null without one. */
  readonly sci: number | null
  /** The functional unit's name (`epoch`, `request`, `token`); null when none is named. */
  readonly functionalUnit: string | null
  /** How many functional units the run delivered (SCI's R); null when unknown. */
  readonly functionalUnitCount: number | null
}
