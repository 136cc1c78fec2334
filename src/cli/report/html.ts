import { wattprintVersion } from '../../core/version.js'
import { formatDuration, formatEnergy, formatMass, joulesCell } from '../../output/quantities.js'
import { COMPONENTS, escapeHtml, LAYOUT_CSS, powerChart, responsive, runsChart, TICK_PX } from './charts.js'
import { CARBON_LEGEND, carbonChart, massCell, waterCell } from './footprint.js'
import { energyRange, intervalNotes, massRange, PARTIAL, wallParts } from './intervals.js'
import { type GroupTotals, groupHeading, type RunRow, type TimelinePoint } from './model.js'

/** What the HTML report shows. */
export interface HtmlReportInput {
  readonly runs: readonly RunRow[]
  readonly groups: readonly GroupTotals[]
  readonly by: string
  readonly total: GroupTotals
  readonly timelines: readonly { readonly file: string; readonly samples: readonly TimelinePoint[] }[]
  readonly skipped: readonly string[]
}

/** Total energy split by component: one stacked bar (HTML, so it fits any width) and its shares in words. */
function split(total: GroupTotals): string {
  const shares = COMPONENTS.map((c) => ({
    ...c,
    share: total.energyKWh > 0 ? total[c.key] / total.energyKWh : 0,
    text: `${c.label} ${formatEnergy(total[c.key])}`,
  }))
  const bar = shares
    .filter((c) => c.share > 0)
    .map(
      (c) =>
        `<span style="flex-grow: ${c.share.toFixed(6)}; background: ${c.color}" title="${escapeHtml(c.text)}"></span>`,
    )
    .join('')
  const words = shares
    .map(
      (c) =>
        `<span><i style="background:${c.color}"></i>${escapeHtml(`${c.text} (${(c.share * 100).toFixed(0)} %)`)}</span>`,
    )
    .join('')
  return `<figure><figcaption>Energy by component, all runs</figcaption><div class="split">${bar}</div><p class="legend">${words}</p></figure>`
}

/** A figure with its interval on a line of its own beneath it (the column stays narrow), both escaped. */
const withRange = (figure: string, range: string): string =>
  escapeHtml(figure) + (range ? `<span class="range">${escapeHtml(range)}</span>` : '')

/** A wall cell: `–` when no run of the group has the figure, marked when only some do. */
function wallHtml(g: GroupTotals, figure: 'energy' | 'emissions'): string {
  const parts = wallParts(g, figure)
  if (parts === null) return '–'
  return withRange(`${parts.text}${parts.partial ? PARTIAL : ''}`, parts.range)
}

function table(groups: readonly GroupTotals[], by: string, total: GroupTotals): string {
  // Request columns only where some run measured requests, as in the terminal table.
  const served = total.requests > 0
  const cells = (g: GroupTotals) =>
    [
      escapeHtml(g.key),
      String(g.runs),
      escapeHtml(formatDuration(g.durationS)),
      escapeHtml(formatEnergy(g.cpuKWh)),
      escapeHtml(formatEnergy(g.gpuKWh)),
      escapeHtml(formatEnergy(g.ramKWh)),
      withRange(formatEnergy(g.energyKWh), energyRange(g.energyKWh, g.energyIntervalKWh)),
      withRange(formatMass(g.emissionsKg), massRange(g.emissionsKg, g.emissionsIntervalKg)),
      g.intensityGPerKWh.toFixed(0),
      wallHtml(g, 'energy'),
      wallHtml(g, 'emissions'),
      escapeHtml(massCell(g.embodiedKg)),
      escapeHtml(waterCell(g.waterL)),
      ...(served
        ? [String(g.requests), joulesCell(g.energyPerRequestJ), joulesCell(g.energyPerOutputTokenJ)]
        : []),
    ]
      .map((c) => `<td>${c}</td>`)
      .join('')
  const head = [
    groupHeading(by),
    'runs',
    'duration',
    'CPU',
    'GPU',
    'RAM',
    'energy',
    'emissions',
    'g CO2e/kWh',
    'wall energy',
    'wall emissions',
    'embodied',
    'water',
    ...(served ? ['requests', 'J/request', 'J/output token'] : []),
  ]
  return (
    `<div class="table"><table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>` +
    groups.map((g) => `<tr>${cells(g)}</tr>`).join('') +
    `</tbody><tfoot><tr>${cells({ ...total, key: 'total' })}</tr></tfoot></table></div>` +
    intervalNotes(groups, total)
      .map((note) => `<p class="note">${escapeHtml(note)}</p>`)
      .join('')
  )
}

/**
 * The cards of the whole machine at the wall, when some run has the figure: energy and emissions, each
 * with its interval beneath, and how many runs they sum when not all of them.
 */
