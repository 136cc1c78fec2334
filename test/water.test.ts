import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hostEmbodied } from '../src/footprint/embodied.js'
import { computeFootprint, type FootprintInput } from '../src/footprint/footprint.js'
import type { FootprintConfig } from '../src/footprint/options.js'
import { findWaterIntensity } from '../src/footprint/tables.js'
import { readCsvWithPython } from './helpers/csv.js'
import { NO_FOOTPRINT_OPTIONS, TWO_HOURS } from './helpers/footprint.js'

const NONE = NO_FOOTPRINT_OPTIONS
/** A run that drew 10 kWh from the grid, off any cloud (so no on-site water). */
const RUN = TWO_HOURS

const host = hostEmbodied({
  embodied: { emissionsKg: 1000 },
  cloudProvider: null,
  instanceType: null,
  onCloud: false,
  sockets: 1,
  cpuCount: 8,
  ramTotalGiB: 16,
  gpuCount: 0,
  gpuModel: null,
  guest: null,
})
const water = (config: FootprintConfig, input: Partial<FootprintInput>) =>
  computeFootprint(config, host, { ...RUN, ...input })

describe('off-site water from the grid (WRI 2020 factors)', () => {
  it('multiplies the country’s factor by the grid kWh, and names the table, year and country', () => {
    // data/water-intensity.csv: DEU 1.9470 L/kWh (WRI Appendix 2). 10 kWh × 1.947 L/kWh = 19.47 L.
    const { fields, notes } = water(NONE, { countryIsoCode: 'DEU', region: 'DE' })
    expect(fields.waterConsumedL).toBeCloseTo(19.47, 10)
    expect(fields.wueLPerKWh).toBeNull()
    expect(fields.waterSource).toBe(
      'on-site: not counted (not on a known cloud; set wueLPerKWh); off-site: wri-2020:DEU 1.947 L/kWh × grid kWh',
    )
    expect(notes).toEqual([])
  })

  it('takes a US zone’s eGRID subregion figure over the national one', () => {
    // US-TEX-ERCO is eGRID ERCT, 1.2696 L/kWh; the United States as a whole is 3.1321 L/kWh.
    const texas = water(NONE, { countryIsoCode: 'USA', region: 'US-TEX-ERCO' }).fields
    expect(texas.waterConsumedL).toBeCloseTo(12.696, 10)
    expect(texas.waterSource).toMatch(
      /off-site: wri-2020:US-TEX-ERCO \(eGRID ERCT\) 1.2696 L\/kWh × grid kWh$/,
    )
    // PJM spans several subregions: the national figure.
    const pjm = water(NONE, { countryIsoCode: 'USA', region: 'US-MIDA-PJM' }).fields
    expect(pjm.waterConsumedL).toBeCloseTo(31.321, 10)
    expect(pjm.waterSource).toMatch(/off-site: wri-2020:USA 3.1321 L\/kWh × grid kWh$/)
  })

  it('adds on-site water to it, each with its source', () => {
    // 12 kWh from the grid at PUE 1.2: 10 kWh of IT × 0.12 L (AWS 2025) + 12 kWh × 1.4769 L (Ireland).
    const { fields } = water(NONE, {
      energyKWh: 12,
      pue: 1.2,
      cloudProvider: 'aws',
      cloudRegion: 'eu-west-1',
      countryIsoCode: 'IRL',
      region: 'IE',
    })
    expect(fields.waterConsumedL).toBeCloseTo(1.2 + 12 * 1.4769, 10)
    expect(fields.waterSource).toBe(
      'on-site: aws-2025 0.12 L/kWh × IT kWh; off-site: wri-2020:IRL 1.4769 L/kWh × grid kWh',
    )
  })

  it('counts nothing for a country the table lacks, and says why: never a zero', () => {
    const kenya = water(NONE, { countryIsoCode: 'KEN', region: 'KE' }).fields
    expect(kenya.waterConsumedL).toBeNull()
    expect(kenya.waterSource).toBe(
      'on-site: not counted (not on a known cloud; set wueLPerKWh); off-site: not counted (no published factor for KEN; set waterIntensityLPerKWh)',
    )
    const nowhere = water(NONE, {}).fields
    expect(nowhere.waterConsumedL).toBeNull()
    expect(nowhere.waterSource).toMatch(
      /off-site: not counted \(the country is unknown; set waterIntensityLPerKWh\)$/,
    )
  })

  it('lets the waterIntensityLPerKWh option win over the table', () => {
    const { fields } = water(
      { ...NONE, waterIntensityLPerKWh: 0.5 },
      { countryIsoCode: 'BRA', region: 'BR-CS' },
    )
    expect(fields.waterConsumedL).toBeCloseTo(5, 10)
    expect(fields.waterSource).toMatch(/off-site: option waterIntensityLPerKWh 0.5 L\/kWh × grid kWh$/)
  })

  it('ships a table Python’s csv reads: 49 countries, each US zone in one subregion, no figure below 0', () => {
    const rows = readCsvWithPython(resolve('data/water-intensity.csv'))
    expect(Object.keys(rows[0] ?? {})).toEqual(['country', 'zone', 'egrid_subregion', 'l_per_kwh'])
    expect(rows.filter((r) => r.zone === '')).toHaveLength(49)
    for (const row of rows) {
      expect(row.country).toMatch(/^[A-Z]{3}$/)
      expect(Number(row.l_per_kwh)).toBeGreaterThan(0)
      if (row.zone)
        expect([row.country, row.egrid_subregion]).toEqual(['USA', expect.stringMatching(/^[A-Z]{4}$/)])
    }
    expect(new Set(rows.map((r) => `${r.country}/${r.zone}`)).size).toBe(rows.length)
    expect(findWaterIntensity('bra', null)?.lPerKWh).toBe(18.6033)
  })
})

describe('wattprint estimate', () => {
  it('counts off-site water per region from the table when --water-intensity is not given', () => {
    const cli = resolve('dist/cli.js')
    const run = spawnSync(
      process.execPath,
      [
        cli,
        'estimate',
        '--gpu',
        'H100 SXM5 80GB',
        '--hours',
        '10',
        '--pue',
        '1.25',
        '--provider',
        'aws',
        '--json',
      ],
      { encoding: 'utf8' },
    )
    expect(run.status, run.stderr).toBe(0)
    const estimate = JSON.parse(run.stdout) as {
      energyKWh: number
      regions: { region: string; waterL: number | null; wue: number | null }[]
    }
    // 700 W × 10 h × PUE 1.25 = 8.75 kWh from the grid, 7 kWh of IT. Frankfurt (eu-central-1, Germany):
    // 7 × 0.12 L (AWS 2025) + 8.75 × 1.947 L (WRI, DEU) = 0.84 + 17.03625 = 17.87625 L.
    expect(estimate.energyKWh).toBeCloseTo(8.75, 10)
    expect(estimate.regions.find((r) => r.region === 'eu-central-1')?.waterL).toBeCloseTo(17.87625, 9)
    // Oregon (us-west-2, zone US-NW-BPAT, eGRID NWPP 9.4825 L/kWh): 0.84 + 82.971875 L.
    expect(estimate.regions.find((r) => r.region === 'us-west-2')?.waterL).toBeCloseTo(83.811875, 9)
  })
})
