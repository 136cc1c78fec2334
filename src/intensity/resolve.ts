import type { Secret } from '../core/secret.js'
import type { TrackerWarning } from '../core/warnings.js'
import { detectCloud as askMetadata, type DetectedCloud } from './cloud-detect.js'
import { type CloudProvider, type CloudRegion, findCloudRegion } from './cloud-regions.js'
import { type Country, findCountry } from './countries.js'
import { electricityMapsSource } from './electricity-maps.js'
import { LiveIntensity, type LiveSource, type LiveTiming } from './live.js'
import { isGreatBritainZone, type ResolvedLocation } from './location.js'
import {
  ConstantIntensity,
  type IntensityProvider,
  type IntensityReading,
  WORLD_AVERAGE_G_PER_KWH,
} from './provider.js'
import { CheckedProvider, type IntensityOption, isLiveOption, type LiveIntensityOption } from './sources.js'
import { countryIntensity, zoneIntensity } from './tables.js'
import { guessCountryFromTimeZone, systemTimeZone } from './timezone.js'
import { type UkArea, ukCarbonIntensitySource } from './uk-carbon-intensity.js'

/** The intensity a tracker will use, where, and what to tell the user about it. */
export interface IntensityResolution {
  readonly provider: IntensityProvider
  readonly location: ResolvedLocation
  readonly warnings: readonly TrackerWarning[]
  readonly notes: readonly string[]
  /** Stops a live provider's refreshes; a no-op for static figures. */
  close(): void
}

/**
 * What the resolution reads, a slice of the tracker's resolved options (which it is given); the tests
 * replace the probes of the outside world.
 */
export interface IntensityConfig {
  /** The forced intensity, g CO2e/kWh; null: the place's figure. */
  readonly carbonIntensityGPerKWh: number | null
  /** ISO 3166 alpha-2, as given (a guessed or cloud-derived country is not set here). */
  readonly country: string | null
  /** Electricity Maps zone id, as the data spells it. */
  readonly zone: string | null
  /** The cloud the machine runs on, as named (`aws`, `gcp`, `azure`); null when not named. */
  readonly cloudProvider: CloudProvider | null
  /** The region's API name, as the table spells it. */
  readonly cloudRegion: string | null
  /** Whether to ask the instance metadata service for the cloud and region. */
  readonly detectCloud: boolean
  /** Base URL of the instance metadata service that detectCloud asks. */
  readonly cloudMetadataUrl: string
  /** Printed as `[redacted]` whatever prints it. */
  readonly electricityMapsToken: Secret | null
  /** Base URL of the Electricity Maps API. */
  readonly electricityMapsUrl: string
  /** The part of Great Britain whose live intensity to use (NESO's API); null: that API is not asked. */
  readonly ukCarbonIntensity: UkArea | null
  /** Base URL of the UK Carbon Intensity API. */
  readonly ukCarbonIntensityUrl: string
  /** Time limit of one live intensity or forecast request, ms. */
  readonly intensityTimeoutMs: number
  /**
   * The live API (electricityMaps(), ukCarbonIntensity()) or the user's own provider; null: the flat
   * options (electricityMapsToken, ukCarbonIntensity) and the tables decide.
   */
  readonly intensity: IntensityOption | null
}

export interface ResolveDependencies {
  /** The system time zone; `undefined` reads it from the engine. */
  readonly timeZone?: string | null
  readonly detectCloud?: (baseUrl: string) => Promise<DetectedCloud | null>
  /** Called with a live provider's warnings during the run (it fails after start, say). */
  readonly onLiveWarning?: (warning: TrackerWarning) => void
  readonly liveTiming?: LiveTiming
}

const HOW_TO_SET =
  "Set the location (country: 'FR', zone: 'US-CAL-CISO', cloudProvider + cloudRegion, or WATTPRINT_COUNTRY=FR) " +
  'or a measured intensity (carbonIntensityGPerKWh: 56).'

/** Labels every figure of a provider as resting on a guess: `timezone-guess:Europe/Berlin:<source>`. */
class GuessedIntensity implements IntensityProvider {
  constructor(
    private readonly inner: IntensityProvider,
    private readonly timeZone: string,
  ) {}
  at(wallMs: number): IntensityReading {
    const reading = this.inner.at(wallMs)
    return { gPerKWh: reading.gPerKWh, source: `timezone-guess:${this.timeZone}:${reading.source}` }
  }
}

