import { printable } from '../../core/text.js'
import { JOULES_PER_KWH } from '../../core/units.js'
import { formatEnergy, formatMass } from '../../output/quantities.js'
import { energyRange, energyWithRange, massWithRange, wallSourceText } from './intervals.js'
import type { RunRow, TimelinePoint } from './model.js'

/**
 * Text made safe for HTML and SVG content and attributes: markup escaped, and the characters a browser
 * would act on rather than show (a bidi override that shows a name reversed, zero-width and other
 * invisible characters, control characters) written out by printable(), as the terminal shows them.
 */
export const escapeHtml = (text: string): string =>
  printable(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )

/**
 * The widths a chart is drawn at, in SVG units, each shown (by CSS) in the window sizes where it lands
 * at about one unit per pixel: text stays readable and label spacing holds on a phone and a wide screen.
 * `below` is the window width (px) under which a narrower layout takes over.
 */
export const LAYOUTS = [
  { width: 400, below: 560 },
  { width: 720, below: 900 },
  { width: 1050, below: Number.POSITIVE_INFINITY },
] as const

/** A chart's height and margins, SVG units. */
export const H = 260
export const TOP = 14
export const BOTTOM = 34
export const RIGHT = 12
/** Font size of tick labels, and a generous average glyph width for system-ui at that size. */
export const TICK_PX = 12
const CHAR_W = 0.62 * TICK_PX
const LABEL_GAP = 10

export const COMPONENTS = [
  { key: 'cpuKWh', power: 'cpuW', label: 'CPU', color: 'var(--cpu)' },
  { key: 'gpuKWh', power: 'gpuW', label: 'GPU', color: 'var(--gpu)' },
  { key: 'ramKWh', power: 'ramW', label: 'RAM', color: 'var(--ram)' },
] as const

/** Round axis ticks: 0 and multiples of 1, 2 or 5 × 10ⁿ, about `count` steps, the last at or above `max`. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1]
  const raw = max / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw * (1 - 1e-9)) ?? 10) * power
  const steps = Math.max(1, Math.ceil(max / step - 1e-9))
  return Array.from({ length: steps + 1 }, (_, i) => Number((i * step).toPrecision(12)))
}

/** Ticks written with as many decimals as their step needs, and the unit. */
function tickText(ticks: readonly number[], unit: string): string[] {
  const step = (ticks[1] ?? 1) - (ticks[0] ?? 0)
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9))
  return ticks.map((t) => `${t.toFixed(decimals)}${unit ? ` ${unit}` : ''}`)
}

const textWidth = (text: string) => text.length * CHAR_W

/**
 * The x labels that fit: from the last one (always kept) backwards, each kept when it clears the one
 * after it; each is moved inside [0, width] so that the first and last are not cut off.
 */
export function fitLabels(labels: readonly { x: number; text: string }[], width: number): string {
  const kept: string[] = []
  let leftEdge = Number.POSITIVE_INFINITY
  for (const label of [...labels].reverse()) {
    const half = textWidth(label.text) / 2
    const x = Math.min(Math.max(label.x, half + 1), width - half - 1)
    if (x + half + LABEL_GAP > leftEdge) continue
    leftEdge = x - half
    kept.push(
      `<text x="${x.toFixed(1)}" y="${H - BOTTOM + 16}" text-anchor="middle" class="tick">${escapeHtml(label.text)}</text>`,
    )
  }
  return kept.reverse().join('')
}

/** The y axis: grid lines at nice ticks, their labels; the plot's left edge leaves room for the longest. */
export function yAxis(width: number, ticks: readonly number[], unit: string): { left: number; svg: string } {
  const texts = tickText(ticks, unit)
  const left = Math.ceil(Math.max(...texts.map(textWidth)) + 14)
  const top = ticks.at(-1) ?? 1
  const svg = ticks
    .map((t, i) => {
      const y = TOP + (1 - t / top) * (H - TOP - BOTTOM)
      return (
        `<line x1="${left}" x2="${width - RIGHT}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/>` +
        `<text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" class="tick y">${escapeHtml(texts[i] ?? '')}</text>`
      )
    })
    .join('')
  return { left, svg }
}

