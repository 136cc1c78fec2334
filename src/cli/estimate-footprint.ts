import { SECONDS_PER_YEAR } from '../footprint/embodied.js'
import { gridWaterIntensity } from '../footprint/footprint.js'
import { DEFAULT_LIFETIME_YEARS } from '../footprint/options.js'
import { componentModel, findInstanceEmbodied, findWue } from '../footprint/tables.js'
import type { CloudRegion } from '../intensity/cloud-regions.js'
import { findCountry } from '../intensity/countries.js'
import { FOOTPRINT_FLAGS } from './footprint-flags.js'
import { parseNumber, parseQuantity, UsageError } from './units.js'

/** The footprint flags `wattprint estimate` takes, as `run` spells them. */
export const ESTIMATE_FOOTPRINT_FLAGS = {
  'instance-type': FOOTPRINT_FLAGS['instance-type'],
  embodied: FOOTPRINT_FLAGS.embodied,
  lifetime: FOOTPRINT_FLAGS.lifetime,
  'water-intensity': FOOTPRINT_FLAGS['water-intensity'],
}

/** A planned job's embodied emissions: kg CO2e and where the figure came from. */
export interface PlannedEmbodied {
  readonly kg: number
  readonly source: string
}

/**
 * The embodied emissions of a planned job of `hours` on `gpus` GPUs: the instance type's share of its host
 * (Cloud Carbon Footprint's table), the --embodied figure, else a one-socket server with those GPUs in the
 * component model (RAM and drives not counted: the plan does not say them).
 */
export function plannedEmbodied(
  flags: { instanceType?: string; embodied?: string; lifetime?: string },
  hours: number,
  gpus: number,
): PlannedEmbodied {
  const lifetimeYears =
    flags.lifetime === undefined
      ? DEFAULT_LIFETIME_YEARS
      : parseNumber('--lifetime', flags.lifetime, { example: '4', range: { min: 0.01 } })
  const life = (hours * 3600) / (lifetimeYears * SECONDS_PER_YEAR)
  if (flags.embodied !== undefined) {
    const kg = parseQuantity('mass', '--embodied', flags.embodied, { example: '1500kg' })
    return { kg: kg * life, source: `${kg} kg as given, life ${lifetimeYears} y` }
  }
  if (flags.instanceType !== undefined) {
    const rows = (['aws', 'gcp', 'azure'] as const)
      .map((p) => findInstanceEmbodied(p, flags.instanceType ?? ''))
      .filter((r) => r !== null)
    const row = rows[0]
    if (!row || rows.length > 1) {
      throw new UsageError(
        `--instance-type ${JSON.stringify(flags.instanceType)} is ${row ? 'in more than one cloud' : "not in Cloud Carbon Footprint's table"}: give --embodied 1500kg instead.`,
      )
    }
    const byGpu = row.gpus > 0 && row.platformGpus > 0
    const share = Math.min(1, byGpu ? row.gpus / row.platformGpus : row.vcpus / row.platformVcpus)
    return {
      kg: row.platformEmbodiedKg * life * share,
      source: `ccf-embodied:${row.provider}/${row.instanceType}, share ${Math.round(share * 1e4) / 1e4}, life ${lifetimeYears} y`,
    }
  }
  const model = componentModel()
  const kg = model.baseKg + gpus * (model.perGpuKg.get('') ?? 0)
  return {
    kg: kg * life,
    source: `ccf-components: one-socket server with ${gpus} GPU(s), ${kg} kg (RAM and drives not counted), life ${lifetimeYears} y`,
  }
}

/**
 * Litres of water for a job's grid energy in a provider's data centres: on site at its WUE, off site at
 * --water-intensity or the shipped table's figure for the region's zone or country; null when neither is known.
 */
export function regionWater(
  region: CloudRegion,
  energyKWh: number,
  pue: number,
  waterIntensityLPerKWh: number | null,
): { readonly litres: number | null; readonly wueLPerKWh: number | null } {
  const wue = findWue(region.provider, region.region)?.lPerKWh ?? null
  const onSite = wue === null ? null : (energyKWh / pue) * wue
  const country = findCountry(region.alpha2)?.alpha3 ?? null
  const grid = gridWaterIntensity(waterIntensityLPerKWh, country, region.zone)
  const offSite = grid.lPerKWh === null ? null : energyKWh * grid.lPerKWh
  const litres = onSite === null && offSite === null ? null : (onSite ?? 0) + (offSite ?? 0)
  return { litres, wueLPerKWh: wue }
}
