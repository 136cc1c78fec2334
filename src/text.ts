/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost)
    }
    row = next
  }
  return row[b.length] ?? 0
}

/** The candidate closest to `word` (case-insensitive), when it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase()
  let best: { name: string; distance: number } | undefined
  for (const name of candidates) {
    const d = editDistance(lower, name.toLowerCase())
    if (!best || d < best.distance) best = { name, distance: d }
  }
  return best && best.distance <= Math.max(2, Math.floor(word.length / 3)) ? best.name : undefined
}

/**
 * A value as code would write it, for error messages: strings quoted, and NaN, Infinity, -0, undefined
 * and big integers kept (JSON.stringify turns NaN into `null` and drops undefined).
 */
export function describeValue(value: unknown, depth = 0): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (value === null || value === undefined || typeof value === 'boolean') return String(value)
  if (typeof value === 'symbol') return value.toString()
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`
  if (depth >= 3) return Array.isArray(value) ? '[…]' : '{…}'
  if (Array.isArray(value)) {
    const items = value.slice(0, 10).map((item) => describeValue(item, depth + 1))
    return `[${items.join(', ')}${value.length > 10 ? `, … ${value.length - 10} more` : ''}]`
  }
  const prototype = Object.getPrototypeOf(value) as object | null
  if (prototype !== Object.prototype && prototype !== null) {
    return `a ${(value as object).constructor?.name || 'object'}`
  }
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 0) return '{}'
  const shown = entries
    .slice(0, 10)
    .map(
      ([key, item]) =>
        `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}: ${describeValue(item, depth + 1)}`,
    )
  return `{ ${shown.join(', ')}${entries.length > 10 ? ', …' : ''} }`
}

/**
 * A name as the terminal should show it: control characters (a carriage return, an escape sequence that
 * would recolour or rewrite the screen) and the bidirectional controls (an override that would show the
 * rest of the line reversed) written as `\r`, `\u001b`, `\u202e`, the way JSON writes them.
 */
export const printable = (text: string): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    c === '\r'
      ? '\\r'
      : c === '\n'
        ? '\\n'
        : c === '\t'
          ? '\\t'
          : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
