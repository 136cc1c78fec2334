import type { TrackerWarning } from '../warnings.js'
import { type Country, findCountry } from './countries.js'
import { ConstantIntensity, type IntensityProvider, WORLD_AVERAGE_G_PER_KWH } from './provider.js'
import { countryIntensity } from './tables.js'

/** The intensity a tracker will use, for which country, and any warning to give about it. */
export interface IntensityResolution {
  readonly provider: IntensityProvider
  readonly country: Country | null
  readonly warning: TrackerWarning | null
}

/**
 * Decides where the carbon intensity comes from: a forced value; else the country's yearly figure; else
 * the world average, with a warning that says how to set the location (never a silent guess).
 */
export async function resolveIntensity(config: {
  readonly carbonIntensity: number | null
  readonly country: string | null
}): Promise<IntensityResolution> {
  const country = config.country ? findCountry(config.country) : null
  if (config.carbonIntensity !== null) {
    return {
      provider: new ConstantIntensity({ gPerKWh: config.carbonIntensity, source: 'fixed' }),
      country,
      warning: null,
    }
  }
  const world = new ConstantIntensity({ gPerKWh: WORLD_AVERAGE_G_PER_KWH, source: 'world-average' })
  if (!country) {
    return {
      provider: world,
      country: null,
      warning: {
        code: 'LOCATION_UNKNOWN',
        message:
          `Location unknown: emissions use the world average of ${WORLD_AVERAGE_G_PER_KWH} g CO2e/kWh. ` +
          "Set the country (country: 'FR', or WATTPRINT_COUNTRY=FR) or a measured intensity (carbonIntensity: 56).",
      },
    }
  }
  const reading = await countryIntensity(country)
  if (reading) return { provider: new ConstantIntensity(reading), country, warning: null }
  return {
    provider: world,
    country,
    warning: {
      code: 'NO_COUNTRY_FIGURE',
      message:
        `No yearly intensity for ${country.name} (${country.alpha3}) in the shipped tables: using the world ` +
        `average of ${WORLD_AVERAGE_G_PER_KWH} g CO2e/kWh. Set carbonIntensity to your grid's figure.`,
    },
  }
}
