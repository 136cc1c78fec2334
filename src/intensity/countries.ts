import { editDistance } from '../core/text.js'
import { iso3166Rows } from './iso3166.js'

/** A country by its ISO 3166-1 codes. */
export interface Country {
  readonly alpha2: string
  readonly alpha3: string
  readonly name: string
}

let table: { byCode: Map<string, Country>; all: Country[] } | undefined

function load(): { byCode: Map<string, Country>; all: Country[] } {
  if (!table) {
    const rows: Country[] = iso3166Rows().map(([alpha2, alpha3, name]) => ({ alpha2, alpha3, name }))
    const byCode = new Map<string, Country>()
    for (const row of rows) {
      byCode.set(row.alpha2, row)
      byCode.set(row.alpha3, row)
    }
    table = { byCode, all: rows }
  }
  return table
}

/** The country with this alpha-2 or alpha-3 code (any case), or null. */
export function findCountry(code: string): Country | null {
  const upper = code.trim().toUpperCase()
  if (!/^[A-Z]{2,3}$/.test(upper)) return null
  return load().byCode.get(upper) ?? null
}

/** Up to five `DE (Germany)` suggestions for a code or name that matched nothing. */
export function suggestCountries(input: string): string[] {
  const text = input.trim()
  const upper = text.toUpperCase()
  const lower = text.toLowerCase()
  const scored: { country: Country; score: number }[] = []
  for (const country of load().all) {
    const nameLower = country.name.toLowerCase()
    let score = Number.POSITIVE_INFINITY
    if (lower.length >= 3 && (nameLower === lower || nameLower.startsWith(lower))) score = 0
    else if (lower.length >= 4 && nameLower.includes(lower)) score = 1
    else {
      const d = Math.min(editDistance(upper, country.alpha2), editDistance(upper, country.alpha3))
      if (d <= 1 && text.length <= 3) score = 1 + d
    }
    if (Number.isFinite(score)) scored.push({ country, score })
  }
  return scored
    .sort((a, b) => a.score - b.score || a.country.alpha2.localeCompare(b.country.alpha2))
    .slice(0, 5)
    .map(({ country }) => `${country.alpha2}/${country.alpha3} (${country.name})`)
}
