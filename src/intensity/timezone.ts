import { type Country, findCountry } from './countries.js'

/** A country guessed from the system time zone. */
export interface TimezoneGuess {
  /** The IANA name the guess rests on (`Europe/Berlin`). */
  readonly timeZone: string
  readonly country: Country
}

/** The system's IANA time zone as the JavaScript engine sees it (honours TZ); null when unknown. */
export function systemTimeZone(): string | null {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone ?? null
  } catch {
    return null
  }
}

let byZone: Promise<Map<string, string>> | undefined

/**
 * Guesses the country from a time zone: `Europe/Berlin` → Germany. Null for zones that say nothing about
 * a place (`UTC`, `Etc/GMT+5`: servers and containers often run on UTC) and for unknown names. A guess,
 * never a fact: a machine in Paris may keep UTC, a laptop travels.
 */
export async function guessCountryFromTimeZone(
  timeZone: string | null = systemTimeZone(),
): Promise<TimezoneGuess | null> {
  if (!timeZone) return null
  byZone ??= import('./timezones.js').then(({ TIMEZONE_COUNTRY }) => new Map(TIMEZONE_COUNTRY))
  const alpha2 = (await byZone).get(timeZone)
  const country = alpha2 ? findCountry(alpha2) : null
  return country ? { timeZone, country } : null
}
