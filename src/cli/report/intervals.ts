import { fitColumns, printable } from '../../core/text.js'
import { JOULES_PER_KWH } from '../../core/units.js'
import { formatEnergy, formatMass } from '../../output/quantities.js'

/** An 80 % interval: the figure lies between low and high with 80 % confidence. */
export interface Interval {
  readonly low: number
  readonly high: number
}

/**
 * The interval and wall cells of a CSV row (wattprint's newer columns): empty in CodeCarbon's files and in
 * wattprint's older ones, so each is null where the row has no figure, never a zero.
 */
export interface IntervalCells {
  /** The 80 % interval on energy_consumed (CPU + GPU + RAM), kWh, and on emissions, kg CO2e. */
  readonly energyIntervalKWh: Interval | null
  readonly emissionsIntervalKg: Interval | null
  /** The whole machine at the wall, kWh and kg CO2e: null unless the row has both figures. */
  readonly wallKWh: number | null
  readonly wallIntervalKWh: Interval | null
  readonly wallEmissionsKg: number | null
  readonly wallEmissionsIntervalKg: Interval | null
  /** What the wall figure is made of (`cpu-model+ram-model+rest-model`), as the row says; text as given. */
  readonly wallSource: string
}

const optional = (value: string | undefined): number | null =>
  value === undefined || value.trim() === '' ? null : Number(value)

/** An interval when the row has both of its cells (NaN kept, for the malformed check); null otherwise. */
function intervalOf(low: string | undefined, high: string | undefined): Interval | null {
  const [l, h] = [optional(low), optional(high)]
  return l === null || h === null ? null : { low: l, high: h }
}

/** The interval and wall cells of a CSV row as they are written (see checkIntervals). */
export function intervalCells(record: Readonly<Record<string, string | undefined>>): IntervalCells {
  const wallKWh = optional(record.wall_energy)
  const wallEmissionsKg = optional(record.wall_emissions)
  // The wall is known when both of its figures are: one without the other is not a wall figure to sum.
  const wall = wallKWh !== null && wallEmissionsKg !== null
  return {
    energyIntervalKWh: intervalOf(record.energy_low, record.energy_high),
    emissionsIntervalKg: intervalOf(record.emissions_low, record.emissions_high),
    wallKWh: wall ? wallKWh : null,
    wallIntervalKWh: wall ? intervalOf(record.wall_energy_low, record.wall_energy_high) : null,
    wallEmissionsKg: wall ? wallEmissionsKg : null,
    wallEmissionsIntervalKg: wall ? intervalOf(record.wall_emissions_low, record.wall_emissions_high) : null,
    wallSource: wall ? (record.wall_source ?? '') : '',
  }
}

/** Every figure of the cells, for the reader's check that each is a finite, non-negative number. */
export function intervalFigures(cells: IntervalCells): number[] {
  const pair = (i: Interval | null) => (i ? [i.low, i.high] : [])
  return [
    ...pair(cells.energyIntervalKWh),
    ...pair(cells.emissionsIntervalKg),
    cells.wallKWh ?? 0,
    ...pair(cells.wallIntervalKWh),
    cells.wallEmissionsKg ?? 0,
    ...pair(cells.wallEmissionsIntervalKg),
  ]
}

/** Whether an interval holds its figure, allowing for the rounding of the products it was made by. */
const holds = (interval: Interval, value: number): boolean => {
  const slack = 1e-9 * Math.max(Math.abs(value), Math.abs(interval.high)) + 1e-15
  return interval.low <= value + slack && value <= interval.high + slack
}

/**
 * The cells with every interval that does not hold its figure (low above it, or high below) left out:
 * such an interval says nothing that can be summed, and is never shown or guessed at. `dropped` counts
 * the intervals left out, for the report to say so.
 */
export function checkIntervals(
  cells: IntervalCells,
  energyKWh: number,
  emissionsKg: number,
): { cells: IntervalCells; dropped: number } {
  let dropped = 0
  const check = (interval: Interval | null, value: number | null): Interval | null => {
    if (interval === null || value === null || holds(interval, value)) return interval
    dropped += 1
    return null
  }
  const checked: IntervalCells = {
    ...cells,
    energyIntervalKWh: check(cells.energyIntervalKWh, energyKWh),
    emissionsIntervalKg: check(cells.emissionsIntervalKg, emissionsKg),
    wallIntervalKWh: check(cells.wallIntervalKWh, cells.wallKWh),
    wallEmissionsIntervalKg: check(cells.wallEmissionsIntervalKg, cells.wallEmissionsKg),
  }
  return { cells: checked, dropped }
}

