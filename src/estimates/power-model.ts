// The whole-machine power model: wall watts of a server at a given load, fit to SPECpower_ssj2008 results
// (measured AC power at idle and every 10 % of load). Pure: it takes the fitted coefficients as data
// (data/power-model.json, written by scripts/power-model/fit.ts) and the machine's facts, and returns watts
// with an 80 % interval, split into CPU, RAM and the rest. Why each choice: docs/accuracy.md.

import type { CpuVendor } from './cpu-family.js'

/** Load steps the model is fit at: active idle, then 10 % … 100 % of the machine's throughput. */
export const LOAD_STEPS: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]

/**
 * A model variant by what is known of the CPU: its TDP (through the CPU table) and its generation (through
 * its name). Each variant is fit on its own and has its own interval, so an unknown CPU gets a wider one.
 */
export type VariantName = 'tdp-year' | 'tdp' | 'year' | 'none'

/** One fitted variant: ln(watts) at each load step = coefficients · features. */
export interface ModelVariant {
  /** Names of the features, in order (see featuresOf). */
  readonly features: readonly string[]
  /** One row of coefficients per load step. */
  readonly coefficients: readonly (readonly number[])[]
  /**
   * The 10th and 90th percentiles of ln(measured / predicted) on servers the fit did not see (year-forward
   * splits), per load step: the 80 % interval is prediction × e^low … prediction × e^high.
   */
  readonly logErrorLow: readonly number[]
  /** The 90th percentile of ln(measured / predicted), per load step: the interval's upper end. */
  readonly logErrorHigh: readonly number[]
  /** Servers the shipped coefficients were fit on. */
  readonly servers: number
  /** (Server, load) points the shipped coefficients were fit on. */
  readonly points: number
}

/** How the machine's power is split into components, per load step (an additive fit, see docs/accuracy.md). */
export interface ComponentFit {
  /** CPU watts per watt of TDP (all sockets), per load step. */
  readonly cpuWPerTdpW: readonly number[]
  /** RAM watts per GB, the same at every load. */
  readonly ramWPerGB: number
  /** The rest of the machine (board, fans, drives, power-supply losses) per socket, per load step. */
  readonly otherWPerSocket: readonly number[]
  /** Watts of TDP per hardware thread, to stand in for an unknown TDP. */
  readonly tdpWPerThread: number
}

/** The fitted model, as data/power-model.json holds it. */
export interface PowerModel {
  /** The model's name and version (`wattprint-machine-power-1`), as estimates' sources cite it. */
  readonly name: string
  /** The date the model was fit, ISO 8601 (`2026-12-04`). */
  readonly fitted: string
  /** The measurements it was fit on, with their origins and licences, in words. */
  readonly data: string
  /** How it was fit and how its interval was found, in words. */
  readonly method: string
  /** One fitted variant for each state of knowledge of the CPU. */
  readonly variants: Readonly<Record<VariantName, ModelVariant>>
  /** How the machine's watts are split into CPU, RAM and the rest. */
  readonly components: ComponentFit
  /** How much wider the interval is (in log space) for a CPU vendor outside the training data (ARM). */
  readonly unseenVendorWidening: number
}

/** The facts the model reads. */
export interface MachineFacts {
  /** TDP of one socket in watts; null when the CPU table does not know the CPU. */
  readonly tdpW: number | null
  readonly sockets: number
  readonly threads: number
  readonly memoryGB: number
  readonly vendor: CpuVendor
  /** Launch year of the CPU's generation; null when the name does not tell. */
  readonly year: number | null
}

/** The model's answer at one load. */
export interface ModelPower {
  readonly watts: number
  readonly lowW: number
  readonly highW: number
  readonly cpuW: number
  readonly ramW: number
  readonly otherW: number
  readonly variant: VariantName
}

/** The variant that uses everything known. */
export function variantFor(facts: Pick<MachineFacts, 'tdpW' | 'year'>): VariantName {
  if (facts.tdpW !== null) return facts.year !== null ? 'tdp-year' : 'tdp'
  return facts.year !== null ? 'year' : 'none'
}

// Years enter as ln(year − 2003): the fall in relative idle power slowed as it went, and a logarithm
// extrapolates that slowing past the newest training servers instead of a straight line's plunge.
const YEAR_ORIGIN = 2003

