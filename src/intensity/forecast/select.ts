import type { Secret } from '../../core/secret.js'
import { type CloudProvider, findCloudRegion } from '../cloud-regions.js'
import { isGreatBritainZone } from '../location.js'
import type { UkArea } from '../uk-carbon-intensity.js'
import { carbonAwareSdkProvider } from './carbon-aware-sdk.js'
import { electricityMapsForecastProvider } from './electricity-maps.js'
import type { ForecastProvider, RequestPolicy } from './provider.js'
import { ukForecastProvider } from './uk.js'
import { wattTimeForecastProvider } from './watttime.js'

/** The forecast services wattprint can ask. */
export type ForecastProviderName = 'uk-carbon-intensity' | 'electricitymaps' | 'watttime' | 'carbon-aware-sdk'

/** The options of a forecast that the tracker reads too: the place, and the intensity services' access. */
export type ForecastPlaceOption =
  | 'country'
  | 'zone'
  | 'cloudProvider'
  | 'cloudRegion'
  | 'electricityMapsToken'
  | 'electricityMapsUrl'
  | 'ukCarbonIntensity'
  | 'ukCarbonIntensityUrl'
  | 'intensityTimeoutMs'

/** The options only forecasts read: the forecast services' own. */
export type ForecastOnlyOption =
  | 'wattTimeUsername'
  | 'wattTimePassword'
  | 'wattTimeRegion'
  | 'wattTimeUrl'
  | 'carbonAwareSdkUrl'
  | 'carbonAwareLocation'
  | 'forecastProvider'

/** The options that say where a forecast is for and how to reach the service that makes it. */
export type ForecastOption = ForecastPlaceOption | ForecastOnlyOption

/** What choosing a forecast reads of the options: each ForecastOption, resolved. */
export interface ForecastConfig {
  /** ISO 3166 alpha-2, as given (a guessed or cloud-derived country is not set here). */
  readonly country: string | null
  /** Electricity Maps zone id, as the data spells it. */
  readonly zone: string | null
  /** The cloud the machine runs on, as named (`aws`, `gcp`, `azure`); null when not named. */
  readonly cloudProvider: CloudProvider | null
  /** The region's API name, as the table spells it. */
  readonly cloudRegion: string | null
  /** Printed as `[redacted]` whatever prints it. */
  readonly electricityMapsToken: Secret | null
  /** Base URL of the Electricity Maps API. */
  readonly electricityMapsUrl: string
  /** The part of Great Britain whose live intensity to use (NESO's API); null: that API is not asked. */
  readonly ukCarbonIntensity: UkArea | null
  /** Base URL of the UK Carbon Intensity API. */
  readonly ukCarbonIntensityUrl: string
  /** WattTime account name, for its marginal forecast; null: WattTime is not asked. */
  readonly wattTimeUsername: string | null
  /** Printed as `[redacted]` whatever prints it. */
  readonly wattTimePassword: Secret | null
  /** WattTime's name of the grid (`CAISO_NORTH`); null when not given. */
  readonly wattTimeRegion: string | null
  /** Base URL of the WattTime API. */
  readonly wattTimeUrl: string
  /** Base URL of an organisation's Carbon Aware SDK web API; null: the SDK is not asked. */
  readonly carbonAwareSdkUrl: string | null
  /** The Carbon Aware SDK's name of the location; null: the cloud region's. */
  readonly carbonAwareLocation: string | null
  /** The forecast service to use; null: the first one configured. */
  readonly forecastProvider: ForecastProviderName | null
  /** Time limit of one live intensity or forecast request, ms. */
  readonly intensityTimeoutMs: number
}

/** The place a forecast is for, as messages name it, and its Electricity Maps zone when known. */
export function placeOf(config: ForecastConfig): { zone: string | null; name: string } {
  const region =
    config.cloudProvider && config.cloudRegion
      ? findCloudRegion(config.cloudProvider, config.cloudRegion)
      : null
  const zone = config.zone ?? region?.zone ?? config.country ?? (config.ukCarbonIntensity ? 'GB' : null)
  const name = region
    ? `${config.cloudProvider} ${config.cloudRegion} (zone ${region.zone})`
    : zone
      ? `zone ${zone}`
      : 'an unknown location'
  return { zone, name }
}

