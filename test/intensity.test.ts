import { afterEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/config/config.js'
import type { TrackerOptions } from '../src/config/options.js'
import { WattprintError } from '../src/core/errors.js'
import type { TrackerWarning } from '../src/core/warnings.js'
import { cloudRegionsOf, findCloudRegion } from '../src/intensity/cloud-regions.js'
import { findCountry, suggestCountries } from '../src/intensity/countries.js'
import {
  type IntensityResolution,
  type ResolveDependencies,
  resolveIntensity,
} from '../src/intensity/resolve.js'
import {
  countryIntensity,
  type IntensityTables,
  shippedTables,
  zoneIntensity,
} from '../src/intensity/tables.js'
import { guessCountryFromTimeZone } from '../src/intensity/timezone.js'
import { findZone, suggestZones } from '../src/intensity/zones.js'

const opened: IntensityResolution[] = []
afterEach(() => {
  for (const resolution of opened.splice(0)) resolution.close()
})

/** Resolves as a tracker would, from options, with the machine's time zone replaced (UTC by default). */
async function resolveWith(options: TrackerOptions, dependencies: ResolveDependencies = {}) {
  const config = resolveConfig({ saveToFile: false, ...options }, {})
  const resolution = await resolveIntensity(config, { timeZone: 'UTC', ...dependencies })
  opened.push(resolution)
  return resolution
}

const codes = (warnings: readonly TrackerWarning[]) => warnings.map((w) => w.code)

describe('resolveIntensity: each path', () => {
  it('uses a forced value first, labelled fixed, whatever else is set', async () => {
    const { provider, warnings, location } = await resolveWith({ carbonIntensityGPerKWh: 56, zone: 'DE' })
    expect(provider.at(0)).toEqual({ gPerKWh: 56, source: 'fixed' })
    expect(warnings).toEqual([])
    expect(location.country?.alpha2).toBe('DE')
  })

  it("uses a zone's yearly Electricity Maps figure, and names the zone as the region", async () => {
    const { provider, location } = await resolveWith({ zone: 'us-cal-ciso' })
    expect(provider.at(0)).toEqual({ gPerKWh: 208, source: 'electricitymaps-yearly-2025:US-CAL-CISO' })
    expect(location).toMatchObject({ zone: 'US-CAL-CISO', onCloud: false, cloudProvider: null })
    expect(location.country?.alpha3).toBe('USA')
  })

  it.each([
    ['aws', 'eu-north-1', 'SE-SE3', 'SWE'],
    ['gcp', 'europe-west4', 'NL', 'NLD'],
    ['azure', 'westeurope', 'NL', 'NLD'],
    ['azure', 'West Europe', 'NL', 'NLD'],
  ])("uses the %s region %s's zone", async (cloudProvider, cloudRegion, zone, alpha3) => {
    const { provider, location } = await resolveWith({ cloudProvider, cloudRegion })
    expect(provider.at(0)).toEqual(zoneIntensity(zone))
    expect(provider.at(0).source).toBe(`electricitymaps-yearly-2025:${zone}`)
    expect(location).toMatchObject({ zone, cloudProvider, onCloud: true })
    expect(location.cloudRegion).toBe(cloudRegion.replace(/\s/g, '').toLowerCase())
    expect(location.country?.alpha3).toBe(alpha3)
  })

  it("uses the country's Electricity Maps zone, alpha-2 and alpha-3 alike", async () => {
    const byAlpha2 = await resolveWith({ country: 'de' })
    const byAlpha3 = await resolveWith({ country: 'DEU' })
    expect(byAlpha2.provider.at(0)).toEqual({ gPerKWh: 342, source: 'electricitymaps-yearly-2025:DE' })
    expect(byAlpha3.provider.at(0)).toEqual(byAlpha2.provider.at(0))
    expect(byAlpha3.location).toEqual(byAlpha2.location)
    expect(byAlpha2.location.country).toEqual({ alpha2: 'DE', alpha3: 'DEU', name: 'Germany' })
    expect(byAlpha2.location.zone).toBe('DE')
  })

  it("falls back to Ember's alpha-3 average when Electricity Maps has no zone of that code", async () => {
    // Electricity Maps splits Chile into grid zones (CL-SEN …): no zone named CL.
    const { provider, location } = await resolveWith({ country: 'CL' })
    expect(provider.at(0).source).toBe('ember:CHL')
    expect(provider.at(0).gPerKWh).toBe(shippedTables().ember.CHL)
    expect(location.zone).toBeNull()
  })

  it('guesses the country from the time zone, says so on every figure, and warns', async () => {
    const { provider, location, warnings, notes } = await resolveWith({}, { timeZone: 'Europe/Berlin' })
    expect(provider.at(0)).toEqual({
      gPerKWh: 342,
      source: 'timezone-guess:Europe/Berlin:electricitymaps-yearly-2025:DE',
    })
    expect(location).toMatchObject({ guessedFrom: 'Europe/Berlin', zone: 'DE' })
    expect(codes(warnings)).toEqual(['LOCATION_GUESSED'])
    expect(warnings[0]?.message).toContain('Germany')
    expect(warnings[0]?.message).toContain("country: 'FR'")
    expect(notes.join(' ')).toContain('guessed from the time zone Europe/Berlin')
  })

  it('never guesses over a location that was given', async () => {
    const { provider, warnings } = await resolveWith({ country: 'FR' }, { timeZone: 'Europe/Berlin' })
    expect(provider.at(0).source).toBe('electricitymaps-yearly-2025:FR')
    expect(warnings).toEqual([])
  })

  it('uses the world average with a warning when nothing places the machine (UTC)', async () => {
    const { provider, warnings, location, notes } = await resolveWith({})
    expect(provider.at(0)).toEqual({ gPerKWh: 475, source: 'world-average' })
    expect(location.country).toBeNull()
    expect(codes(warnings)).toEqual(['LOCATION_UNKNOWN'])
    expect(warnings[0]?.message).toContain("country: 'FR'")
    expect(warnings[0]?.message).toContain('WATTPRINT_COUNTRY')
    expect(notes).toContain('carbon intensity is the world average: the location was not given')
  })

  it('uses the world average with a warning for a country with no figure', async () => {
    const { provider, warnings } = await resolveWith({ country: 'AD' })
    expect(provider.at(0)).toEqual({ gPerKWh: 475, source: 'world-average' })
    expect(codes(warnings)).toEqual(['NO_COUNTRY_FIGURE'])
    expect(warnings[0]?.message).toContain('Andorra')
  })

  it('detects the cloud only when asked, and uses the detected region', async () => {
    let asked = 0
    const detectCloud = async () => {
      asked += 1
      return { provider: 'gcp' as const, region: 'europe-west4', instanceType: 'n2-standard-8' }
    }
    expect((await resolveWith({}, { detectCloud })).location.onCloud).toBe(false)
    expect(asked).toBe(0)
    const { provider, location, notes } = await resolveWith({ detectCloud: true }, { detectCloud })
    expect(asked).toBe(1)
    expect(provider.at(0).source).toBe('electricitymaps-yearly-2025:NL')
    expect(location).toMatchObject({
      onCloud: true,
      cloudProvider: 'gcp',
      cloudRegion: 'europe-west4',
      cloudInstanceType: 'n2-standard-8',
    })
    expect(notes.join(' ')).toContain('cloud detected from instance metadata: gcp europe-west4')
  })

  it('warns about a detected region missing from the table, and goes on by country', async () => {
    const detectCloud = async () => ({ provider: 'aws' as const, region: 'xx-mars-1' })
    const { provider, warnings, location } = await resolveWith(
      { detectCloud: true, country: 'FR' },
      { detectCloud },
    )
    expect(codes(warnings)).toEqual(['CLOUD_REGION_UNKNOWN'])
    expect(warnings[0]?.message).toContain('xx-mars-1')
    expect(provider.at(0).source).toBe('electricitymaps-yearly-2025:FR')
    expect(location).toMatchObject({ onCloud: true, cloudRegion: 'xx-mars-1' })
  })
})

describe('intensity tables', () => {
  const tables: IntensityTables = {
    electricityMaps: {
      yearly2025: { data: { DE: { carbonIntensity: { value: 340 } } } },
      yearly2024: {
        data: { DE: { carbonIntensity: { value: 380 } }, 'XX-OLD': { carbonIntensity: { value: 99 } } },
      },
      yearly2023: { data: { 'XX-OLD': { carbonIntensity: { value: 120 } } } },
    },
    ember: { DEU: 350, CHL: 270 },
  }

  it('takes a zone from the newest year that has it', () => {
    expect(zoneIntensity('DE', tables)).toEqual({ gPerKWh: 340, source: 'electricitymaps-yearly-2025:DE' })
    expect(zoneIntensity('XX-OLD', tables)).toEqual({
      gPerKWh: 99,
      source: 'electricitymaps-yearly-2024:XX-OLD',
    })
    expect(zoneIntensity('NOWHERE', tables)).toBeNull()
  })

  it('prefers the Electricity Maps zone of a country to Ember', () => {
    const chile = findCountry('CL')
    const germany = findCountry('DE')
    if (!chile || !germany) throw new Error('ISO table incomplete')
    expect(countryIntensity(germany, tables)?.source).toBe('electricitymaps-yearly-2025:DE')
    expect(countryIntensity(chile, tables)).toEqual({ gPerKWh: 270, source: 'ember:CHL' })
  })

  it('spells zones as the data does, and suggests close ones', () => {
    expect(findZone('se-se2')).toBe('SE-SE2')
    expect(findZone('CA-ON')).toBe('CA-ON')
    expect(findZone('US-CALI')).toBeNull()
    expect(suggestZones('US-CAL-CSIO')).toContain('US-CAL-CISO')
    expect(suggestZones('SE-SE')).toContain('SE-SE2')
  })
})

describe('cloud regions table', () => {
  const zones = new Set(Object.keys(shippedTables().electricityMaps.yearly2025?.data ?? {}))

  it.each(['aws', 'gcp', 'azure'] as const)('maps every %s region to a zone the data has', (provider) => {
    const regions = cloudRegionsOf(provider)
    expect(regions.length).toBeGreaterThan(30)
    for (const region of regions) {
      expect(zones.has(region.zone), `${provider} ${region.region} → ${region.zone}`).toBe(true)
      expect(findCountry(region.alpha2), `${provider} ${region.region} country`).not.toBeNull()
    }
  })

  it('has the current regions', () => {
    expect(findCloudRegion('aws', 'ca-west-1')?.zone).toBe('CA-AB')
    expect(findCloudRegion('gcp', 'me-central2')?.alpha2).toBe('SA')
    expect(findCloudRegion('azure', 'polandcentral')?.zone).toBe('PL')
    expect(findCloudRegion('aws', 'EU-WEST-3')?.region).toBe('eu-west-3')
  })
})

describe('time zone guess', () => {
  it('maps zones and their old names to countries, and ignores UTC', async () => {
    expect((await guessCountryFromTimeZone('Europe/Paris'))?.country.alpha2).toBe('FR')
    // ICU still reports some old names.
    expect((await guessCountryFromTimeZone('Asia/Calcutta'))?.country.alpha2).toBe('IN')
    expect((await guessCountryFromTimeZone('Europe/Kiev'))?.country.alpha2).toBe('UA')
    expect((await guessCountryFromTimeZone('US/Pacific'))?.country.alpha2).toBe('US')
    expect(await guessCountryFromTimeZone('UTC')).toBeNull()
    expect(await guessCountryFromTimeZone('Etc/GMT+5')).toBeNull()
    expect(await guessCountryFromTimeZone(null)).toBeNull()
  })
})

describe('location options', () => {
  const failure = (options: TrackerOptions, env: Record<string, string> = {}): WattprintError => {
    try {
      resolveConfig({ saveToFile: false, ...options }, env)
    } catch (error) {
      if (error instanceof WattprintError) return error
      throw error
    }
    throw new Error('expected a WattprintError')
  }

  it('refuses an unknown zone with close matches', () => {
    const error = failure({ zone: 'US-CAL-CSIO' })
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.option).toBe('zone')
    expect(error.message).toContain('"US-CAL-CSIO" is not an Electricity Maps zone')
    expect(error.message).toContain('US-CAL-CISO')
    const fromEnv = failure({}, { WATTPRINT_ZONE: 'DEU' })
    expect(fromEnv.code).toBe('INVALID_ENVIRONMENT')
    expect(fromEnv.message).toContain('WATTPRINT_ZONE=US-CAL-CISO')
  })

  it('refuses an unknown cloud region with close matches from that provider', () => {
    const error = failure({ cloudProvider: 'aws', cloudRegion: 'eu-nort-1' })
    expect(error.option).toBe('cloudRegion')
    expect(error.message).toContain('not an AWS region')
    expect(error.message).toContain('eu-north-1')
    expect(failure({ cloudProvider: 'gcp', cloudRegion: 'eu-north-1' }).message).toContain('europe-north1')
  })

  it('refuses an unknown provider, and a region or provider alone', () => {
    expect(failure({ cloudProvider: 'oracle', cloudRegion: 'x' }).message).toContain('aws, gcp, azure')
    expect(failure({ cloudRegion: 'eu-north-1' }).option).toBe('cloudProvider')
    expect(failure({ cloudProvider: 'aws' }).message).toContain('needs the region too')
    const env = resolveConfig(
      { saveToFile: false },
      { WATTPRINT_CLOUD_PROVIDER: 'AWS', WATTPRINT_CLOUD_REGION: 'EU-NORTH-1' },
    )
    expect(env).toMatchObject({ cloudProvider: 'aws', cloudRegion: 'eu-north-1' })
  })

  it('reads ukCarbonIntensity as national, a region id or a postcode, for Great Britain only', () => {
    const area = (value: string | number) =>
      resolveConfig({ saveToFile: false, ukCarbonIntensity: value }, {}).ukCarbonIntensity
    expect(area('national')).toEqual({ kind: 'national' })
    expect(area(13)).toEqual({ kind: 'region', id: 13 })
    expect(area('13')).toEqual({ kind: 'region', id: 13 })
    expect(area('sw1a 1aa')).toEqual({ kind: 'postcode', outward: 'SW1A' })
    expect(failure({ ukCarbonIntensity: 18 }).message).toContain('region id from 1 to 17')
    expect(failure({ ukCarbonIntensity: 'national', country: 'DE' }).message).toContain('Great Britain only')
    expect(
      failure({ ukCarbonIntensity: 13, cloudProvider: 'azure', cloudRegion: 'westeurope' }).message,
    ).toContain('azure westeurope (zone NL)')
    const london = {
      saveToFile: false,
      ukCarbonIntensity: 'national',
      cloudProvider: 'aws',
      cloudRegion: 'eu-west-2',
    }
    expect(() => resolveConfig(london, {})).not.toThrow()
    expect(() =>
      resolveConfig({ saveToFile: false, ukCarbonIntensity: 'national', zone: 'GB' }, {}),
    ).not.toThrow()
  })

  it('checks the base URLs', () => {
    expect(failure({ electricityMapsUrl: 'api.electricitymaps.com' }).message).toContain(
      'http:// or https:// URL',
    )
    expect(failure({}, { WATTPRINT_CLOUD_METADATA_URL: 'ftp://x' }).option).toBe(
      'WATTPRINT_CLOUD_METADATA_URL',
    )
  })
})

describe('countries', () => {
  it('finds a country by alpha-2 or alpha-3, in any case', () => {
    expect(findCountry('se')).toEqual(findCountry('SWE'))
    expect(findCountry('SWE')?.name).toBe('Sweden')
    expect(findCountry('XX')).toBeNull()
    expect(findCountry('Sweden')).toBeNull()
  })

  it('suggests close matches by code and by name', () => {
    expect(suggestCountries('GER')).toContain('DE/DEU (Germany)')
    expect(suggestCountries('Swe')).toContain('SE/SWE (Sweden)')
    expect(suggestCountries('Nowhereland')).toEqual([])
  })
})
