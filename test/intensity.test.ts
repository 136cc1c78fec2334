import { describe, expect, it } from 'vitest'
import { findCountry, suggestCountries } from '../src/intensity/countries.js'
import { resolveIntensity } from '../src/intensity/resolve.js'

const resolve = (country: string | null, carbonIntensity: number | null = null) =>
  resolveIntensity({ country, carbonIntensity })

describe('resolveIntensity', () => {
  it('uses a forced value first, labelled fixed', async () => {
    const { provider, warning } = await resolve('DE', 56)
    expect(provider.at(0)).toEqual({ gPerKWh: 56, source: 'fixed' })
    expect(warning).toBeNull()
  })

  it("uses the country's Electricity Maps zone from the newest year", async () => {
    const { provider, country } = await resolve('DE')
    expect(provider.at(0)).toEqual({ gPerKWh: 342, source: 'electricitymaps-yearly-2025:DE' })
    expect(country).toEqual({ alpha2: 'DE', alpha3: 'DEU', name: 'Germany' })
    expect((await resolve('FR')).provider.at(0).gPerKWh).toBe(31)
  })

  it("falls back to Ember's alpha-3 average when Electricity Maps has no zone of that code", async () => {
    // Electricity Maps splits Chile into grid zones (CL-SEN …): no zone named CL.
    const { provider } = await resolve('CL')
    expect(provider.at(0).source).toBe('ember:CHL')
    expect(provider.at(0).gPerKWh).toBeGreaterThan(0)
  })

  it('uses the world average with a warning when the country has no figure', async () => {
    const { provider, warning } = await resolve('AD')
    expect(provider.at(0)).toEqual({ gPerKWh: 475, source: 'world-average' })
    expect(warning?.code).toBe('NO_COUNTRY_FIGURE')
    expect(warning?.message).toContain('Andorra')
  })

  it('uses the world average and says how to set the location when none is given', async () => {
    const { provider, warning, country } = await resolve(null)
    expect(provider.at(0)).toEqual({ gPerKWh: 475, source: 'world-average' })
    expect(country).toBeNull()
    expect(warning?.code).toBe('LOCATION_UNKNOWN')
    expect(warning?.message).toContain("country: 'FR'")
    expect(warning?.message).toContain('WATTPRINT_COUNTRY')
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
