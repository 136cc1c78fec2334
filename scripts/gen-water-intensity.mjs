// Regenerates data/water-intensity.csv: litres of water consumed generating one kWh of grid electricity,
// the World Resources Institute's factors (Reig et al., 2020, "Guidance for Calculating Water Use Embedded
// in Purchased Electricity", CC BY 4.0), by country and, for US grids, by eGRID subregion:
//   node scripts/gen-water-intensity.mjs path/to/ecologits path/to/spruce
// WRI's appendix workbook could not be downloaded where this table was made, so its figures are read from
// two open projects that converted it to L/kWh, each checked against the other:
//   - EcoLogits (github.com/genai-impact/ecologits), ecologits/data/electricity_mixes.csv, column `wue`
//     (WRI's Appendix 2 country consumption factors × 3.785, four decimals), one row per alpha-3 code;
//   - Spruce (github.com/DigitalPebble/spruce, Apache-2.0), src/main/resources/wcf.csv, written by its
//     scripts/fetch_wri_wcf.py from the same workbook (Appendix 1 for US regions, by eGRID subregion;
//     Appendix 2 for the others), one row per cloud region.
// Spruce's rows are placed with wattprint's own data/cloud-regions.csv (country, location).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'

const [ecologits, spruce] = process.argv.slice(2)
if (!ecologits || !spruce)
  throw new Error('usage: node scripts/gen-water-intensity.mjs path/to/ecologits path/to/spruce')
const here = new URL('..', import.meta.url).pathname
const csv = (text) => parse(text, { columns: true, skip_empty_lines: true, comment: '#', trim: true })

// EcoLogits' WOR row is not WRI's world figure (Table 4 of the paper); only countries are taken.
const national = new Map(
  csv(readFileSync(join(ecologits, 'ecologits/data/electricity_mixes.csv'), 'utf8'))
    .filter((row) => row.name !== 'WOR' && row.wue !== '')
    .map((row) => [row.name, Number(row.wue)]),
)

const alpha3 = new Map(
  csv(readFileSync(join(here, 'data/iso3166.csv'), 'utf8')).map((r) => [r.alpha2, r.alpha3]),
)
const regions = new Map(
  csv(readFileSync(join(here, 'data/cloud-regions.csv'), 'utf8')).map((r) => [
    `${r.provider}/${r.region}`,
    r,
  ]),
)
const spruceRows = csv(readFileSync(join(spruce, 'src/main/resources/wcf.csv'), 'utf8'))

// The subregion spruce's script gives each state, used only to tell which Appendix 1 row a US figure is.
// Virginia is left out: that script splits it by latitude.
const SUBREGION_OF_STATE = {
  Arizona: 'AZNM',
  California: 'CAMX',
  Georgia: 'SRSO',
  Illinois: 'RFCW',
  Iowa: 'MROW',
  Nevada: 'AZNM',
  Ohio: 'RFCW',
  Oregon: 'NWPP',
  'South Carolina': 'SRSO',
  Texas: 'ERCT',
  Utah: 'RMPA',
  Washington: 'NWPP',
  Wyoming: 'RMPA',
}

// Electricity Maps zones that lie within one eGRID subregion (a judgement, see data/README.md). RFCW and
// MROW have none: PJM and MISO span several subregions, so their zones take the national figure.
const ZONES_OF_SUBREGION = {
  AZNM: ['US-SW-AZPS', 'US-SW-PNM', 'US-SW-SRP', 'US-SW-TEPC'],
  CAMX: ['US-CAL-BANC', 'US-CAL-CISO', 'US-CAL-IID', 'US-CAL-LDWP', 'US-CAL-TIDC'],
  ERCT: ['US-TEX-ERCO'],
  NWPP: [
    'US-NW-AVA',
    'US-NW-BPAT',
    'US-NW-CHPD',
    'US-NW-DOPD',
    'US-NW-GCPD',
    'US-NW-PACW',
    'US-NW-PGE',
    'US-NW-PSEI',
    'US-NW-SCL',
    'US-NW-TPWR',
  ],
  RMPA: ['US-NW-PSCO', 'US-NW-WACM'],
  SRSO: ['US-SE-SOCO'],
}

const subregions = new Map()
const checked = new Set()
for (const row of spruceRows) {
  const region = regions.get(`${row.provider}/${row.region}`)
  if (!region) continue
  const value = Number(row.wcf)
  if (region.country === 'US') {
    const state = /(?:^|, )([A-Za-z ]+), USA/.exec(region.location)?.[1]
    const subregion = state ? SUBREGION_OF_STATE[state] : undefined
    if (!subregion) continue
    const seen = subregions.get(subregion)
    if (seen !== undefined && Math.abs(seen - value) > 1e-6)
      throw new Error(`${subregion}: ${row.provider}/${row.region} gives ${value}, another region ${seen}`)
    subregions.set(subregion, value)
    continue
  }
  // A cross-check: both projects converted the same workbook cell, EcoLogits to four decimals and with a
  // gallon a few millionths shorter (3.7854 L against Spruce's 3.78541), so they agree to 1 part in 10^4.
  const code = alpha3.get(region.country)
  const ours = code === undefined ? undefined : national.get(code)
  if (ours !== undefined && Math.abs(ours - value) > 1e-4 * value)
    throw new Error(`${code}: EcoLogits ${ours}, Spruce ${value} (${row.provider}/${row.region})`)
  if (ours !== undefined) checked.add(code)
}

const rows = [...national].sort(([a], [b]) => a.localeCompare(b)).map(([c, l]) => [c, '', '', l.toFixed(4)])
for (const [subregion, zones] of Object.entries(ZONES_OF_SUBREGION)) {
  const value = subregions.get(subregion)
  if (value === undefined) throw new Error(`no figure for eGRID subregion ${subregion}`)
  for (const zone of zones) rows.push(['USA', zone, subregion, value.toFixed(4)])
}
const out = ['country,zone,egrid_subregion,l_per_kwh', ...rows.map((r) => r.join(','))].join('\n')
writeFileSync(join(here, 'data/water-intensity.csv'), `${out}\n`)
console.log(
  `${national.size} countries (${checked.size} checked against Spruce), ` +
    `${rows.length - national.size} zones in ${Object.keys(ZONES_OF_SUBREGION).length} subregions`,
)
