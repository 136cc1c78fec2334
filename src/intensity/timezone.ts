import { readlinkSync, realpathSync } from 'node:fs'
import { type Country, findCountry } from './countries.js'
import { timezoneCountry } from './timezones.js'

/** A country guessed from the system time zone. */
export interface TimezoneGuess {
  /** The IANA name the guess rests on (`Europe/Berlin`). */
  readonly timeZone: string
  readonly country: Country
}

/** The names of UTC that V8 reports as `UTC` (ICU's aliases of Etc/UTC, and Etc/GMT). */
const UTC_NAMES = new Set([
  'UTC',
  'Etc/UTC',
  'Etc/GMT',
  'GMT',
  'Etc/Universal',
  'Universal',
  'Etc/Zulu',
  'Zulu',
  'Etc/UCT',
  'UCT',
  'Etc/Greenwich',
  'Greenwich',
  'Etc/GMT0',
  'GMT0',
  'Etc/GMT-0',
  'GMT-0',
  'Etc/GMT+0',
  'GMT+0',
])

/**
 * What ICU takes for a zone name (its `isValidOlsonID`): no digit or comma but up to two digits at the
 * end (`GMT+11`), or one of four POSIX names.
 */
const olsonLike = (name: string): boolean =>
  /^[^0-9,]*[0-9]{0,2}$/.test(name) || ['PST8PDT', 'MST7MDT', 'CST6CDT', 'EST5EDT'].includes(name)

/** ICU skips these folders of /usr/share/zoneinfo in a zone's path. */
const withoutPrefix = (name: string): string => name.replace(/^(?:posix|right)\//, '')

let localtime: string | null | undefined

/**
 * The zone /etc/localtime links to, as ICU reads it: the path after `/zoneinfo/` in its real path (its
 * link where that path has none, or is `posixrules`); null where it is not a link into a zoneinfo folder.
 * Read once per process (ICU reads it once too).
 */
function localtimeZone(): string | null {
  if (localtime === undefined) {
    localtime = null
    const tail = (path: string): string | null => {
      const at = path.indexOf('/zoneinfo/')
      return at === -1 ? null : path.slice(at + '/zoneinfo/'.length)
    }
    try {
      const real = realpathSync('/etc/localtime')
      let name = real === '/etc/localtime' ? null : tail(real)
      if (real !== '/etc/localtime' && (name === null || name === 'posixrules'))
        name = tail(readlinkSync('/etc/localtime'))
      localtime = name === null ? null : withoutPrefix(name)
    } catch {
      // No /etc/localtime: the engine is asked.
    }
  }
  return localtime
}

let canonical: ReadonlySet<string> | undefined

/** The zone names the engine reports as they are (its canonical names, `Intl.supportedValuesOf`). */
function canonicalZones(): ReadonlySet<string> {
  if (!canonical) {
    try {
      canonical = new Set(Intl.supportedValuesOf('timeZone'))
    } catch {
      canonical = new Set()
    }
  }
  return canonical
}

/**
 * The zone name the engine would report, read from where ICU reads it (TZ, else the link /etc/localtime),
 * or undefined where that does not settle it: an alias the engine renames (`Asia/Kolkata`, reported as
 * `Asia/Calcutta`), a TZ the engine does not take as a name (`CET-1CEST`), an /etc/localtime that is a
 * copy of a zone file rather than a link.
 */
export function timeZoneWithoutIntl(): string | undefined {
  // ICU reads TZ and /etc/localtime this way on Linux and macOS; Windows has its own zone names.
  if (process.platform === 'win32') return undefined
  const tz = process.env.TZ
  const name = tz === undefined ? localtimeZone() : withoutPrefix(tz.startsWith(':') ? tz.slice(1) : tz)
  if (!name || !olsonLike(name)) return undefined
  if (UTC_NAMES.has(name)) return 'UTC'
  return canonicalZones().has(name) ? name : undefined
}

/**
 * The system's IANA time zone as the JavaScript engine sees it (honours TZ); null when unknown. Read from
 * TZ or /etc/localtime where they settle it (no cost for UTC, the usual zone of servers and containers;
 * about a millisecond, the engine's list of zones, for the others), else from `Intl.DateTimeFormat`,
 * whose first use costs about 20 ms (ICU's date formats).
 */
export function systemTimeZone(): string | null {
  const name = timeZoneWithoutIntl()
  if (name !== undefined) return name
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone ?? null
  } catch {
    return null
  }
}

/**
 * Guesses the country from a time zone: `Europe/Berlin` → Germany. Null for zones that say nothing about
 * a place (`UTC`, `Etc/GMT+5`: servers and containers often run on UTC) and for unknown names. A guess,
 * never a fact: a machine in Paris may keep UTC, a laptop travels.
 */
export async function guessCountryFromTimeZone(
  timeZone: string | null = systemTimeZone(),
): Promise<TimezoneGuess | null> {
  // UTC and Etc/ say nothing of a place (the table has none of them): no need to read it.
  if (!timeZone || UTC_NAMES.has(timeZone) || timeZone.startsWith('Etc/')) return null
  const alpha2 = timezoneCountry(timeZone)
  const country = alpha2 ? findCountry(alpha2) : null
  return country ? { timeZone, country } : null
}
