/**
 * A command-line mistake: the CLI prints the message and exits with status 2. Not a WattprintError: it
 * never leaves the CLI (main() catches it), and no library function throws it.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** What a quantity flag measures; its base unit is s, kWh, kg, W or GB. */
export type Kind = 'duration' | 'energy' | 'mass' | 'power' | 'memory'

// Units per kind, lower-cased, to the base unit: seconds, kWh, kg, W, GB (10⁹ bytes).
const UNITS: Record<Kind, Record<string, number>> = {
  duration: { ms: 1e-3, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600, d: 86_400 },
  energy: { j: 1 / 3.6e6, kj: 1 / 3600, wh: 1e-3, kwh: 1, mwh: 1000 },
  mass: { mg: 1e-6, g: 1e-3, kg: 1, t: 1000 },
  power: { w: 1, kw: 1000 },
  memory: { mb: 1e-3, mib: 2 ** 20 / 1e9, gb: 1, gib: 2 ** 30 / 1e9, tb: 1000, tib: 2 ** 40 / 1e9 },
}

const EXAMPLES: Record<Kind, string> = {
  duration: '250ms, 10s, 5m, 2h',
  energy: '300Wh, 0.5kWh, 2000J',
  mass: '100g, 2kg, 500mg',
  power: '200W, 1.5kW',
  memory: '256GB, 24GiB, 1TB',
}

// How a value of each kind is written back in messages: the largest unit it is at least one of.
const SHOWN: Record<Kind, readonly [string, number][]> = {
  duration: [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
    ['ms', 1e-3],
  ],
  energy: [
    ['kWh', 1],
    ['Wh', 1e-3],
    ['J', 1 / 3.6e6],
  ],
  mass: [
    ['t', 1000],
    ['kg', 1],
    ['g', 1e-3],
    ['mg', 1e-6],
  ],
  power: [
    ['kW', 1000],
    ['W', 1],
  ],
  memory: [
    ['TB', 1000],
    ['GB', 1],
    ['MB', 1e-3],
  ],
}

/** A quantity in the kind's base unit, written as a flag takes it: 3600 s → `1h`, 0.01 s → `10ms`. */
export function showQuantity(kind: Kind, value: number): string {
  const units = SHOWN[kind]
  const [unit, factor] = units.find(([, f]) => Math.abs(value) >= f) ?? units.at(-1) ?? ['', 1]
  return `${Number((value / factor).toPrecision(6))}${unit}`
}

/** The accepted range of a flag's value, in its base unit; `min` is inclusive when given. */
export interface Range {
  readonly min?: number
  readonly max?: number
}

// A decimal number as people type it; no hex, no `Infinity`, no `NaN`.
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i

/** Refuses a number that is negative, zero (unless `min` allows it), not finite or out of range. */
function checkRange(
  flag: string,
  text: string,
  value: number,
  range: Range,
  example: string,
  show: (v: number) => string,
): number {
  const problem = !Number.isFinite(value)
    ? 'must be a finite number'
    : value < 0 && (range.min === undefined || range.min === 0)
      ? `must be positive${range.min === 0 ? ' or zero' : ''}`
      : value === 0 && range.min === undefined
        ? 'must be more than zero'
        : range.min !== undefined && value < range.min
          ? `must be at least ${show(range.min)}${range.max !== undefined ? ` (and at most ${show(range.max)})` : ''}`
          : range.max !== undefined && value > range.max
            ? `must be at most ${show(range.max)}`
            : null
  if (problem)
    throw new UsageError(`${flag} ${JSON.stringify(text)} ${problem}: for example ${flag} ${example}.`)
  return value
}

/**
 * A quantity as people write it (`250ms`, `2 h`, `0.5kWh`, `300Wh`, `100g`), in the kind's base unit
 * (s, kWh, kg, W). A bare number is taken in `bareUnit` when given, else refused as ambiguous. Zero is
 * refused unless `range.min` allows it; `example` is a good value (`1s`).
 */
export function parseQuantity(
  kind: Kind,
  flag: string,
  text: string,
  options: { bareUnit?: string; range?: Range; example?: string } = {},
): number {
  const example = options.example ?? EXAMPLES[kind].split(', ')[1] ?? ''
  const match = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  const unit = (match?.[2] || options.bareUnit || '').toLowerCase()
  const factor = UNITS[kind][unit]
  if (!match || factor === undefined) {
    const why = !match
      ? 'is not a number with a unit'
      : !match[2]
        ? 'needs a unit'
        : `has a unit that is not one of ${Object.keys(UNITS[kind]).join(', ')}`
    throw new UsageError(`${flag} ${JSON.stringify(text)} ${why}: write it like ${EXAMPLES[kind]}.`)
  }
  const value = Number(match[1]) * factor
  return checkRange(flag, text, value, options.range ?? {}, example, (v) => showQuantity(kind, v))
}

/**
 * A plain number (a ratio, g/kWh, a count) from `range.min` to `range.max`, a whole one if `integer`;
 * `suffix` is a unit it may end with (` g/kWh`). Messages show the text as typed.
 */
export function parseNumber(
  flag: string,
  text: string,
  options: { example: string; range?: Range; integer?: boolean; suffix?: RegExp },
): number {
  const { example } = options
  const trimmed = (options.suffix ? text.replace(options.suffix, '') : text).trim()
  if (!NUMBER.test(trimmed)) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a number: for example ${flag} ${example}.`)
  }
  const value = checkRange(flag, text, Number(trimmed), options.range ?? {}, example, String)
  if (options.integer && !Number.isInteger(value)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} must be a whole number: for example ${flag} ${example}.`,
    )
  }
  return value
}