/** An energy axis in the unit that suits its largest value: J, Wh or kWh. */
function energyUnit(maxJ: number): { unitJ: number; name: string } {
  if (maxJ >= JOULES_PER_KWH) return { unitJ: JOULES_PER_KWH, name: 'kWh' }
  if (maxJ >= 3600) return { unitJ: 3600, name: 'Wh' }
  return { unitJ: 1, name: 'J' }
}

/** A chart: its caption, and the SVG. */
export interface Chart {
  readonly caption: string
  readonly svg: string
}

export const svg = (width: number, label: string, body: string): string =>
  `<svg viewBox="0 0 ${width} ${H}" role="img" aria-label="${escapeHtml(label)}">${body}</svg>`

/**
 * `MM-DD HH:MM`, or only `HH:MM` when every run is of one day (`HH:MM:SS` when runs share a minute, so
 * that no two bars read alike), or only the date across years.
 */
export function timeLabels(timestamps: readonly string[]): string[] {
  const sameDay = new Set(timestamps.map((t) => t.slice(0, 10))).size <= 1
  const sameYear = new Set(timestamps.map((t) => t.slice(0, 4))).size <= 1
  const minutes = timestamps.map((t) => t.slice(11, 16))
  const sharedMinute = new Set(minutes).size < minutes.length
  return timestamps.map((t) =>
    sameDay
      ? t.slice(11, sharedMinute ? 19 : 16)
      : sameYear
        ? t.slice(5, 16).replace('T', ' ')
        : t.slice(0, 10),
  )
}

/**
 * The runs a per-run chart of this width shows, in time order: the latest that fit, the same for every
 * per-run chart so that they can be read together, and the words that say which (for the caption).
 */
export function runsShown(runs: readonly RunRow[], width: number): { shown: RunRow[]; which: string } {
  const all = [...runs].sort((a, b) => a.timestamp.localeCompare(b.timestamp))
  const shown = all.slice(-Math.floor((width - 80 - RIGHT) / 6))
  const which =
    shown.length < all.length
      ? `the latest ${shown.length} of ${all.length} runs`
      : all.length === 1
        ? 'the run'
        : 'each run'
  return { shown, which }
}

/** What the per-run charts' time labels are: the rows' timestamps, which are UTC. */
export const RUN_TIMES = 'times in UTC'

/**
 * A run's tooltip: its energy and emissions with their 80 % intervals, and the whole machine at the wall
 * with what that figure is made of (its source cut to a tooltip's length), where the row has them.
 */
function runTip(run: RunRow): string {
  const wall =
    run.wallKWh === null || run.wallEmissionsKg === null
      ? ''
      : `; the whole machine at the wall ${energyWithRange(run.wallKWh, run.wallIntervalKWh)}, ` +
        `${massWithRange(run.wallEmissionsKg, run.wallEmissionsIntervalKg)} CO2e` +
        (run.wallSource ? ` (${wallSourceText(run.wallSource)})` : '')
  const ranged =
    run.energyIntervalKWh ?? run.emissionsIntervalKg ?? run.wallIntervalKWh ?? run.wallEmissionsIntervalKg
  return (
    `${run.runId} ${run.timestamp}: ${energyWithRange(run.energyKWh, run.energyIntervalKWh)}, ` +
    `${massWithRange(run.emissionsKg, run.emissionsIntervalKg)} CO2e${wall}` +
    (ranged ? '; (low–high): the 80 % interval' : '')
  )
}

/**
 * A run's error bar: a vertical line from the low to the high of its energy's 80 % interval, with a
 * whisker across each end, over the bar's centre `cx`; `y` maps kWh to the chart's y. Empty without an
 * interval. Its title says the interval.
 */
