// @tgwf/co2 ships no type declarations; these describe the two data exports wattprint reads.
declare module '@tgwf/co2/data' {
  /** Ember yearly averages (g CO2e/kWh) keyed by ISO 3166 alpha-3 code (and some regions: EU, WORLD). */
  export const averageIntensity: { readonly data: Readonly<Record<string, number>>; readonly type: string }
  /** Electricity Maps yearly averages keyed by `yearly2025` … then by zone id (`DE`, `US-CAL-CISO`). */
  export const electricityMaps: Readonly<
    Record<
      string,
      {
        readonly data: Readonly<
          Record<
            string,
            {
              readonly zone?: { readonly zoneName?: string }
              readonly carbonIntensity?: { readonly value?: number }
            }
          >
        >
      }
    >
  >
}
