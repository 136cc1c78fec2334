import type { FootprintFields } from '../model/footprint.js'
import { formatMass, formatWater } from './quantities.js'

/** The source's first part: `ccf-embodied:aws/p3.2xlarge` of `ccf-embodied:aws/p3.2xlarge; host …`. */
export const shortSource = (source: string | null): string => source?.split(';', 1)[0] ?? 'unknown'

/**
 * The footprint beyond electricity in one phrase: `embodied 17.82 g CO2e (option), water 3.72 L,
 * SCI 401.78 g CO2e per epoch`; unknown parts are named as such, never shown as zero. Empty when nothing
 * was asked and nothing is known.
 */
export function footprintPhrase(record: FootprintFields): string {
  const parts = [
    record.embodiedEmissionsKg === null
      ? 'embodied unknown'
      : `embodied ${formatMass(record.embodiedEmissionsKg)} CO2e (${shortSource(record.embodiedSource)})`,
  ]
  if (record.waterConsumedL !== null) parts.push(`water ${formatWater(record.waterConsumedL)}`)
  if (record.functionalUnit !== null)
    parts.push(
      record.sci === null
        ? `SCI unknown per ${record.functionalUnit}`
        : `SCI ${formatMass(record.sci)} CO2e per ${record.functionalUnit}`,
    )
  return parts.join(', ')
}
