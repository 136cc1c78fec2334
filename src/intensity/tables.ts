import { createRequire } from 'node:module'
import type { Country } from './countries.js'
import type { IntensityReading } from './provider.js'

/** Electricity Maps yearly averages as CO2.js ships them: `yearly2025` → zone id → figures. */
export type YearlyZoneData = Readonly<
  Record<
    string,
    {
      readonly data: Readonly<
        Record<string, { readonly carbonIntensity?: { readonly value?: unknown } } | undefined>
      >
    }
  >
>

/** The two tables a static intensity comes from. */
export interface IntensityTables {
  readonly electricityMaps: YearlyZoneData
  /** Ember yearly averages (g CO2e/kWh) by ISO 3166 alpha-3 code. */
  readonly ember: Readonly<Record<string, number | undefined>>
}

let shipped: IntensityTables | undefined

/**
 * CO2.js's tables, loaded on first use (about 400 kB, some 40 ms): only a tracker that needs a yearly
 * figure, or validates a zone, pays. Loaded synchronously (CO2.js ships CommonJS builds too) so that an
 * unknown zone can be refused by the constructor.
 */
export function shippedTables(): IntensityTables {
  if (!shipped) {
    const require = createRequire(import.meta.url)
    const { electricityMaps, averageIntensity } = require('@tgwf/co2/data') as typeof import('@tgwf/co2/data')
    shipped = { electricityMaps, ember: averageIntensity.data }
  }
  return shipped
}

const usable = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0

/** The years of the Electricity Maps data, newest first. */
function yearsNewestFirst(data: YearlyZoneData): { key: string; year: number }[] {
  return Object.keys(data)
    .map((key) => ({ key, year: Number(key.replace(/^yearly/, '')) }))
    .filter((y) => Number.isInteger(y.year))
    .sort((a, b) => b.year - a.year)
}

/** The yearly average of an Electricity Maps zone, from the newest year that has it; null when none does. */
export function zoneIntensity(
  zone: string,
  tables: IntensityTables = shippedTables(),
): IntensityReading | null {
  for (const { key, year } of yearsNewestFirst(tables.electricityMaps)) {
    const value = tables.electricityMaps[key]?.data[zone]?.carbonIntensity?.value
    if (usable(value)) return { gPerKWh: value, source: `electricitymaps-yearly-${year}:${zone}` }
  }
  return null
}

/** Every zone id the Electricity Maps data knows, in any year. */
export function knownZones(tables: IntensityTables = shippedTables()): Set<string> {
  const zones = new Set<string>()
  for (const { key } of yearsNewestFirst(tables.electricityMaps)) {
    for (const zone of Object.keys(tables.electricityMaps[key]?.data ?? {})) zones.add(zone)
  }
  return zones
}

/**
 * A country's yearly average: the Electricity Maps zone with its alpha-2 code (newest year that has it),
 * else Ember's average for its alpha-3 code (CO2.js keeps each country's latest year and does not say
 * which, hence no year in the label); null when neither has it.
 */
export function countryIntensity(
  country: Country,
  tables: IntensityTables = shippedTables(),
): IntensityReading | null {
  const zone = zoneIntensity(country.alpha2, tables)
  if (zone) return zone
  const ember = tables.ember[country.alpha3]
  return usable(ember) ? { gPerKWh: ember, source: `ember:${country.alpha3}` } : null
}
