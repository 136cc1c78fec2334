import {
  CLOUD_PROVIDERS,
  type CloudProvider,
  findCloudRegion,
  isProvider,
  suggestCloudRegions,
} from './cloud-regions.js'
import { type Country, findCountry, suggestCountries } from './countries.js'
import { parseUkArea, type UkArea } from './uk-carbon-intensity.js'
import { findZone, suggestZones } from './zones.js'

/** Where the machine is, as far as wattprint knows, and how it knows. */
export interface ResolvedLocation {
  readonly country: Country | null
  /** The Electricity Maps zone whose figure is used, when one is. */
  readonly zone: string | null
  readonly cloudProvider: CloudProvider | null
  readonly cloudRegion: string | null
  /** True when a cloud was named or detected. */
  readonly onCloud: boolean
  /** The instance type the metadata service named (`detectCloud`); null when not detected. */
  readonly cloudInstanceType?: string | null
  /** The time zone the country was guessed from; null when it was not guessed. */
  readonly guessedFrom: string | null
}

/** The provider's name with its article, as a sentence says it. */
const A_PROVIDER_REGION: Readonly<Record<CloudProvider, string>> = {
  aws: 'an AWS region',
  gcp: 'a Google Cloud region',
  azure: 'an Azure region',
}

/** The location options, checked and spelled as the tables spell them. */
export interface CheckedLocation {
  /** ISO 3166 alpha-2. */
  readonly country: string | null
  readonly zone: string | null
  readonly cloudProvider: CloudProvider | null
  readonly cloudRegion: string | null
  readonly ukCarbonIntensity: UkArea | null
}

/** Makes the error for a bad location option: `problem` is a sentence; `example` is written as in code. */
export type Complain = (option: string, problem: string, example: string) => Error

const quote = (value: string | number): string => JSON.stringify(value)
const nearby = (matches: readonly string[]): string =>
  matches.length > 0 ? ` Close matches: ${matches.join(', ')}.` : ''

/**
 * Checks the location options against the shipped tables, so that a typo fails at construction with
 * close matches instead of silently measuring against the wrong grid.
 */
export function checkLocation(
  given: {
    readonly country?: string | undefined
    readonly zone?: string | undefined
    readonly cloudProvider?: string | undefined
    readonly cloudRegion?: string | undefined
    readonly ukCarbonIntensity?: string | number | undefined
  },
  complain: Complain,
): CheckedLocation {
  let country: string | null = null
  if (given.country !== undefined) {
    const found = findCountry(given.country)
    if (!found) {
      throw complain(
        'country',
        `${quote(given.country)} is not an ISO 3166 alpha-2 or alpha-3 country code.${nearby(suggestCountries(given.country))}`,
        "'DE'",
      )
    }
    country = found.alpha2
  }

  let zone: string | null = null
  if (given.zone !== undefined) {
    zone = findZone(given.zone)
    if (!zone) {
      throw complain(
        'zone',
        `${quote(given.zone)} is not an Electricity Maps zone known to the shipped data.${nearby(suggestZones(given.zone))} ` +
          'Zones are listed at https://app.electricitymaps.com/map; a country code works too.',
        "'US-CAL-CISO'",
      )
    }
  }

  let cloudProvider: CloudProvider | null = null
  let cloudRegion: string | null = null
  if (given.cloudProvider !== undefined) {
    const name = given.cloudProvider.trim().toLowerCase()
    if (!isProvider(name)) {
      throw complain(
        'cloudProvider',
        `${quote(given.cloudProvider)} is not a cloud wattprint knows: use one of ${CLOUD_PROVIDERS.join(', ')}.`,
        "'aws'",
      )
    }
    cloudProvider = name
  }
  if (given.cloudRegion !== undefined) {
    if (!cloudProvider) {
      throw complain(
        'cloudProvider',
        'is missing: cloudRegion needs the provider whose region it is.',
        "'aws'",
      )
    }
    const found = findCloudRegion(cloudProvider, given.cloudRegion)
    if (!found) {
      throw complain(
        'cloudRegion',
        `${quote(given.cloudRegion)} is not ${A_PROVIDER_REGION[cloudProvider]} in wattprint's table.` +
          `${nearby(suggestCloudRegions(cloudProvider, given.cloudRegion))} ` +
          'If the region is new, set zone to its Electricity Maps zone instead.',
        `'${EXAMPLE_REGION[cloudProvider]}'`,
      )
    }
    cloudRegion = found.region
  } else if (cloudProvider) {
    throw complain(
      'cloudRegion',
      `is missing: cloudProvider ${quote(cloudProvider)} needs the region too (or use detectCloud: true).`,
      `'${EXAMPLE_REGION[cloudProvider]}'`,
    )
  }

  let ukCarbonIntensity: UkArea | null = null
  if (given.ukCarbonIntensity !== undefined) {
    ukCarbonIntensity = parseUkArea(given.ukCarbonIntensity)
    if (!ukCarbonIntensity) {
      throw complain(
        'ukCarbonIntensity',
        `${quote(given.ukCarbonIntensity)} is not 'national', a region id from 1 to 17 or a GB postcode.`,
        "'national'",
      )
    }
    const elsewhere = placeOutsideGreatBritain(country, zone, cloudProvider, cloudRegion)
    if (elsewhere) {
      throw complain(
        'ukCarbonIntensity',
        `covers Great Britain only, but the location is ${elsewhere}. Drop one of the two.`,
        "'national'",
      )
    }
  }

  return { country, zone, cloudProvider, cloudRegion, ukCarbonIntensity }
}

const EXAMPLE_REGION: Readonly<Record<CloudProvider, string>> = {
  aws: 'eu-north-1',
  gcp: 'europe-west4',
  azure: 'westeurope',
}

/** Whether a zone lies in Great Britain (Northern Ireland's grid, GB-NIR, is not National Grid's). */
export const isGreatBritainZone = (zone: string): boolean => zone === 'GB' || zone === 'GB-ORK'

function placeOutsideGreatBritain(
  country: string | null,
  zone: string | null,
  provider: CloudProvider | null,
  region: string | null,
): string | null {
  if (zone && !isGreatBritainZone(zone)) return `zone ${zone}`
  if (country && country !== 'GB') return `country ${country}`
  if (provider && region) {
    const found = findCloudRegion(provider, region)
    if (found && !isGreatBritainZone(found.zone)) return `${provider} ${region} (zone ${found.zone})`
  }
  return null
}