/** The interval and wall totals of a group of runs. */
export interface IntervalTotals {
  /** The 80 % interval on the group's energyKWh and emissionsKg: null unless every run has one. */
  readonly energyIntervalKWh: Interval | null
  readonly emissionsIntervalKg: Interval | null
  /** The wall figures of the runs that have them (wallRuns of the group's runs), summed; null when none has. */
  readonly wallKWh: number | null
  /** Their interval: null unless every run with a wall figure has one. */
  readonly wallIntervalKWh: Interval | null
  readonly wallEmissionsKg: number | null
  readonly wallEmissionsIntervalKg: Interval | null
  /** How many of the group's runs have a wall figure (CodeCarbon's files and older wattprint ones have none). */
  readonly wallRuns: number
}

/**
 * The interval of a sum: the sum of the lows to the sum of the highs. This takes the runs' errors as
 * moving together (one power model, one machine, one allowance, wrong the same way in every run), which
 * gives the widest interval the parts allow: the honest side, since nothing says they cancel. Null when
 * a part has no interval: a sum with an unknown part has no known interval (never one that counts the
 * unknown as exact).
 */
export function sumIntervals(intervals: readonly (Interval | null)[]): Interval | null {
  let low = 0
  let high = 0
  for (const interval of intervals) {
    if (interval === null) return null
    low += interval.low
    high += interval.high
  }
  return { low, high }
}

/** The interval and wall totals of runs. */
export function intervalTotals(runs: readonly IntervalCells[]): IntervalTotals {
  const walled = runs.filter((r) => r.wallKWh !== null && r.wallEmissionsKg !== null)
  const known = walled.length > 0
  return {
    energyIntervalKWh: runs.length > 0 ? sumIntervals(runs.map((r) => r.energyIntervalKWh)) : null,
    emissionsIntervalKg: runs.length > 0 ? sumIntervals(runs.map((r) => r.emissionsIntervalKg)) : null,
    wallKWh: known ? walled.reduce((s, r) => s + (r.wallKWh ?? 0), 0) : null,
    wallIntervalKWh: known ? sumIntervals(walled.map((r) => r.wallIntervalKWh)) : null,
    wallEmissionsKg: known ? walled.reduce((s, r) => s + (r.wallEmissionsKg ?? 0), 0) : null,
    wallEmissionsIntervalKg: known ? sumIntervals(walled.map((r) => r.wallEmissionsIntervalKg)) : null,
    wallRuns: walled.length,
  }
}

/** The units formatEnergy() and formatMass() write, as multiples of kWh and kg. */
const ENERGY_UNITS: Readonly<Record<string, number>> = { J: 1 / JOULES_PER_KWH, Wh: 1e-3, kWh: 1 }
const MASS_UNITS: Readonly<Record<string, number>> = { mg: 1e-6, g: 1e-3, kg: 1 }

/**
 * `(0.90–1.60)`: an interval in the unit of its figure as `format` wrote it (so that a low below the
 * unit's threshold is not written in another unit), with three significant figures at most (an 80 %
 * interval is no more precise than that: `(720–1260)` mg), and never more decimals than the figure has.
 * Empty without an interval.
 */
function rangeOf(
  value: number,
  interval: Interval | null,
  format: (v: number) => string,
  units: Readonly<Record<string, number>>,
): string {
  if (interval === null) return ''
  const match = /^-?\d+(?:\.(\d+))? (\S+)$/.exec(format(value))
  const scale = units[match?.[2] ?? '']
  // (Every figure formatEnergy and formatMass write has a unit above: this is for their changing.)
  if (scale === undefined) return `(${format(interval.low)}–${format(interval.high)})`
  const [low, high] = [interval.low / scale, interval.high / scale]
  const largest = Math.max(Math.abs(low), Math.abs(high))
  const figureDigits = match?.[1]?.length ?? 0
  const digits =
    largest > 0 ? Math.min(figureDigits, Math.max(0, 2 - Math.floor(Math.log10(largest)))) : figureDigits
  return `(${low.toFixed(digits)}–${high.toFixed(digits)})`
}

/** An energy's interval in the energy's unit: `(0.90–1.60)`; empty without one. */
export const energyRange = (kWh: number, interval: Interval | null): string =>
  rangeOf(kWh, interval, formatEnergy, ENERGY_UNITS)

