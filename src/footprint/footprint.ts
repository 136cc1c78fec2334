import type { FootprintFields } from '../model/footprint.js'
import type { EmissionsRecord } from '../model/record.js'
import { type HostEmbodied, type HostShare, SECONDS_PER_YEAR } from './embodied.js'
import { DEFAULT_LIFETIME_YEARS, type FootprintConfig, type FunctionalUnitOption } from './options.js'
import { findWaterIntensity, findWue } from './tables.js'

/** The footprint fields of a record that has none. */
export const NO_FOOTPRINT: FootprintFields = {
  embodiedEmissionsKg: null,
  embodiedSource: null,
  waterConsumedL: null,
  wueLPerKWh: null,
  waterSource: null,
  sci: null,
  functionalUnit: null,
  functionalUnitCount: null,
}

/** The parts of a record the footprint is computed from. */
export type FootprintInput = Pick<
  EmissionsRecord,
  | 'durationS'
  | 'energyKWh'
  | 'emissionsKg'
  | 'pue'
  | 'trackingMode'
  | 'machine'
  | 'cloudProvider'
  | 'cloudRegion'
  | 'countryIsoCode'
  | 'region'
  | 'requests'
  | 'inputTokens'
  | 'outputTokens'
>

/**
 * SCI's R: how many functional units the run delivered. The option's count when given; else, for a unit
 * named `request` or `token` (`output token`, `input token`), the run's measured requests or tokens.
 */
export function functionalUnitCount(unit: FunctionalUnitOption, record: FootprintInput): number | null {
  if (unit.count !== undefined) return unit.count
  const name = unit.name.trim().toLowerCase()
  if (/^requests?$/.test(name)) return record.requests
  if (/^(output[ _-]?)?tokens?$/.test(name)) return record.outputTokens
  if (/^input[ _-]?tokens?$/.test(name)) return record.inputTokens
  return null
}

const litres = (n: number) => `${Math.round(n * 1e4) / 1e4} L/kWh`

/**
 * The run's share of its host (RR / ToR) and how it was found: the host share; under attribution, the
 * share of the host of the machine the meters measure, times the job's share of that machine's energy.
 */
function runShare(host: Extract<HostEmbodied, { kg: number }>, input: FootprintInput): HostShare | null {
  if (host.shareGiven || input.trackingMode === 'machine') return host
  if (!(input.machine.energyKWh > 0)) return null
  const measured = host.measured ?? host
  return {
    share: measured.share * Math.min(1, input.energyKWh / input.machine.energyKWh),
    detail: measured.detail,
  }
}

/** M = TE × (TR / EL) × (RR / ToR); the notes say what could not be counted, or was assumed. */
function embodied(config: FootprintConfig, host: HostEmbodied, input: FootprintInput, notes: string[]) {
  if (host.kg === null) {
    notes.push(host.note)
    return { kg: null, source: null }
  }
  const lifetimeYears = config.embodied?.lifetimeYears ?? DEFAULT_LIFETIME_YEARS
  const share = runShare(host, input)
  if (share === null) {
    notes.push('embodied emissions unknown: the job has no energy yet to take its share of the machine from')
    return { kg: null, source: null }
  }
  if (host.note) notes.push(host.note)
  const kg = host.kg * (input.durationS / (lifetimeYears * SECONDS_PER_YEAR)) * share.share
  const shareText = `share ${Math.round(share.share * 1e4) / 1e4}${input.trackingMode === 'process' && !host.shareGiven ? ' (with the job’s energy share)' : ''}`
  return { kg, source: `${host.source}; ${share.detail}; ${shareText}; life ${lifetimeYears} y` }
}

/**
 * The grid's water intensity for off-site water: the option when set, else the shipped table's figure for
 * the zone or the country (alpha-3); `lPerKWh` is null, with the reason in `source`, when neither is known.
 */
export function gridWaterIntensity(
  option: number | null,
  country: string | null,
  zone: string | null,
): { readonly lPerKWh: number | null; readonly source: string } {
  if (option !== null)
    return { lPerKWh: option, source: `option waterIntensityLPerKWh ${litres(option)} × grid kWh` }
  const found = findWaterIntensity(country, zone)
  if (found) {
    const place = found.zone ? `${found.zone} (eGRID ${found.egridSubregion})` : found.country
    return { lPerKWh: found.lPerKWh, source: `${found.dataset}:${place} ${litres(found.lPerKWh)} × grid kWh` }
  }
  const why = country ? `no published factor for ${country}` : 'the country is unknown'
  return { lPerKWh: null, source: `not counted (${why}; set waterIntensityLPerKWh)` }
}

/** On-site water (IT kWh × WUE) and off-site water (grid kWh × the grid's water intensity). */
function water(config: FootprintConfig, input: FootprintInput) {
  const published =
    config.wueLPerKWh === null && input.cloudProvider ? findWue(input.cloudProvider, input.cloudRegion) : null
  const wue = config.wueLPerKWh ?? published?.lPerKWh ?? null
  const wueFrom =
    config.wueLPerKWh !== null
      ? 'option wueLPerKWh'
      : published
        ? `${published.provider}${published.region ? `:${published.region}` : ''}-${published.year}`
        : null
  // WUE is defined per kWh of IT equipment, so the PUE is taken out; the grid supplies the PUE too.
  const onSite = wue === null ? null : (input.energyKWh / input.pue) * wue
  const grid = gridWaterIntensity(config.waterIntensityLPerKWh, input.countryIsoCode, input.region)
  const offSite = grid.lPerKWh === null ? null : input.energyKWh * grid.lPerKWh
  const parts = [
    wue === null
      ? `on-site: not counted (${input.cloudProvider ? `no published WUE for ${input.cloudProvider}` : 'not on a known cloud'}; set wueLPerKWh)`
      : `on-site: ${wueFrom} ${litres(wue)} × IT kWh`,
    `off-site: ${grid.source}`,
  ]
  const total = onSite === null && offSite === null ? null : (onSite ?? 0) + (offSite ?? 0)
  return { litres: total, wue, source: parts.join('; ') }
}

/** A record's embodied emissions, water and SCI, with notes for what is unknown. Never throws. */
export function computeFootprint(
  config: FootprintConfig,
  host: HostEmbodied,
  input: FootprintInput,
): { fields: FootprintFields; notes: string[] } {
  const notes: string[] = []
  try {
    const m = embodied(config, host, input, notes)
    const w = water(config, input)
    const unit = config.functionalUnit
    const count = unit ? functionalUnitCount(unit, input) : null
    if (unit && count === null)
      notes.push(
        `sci unknown: set functionalUnit.count (how many ${unit.name}s the run delivered), or name the unit ` +
          `'request' or 'token' and measure requests (tracker.request, measure)`,
      )
    if (unit && count !== null && m.kg === null) notes.push('sci unknown: it needs the embodied emissions')
    const sci = count !== null && count > 0 && m.kg !== null ? (input.emissionsKg + m.kg) / count : null
    return {
      fields: {
        embodiedEmissionsKg: m.kg,
        embodiedSource: m.source,
        waterConsumedL: w.litres,
        wueLPerKWh: w.wue,
        waterSource: w.source,
        sci,
        functionalUnit: unit?.name ?? null,
        functionalUnitCount: count,
      },
      notes,
    }
  } catch (error) {
    return { fields: NO_FOOTPRINT, notes: [`footprint not computed: ${String(error)}`] }
  }
}
