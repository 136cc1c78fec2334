import { formatEnergy, formatMass } from '../format.js'
import { JOULES_PER_KWH } from '../units.js'
import { wattprintVersion } from '../version.js'
import type { GroupTotals, RunRow, TimelinePoint } from './report.js'

/** What the HTML report shows. */
export interface HtmlReportInput {
  readonly runs: readonly RunRow[]
  readonly groups: readonly GroupTotals[]
  readonly by: string
  readonly total: GroupTotals
  readonly timelines: readonly { readonly file: string; readonly samples: readonly TimelinePoint[] }[]
  readonly skipped: readonly string[]
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )

// Chart geometry (SVG user units; the SVG scales to its container).
const W = 720
const H = 260
const PAD = { left: 64, right: 16, top: 16, bottom: 36 }
const COMPONENTS = [
  { key: 'cpuKWh', power: 'cpuW', label: 'CPU', color: 'var(--cpu)' },
  { key: 'gpuKWh', power: 'gpuW', label: 'GPU', color: 'var(--gpu)' },
  { key: 'ramKWh', power: 'ramW', label: 'RAM', color: 'var(--ram)' },
] as const

/** A round upper bound for an axis: 1, 2 or 5 × 10ⁿ at or above `max`. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(max))
  return ([1, 2, 5, 10].find((m) => m * power >= max) ?? 10) * power
}

function axes(yMax: number, yLabel: (v: number) => string, xLabels: string): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = PAD.top + (1 - f) * (H - PAD.top - PAD.bottom)
    return (
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" class="grid"/>` +
      `<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" class="tick">${escapeHtml(yLabel(f * yMax))}</text>`
    )
  })
  return ticks.join('') + xLabels
}

/** An energy axis in the unit that suits its largest value: J, Wh or kWh. */
function energyUnit(maxJ: number): { unitJ: number; name: string } {
  if (maxJ >= JOULES_PER_KWH) return { unitJ: JOULES_PER_KWH, name: 'kWh' }
  if (maxJ >= 3600) return { unitJ: 3600, name: 'Wh' }
  return { unitJ: 1, name: 'J' }
}

/** Energy per run, stacked by component, in time order; the emissions of each run above its bar. */
function runsChart(runs: readonly RunRow[]): string {
  const sorted = [...runs].sort((a, b) => a.timestamp.localeCompare(b.timestamp)).slice(-60)
  const unit = energyUnit(Math.max(...sorted.map((r) => r.energyKWh * JOULES_PER_KWH), 0))
  const maxJ =
    niceMax(Math.max(...sorted.map((r) => (r.energyKWh * JOULES_PER_KWH) / unit.unitJ), 0)) * unit.unitJ
  const plotW = W - PAD.left - PAD.right
  const plotH = H - PAD.top - PAD.bottom
  const slot = plotW / Math.max(sorted.length, 1)
  const bars = sorted.map((run, i) => {
    let y = PAD.top + plotH
    const x = PAD.left + i * slot + slot * 0.15
    const parts = COMPONENTS.map((c) => {
      const h = ((run[c.key] * JOULES_PER_KWH) / maxJ) * plotH
      y -= h
      return h > 0
        ? `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${c.color}"><title>${escapeHtml(`${run.runId} ${c.label}: ${formatEnergy(run[c.key])}`)}</title></rect>`
        : ''
    })
    const label = `${escapeHtml(run.timestamp.slice(5, 16).replace('T', ' '))}`
    const xLabel =
      sorted.length <= 12 || i % Math.ceil(sorted.length / 12) === 0
        ? `<text x="${(x + slot * 0.35).toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="middle" class="tick">${label}</text>`
        : ''
    const emissions = `<text x="${(x + slot * 0.35).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" class="value">${escapeHtml(formatMass(run.emissionsKg))}</text>`
    return parts.join('') + xLabel + (sorted.length <= 20 ? emissions : '')
  })
  return svg(
    'Energy per run by component, and its emissions',
    axes(maxJ, (v) => `${Number((v / unit.unitJ).toPrecision(3))} ${unit.name}`, '') + bars.join(''),
  )
}

/** Total energy split by component, as one horizontal stacked bar with its shares. */
function splitChart(total: GroupTotals): string {
  const plotW = W - PAD.left - PAD.right
  let x = PAD.left
  const parts = COMPONENTS.map((c) => {
    const share = total.energyKWh > 0 ? total[c.key] / total.energyKWh : 0
    const w = share * plotW
    const rect = `<rect x="${x.toFixed(1)}" y="8" width="${w.toFixed(1)}" height="48" fill="${c.color}"><title>${c.label}: ${escapeHtml(formatEnergy(total[c.key]))}</title></rect>`
    const label =
      share > 0.06
        ? `<text x="${(x + w / 2).toFixed(1)}" y="76" text-anchor="middle" class="value">${c.label} ${(share * 100).toFixed(0)} % · ${escapeHtml(formatEnergy(total[c.key]))}</text>`
        : ''
    x += w
    return rect + label
  })
  return svg('Energy by component, all runs', parts.join(''), 90)
}

