import { parseCsv, readDataFile } from '../platform/data-files.js'

// ISO 3166-1 alpha-2 and alpha-3 codes (from i18n-iso-countries 7.14.0, MIT) with English short names
// (Unicode CLDR via ICU, Unicode License): data/iso3166.csv (see data/README.md and NOTICE), read on first
// use, synchronously (a split a line: 250 rows do not need a parser).

/** One country: [alpha-2, alpha-3, English name]. */
export type Iso3166Row = readonly [alpha2: string, alpha3: string, name: string]

let rows: readonly Iso3166Row[] | undefined

/** [alpha-2, alpha-3, English name] for every ISO 3166-1 country, read on first use, once. */
export function iso3166Rows(): readonly Iso3166Row[] {
  rows ??= parseCsv(readDataFile('iso3166.csv'))
    .slice(1)
    .map(([alpha2 = '', alpha3 = '', name = '']) => [alpha2, alpha3, name] as const)
  return rows
}
