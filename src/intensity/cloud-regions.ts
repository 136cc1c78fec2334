import { editDistance } from '../core/text.js'
import { readDataRecords } from '../platform/data-files.js'

/** Cloud providers whose regions wattprint can place. */
export const CLOUD_PROVIDERS = ['aws', 'gcp', 'azure'] as const
export type CloudProvider = (typeof CLOUD_PROVIDERS)[number]

/** A cloud region and the grid zone its data centres draw from. */
export interface CloudRegion {
  readonly provider: CloudProvider
  /** The provider's API name: `eu-north-1`, `europe-west4`, `westeurope`. */
  readonly region: string
  /** City or area, for people. */
  readonly location: string
  /** Electricity Maps zone id. */
  readonly zone: string
  /** ISO 3166-1 alpha-2. */
  readonly alpha2: string
}

let table: Map<string, CloudRegion> | undefined

const key = (provider: string, region: string) => `${provider}/${region.trim().toLowerCase()}`

/** data/cloud-regions.csv, parsed once (a few kB; read only when a cloud region is named or detected). */
function regions(): Map<string, CloudRegion> {
  if (!table) {
    table = new Map()
    // Read without csv-parse (a split a line, see parseCsv): a constructor that names a region needs it.
    for (const { provider, region, location, zone, country } of readDataRecords('cloud-regions.csv')) {
      if (!provider || !region || !zone || !country || !isProvider(provider)) continue
      table.set(key(provider, region), { provider, region, location: location ?? '', zone, alpha2: country })
    }
  }
  return table
}

/** Whether a string names a provider wattprint knows. */
export function isProvider(name: string): name is CloudProvider {
  return (CLOUD_PROVIDERS as readonly string[]).includes(name)
}

/** A region by provider and API name (any case); null when the table does not have it. */
export function findCloudRegion(provider: CloudProvider, region: string): CloudRegion | null {
  // Azure's names are lowercase without spaces in APIs; accept the display form ("West Europe") too.
  const name = provider === 'azure' ? region.replace(/\s+/g, '') : region
  return regions().get(key(provider, name)) ?? null
}

/** Every region of a provider. */
export function cloudRegionsOf(provider: CloudProvider): CloudRegion[] {
  return [...regions().values()].filter((r) => r.provider === provider)
}

/** `eu-north-1` and `europe-north1` alike: no separators, continent abbreviations spelled out. */
const loose = (name: string): string =>
  name
    .toLowerCase()
    .replace(/\beu\b/g, 'europe')
    .replace(/\bap\b/g, 'asia')
    .replace(/\bsa\b/g, 'southamerica')
    .replace(/\bna\b|\bnam\b/g, 'northamerica')
    .replace(/[^a-z0-9]/g, '')

/**
 * Up to five regions of the provider close to a mistyped name: a few edits away, the same once spelled
 * loosely (`eu-north-1` for GCP → `europe-north1`), or in the place named (`frankfurt`).
 */
export function suggestCloudRegions(provider: CloudProvider, input: string): string[] {
  const lower = input.trim().toLowerCase()
  const limit = Math.max(2, Math.floor(lower.length / 3))
  return cloudRegionsOf(provider)
    .map((r) => {
      const inPlace = lower.length >= 4 && r.location.toLowerCase().includes(lower)
      const score = inPlace
        ? 0
        : Math.min(editDistance(lower, r.region), editDistance(loose(lower), loose(r.region)))
      return { region: r.region, score }
    })
    .filter((r) => r.score <= limit)
    .sort((a, b) => a.score - b.score || a.region.localeCompare(b.region))
    .slice(0, 5)
    .map((r) => r.region)
}
