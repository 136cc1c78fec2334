import type { TrackerWarning } from './warnings.js'

/**
 * A value as a message shows it: strings quoted, numbers as written (NaN stays NaN, where JSON would say
 * null), an object by its first few keys, one level deep.
 */
export function show(value: unknown, depth = 0): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'bigint') return `${value}n`
  if (value === null || typeof value !== 'object') return String(value)
  if (Array.isArray(value)) return depth > 0 ? 'an array' : `[${value.slice(0, 5).map((v) => show(v, 1))}]`
  if (depth > 0) return 'an object'
  const entries = Object.entries(value)
  const shown = entries.slice(0, 5).map(([key, v]) => `${key}: ${show(v, 1)}`)
  if (entries.length > 5) shown.push('…')
  return shown.length > 0 ? `{ ${shown.join(', ')} }` : '{}'
}

/** The warning for a method given what it cannot use; the call goes on or stops, as the message says. */
export function invalidArgument(message: string): TrackerWarning {
  return { code: 'INVALID_ARGUMENT', message: `${message}.` }
}
