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
 * Characters a terminal or a browser would act on rather than show: the control characters (a carriage
 * return, an escape sequence that would recolour or rewrite the screen, the one-byte C1 CSI), the
 * bidirectional controls (an override that would show the rest of the line reversed), the invisible ones
 * (zero-width space, joiners, word joiner, byte order mark, soft hyphen, invisible operators, the
 * interlinear annotations), the line and paragraph separators, and the tag characters (U+E0000…U+E007F,
 * invisible text that rides along with the visible). A name holding them could read as another name.
 */
const HIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/g

/** Every UTF-16 unit of `text` as `\uXXXX`, the way JSON writes an escaped character. */
export const unicodeEscape = (text: string): string =>
  Array.from(
    { length: text.length },
    (_, i) => `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`,
  ).join('')

/**
 * The one function that makes text safe for a terminal: every character of HIDDEN written out, `\r`,
 * `\n` and `\t` as such and the rest as `\u001b`, `\u202e`, `\u200b`, the way JSON writes them. Visible
 * text in any script (`été 東京 🚀`) is kept; applying it twice changes nothing more.
 */
export const printable = (text: string): string =>
  text.replace(HIDDEN, (c) =>
    c === '\r' ? '\\r' : c === '\n' ? '\\n' : c === '\t' ? '\\t' : unicodeEscape(c),
  )

/**
 * JSON text as safe for a terminal as printable() makes prose, and still the same JSON: the characters
 * of HIDDEN that JSON.stringify leaves as they are (it escapes only U+0000…U+001F) become `\uXXXX`
 * escapes inside their strings, which every JSON reader turns back into the same characters.
 */
export const printableJson = (json: string): string =>
  json.replace(HIDDEN, (c) => (c.charCodeAt(0) < 0x20 ? c : unicodeEscape(c)))

// Characters a terminal shows two columns wide (East Asian wide and fullwidth, most emoji), and those it
// shows in no column of their own (combining marks), so that a table of names in any script lines up.
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f680}-\u{1f6ff}\u{1f900}-\u{1f9ff}\u{1fa70}-\u{1faff}\u{20000}-\u{3fffd}]/u
const ZERO_WIDTH = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f]/u

const columnsOf = (char: string): number => (ZERO_WIDTH.test(char) ? 0 : WIDE.test(char) ? 2 : 1)

/** How many terminal columns `text` takes (after printable(): no control characters left in it). */
export function displayWidth(text: string): number {
  let width = 0
  for (const char of text) width += columnsOf(char)
  return width
}

/** `text` in at most `max` columns: cut at a character's edge, with `…` as its last column when cut. */
export function fitColumns(text: string, max: number): string {
  if (displayWidth(text) <= max) return text
  let out = ''
  let width = 0
  for (const char of text) {
    const w = columnsOf(char)
    if (width + w > max - 1) break
    out += char
    width += w
  }
  return `${out}…`
}