function wallCards(total: GroupTotals): string[][] {
  const partial = total.wallRuns < total.runs ? `${total.wallRuns} of ${total.runs} runs` : ''
  const card = (label: string, figure: 'energy' | 'emissions', unit: string) => {
    const parts = wallParts(total, figure)
    return parts === null
      ? []
      : [
          [
            label,
            `${parts.text}${unit}${parts.partial ? PARTIAL : ''}`,
            [parts.range, partial].filter(Boolean).join(', '),
          ],
        ]
  }
  return [
    ...card('Wall energy (whole machine)', 'energy', ''),
    ...card('Wall emissions', 'emissions', ' CO2e'),
  ]
}

/** One self-contained HTML file: no script, no external resource; light and dark by the reader's setting. */
export function renderHtmlReport(input: HtmlReportInput): string {
  const { total } = input
  const cards = [
    ['Runs', String(total.runs)],
    ['Energy', formatEnergy(total.energyKWh), energyRange(total.energyKWh, total.energyIntervalKWh)],
    [
      'Emissions',
      `${formatMass(total.emissionsKg)} CO2e`,
      massRange(total.emissionsKg, total.emissionsIntervalKg),
    ],
    ...wallCards(total),
    ['Intensity', `${total.intensityGPerKWh.toFixed(0)} g CO2e/kWh`],
    ['Embodied', total.embodiedKg === null ? 'unknown' : `${massCell(total.embodiedKg)} CO2e`],
    ...(total.requests > 0 ? [['Per request', `${joulesCell(total.energyPerRequestJ)} J`]] : []),
  ]
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wattprint report</title>
<style>
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d2330; --muted: #5b6472; --grid: #e3e6ea; --card: #f4f6f8;
  --cpu: #2f6fde; --gpu: #d9480f; --ram: #2b8a3e; --embodied: #7048e8; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --fg: #e6e9ee; --muted: #9aa3af; --grid: #2a2f37; --card: #1d2128;
    --cpu: #6ea2ff; --gpu: #ff8a4c; --ram: #5cc878; --embodied: #b197fc; }
}
body { margin: 0; padding: 24px 16px; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
/* Text and charts in a column that reads well; the table as wide as its columns need, up to the window's
   width, so that on a laptop's or a desktop's screen no column hides behind a scrollbar. */
body > :not(.table) { max-width: 1100px; margin-left: auto; margin-right: auto; }
h1 { font-size: 22px; margin: 0 0 4px; } p.meta { color: var(--muted); margin-top: 0; margin-bottom: 20px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-bottom: 20px; }
.card { background: var(--card); border-radius: 8px; padding: 12px 14px; }
.card b { display: block; font-size: 20px; } .card span { color: var(--muted); font-size: 13px; }
figure { margin: 0 0 24px; } figcaption { font-weight: 600; margin-bottom: 6px; }
svg { width: 100%; height: auto; display: block; }
.grid { stroke: var(--grid); } .tick { fill: var(--muted); font-size: ${TICK_PX}px; } .value { fill: var(--fg); font-size: 11px; }
.split { display: flex; height: 40px; border-radius: 4px; overflow: hidden; background: var(--grid); }
.table { overflow-x: auto; width: fit-content; min-width: min(100%, 1100px); max-width: 100%; margin: 0 auto 24px; }
${LAYOUT_CSS}
.legend span { display: inline-block; margin-right: 16px; color: var(--muted); font-size: 13px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--grid); text-align: right; white-space: nowrap; }
/* Headers break between their words before any column is pushed out of sight. */
th { white-space: normal; vertical-align: bottom; }
th:first-child, td:first-child { text-align: left; } tfoot td { font-weight: 600; }
/* A long name breaks where it may (after a hyphen, at a space) before a column is pushed out of sight. */
td:first-child { white-space: normal; }
.note { color: var(--muted); font-size: 13px; }
/* An 80 % interval, beneath its figure. */
.range { display: block; color: var(--muted); font-size: 12px; font-weight: 400; }
@media (max-width: 1499.98px) { table { font-size: 13px; } th, td { padding: 6px 4px; } }
@media (max-width: 899.98px) { table { font-size: 13px; } th, td { padding: 5px 4px; } }
</style>
</head>
<body>
<h1>wattprint report</h1>
<p class="meta">${escapeHtml(`${input.runs.length} run${input.runs.length === 1 ? '' : 's'}, grouped by ${input.by}; wattprint ${wattprintVersion()}`)}</p>
<div class="cards">${cards.map(([label, value, range]) => `<div class="card"><span>${escapeHtml(label ?? '')}</span><b>${escapeHtml(value ?? '')}</b>${range ? `<span class="range">${escapeHtml(range)}</span>` : ''}</div>`).join('')}</div>
<p class="legend">${COMPONENTS.map((c) => `<span><i style="background:${c.color}"></i>${c.label}</span>`).join('')}</p>
${responsive((width) => runsChart(input.runs, width))}
${split(total)}
${CARBON_LEGEND}
${responsive((width) => carbonChart(input.runs, width))}
${input.timelines
  .filter((t) => t.samples.length > 1)
  .map((t) => responsive((width) => powerChart(t, width)))
  .join('\n')}
${table(input.groups, input.by, total)}
${input.skipped.map((s) => `<p class="note">${escapeHtml(s)}</p>`).join('')}
</body>
</html>
`
}
