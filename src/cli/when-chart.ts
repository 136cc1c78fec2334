import type { ForecastSlot } from '../intensity/forecast/provider.js'
import { IntensityTimeline } from '../scheduling/timeline.js'

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']
const pad2 = (n: number) => String(n).padStart(2, '0')
/** `14:30`, local time. */
export const clockOf = (ms: number): string => {
  const d = new Date(ms)
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`
}

/**
 * The forecast from `fromMs` to `toMs` as a terminal chart: `rows` lines of bars (one column per stretch of
 * time, its mean figure; a blank column where the forecast has a gap), a line that marks the window with
 * `━` and a time axis. The scale runs from the lowest figure shown to the highest.
 */
export function forecastChart(
  slots: readonly ForecastSlot[],
  fromMs: number,
  toMs: number,
  window: { readonly startMs: number; readonly endMs: number },
  options: { readonly columns?: number; readonly rows?: number } = {},
): string {
  const timeline = new IntensityTimeline(slots)
  const end = Math.min(toMs, Number.isFinite(timeline.endMs) ? timeline.endMs : toMs)
  if (!(end > fromMs)) return ''
  const columns = options.columns ?? 72
  const rows = options.rows ?? 6
  const stepMs = (end - fromMs) / columns
  const means = Array.from({ length: columns }, (_, c) => {
    const { meanGPerKWh } = timeline.meanOver(fromMs + c * stepMs, fromMs + (c + 1) * stepMs)
    return meanGPerKWh
  })
  const known = means.filter((m): m is number => m !== null)
  if (known.length === 0) return ''
  const lo = Math.min(...known)
  const hi = Math.max(...known)
  // Eighths of a row: a column of figure m is (m − lo) / (hi − lo) of the chart's height, at least one eighth.
  const eighths = means.map((m) =>
    m === null ? 0 : hi > lo ? 1 + Math.round(((m - lo) / (hi - lo)) * (rows * 8 - 1)) : rows * 4,
  )
  const label = (g: number) => `${g.toFixed(0).padStart(5)} `
  const lines: string[] = []
  for (let r = rows - 1; r >= 0; r--) {
    const bar = eighths
      .map((e) => {
        const inRow = e - r * 8
        return inRow >= 8 ? BLOCKS[7] : inRow > 0 ? BLOCKS[inRow - 1] : ' '
      })
      .join('')
    const axis = r === rows - 1 ? label(hi) : r === 0 ? label(lo) : ' '.repeat(6)
    lines.push(`${axis}│${bar}`)
  }
  const mark = means
    .map((_, c) => {
      const a = fromMs + c * stepMs
      return a + stepMs > window.startMs && a < window.endMs ? '━' : ' '
    })
    .join('')
  lines.push(`${' '.repeat(6)}└${mark}`)
  const left = clockOf(fromMs)
  const middle = clockOf(fromMs + (end - fromMs) / 2)
  const right = clockOf(end)
  const gap = Math.max(1, Math.floor((columns - left.length - middle.length - right.length) / 2))
  lines.push(`${' '.repeat(7)}${left}${' '.repeat(gap)}${middle}${' '.repeat(gap)}${right}`)
  lines.push(`${' '.repeat(7)}g CO2e/kWh, local time; ━ the window`)
  return lines.join('\n')
}

/** `2026-12-01 14:30`, local time. */
export const localTimeOf = (ms: number): string => {
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${clockOf(ms)}`
}

/**
 * The start as a scheduler takes it: `iso` (UTC, `2026-12-01T14:30:00Z`); `slurm` for `sbatch --begin=`
 * (`2026-12-01T14:30:00`, local time); `at` for `at -t` (`202612011430`, local). slurm and at round up
 * to the next whole minute, so the job never starts before its window.
 */
export function formatStart(ms: number, format: 'iso' | 'slurm' | 'at'): string {
  if (format === 'iso') return `${new Date(ms).toISOString().slice(0, 19)}Z`
  const d = new Date(Math.ceil(ms / 60_000) * 60_000)
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`
  if (format === 'slurm') return `${date}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:00`
  return `${date.replaceAll('-', '')}${pad2(d.getHours())}${pad2(d.getMinutes())}`
}
