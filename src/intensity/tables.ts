import type { Country } from './countries.js'
import type { IntensityReading } from './provider.js'

type Co2Data = typeof import('@tgwf/co2/data')

let data: Promise<Co2Data> | undefined

/** Loads CO2.js's data lazily (about 400 kB of tables): only a tracker that needs a yearly figure pays. */
function co2Data(): Promise<Co2Data> {
  data ??= import('@tgwf/co2/data')
  return data
}

/**
 * The yearly average intensity of a country from the tables CO2.js ships: the Electricity Maps zone with
 * the country's alpha-2 code, from the newest year that has it; else Ember's average for the alpha-3 code.
 */
export async function countryIntensity(country: Country): Promise<IntensityReading | null> {
  const { electricityMaps, averageIntensity } = await co2Data()
  const years = Object.keys(electricityMaps)
    .map((key) => ({ key, year: Number(key.replace(/^yearly/, '')) }))
    .filter((y) => Number.isInteger(y.year))
    .sort((a, b) => b.year - a.year)
  for (const { key, year } of years) {
    const value = electricityMaps[key]?.data[country.alpha2]?.carbonIntensity?.value
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
      return { gPerKWh: value, source: `electricitymaps-yearly-${year}:${country.alpha2}` }
    }
  }
  const ember = averageIntensity.data[country.alpha3]
  if (typeof ember === 'number' && Number.isFinite(ember) && ember >= 0) {
    return { gPerKWh: ember, source: `ember:${country.alpha3}` }
  }
  return null
}
