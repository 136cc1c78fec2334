import { formatMass, formatWater } from '../../output/quantities.js'
import {
  BOTTOM,
  type Chart,
  escapeHtml,
  fitLabels,
  H,
  niceTicks,
  RIGHT,
  RUN_TIMES,
  runsShown,
  svg,
  TOP,
  timeLabels,
  yAxis,
} from './charts.js'
import type { FootprintCells, RunRow } from './model.js'

const optional = (value: string | undefined): number | null =>
  value === undefined || value.trim() === '' ? null : Number(value)

/** The footprint cells of a CSV row (empty in CodeCarbon's files and in older wattprint ones). */
export function footprintCells(record: Readonly<Record<string, string | undefined>>): FootprintCells {
  return { embodiedKg: optional(record.embodied_emissions), waterL: optional(record.water_consumed) }
}

/** Sum of the known figures, null when none is known (never a zero for "unknown"). */
export function sumKnown(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null)
  return known.length > 0 ? known.reduce((a, b) => a + b, 0) : null
}

/** A mass cell of the table: the figure, or `–` when no run of the group has one. */
export const massCell = (kg: number | null): string => (kg === null ? '–' : formatMass(kg))
/** A water cell of the table. */
export const waterCell = (litres: number | null): string => (litres === null ? '–' : formatWater(litres))

const COLORS = { operational: 'var(--cpu)', embodied: 'var(--embodied)' }

/** A mass axis in the unit that suits its largest value: mg, g or kg. */
function massUnit(maxKg: number): { kg: number; name: string } {
  if (maxKg >= 1) return { kg: 1, name: 'kg' }
  if (maxKg >= 1e-3) return { kg: 1e-3, name: 'g' }
  return { kg: 1e-6, name: 'mg' }
}

/** Emissions per run, operational (electricity) and embodied (the hardware's share) stacked, in time order. */
export function carbonChart(runs: readonly RunRow[], width: number): Chart {
  const { shown, which } = runsShown(runs, width)
  const totalKg = (r: RunRow) => r.emissionsKg + (r.embodiedKg ?? 0)
  const unit = massUnit(Math.max(...shown.map(totalKg), 0))
  const ticks = niceTicks(Math.max(...shown.map((r) => totalKg(r) / unit.kg), 0))
  const axis = yAxis(width, ticks, `${unit.name}`)
  const maxKg = (ticks.at(-1) ?? 1) * unit.kg
  const plotW = width - axis.left - RIGHT
  const plotH = H - TOP - BOTTOM
  const slot = plotW / Math.max(shown.length, 1)
  const barW = Math.min(Math.max(slot * 0.7, 1), 48)
  const labels = timeLabels(shown.map((r) => r.timestamp))
  const bars = shown.map((run, i) => {
    const x = axis.left + i * slot + (slot - barW) / 2
    const embodied = run.embodiedKg === null ? 'embodied unknown' : `embodied ${formatMass(run.embodiedKg)}`
    const tip = `${run.runId} ${run.timestamp}: operational ${formatMass(run.emissionsKg)}, ${embodied} CO2e`
    let y = TOP + plotH
    const parts: [string, number, string][] = [
      ['operational', run.emissionsKg, COLORS.operational],
      ['embodied', run.embodiedKg ?? 0, COLORS.embodied],
    ]
    return parts
      .map(([name, kg, color]) => {
        const h = (kg / maxKg) * plotH
        y -= h
        return h > 0
          ? `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${color}" data-part="${name}"><title>${escapeHtml(tip)}</title></rect>`
          : ''
      })
      .join('')
  })
  const xLabels = fitLabels(
    shown.map((_, i) => ({ x: axis.left + (i + 0.5) * slot, text: labels[i] ?? '' })),
    width,
  )
  const unknown = shown.filter((r) => r.embodiedKg === null).length
  const caption =
    `Emissions of ${which}: operational and embodied` +
    (unknown > 0 ? `, embodied unknown for ${unknown} of ${shown.length}` : '') +
    ` (${RUN_TIMES})`
  return { caption, svg: svg(width, caption, axis.svg + bars.join('') + xLabels) }
}

/** The legend of the carbon chart. */
export const CARBON_LEGEND = `<p class="legend"><span><i style="background:${COLORS.operational}"></i>operational (electricity)</span><span><i style="background:${COLORS.embodied}"></i>embodied (hardware)</span></p>`