/**
 * Decides where the carbon intensity comes from, first that applies: a forced value; a live provider
 * (when configured); the zone, or the cloud region's zone (Electricity Maps yearly, newest year that has
 * it); the country (its Electricity Maps zone, else Ember); a country guessed from the time zone,
 * labelled as a guess; the world average, with a warning that says how to set the location.
 */
export async function resolveIntensity(
  config: IntensityConfig,
  dependencies: ResolveDependencies = {},
): Promise<IntensityResolution> {
  const warnings: TrackerWarning[] = []
  const notes: string[] = []

  // Cloud: named, else detected when asked.
  let cloud: { provider: CloudProvider; region: string; instanceType?: string | null } | null =
    config.cloudProvider && config.cloudRegion
      ? { provider: config.cloudProvider, region: config.cloudRegion }
      : null
  if (!cloud && config.detectCloud) {
    cloud = await (dependencies.detectCloud ?? askMetadata)(config.cloudMetadataUrl)
    if (cloud)
      notes.push(
        `cloud detected from instance metadata: ${cloud.provider} ${cloud.region}${cloud.instanceType ? ` ${cloud.instanceType}` : ''}`,
      )
    else notes.push('detectCloud: no instance metadata service answered (not on AWS, GCP or Azure?)')
  }
  let cloudRegion: CloudRegion | null = null
  if (cloud) {
    cloudRegion = findCloudRegion(cloud.provider, cloud.region)
    if (!cloudRegion) {
      warnings.push({
        code: 'CLOUD_REGION_UNKNOWN',
        message:
          `The ${cloud.provider} region ${cloud.region} is not in wattprint's table, so its grid is unknown. ` +
          "Set zone to the region's Electricity Maps zone (zone: 'DE').",
      })
    }
  }

  // Place: the zone and country as given, else as the cloud region implies, else guessed.
  const liveZone = config.intensity && isLiveOption(config.intensity) ? config.intensity.zone : undefined
  const zone = config.zone ?? cloudRegion?.zone ?? liveZone ?? (config.ukCarbonIntensity ? 'GB' : null)
  let country =
    (config.country ? findCountry(config.country) : null) ??
    (cloudRegion ? findCountry(cloudRegion.alpha2) : null) ??
    (zone ? countryOfZone(zone) : null)
  let guessedFrom: string | null = null
  if (!zone && !country) {
    const timeZone = dependencies.timeZone === undefined ? systemTimeZone() : dependencies.timeZone
    const guess = await guessCountryFromTimeZone(timeZone)
    if (guess) {
      country = guess.country
      guessedFrom = guess.timeZone
      warnings.push({
        code: 'LOCATION_GUESSED',
        message:
          `Location guessed from the time zone ${guess.timeZone}: ${guess.country.name}. ` +
          `Every row says so (intensity_source timezone-guess:…). ${HOW_TO_SET}`,
      })
      notes.push(`location guessed from the time zone ${guess.timeZone}`)
    }
  }

  const location: ResolvedLocation = {
    country,
    zone: null,
    cloudProvider: cloud?.provider ?? null,
    cloudRegion: cloud?.region ?? null,
    onCloud: cloud !== null,
    cloudInstanceType: cloud?.instanceType ?? null,
    guessedFrom,
  }
  const done = (
    provider: IntensityProvider,
    usedZone: string | null,
    close = () => {},
  ): IntensityResolution => ({
    provider: guessedFrom ? new GuessedIntensity(provider, guessedFrom) : provider,
    location: { ...location, zone: usedZone },
    warnings,
    notes,
    close,
  })

  if (config.carbonIntensityGPerKWh !== null) {
    return done(new ConstantIntensity({ gPerKWh: config.carbonIntensityGPerKWh, source: 'fixed' }), null)
  }

  // The static figure: the live provider's fallback, or the answer when no live provider is set.
  const zoneFigure = zone ? zoneIntensity(zone) : null
  const figure = zoneFigure ?? (country ? countryIntensity(country) : null)
  const usedZone = zoneFigure
    ? zone
    : figure?.source.startsWith('electricitymaps') && country
      ? country.alpha2
      : null
  let fallback: IntensityProvider
  if (figure) {
    fallback = new ConstantIntensity(figure)
  } else {
    fallback = new ConstantIntensity({ gPerKWh: WORLD_AVERAGE_G_PER_KWH, source: 'world-average' })
    const place = country ? `${country.name} (${country.alpha3})` : zone ? `zone ${zone}` : null
    warnings.push(
      place
        ? {
            code: 'NO_COUNTRY_FIGURE',
            message:
              `No yearly intensity for ${place} in the shipped tables: using the world average of ` +
              `${WORLD_AVERAGE_G_PER_KWH} g CO2e/kWh. Set carbonIntensityGPerKWh to your grid's figure.`,
          }
        : {
            code: 'LOCATION_UNKNOWN',
            message: `Location unknown: emissions use the world average of ${WORLD_AVERAGE_G_PER_KWH} g CO2e/kWh. ${HOW_TO_SET}`,
          },
    )
    notes.push(
      place
        ? `carbon intensity is the world average: no figure for ${place}`
        : 'carbon intensity is the world average: the location was not given',
    )
  }

  // The user's own provider: every interval's figure, the static one standing in when it fails.
  const chosen = config.intensity
  if (chosen && !isLiveOption(chosen)) {
    const warn = (warning: TrackerWarning) => {
      notes.push(warning.message)
      dependencies.onLiveWarning?.(warning)
    }
    notes.push("carbon intensity from the intensity option's own provider")
    return done(new CheckedProvider(chosen, fallback, warn), usedZone)
  }
  const place = zone ?? usedZone ?? country?.alpha2 ?? null
  const source = chosen
    ? liveOptionSource(chosen, place, config.intensityTimeoutMs, warnings)
    : liveSource(config, place, warnings)
  if (!source) return done(fallback, usedZone)
  const live = new LiveIntensity(
    source,
    fallback,
    (warning) => {
      notes.push(warning.message)
      dependencies.onLiveWarning?.(warning)
    },
    dependencies.liveTiming,
  )
  await live.start()
  return done(live, usedZone ?? zone, () => live.close())
}