/** Why no forecast is set up for a place, and every way to get one that covers it. */
export function noForecastMessage(config: ForecastConfig, why: string): string {
  const { zone, name } = placeOf(config)
  const ways = [
    zone === null || isGreatBritainZone(zone)
      ? 'the UK Carbon Intensity API (Great Britain only, no token): --uk-carbon-intensity national, a region id 1-17 or a postcode (WATTPRINT_UK_CARBON_INTENSITY)'
      : null,
    'Electricity Maps (any zone; a token whose plan includes forecasts): WATTPRINT_ELECTRICITYMAPS_TOKEN, with the location (--zone, --country or --cloud)',
    "WattTime (a marginal signal, in WattTime's own region names): WATTPRINT_WATTTIME_USERNAME, WATTPRINT_WATTTIME_PASSWORD and WATTPRINT_WATTTIME_REGION",
    'a Carbon Aware SDK web API your organisation runs: WATTPRINT_CARBON_AWARE_SDK_URL, with WATTPRINT_CARBON_AWARE_LOCATION (default: the cloud region)',
  ].filter((way): way is string => way !== null)
  return `No carbon-intensity forecast for ${name}: ${why}. Forecasts that cover it:\n${ways.map((w) => `  - ${w}`).join('\n')}`
}

/** The order in which configured providers are preferred: average signals before WattTime's marginal one. */
const ORDER: readonly ForecastProviderName[] = [
  'uk-carbon-intensity',
  'electricitymaps',
  'carbon-aware-sdk',
  'watttime',
]

/**
 * The forecast provider for the configured place: the one `forecastProvider` names, else the first one
 * configured (in ORDER). Returns why not (a sentence for noForecastMessage) when none can answer.
 */
export function chooseForecastProvider(
  config: ForecastConfig,
  policy: Omit<RequestPolicy, 'timeoutMs'> = {},
  now?: () => number,
): ForecastProvider | { readonly why: string } {
  const requests: RequestPolicy = { timeoutMs: config.intensityTimeoutMs, ...policy }
  const { zone } = placeOf(config)
  const make = (name: ForecastProviderName): ForecastProvider | string => {
    switch (name) {
      case 'uk-carbon-intensity':
        if (!config.ukCarbonIntensity) return 'ukCarbonIntensity is not set'
        if (zone && !isGreatBritainZone(zone))
          return `the UK Carbon Intensity API covers Great Britain only, not zone ${zone}`
        return ukForecastProvider({
          baseUrl: config.ukCarbonIntensityUrl,
          area: config.ukCarbonIntensity,
          policy: requests,
          ...(now ? { now } : {}),
        })
      case 'electricitymaps':
        if (!config.electricityMapsToken) return 'no Electricity Maps token is set'
        if (!zone) return 'Electricity Maps needs the location (zone, country or cloud region)'
        return electricityMapsForecastProvider({
          baseUrl: config.electricityMapsUrl,
          token: config.electricityMapsToken,
          zone,
          policy: requests,
        })
      case 'carbon-aware-sdk': {
        if (!config.carbonAwareSdkUrl) return 'no Carbon Aware SDK URL is set'
        const location = config.carbonAwareLocation ?? config.cloudRegion
        if (!location) return 'the Carbon Aware SDK needs carbonAwareLocation (or a cloud region)'
        return carbonAwareSdkProvider({
          baseUrl: config.carbonAwareSdkUrl,
          location,
          policy: requests,
          ...(now ? { now } : {}),
        })
      }
      case 'watttime':
        if (!config.wattTimeUsername || !config.wattTimePassword) return 'no WattTime login is set'
        if (!config.wattTimeRegion)
          return 'WattTime needs wattTimeRegion (its own name of the grid: CAISO_NORTH)'
        return wattTimeForecastProvider({
          baseUrl: config.wattTimeUrl,
          username: config.wattTimeUsername,
          password: config.wattTimePassword,
          region: config.wattTimeRegion,
          policy: requests,
          ...(now ? { now } : {}),
        })
    }
  }
  if (config.forecastProvider) {
    const chosen = make(config.forecastProvider)
    return typeof chosen === 'string'
      ? { why: `forecastProvider is ${config.forecastProvider}, but ${chosen}` }
      : chosen
  }
  const reasons: string[] = []
  for (const name of ORDER) {
    const provider = make(name)
    if (typeof provider !== 'string') return provider
    reasons.push(provider)
  }
  // The UK's reason is noise outside Great Britain, where it was never an option.
  return { why: reasons.filter((r) => !r.startsWith('ukCarbonIntensity')).join(', ') || 'none is configured' }
}
