// How far each model is from measured wall power on servers its fit never saw: year-forward splits inside
// the training file (fit on servers up to a year, test on the later ones). Pure computation; accuracy-main.ts
// prints it and docs/accuracy.md holds it, and test/accuracy-doc.test.ts recomputes it.

import {
  LOAD_STEPS,
  machinePowerAt,
  type PowerModel,
  stepPowers,
  variantFor,
} from '../../src/estimates/power-model.js'
import type { Server } from './dataset.js'
import { factsFor, fitModel } from './fit.js'
import { median, quantile } from './regression.js'

/** The splits: [last training year, first test year, last test year]. The first is the headline. */
export const SPLITS: readonly (readonly [number, number, number])[] = [
  [2016, 2017, 2020],
  [2014, 2015, 2020],
  [2018, 2019, 2020],
]

/** A model to compare: watts at each step for a server, with an interval where it has one. */
interface Contender {
  readonly name: string
  readonly predict: (s: Server) => { watts: number[]; lowW?: number[]; highW?: number[] } | null
}

/** CodeCarbon's CPU curve, TDP × sockets × (0.1 + 0.9·L³): the CPU package alone, as CodeCarbon uses it. */
export const codecarbonCurve = (tdpTotalW: number, load: number): number =>
  tdpTotalW * (0.1 + 0.9 * load ** 3)

/** Teads' (and Boavizta's) ratios of TDP at 0, 10, 50 and 100 % load, linear between. */
export function teadsCurve(tdpTotalW: number, load: number): number {
  const points: readonly (readonly [number, number])[] = [
    [0, 0.12],
    [0.1, 0.32],
    [0.5, 0.75],
    [1, 1.02],
  ]
  for (let i = 1; i < points.length; i++) {
    const [l1, r1] = points[i] as readonly [number, number]
    const [l0, r0] = points[i - 1] as readonly [number, number]
    if (load <= l1) return tdpTotalW * (r0 + ((r1 - r0) * (load - l0)) / (l1 - l0))
  }
  return tdpTotalW * 1.02
}

const tdpTotal = (s: Server): number | null => (s.facts.tdpW === null ? null : s.facts.tdpW * s.facts.sockets)

function contenders(model: PowerModel): Contender[] {
  return [
    {
      name: 'wattprint',
      predict: (s) => stepPowers(model, s.facts, variantFor(s.facts)),
    },
    {
      name: 'wattprint, TDP unknown',
      predict: (s) => {
        const facts = factsFor(s, 'year')
        return facts && stepPowers(model, facts, 'year')
      },
    },
    {
      name: 'wattprint, CPU unknown',
      predict: (s) => {
        const facts = factsFor(s, 'none')
        return facts && stepPowers(model, facts, 'none')
      },
    },
    {
      name: 'CodeCarbon curve',
      predict: (s) => {
        const t = tdpTotal(s)
        return t === null ? null : { watts: LOAD_STEPS.map((l) => codecarbonCurve(t, l)) }
      },
    },
    {
      name: 'Teads/Boavizta ratios',
      predict: (s) => {
        const t = tdpTotal(s)
        return t === null ? null : { watts: LOAD_STEPS.map((l) => teadsCurve(t, l)) }
      },
    },
  ]
}

/** One contender's figures on one split. */
export interface Scores {
  readonly name: string
  /** Per load step: median and 90th percentile of |predicted − measured| / measured, and the count. */
  readonly medianError: number[]
  readonly p90Error: number[]
  readonly points: number[]
  readonly servers: number
  /** Share of (server, load) points inside the 80 % interval; null for a model without one. */
  readonly coverage: number | null
  /** Share of points below the interval and above it. */
  readonly below: number | null
  readonly above: number | null
}

/** Every contender's scores on one split. */
export function scoreSplit(servers: readonly Server[], split: readonly [number, number, number]): Scores[] {
  const [cut, from, to] = split
  const model = fitModel(servers, cut)
  const test = servers.filter((s) => s.hardwareYear >= from && s.hardwareYear <= to)
  return contenders(model).map((c) => {
    const errors: number[][] = LOAD_STEPS.map(() => [])
    let inside = 0
    let below = 0
    let above = 0
    let total = 0
    let tested = 0
    for (const s of test) {
      const p = c.predict(s)
      if (!p) continue
      tested++
      s.watts.forEach((w, step) => {
        if (!(w > 0)) return
        const predicted = p.watts[step] ?? Number.NaN
        errors[step]?.push(Math.abs(predicted - w) / w)
        if (p.lowW && p.highW) {
          total++
          if (w < (p.lowW[step] ?? 0)) below++
          else if (w > (p.highW[step] ?? 0)) above++
          else inside++
        }
      })
    }
    return {
      name: c.name,
      medianError: errors.map((e) => median(e)),
      p90Error: errors.map((e) => quantile(e, 0.9)),
      points: errors.map((e) => e.length),
      servers: tested,
      coverage: total > 0 ? inside / total : null,
      below: total > 0 ? below / total : null,
      above: total > 0 ? above / total : null,
    }
  })
}

/** One CPU's RAPL sweep (CodeCarbon's profiling files) against the model's CPU component. */
export interface RaplCheck {
  readonly cpu: string
  /** Measured load (0–1) of each step, RAPL package watts, and each curve's shape error there. */
  readonly loads: number[]
  readonly raplW: number[]
  /** |shape − measured shape| / measured shape, where shape = watts / watts at full load. */
  readonly modelError: number[]
  readonly cubicError: number[]
}

/**
 * Compares the shape of the model's CPU component (its watts over its watts at full load) with RAPL's
 * package power over the same ratio, at every load step of the all-cores sweeps. The idle rows are left out:
 * they read 0.2–1.4 W, below what any of these packages draws idle (RAPL read over the sweep's first
 * seconds, before the counter had moved), so they measure the harness, not the CPU.
 */
export function raplChecks(
  model: PowerModel,
  profiles: readonly {
    cpu: string
    tdpW: number
    sockets: number
    rows: { load: number; raplW: number; threads: number }[]
  }[],
): RaplCheck[] {
  return profiles.map((p) => {
    const rows = p.rows.filter((r) => r.load >= 0.05)
    const full = p.rows[p.rows.length - 1]
    const threads = full?.threads ?? 1
    const facts = {
      tdpW: p.tdpW,
      sockets: p.sockets,
      threads,
      memoryGB: 32,
      vendor: /amd/i.test(p.cpu) ? ('amd' as const) : ('intel' as const),
      year: null,
    }
    const cpuAt = (l: number) => machinePowerAt(model, facts, l).cpuW
    const modelFull = cpuAt(1)
    const raplFull = full?.raplW ?? Number.NaN
    return {
      cpu: p.cpu,
      loads: rows.map((r) => r.load),
      raplW: rows.map((r) => r.raplW),
      modelError: rows.map(
        (r) => Math.abs(cpuAt(r.load) / modelFull - r.raplW / raplFull) / (r.raplW / raplFull),
      ),
      cubicError: rows.map(
        (r) => Math.abs(codecarbonCurve(1, r.load) - r.raplW / raplFull) / (r.raplW / raplFull),
      ),
    }
  })
}