/** A mass's interval in the mass's unit: `(0.30–0.55)`; empty without one. */
export const massRange = (kg: number, interval: Interval | null): string =>
  rangeOf(kg, interval, formatMass, MASS_UNITS)

/** `1.20 Wh (0.90–1.60)`, or `1.20 Wh` without an interval. */
export const energyWithRange = (kWh: number, interval: Interval | null): string =>
  [formatEnergy(kWh), energyRange(kWh, interval)].filter(Boolean).join(' ')

/** `0.41 g (0.31–0.55)`, or `0.41 g` without an interval. */
export const massWithRange = (kg: number, interval: Interval | null): string =>
  [formatMass(kg), massRange(kg, interval)].filter(Boolean).join(' ')

/** The mark of a wall figure that sums only some of its group's runs, explained under the table. */
export const PARTIAL = '*'

/** Whether a group's wall figure sums only some of its runs. */
export const partialWall = (g: IntervalTotals & { readonly runs: number }): boolean =>
  g.wallRuns > 0 && g.wallRuns < g.runs

/**
 * A group's wall figure and its interval (`31.20 Wh`, `(28.10–35.00)`), the figure marked when it sums
 * only some of the group's runs; null when no run has one.
 */
export function wallParts(
  g: IntervalTotals & { readonly runs: number },
  figure: 'energy' | 'emissions',
): { readonly text: string; readonly range: string; readonly partial: boolean } | null {
  if (g.wallKWh === null || g.wallEmissionsKg === null) return null
  return figure === 'energy'
    ? {
        text: formatEnergy(g.wallKWh),
        range: energyRange(g.wallKWh, g.wallIntervalKWh),
        partial: partialWall(g),
      }
    : {
        text: formatMass(g.wallEmissionsKg),
        range: massRange(g.wallEmissionsKg, g.wallEmissionsIntervalKg),
        partial: partialWall(g),
      }
}

/** A wall cell of the terminal table: `–` when no run has the figure, marked when only some do. */
export function wallCell(
  g: IntervalTotals & { readonly runs: number },
  figure: 'energy' | 'emissions',
): string {
  const parts = wallParts(g, figure)
  if (parts === null) return '–'
  return [parts.text, parts.range].filter(Boolean).join(' ') + (parts.partial ? PARTIAL : '')
}

/** The most groups named in the line that says which groups' wall figures are partial. */
const NAMED_GROUPS = 6

/**
 * The lines under a table that say what its figures are: what energy and wall hold, what the
 * parenthesised figures are (when some are shown), and which groups' wall figures sum only some of
 * their runs. Group keys are cut to 40 columns, written out by printable() as the table's cells are.
 */
export function intervalNotes(
  groups: readonly (IntervalTotals & { readonly key: string; readonly runs: number })[],
  total: IntervalTotals & { readonly runs: number },
): string[] {
  const notes: string[] = []
  const ranged = [...groups, total].some(
    (g) =>
      g.energyIntervalKWh !== null ||
      g.emissionsIntervalKg !== null ||
      g.wallIntervalKWh !== null ||
      g.wallEmissionsIntervalKg !== null,
  )
  if (total.wallRuns > 0 || ranged) {
    notes.push(
      "energy and emissions: CPU, GPU and RAM (CodeCarbon's scope)",
      'wall: the whole machine at the wall (its power meter, or the components and the modelled rest: board, ' +
        'fans, drives, power supply)',
    )
  }
  if (ranged) {
    notes.push(
      '(low–high): the 80 % interval, where every run of the group has one; a sum runs from the sum of the ' +
        'lows to the sum of the highs',
    )
  }
  const partial = [...groups.filter(partialWall), ...(partialWall(total) ? [{ ...total, key: 'total' }] : [])]
  if (partial.length > 0) {
    const named = partial
      .slice(0, NAMED_GROUPS)
      .map((g) => `${fitColumns(printable(g.key), 40)} ${g.wallRuns} of ${g.runs} runs`)
    const more = partial.length > NAMED_GROUPS ? `, and ${partial.length - NAMED_GROUPS} more groups` : ''
    notes.push(
      `${PARTIAL} the wall of only the runs that have it, summed: ${named.join(', ')}${more} ` +
        "(CodeCarbon's files and wattprint's older ones have no wall figure)",
    )
  }
  return notes
}

/** A wall source for a tooltip: written out by printable() and cut to a tooltip's length. */
export const wallSourceText = (source: string): string => fitColumns(printable(source), 80)
