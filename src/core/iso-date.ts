const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]

/** `2026-12-02`, then `T06:00` or ` 06:00` (seconds and a fraction optional), then `Z` or `±hh:mm`. */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate()

/**
 * Why `text` is no ISO 8601 date or date-time that exists, or null when it is one. `Date.parse` takes
 * `2026-11-31` for 1 December and `24:00` for the next day's midnight: a deadline written so is a slip,
 * never meant, and is refused by name.
 */
export function isoDateProblem(text: string): string | null {
  const match = ISO.exec(text.trim())
  if (!match) return 'not a date and time in the form 2026-12-02T06:00'
  const [, y, mo, d, h, mi, s, zone] = match
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12) return `not a date: there is no month ${month}`
  if (day < 1) return `not a date: there is no day ${day}`
  const days = daysIn(year, month)
  if (day > days) return `not a date: ${MONTHS[month - 1]} ${year} has ${days} days`
  if (h !== undefined && Number(h) > 23) return 'not a time of day: the hour is 0 to 23'
  if (mi !== undefined && Number(mi) > 59) return 'not a time of day: the minute is 0 to 59'
  if (s !== undefined && Number(s) > 59) return 'not a time of day: the second is 0 to 59'
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const [hours, minutes] = [Number(zone.slice(1, 3)), Number(zone.slice(-2))]
    if (hours > 23 || minutes > 59) return `not a time zone offset: ${zone} (from -23:59 to +23:59)`
  }
  return null
}

/** Whether the text is a date alone (`2026-12-02`): JavaScript reads that as UTC midnight, a person as local. */
export const isDateOnly = (text: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(text.trim())