function errorBar(run: RunRow, cx: number, halfWidth: number, y: (kWh: number) => number): string {
  const interval = run.energyIntervalKWh
  if (interval === null) return ''
  const [top, bottom] = [y(interval.high), y(interval.low)]
  const [left, right] = [(cx - halfWidth).toFixed(1), (cx + halfWidth).toFixed(1)]
  const x = cx.toFixed(1)
  const tip = `${run.runId} ${run.timestamp}: ${formatEnergy(run.energyKWh)}, 80 % interval ${energyRange(run.energyKWh, interval)}`
  return (
    `<g class="error-bar" stroke="var(--fg)" stroke-width="1.5" stroke-linecap="butt"><title>${escapeHtml(tip)}</title>` +
    `<line x1="${x}" x2="${x}" y1="${top.toFixed(1)}" y2="${bottom.toFixed(1)}"/>` +
    `<line x1="${left}" x2="${right}" y1="${top.toFixed(1)}" y2="${top.toFixed(1)}"/>` +
    `<line x1="${left}" x2="${right}" y1="${bottom.toFixed(1)}" y2="${bottom.toFixed(1)}"/></g>`
  )
}

/**
 * Energy per run, stacked by component, in time order (the latest that fit), with an error bar for its
 * 80 % interval where the row has one; emissions above when they fit.
 */
export function runsChart(runs: readonly RunRow[], width: number): Chart {
  const { shown, which } = runsShown(runs, width)
  // The axis reaches the highest interval too, so that no error bar is cut off.
  const topKWh = (r: RunRow) => Math.max(r.energyKWh, r.energyIntervalKWh?.high ?? 0)
  const unit = energyUnit(Math.max(...shown.map((r) => topKWh(r) * JOULES_PER_KWH), 0))
  const ticks = niceTicks(Math.max(...shown.map((r) => (topKWh(r) * JOULES_PER_KWH) / unit.unitJ), 0))
  const axis = yAxis(width, ticks, unit.name)
  const maxJ = (ticks.at(-1) ?? 1) * unit.unitJ
  const plotW = width - axis.left - RIGHT
  const plotH = H - TOP - BOTTOM
  const yOf = (kWh: number) => TOP + plotH - ((kWh * JOULES_PER_KWH) / maxJ) * plotH
  const slot = plotW / Math.max(shown.length, 1)
  // A few runs make wide slots: bars keep a bar's width, centred in them.
  const barW = Math.min(Math.max(slot * 0.7, 1), 48)
  const masses = shown.map((r) => formatMass(r.emissionsKg))
  // Emissions are written above the bars only when every one fits its bar's slot.
  const withEmissions = shown.length > 0 && Math.max(...masses.map(textWidth)) * (11 / TICK_PX) <= slot - 4
  const labels = timeLabels(shown.map((r) => r.timestamp))
  const bars = shown.map((run, i) => {
    let y = TOP + plotH
    const x = axis.left + i * slot + (slot - barW) / 2
    const tip = runTip(run)
    const parts = COMPONENTS.map((c) => {
      const h = ((run[c.key] * JOULES_PER_KWH) / maxJ) * plotH
      y -= h
      return h > 0
        ? `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${c.color}"><title>${escapeHtml(`${tip}; ${c.label} ${formatEnergy(run[c.key])}`)}</title></rect>`
        : ''
    })
    const bar = errorBar(run, x + barW / 2, Math.max(1.5, Math.min(barW * 0.3, 8)), yOf)
    // Above the bar and its error bar, whichever is higher.
    const above = Math.min(y, run.energyIntervalKWh ? yOf(run.energyIntervalKWh.high) : y)
    const emissions = withEmissions
      ? `<text x="${(x + barW / 2).toFixed(1)}" y="${(above - 4).toFixed(1)}" text-anchor="middle" class="value">${escapeHtml(masses[i] ?? '')}</text>`
      : ''
    return parts.join('') + bar + emissions
  })
  const xLabels = fitLabels(
    shown.map((_, i) => ({ x: axis.left + (i + 0.5) * slot, text: labels[i] ?? '' })),
    width,
  )
  const ranged = shown.some((r) => r.energyIntervalKWh !== null)
  const caption =
    `Energy of ${which}, by component` +
    (ranged ? ', with its 80 % interval as an error bar' : '') +
    (withEmissions ? `${ranged ? ' and' : ', with'} its emissions above` : '') +
    ` (${RUN_TIMES})`
  return { caption, svg: svg(width, caption, axis.svg + bars.join('') + xLabels) }
}