/** The features of a variant, in the order its coefficients expect. */
export function featuresOf(variant: VariantName, facts: MachineFacts): number[] {
  const tdp = facts.tdpW
  const x = [
    1,
    tdp !== null && (variant === 'tdp' || variant === 'tdp-year')
      ? Math.log(tdp * facts.sockets)
      : Math.log(facts.sockets),
    Math.log(facts.memoryGB),
    Math.log(facts.threads),
    facts.vendor === 'amd' ? 1 : 0,
  ]
  if (variant === 'tdp-year' || variant === 'year')
    x.push(Math.log(Math.max(1, (facts.year ?? 2020) - YEAR_ORIGIN)))
  return x
}

/** Feature names per variant, for the coefficient file. */
export function featureNames(variant: VariantName): string[] {
  const names = [
    'intercept',
    variant === 'tdp' || variant === 'tdp-year' ? 'ln(tdp_w × sockets)' : 'ln(sockets)',
    'ln(memory_gb)',
    'ln(threads)',
    'amd',
  ]
  if (variant === 'tdp-year' || variant === 'year') names.push(`ln(year − ${YEAR_ORIGIN})`)
  return names
}

const dot = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((sum, v, i) => sum + v * (b[i] ?? 0), 0)

/** Predicted wall watts at each load step, with the interval, made non-decreasing in load. */
export function stepPowers(
  model: PowerModel,
  facts: MachineFacts,
  variant: VariantName = variantFor(facts),
): { watts: number[]; lowW: number[]; highW: number[] } {
  const v = model.variants[variant]
  const x = featuresOf(variant, facts)
  const widen = facts.vendor === 'arm' || facts.vendor === 'unknown' ? model.unseenVendorWidening : 1
  const watts: number[] = []
  const lowW: number[] = []
  const highW: number[] = []
  let floor = 0
  let floorLow = 0
  let floorHigh = 0
  v.coefficients.forEach((row, i) => {
    // A server never draws less under more load; the steps are fit apart, so hold each at least at the last.
    const w = Math.max(floor, Math.exp(dot(row, x)))
    const lo = Math.max(floorLow, w * Math.exp((v.logErrorLow[i] ?? 0) * widen))
    const hi = Math.max(floorHigh, w * Math.exp((v.logErrorHigh[i] ?? 0) * widen))
    watts.push(w)
    lowW.push(Math.min(lo, w))
    highW.push(Math.max(hi, w))
    floor = w
    floorLow = lo
    floorHigh = hi
  })
  return { watts, lowW, highW }
}

/** Linear interpolation of per-step values at a load in [0, 1]. */
export function atLoad(values: readonly number[], load: number): number {
  const l = Math.min(1, Math.max(0, load)) * 10
  const i = Math.min(9, Math.floor(l))
  const a = values[i] ?? 0
  const b = values[i + 1] ?? a
  return a + (b - a) * (l - i)
}

/**
 * Shares of the machine's power at a load: CPU, RAM and the rest, from the additive component fit. The
 * log-linear total is the better predictor; the additive fit only says how it divides.
 */
export function componentShares(
  fit: ComponentFit,
  facts: MachineFacts,
  load: number,
): { cpu: number; ram: number; other: number } {
  const tdpTotalW = (facts.tdpW ?? (fit.tdpWPerThread * facts.threads) / facts.sockets) * facts.sockets
  const cpu = atLoad(fit.cpuWPerTdpW, load) * tdpTotalW
  const ram = fit.ramWPerGB * facts.memoryGB
  const other = atLoad(fit.otherWPerSocket, load) * facts.sockets
  const sum = cpu + ram + other
  if (!(sum > 0)) return { cpu: 1 / 3, ram: 1 / 3, other: 1 / 3 }
  return { cpu: cpu / sum, ram: ram / sum, other: other / sum }
}

/** The model's wall power at a load in [0, 1], with its interval and components. */
export function machinePowerAt(model: PowerModel, facts: MachineFacts, load: number): ModelPower {
  const variant = variantFor(facts)
  const steps = stepPowers(model, facts, variant)
  const watts = atLoad(steps.watts, load)
  const shares = componentShares(model.components, facts, load)
  return {
    watts,
    lowW: atLoad(steps.lowW, load),
    highW: atLoad(steps.highW, load),
    cpuW: watts * shares.cpu,
    ramW: watts * shares.ram,
    otherW: watts * shares.other,
    variant,
  }
}