/** Power over time from timeline files: one line per component per file. */
function powerChart(timeline: { file: string; samples: readonly TimelinePoint[] }): string {
  const { samples } = timeline
  const maxS = Math.max(...samples.map((p) => p.elapsedS), 1)
  const maxW = niceMax(Math.max(...samples.flatMap((p) => [p.cpuW, p.gpuW, p.ramW]), 0))
  const plotW = W - PAD.left - PAD.right
  const plotH = H - PAD.top - PAD.bottom
  const lines = COMPONENTS.map((c) => {
    const points = samples
      .map(
        (p) =>
          `${(PAD.left + (p.elapsedS / maxS) * plotW).toFixed(1)},${(PAD.top + plotH - (p[c.power] / maxW) * plotH).toFixed(1)}`,
      )
      .join(' ')
    return samples.some((p) => p[c.power] > 0)
      ? `<polyline points="${points}" fill="none" stroke="${c.color}" stroke-width="2"><title>${c.label}</title></polyline>`
      : ''
  })
  const xLabels = [0, 0.5, 1]
    .map(
      (f) =>
        `<text x="${PAD.left + f * plotW}" y="${H - PAD.bottom + 14}" text-anchor="middle" class="tick">${(f * maxS).toFixed(0)} s</text>`,
    )
    .join('')
  return svg(
    `Power over time: ${timeline.file}`,
    axes(maxW, (v) => `${v.toFixed(0)} W`, xLabels) + lines.join(''),
  )
}

function svg(title: string, body: string, height = H): string {
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${height}" role="img" aria-label="${escapeHtml(title)}">${body}</svg></figure>`
}

function table(groups: readonly GroupTotals[], by: string, total: GroupTotals): string {
  const cells = (g: GroupTotals) =>
    [
      escapeHtml(g.key),
      String(g.runs),
      `${(g.durationS / 3600).toFixed(2)} h`,
      escapeHtml(formatEnergy(g.cpuKWh)),
      escapeHtml(formatEnergy(g.gpuKWh)),
      escapeHtml(formatEnergy(g.ramKWh)),
      escapeHtml(formatEnergy(g.energyKWh)),
      escapeHtml(formatMass(g.emissionsKg)),
      g.intensityGPerKWh.toFixed(0),
    ]
      .map((c) => `<td>${c}</td>`)
      .join('')
  const head = [by, 'runs', 'duration', 'CPU', 'GPU', 'RAM', 'energy', 'emissions', 'g CO2e/kWh']
  return (
    `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>` +
    groups.map((g) => `<tr>${cells(g)}</tr>`).join('') +
    `</tbody><tfoot><tr>${cells({ ...total, key: 'total' })}</tr></tfoot></table>`
  )
}

/** One self-contained HTML file: no script, no external resource; light and dark by the reader's setting. */
export function renderHtmlReport(input: HtmlReportInput): string {
  const { total } = input
  const cards = [
    ['Runs', String(total.runs)],
    ['Energy', formatEnergy(total.energyKWh)],
    ['Emissions', `${formatMass(total.emissionsKg)} CO2e`],
    ['Intensity', `${total.intensityGPerKWh.toFixed(0)} g CO2e/kWh`],
  ]
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wattprint report</title>
<style>
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d2330; --muted: #5b6472; --grid: #e3e6ea; --card: #f4f6f8;
  --cpu: #2f6fde; --gpu: #d9480f; --ram: #2b8a3e; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --fg: #e6e9ee; --muted: #9aa3af; --grid: #2a2f37; --card: #1d2128;
    --cpu: #6ea2ff; --gpu: #ff8a4c; --ram: #5cc878; }
}
body { margin: 0 auto; max-width: 1100px; padding: 24px; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } p.meta { color: var(--muted); margin: 0 0 20px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin-bottom: 20px; }
.card { background: var(--card); border-radius: 8px; padding: 12px 14px; }
.card b { display: block; font-size: 20px; } .card span { color: var(--muted); font-size: 13px; }
figure { margin: 0 0 24px; } figcaption { font-weight: 600; margin-bottom: 6px; }
svg { width: 100%; height: auto; display: block; }
.grid { stroke: var(--grid); } .tick { fill: var(--muted); font-size: 11px; } .value { fill: var(--fg); font-size: 11px; }
.legend span { display: inline-block; margin-right: 16px; color: var(--muted); font-size: 13px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--grid); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; } tfoot td { font-weight: 600; }
.note { color: var(--muted); font-size: 13px; }
</style>
</head>
<body>
<h1>wattprint report</h1>
<p class="meta">${escapeHtml(`${input.runs.length} runs, grouped by ${input.by}; wattprint ${wattprintVersion()}`)}</p>
<div class="cards">${cards.map(([label, value]) => `<div class="card"><span>${escapeHtml(label ?? '')}</span><b>${escapeHtml(value ?? '')}</b></div>`).join('')}</div>
<p class="legend">${COMPONENTS.map((c) => `<span><i style="background:${c.color}"></i>${c.label}</span>`).join('')}</p>
${runsChart(input.runs)}
${splitChart(total)}
${input.timelines
  .filter((t) => t.samples.length > 1)
  .map(powerChart)
  .join('\n')}
${table(input.groups, input.by, total)}
${input.skipped.map((s) => `<p class="note">${escapeHtml(s)}</p>`).join('')}
</body>
</html>
`
}
