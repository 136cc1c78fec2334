import { editDistance } from '../core/text.js'
import { type IntensityTables, knownZones, shippedTables } from './tables.js'

/** The zone id as Electricity Maps spells it (`us-cal-ciso` → `US-CAL-CISO`), or null when unknown. */
export function findZone(input: string, tables: IntensityTables = shippedTables()): string | null {
  const upper = input.trim().toUpperCase()
  return knownZones(tables).has(upper) ? upper : null
}

/**
 * Up to five zone ids close to a mistyped one: those sharing its country prefix (`US-CAL` → `US-CAL-CISO`
 * …), then those one or two edits away.
 */
export function suggestZones(input: string, tables: IntensityTables = shippedTables()): string[] {
  const upper = input.trim().toUpperCase()
  if (upper.length === 0) return []
  const scored: { zone: string; score: number }[] = []
  for (const zone of knownZones(tables)) {
    let score = editDistance(upper, zone)
    if (zone.startsWith(upper) || upper.startsWith(zone)) score = Math.min(score, 1)
    if (score <= Math.max(2, Math.floor(upper.length / 4))) scored.push({ zone, score })
  }
  return scored
    .sort((a, b) => a.score - b.score || a.zone.localeCompare(b.zone))
    .slice(0, 5)
    .map((s) => s.zone)
}
