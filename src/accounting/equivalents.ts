/**
 * Everyday equivalents of an amount of CO2e, each with the source of its factor. They give a sense of
 * scale, nothing more: the factors are US averages from the EPA's Greenhouse Gas Equivalencies
 * Calculator (https://www.epa.gov/energy/greenhouse-gases-equivalencies-calculator-calculations-and-references).
 */
export interface Equivalent {
  /** The everyday unit, in words that follow a count (`smartphone charges`). */
  readonly what: string
  /** How many of `what` the emissions equal. */
  readonly amount: number
  /** kg CO2e per one of `what`. */
  readonly kgPerUnit: number
  /** Where the factor comes from, with its published figure and any conversion of ours. */
  readonly source: string
}

const EPA = 'US EPA, Greenhouse Gas Equivalencies Calculator'
const KM_PER_MILE = 1.609344

/** The factors: kg CO2e per unit. */
export const EQUIVALENT_FACTORS = [
  {
    what: 'km driven by an average gasoline passenger car',
    // 3.93 × 10⁻⁴ t CO2e per mile; EPA publishes no per-km figure: the conversion is ours.
    kgPerUnit: 0.393 / KM_PER_MILE,
    source: `${EPA}: 3.93 × 10⁻⁴ t CO2e per mile, ÷ 1.609344 km per mile`,
  },
  {
    what: 'smartphone charges',
    kgPerUnit: 0.0124,
    source: `${EPA}: 1.24 × 10⁻⁵ t CO2 per smartphone charged`,
  },
  {
    what: 'tree seedlings grown for 10 years',
    kgPerUnit: 60,
    source: `${EPA}: 0.060 t CO2 sequestered per urban tree seedling grown for 10 years`,
  },
] as const

/** Every equivalent of `emissionsKg`. */
export function equivalents(emissionsKg: number): Equivalent[] {
  const kg = Number.isFinite(emissionsKg) && emissionsKg > 0 ? emissionsKg : 0
  return EQUIVALENT_FACTORS.map((f) => ({ ...f, amount: kg / f.kgPerUnit }))
}

/** The equivalent that reads best for this amount: the first whose count is at least one, else the first. */
export function bestEquivalent(emissionsKg: number): Equivalent {
  const all = equivalents(emissionsKg)
  const readable = [...all].reverse().find((e) => e.amount >= 1)
  return readable ?? (all[0] as Equivalent)
}

/** `≈ 2.4 km driven by an average gasoline passenger car`; under a kilometre, in metres. */
export function describeEquivalent(e: Equivalent): string {
  const format = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toPrecision(2))
  if (e.amount < 1 && e.what.startsWith('km ')) return `≈ ${format(e.amount * 1000)} m${e.what.slice(2)}`
  return `≈ ${format(e.amount)} ${e.what}`
}
