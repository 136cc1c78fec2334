import { show } from '../core/arguments.js'
import { WattprintError } from '../core/errors.js'
import { Secret } from '../core/secret.js'
import type { TrackerWarning } from '../core/warnings.js'
import { ELECTRICITY_MAPS_URL, electricityMapsSource } from './electricity-maps.js'
import { isGreatBritainZone } from './location.js'
import type { IntensityProvider, IntensityReading } from './provider.js'
import { parseUkArea, UK_CARBON_INTENSITY_URL, ukCarbonIntensitySource } from './uk-carbon-intensity.js'

/**
 * A live carbon-intensity API for the tracker's `intensity` option, made by electricityMaps() or
 * ukCarbonIntensity(): asked for the machine's place once the tracker knows it, refreshed as the API
 * publishes, with the place's yearly figure in its stead whenever it cannot answer.
 */
export interface LiveIntensityOption {
  /** Tells a live API from your own provider (which has `at`). */
  readonly kind: 'live'
  /** The service, as messages name it: `Electricity Maps`. */
  readonly name: string
  /** The one zone it covers, the machine's when nothing else says where it is (`GB`); absent: any zone. */
  readonly zone?: string
  /**
   * The API for the place the tracker resolved (its Electricity Maps zone, null when unknown), or why it
   * cannot serve that place.
   *
   * @internal The tracker's. Its type names no platform type (LiveSource takes an AbortSignal), so that
   * the published declarations compile without the DOM or Node's types.
   */
  source(place: { readonly zone: string | null }, timeoutMs: number): { readonly label: string } | string
}

/** What the `intensity` option takes: a live API, or your own provider of every interval's figure. */
export type IntensityOption = LiveIntensityOption | IntensityProvider

/** Options of electricityMaps(). */
export interface ElectricityMapsOptions {
  /** The API token (never printed: errors and logs show `[redacted]`). */
  readonly token: string
  /** Base URL of the API. Default `https://api.electricitymaps.com`. */
  readonly url?: string
}

/** Options of ukCarbonIntensity(). */
export interface UkCarbonIntensityOptions {
  /** `'national'` (default), a region id 1–17 (`13` is London) or a postcode (`'RG10'`). */
  readonly area?: string | number
  /** Base URL of the API. Default `https://api.carbonintensity.org.uk`. */
  readonly url?: string
}

const refuse = (what: string, field: string, message: string): never => {
  throw new WattprintError('INVALID_OPTION', `${what}: ${field} ${message}`, field)
}

/** An http(s) URL, or the refusal naming the factory and the field. */
function httpUrl(what: string, url: unknown, fallback: string): string {
  if (url === undefined) return fallback
  try {
    const { protocol } = new URL(String(url))
    if (typeof url === 'string' && (protocol === 'http:' || protocol === 'https:')) return url
  } catch {}
  return refuse(what, 'url', `${show(url)} must be an http:// or https:// URL.`)
}

/**
 * Electricity Maps' live intensity of the machine's zone (the tracker's `zone`, country or cloud region
 * give it), hourly: `new EmissionsTracker({ intensity: electricityMaps({ token: process.env.EM_TOKEN }) })`.
 * The same as the flat `electricityMapsToken` option, as one object. Throws a WattprintError for a
 * missing token or a bad URL.
 */
export function electricityMaps(options: ElectricityMapsOptions): LiveIntensityOption {
  const what = 'electricityMaps'
  const given = options as Partial<ElectricityMapsOptions> | null
  if (typeof given?.token !== 'string' || given.token.trim() === '') {
    refuse(
      what,
      'token',
      'must be your Electricity Maps API token: for example { token: process.env.EM_TOKEN }.',
    )
  }
  const token = new Secret(String(given?.token))
  const baseUrl = httpUrl(what, given?.url, ELECTRICITY_MAPS_URL)
  return {
    kind: 'live',
    name: 'Electricity Maps',
    source: ({ zone }, timeoutMs) =>
      zone === null
        ? 'Electricity Maps needs a location to ask about: set country, zone, or cloudProvider and cloudRegion.'
        : electricityMapsSource({ baseUrl, token, zone, timeoutMs }),
  }
}

/**
 * NESO's Carbon Intensity API for Great Britain (no token), every half hour: national, a region or a
 * postcode's. `new EmissionsTracker({ intensity: ukCarbonIntensity({ area: 'RG10' }) })`. The same as the
 * flat `ukCarbonIntensity` option. Throws a WattprintError for an area that is none or a bad URL.
 */
export function ukCarbonIntensity(options: UkCarbonIntensityOptions = {}): LiveIntensityOption {
  const what = 'ukCarbonIntensity'
  const given = (options ?? {}) as UkCarbonIntensityOptions
  const area = parseUkArea(given.area ?? 'national')
  if (area === null) {
    refuse(
      what,
      'area',
      `${show(given.area)} must be 'national', a region id 1 to 17 or a postcode ('RG10').`,
    )
  }
  const baseUrl = httpUrl(what, given.url, UK_CARBON_INTENSITY_URL)
  return {
    kind: 'live',
    name: 'the UK Carbon Intensity API',
    zone: 'GB',
    source: ({ zone }, timeoutMs) =>
      zone !== null && !isGreatBritainZone(zone)
        ? `ukCarbonIntensity covers Great Britain only, and this machine is in zone ${zone}.`
        : ukCarbonIntensitySource({ baseUrl, area: area ?? { kind: 'national' }, timeoutMs }),
  }
}

/** Whether an `intensity` option is a live API (else it is the user's own provider). */
export const isLiveOption = (option: IntensityOption): option is LiveIntensityOption =>
  (option as Partial<LiveIntensityOption>).kind === 'live' &&
  typeof (option as Partial<LiveIntensityOption>).source === 'function'

/**
 * The user's own provider, kept from breaking the run: a reading that throws, or is not a finite figure
 * from 0 g/kWh, gives the place's static figure instead (said once, as a LIVE_INTENSITY_FAILED warning);
 * its source text is labelled `custom:` so that every row says the figure was the user's.
 */
export class CheckedProvider implements IntensityProvider {
  #warned = false

  constructor(
    private readonly inner: IntensityProvider,
    private readonly fallback: IntensityProvider,
    private readonly warn: (warning: TrackerWarning) => void,
  ) {}

  at(wallMs: number): IntensityReading {
    let problem: string
    try {
      const reading = this.inner.at(wallMs) as Partial<IntensityReading> | undefined
      const gPerKWh = reading?.gPerKWh
      if (typeof gPerKWh === 'number' && Number.isFinite(gPerKWh) && gPerKWh >= 0) {
        return { gPerKWh, source: `custom:${String(reading?.source ?? 'provider')}` }
      }
      problem = `it returned ${show(reading)}, not { gPerKWh: a number from 0, source }`
    } catch (error) {
      problem = `it threw ${error instanceof Error ? error.message : show(error)}`
    }
    const fallback = this.fallback.at(wallMs)
    if (!this.#warned) {
      this.#warned = true
      this.warn({
        code: 'LIVE_INTENSITY_FAILED',
        message: `The intensity option's provider failed (${problem}): using ${fallback.gPerKWh} g/kWh (${fallback.source}) for such intervals.`,
      })
    }
    return fallback
  }
}