/** The live API of the intensity option, when it covers the place (else a warning says why not). */
function liveOptionSource(
  option: LiveIntensityOption,
  zone: string | null,
  timeoutMs: number,
  warnings: TrackerWarning[],
): LiveSource | null {
  const source = option.source({ zone }, timeoutMs)
  // The factories of sources.ts make LiveSources; the public type leaves the platform's AbortSignal out.
  if (typeof source !== 'string') return source as LiveSource
  warnings.push({ code: 'LIVE_INTENSITY_FAILED', message: `${source} Using the yearly figure.` })
  return null
}

/** The live API to ask, when one is configured and covers the place. */
function liveSource(
  config: IntensityConfig,
  zone: string | null,
  warnings: TrackerWarning[],
): LiveSource | null {
  if (config.ukCarbonIntensity) {
    if (zone && !isGreatBritainZone(zone)) {
      warnings.push({
        code: 'LIVE_INTENSITY_FAILED',
        message: `ukCarbonIntensity covers Great Britain only, and this machine is in zone ${zone}: using its yearly figure.`,
      })
      return null
    }
    return ukCarbonIntensitySource({
      baseUrl: config.ukCarbonIntensityUrl,
      area: config.ukCarbonIntensity,
      timeoutMs: config.intensityTimeoutMs,
    })
  }
  if (config.electricityMapsToken) {
    if (!zone) {
      warnings.push({
        code: 'LIVE_INTENSITY_FAILED',
        message: `Electricity Maps needs a location to ask about. ${HOW_TO_SET}`,
      })
      return null
    }
    return electricityMapsSource({
      baseUrl: config.electricityMapsUrl,
      token: config.electricityMapsToken,
      zone,
      timeoutMs: config.intensityTimeoutMs,
    })
  }
  return null
}

/** The country of an Electricity Maps zone: its id starts with the alpha-2 code (`US-CAL-CISO` → US). */
function countryOfZone(zone: string): Country | null {
  return findCountry(zone.split('-')[0] ?? '')
}