/** A time axis's unit, by the length of the run: seconds, minutes or hours. */
function timeUnit(maxS: number): { s: number; name: string } {
  if (maxS >= 3 * 3600) return { s: 3600, name: 'h' }
  if (maxS >= 180) return { s: 60, name: 'min' }
  return { s: 1, name: 's' }
}

/** A timeline's samples cut into runs: a new run starts where the elapsed time goes back. */
function splitRuns(samples: readonly TimelinePoint[]): TimelinePoint[][] {
  const runs: TimelinePoint[][] = []
  let last = Number.POSITIVE_INFINITY
  for (const p of samples) {
    if (p.elapsedS < last || runs.length === 0) runs.push([])
    runs.at(-1)?.push(p)
    last = p.elapsedS
  }
  return runs
}

/** Power over time from a timeline file: one line per component (and per run, when it holds several). */
export function powerChart(
  timeline: { file: string; samples: readonly TimelinePoint[] },
  width: number,
): Chart {
  const { samples } = timeline
  const maxS = Math.max(...samples.map((p) => p.elapsedS), 1)
  const ticks = niceTicks(Math.max(...samples.flatMap((p) => [p.cpuW, p.gpuW, p.ramW]), 0))
  const axis = yAxis(width, ticks, 'W')
  const maxW = ticks.at(-1) ?? 1
  const plotW = width - axis.left - RIGHT
  const plotH = H - TOP - BOTTOM
  // A timeline file that several runs appended to holds one run after another, each from 0 s: each is a
  // line of its own, overlaid from its start, the latest drawn solid and the earlier ones faint.
  const runs = splitRuns(samples)
  const lines = runs.flatMap((run, r) =>
    COMPONENTS.map((c) => {
      const points = run
        .map(
          (p) =>
            `${(axis.left + (p.elapsedS / maxS) * plotW).toFixed(1)},${(TOP + plotH - (p[c.power] / maxW) * plotH).toFixed(1)}`,
        )
        .join(' ')
      const faint = r < runs.length - 1 ? ' stroke-opacity="0.3"' : ''
      return run.some((p) => p[c.power] > 0)
        ? `<polyline points="${points}" fill="none" stroke="${c.color}" stroke-width="2"${faint}><title>${c.label}${runs.length > 1 ? `, run ${r + 1} of ${runs.length}` : ''}</title></polyline>`
        : ''
    }),
  )
  const unit = timeUnit(maxS)
  const times = niceTicks(maxS / unit.s, Math.max(2, Math.floor(plotW / 60))).filter(
    (t) => t <= maxS / unit.s,
  )
  const texts = tickText(times, unit.name)
  const xLabels = fitLabels(
    times.map((t, i) => ({ x: axis.left + ((t * unit.s) / maxS) * plotW, text: texts[i] ?? '' })),
    width,
  )
  const caption =
    runs.length > 1
      ? `Power over time: ${timeline.file}, ${runs.length} runs from their start (the latest solid)`
      : `Power over time: ${timeline.file}`
  return { caption, svg: svg(width, caption, axis.svg + lines.join('') + xLabels) }
}

/** A chart drawn at every layout width, each shown in the window sizes it suits. */
export function responsive(draw: (width: number) => Chart): string {
  return LAYOUTS.map((layout, i) => {
    const chart = draw(layout.width)
    return `<figure class="layout-${i}"><figcaption>${escapeHtml(chart.caption)}</figcaption>${chart.svg}</figure>`
  }).join('\n')
}

/** The CSS that shows one layout per window width: the widest by default, narrower ones below theirs. */
export const LAYOUT_CSS = [
  `${LAYOUTS.slice(0, -1)
    .map((_, i) => `.layout-${i}`)
    .join(', ')} { display: none; }`,
  // Wider breakpoints first: a narrower one, later in the sheet, wins where both apply.
  ...LAYOUTS.slice(0, -1)
    .map(
      (layout, i) =>
        `@media (max-width: ${layout.below - 0.02}px) { .layout-${i + 1} { display: none; } .layout-${i} { display: block; } }`,
    )
    .reverse(),
].join('\n')
