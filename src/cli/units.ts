/** A command-line mistake: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

type Kind = 'duration' | 'energy' | 'mass' | 'power'

// Units per kind, lower-cased, to the base unit: seconds, kWh, kg, W.
const UNITS: Record<Kind, Record<string, number>> = {
  duration: { ms: 1e-3, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600, d: 86_400 },
  energy: { j: 1 / 3.6e6, kj: 1 / 3600, wh: 1e-3, kwh: 1, mwh: 1000 },
  mass: { mg: 1e-6, g: 1e-3, kg: 1, t: 1000 },
  power: { w: 1, kw: 1000 },
}

const EXAMPLES: Record<Kind, string> = {
  duration: '250ms, 10s, 5m, 2h',
  energy: '300Wh, 0.5kWh, 2000J',
  mass: '100g, 2kg, 500mg',
  power: '200W, 1.5kW',
}

/**
 * A quantity as people write it (`250ms`, `2 h`, `0.5kWh`, `300Wh`, `100g`), in the kind's base unit
 * (s, kWh, kg, W). A bare number is taken in `bareUnit` when given, else refused as ambiguous.
 */
export function parseQuantity(kind: Kind, flag: string, text: string, bareUnit?: string): number {
  const match = /^\s*([+]?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  const unit = (match?.[2] || bareUnit || '').toLowerCase()
  const factor = UNITS[kind][unit]
  if (!match || factor === undefined) {
    const why = match && !match[2] ? 'needs a unit' : 'is not understood'
    throw new UsageError(`${flag} ${JSON.stringify(text)} ${why}: write it like ${EXAMPLES[kind]}.`)
  }
  const value = Number(match[1]) * factor
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new UsageError(
      `${flag} must be more than zero (got ${JSON.stringify(text)}): for example ${EXAMPLES[kind]}.`,
    )
  }
  return value
}

/** A plain positive number (a ratio, g/kWh). */
export function parseNumber(
  flag: string,
  text: string,
  example: string,
  min = 0,
  max = Number.POSITIVE_INFINITY,
): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not a number from ${min} to ${max}: for example ${flag} ${example}.`,
    )
  }
  return value
}
