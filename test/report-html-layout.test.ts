import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { energyWithRange } from '../src/cli/report/intervals.js'
import { printable } from '../src/core/text.js'
import { CSV_HEADER, recordToLine } from '../src/output/csv/sink.js'
import { sampleRecord } from './helpers/records.js'

// The HTML report in headless Chromium (Debian's chromium, driven by playwright-core): its table whole on
// a laptop's and a desktop's screen, and its two per-run charts showing the same runs, saying which.

const cli = resolve('dist/cli.js')
const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-html-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Headless Chromium; undefined (the test skipped) where it is not installed, unless CI requires it. */
async function launchChromium(context: { skip: () => void }) {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))
  if (!chromium) {
    if (process.env.WATTPRINT_REQUIRE_CHROMIUM) throw new Error('chromium is required here but missing')
    context.skip()
    return undefined
  }
  const { chromium: browser } = await import('playwright-core')
  const instance = await browser.launch({ executablePath: chromium, args: ['--no-sandbox'] })
  cleanups.push(() => instance.close())
  return instance
}

/**
 * `count` runs 37 minutes apart, of two projects with long names, serving requests (so that the table
 * has all of its columns), with large figures (so that its cells are wide), their 80 % intervals and the
 * whole machine at the wall (two more columns, each figure with its interval).
 */
function runsCsv(dir: string, count: number): string {
  const path = join(dir, 'emissions.csv')
  const rows = Array.from({ length: count }, (_, i) =>
    sampleRecord({
      runId: `run-${String(i).padStart(4, '0')}`,
      projectName: i % 2 ? 'llm-serving-production-eu-west' : 'recommendation-training-nightly',
      timestamp: new Date(Date.UTC(2026, 10, 1, 8) + i * 37 * 60_000).toISOString(),
      durationS: 86_000 + i,
      energyKWh: 123.456 + i,
      emissionsKg: 45.678 + i,
      ...withIntervals(123.456 + i, 45.678 + i, 0.7, 1.45),
      wall: wallOf(187.654 + i, 69.432 + i, 0.65, 1.55),
      requests: 1_234_567 + i,
      outputTokens: 98_765_432,
      energyPerRequestJ: 1234.5,
      energyPerOutputTokenJ: 12.345,
    }),
  )
  writeFileSync(path, CSV_HEADER + rows.map((r) => recordToLine(r)).join(''))
  return path
}

/** A record's intervals on energy and emissions, as `low` and `high` factors of them. */
const withIntervals = (kWh: number, kg: number, low: number, high: number) => ({
  energyLowKWh: kWh * low,
  energyHighKWh: kWh * high,
  emissionsLowKg: kg * low,
  emissionsHighKg: kg * high,
})

/** A record's whole machine at the wall, its interval as factors. */
const wallOf = (kWh: number, kg: number, low: number, high: number) => ({
  energyKWh: kWh,
  lowKWh: kWh * low,
  highKWh: kWh * high,
  powerW: 1,
  emissionsKg: kg,
  emissionsLowKg: kg * low,
  emissionsHighKg: kg * high,
  source: 'cpu-model+ram-model+rest-model',
})

const report = (dir: string, csv: string) => {
  const html = join(dir, 'report.html')
  const run = spawnSync(process.execPath, [cli, 'report', csv, '--html', html], { encoding: 'utf8' })
  expect(run.status, run.stderr).toBe(0)
  return html
}

// Where each header cell of the table ends, and what of the table its own box shows.
const TABLE = `(() => {
  const wrap = document.querySelector('.table')
  const box = wrap.getBoundingClientRect()
  return {
    viewport: document.documentElement.clientWidth,
    pageWidth: document.documentElement.scrollWidth,
    wrapRight: box.right,
    hidden: wrap.scrollWidth - wrap.clientWidth,
    heads: [...wrap.querySelectorAll('th')].map((th) => ({ text: th.textContent, right: th.getBoundingClientRect().right })),
  }
})()`

interface TableLayout {
  viewport: number
  pageWidth: number
  wrapRight: number
  hidden: number
  heads: { text: string; right: number }[]
}

describe('the HTML report in a browser', () => {
  it('shows names as they are written: neither reversed by a bidi override nor hiding invisible characters', async (context) => {
    const browser = await launchChromium(context)
    if (!browser) return
    const dir = tempDir()
    const name = 'rev\u202eevil\u200bzw\u200d\u2066\ufeff\u{e0041}\u001b[31m'
    const shown = printable(name)
    const csv = join(dir, 'emissions.csv')
    writeFileSync(csv, CSV_HEADER + recordToLine(sampleRecord({ projectName: name, runId: name })))
    const timeline = join(dir, `timeline${name}.jsonl`)
    writeFileSync(
      timeline,
      [0, 1, 2]
        .map((s) => `${JSON.stringify({ elapsedS: s, powerW: { cpu: 10, gpu: 0, ram: 2 } })}\n`)
        .join(''),
    )
    const foreign = join(dir, `other${name}.csv`)
    writeFileSync(foreign, 'a,b\n1,2\n')
    const html = join(dir, 'report.html')
    const run = spawnSync(
      process.execPath,
      [cli, 'report', csv, foreign, '--html', html, '--timeline', timeline],
      { encoding: 'utf8' },
    )
    expect(run.status, run.stderr).toBe(0)
    const text = readFileSync(html, 'utf8')
    // Tabs and line ends aside (innerText separates cells and lines with them).
    const hidden =
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|\udb40[\udc00-\udc7f]/
    expect(text).not.toMatch(hidden)
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
    await page.goto(`file://${html}`)
    const seen = (await page.evaluate(`({
      cell: document.querySelector('tbody td').innerText,
      captions: [...document.querySelectorAll('figcaption')].map((f) => f.textContent),
      tips: [...document.querySelectorAll('rect title')].map((t) => t.textContent),
      notes: [...document.querySelectorAll('p.note')].map((p) => p.innerText),
      all: document.body.innerText,
    })`)) as { cell: string; captions: string[]; tips: string[]; notes: string[]; all: string }
    await page.close()
    expect(seen.cell).toBe(shown)
    expect(seen.captions.some((c) => c.includes(`timeline${shown}.jsonl`))).toBe(true)
    expect(seen.tips.length).toBeGreaterThan(0)
    for (const tip of seen.tips) expect(tip.startsWith(`${shown} `)).toBe(true)
    expect(seen.notes.some((n) => n.includes(`other${shown}.csv`))).toBe(true)
    expect(seen.all).not.toMatch(hidden)
  }, 120_000)

  it('shows every column of the table, none behind a scrollbar, from a 1366 px screen up', async (context) => {
    const browser = await launchChromium(context)
    if (!browser) return
    const dir = tempDir()
    const html = report(dir, runsCsv(dir, 12))
    for (const width of [1366, 1440, 1600, 1920]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } })
      await page.goto(`file://${html}`)
      const table = (await page.evaluate(TABLE)) as TableLayout
      await page.screenshot({ fullPage: true, path: join(dir, `report-${width}.png`) })
      await page.close()
      const where = `at ${width} px`
      expect(table.heads.map((h) => h.text)).toContain('J/output token')
      expect(table.heads.map((h) => h.text)).toContain('wall emissions')
      expect(table.hidden, where).toBeLessThanOrEqual(0)
      expect(table.pageWidth, where).toBeLessThanOrEqual(width)
      for (const head of table.heads) {
        expect(head.right, `${where}: ${head.text}`).toBeLessThanOrEqual(
          Math.min(table.wrapRight, table.viewport) + 0.5,
        )
      }
    }
  }, 120_000)

  it('draws the energy and the emissions of the same runs, and says which, at every width', async (context) => {
    const browser = await launchChromium(context)
    if (!browser) return
    const dir = tempDir()
    const html = report(dir, runsCsv(dir, 500))
    for (const width of [420, 800, 1366, 1600]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } })
      await page.goto(`file://${html}`)
      // The run of each bar, from its tooltip, in the two visible per-run charts.
      const charts = (await page.evaluate(`[...document.querySelectorAll('figure')]
        .filter((f) => f.getBoundingClientRect().height > 0 && f.querySelector('svg rect'))
        .map((f) => ({
          caption: f.querySelector('figcaption').textContent,
          runs: [...new Set([...f.querySelectorAll('rect title')].map((t) => t.textContent.split(' ')[0]))],
        }))`)) as { caption: string; runs: string[] }[]
      await page.close()
      const where = `at ${width} px`
      expect(charts, where).toHaveLength(2)
      const [energy, emissions] = charts as [(typeof charts)[0], (typeof charts)[0]]
      expect(emissions.runs, where).toEqual(energy.runs)
      expect(energy.runs.length, where).toBeLessThan(500)
      const which = `the latest ${energy.runs.length} of 500 runs`
      expect(energy.caption, where).toContain(which)
      expect(emissions.caption, where).toContain(which)
      // Their x labels are read off the timestamps, which are UTC.
      expect(energy.caption, where).toContain('UTC')
      expect(emissions.caption, where).toContain('UTC')
    }
  }, 120_000)

  it('draws an error bar from the low to the high of each run that has an interval, over its bar', async (context) => {
    const browser = await launchChromium(context)
    if (!browser) return
    const dir = tempDir()
    // 12 runs of 0.5 to 1.6 kWh, each interval 0.8 to 1.35 × its energy; every third has none (an older row).
    const runs = Array.from({ length: 12 }, (_, i) => {
      const kWh = 0.5 + i * 0.1
      const ranged = i % 3 !== 2
      const part = (share: number) => ({ energyKWh: kWh * share, lowKWh: 0, highKWh: 0, powerW: 1 })
      return {
        id: `run-${i}`,
        kWh,
        ranged,
        record: sampleRecord({
          runId: `run-${i}`,
          timestamp: new Date(Date.UTC(2026, 10, 1, 8) + i * 37 * 60_000).toISOString(),
          energyKWh: kWh,
          emissionsKg: kWh * 0.3,
          cpu: { ...part(0.8), source: 'cpu-model', method: 'estimated' },
          gpu: { ...part(0), source: null, method: null },
          ram: { ...part(0.2), source: 'ram-model', method: 'estimated' },
          ...(ranged
            ? withIntervals(kWh, kWh * 0.3, 0.8, 1.35)
            : {
                energyLowKWh: undefined,
                energyHighKWh: undefined,
                emissionsLowKg: undefined,
                emissionsHighKg: undefined,
              }),
          wall: ranged ? wallOf(kWh * 1.5, kWh * 0.45, 0.7, 1.5) : undefined,
        }),
      }
    })
    const csv = join(dir, 'emissions.csv')
    writeFileSync(csv, CSV_HEADER + runs.map((r) => recordToLine(r.record)).join(''))
    const html = report(dir, csv)
    for (const width of [420, 1366]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } })
      await page.goto(`file://${html}`)
      // The visible energy chart: its y ticks and their grid lines (screen px), its error bars and bars.
      const chart = (await page.evaluate(`(() => {
        const figure = [...document.querySelectorAll('figure')]
          .find((f) => f.getBoundingClientRect().height > 0 && f.querySelector('g.error-bar'))
        const svg = figure.querySelector('svg')
        const runOf = (el) => el.querySelector('title').textContent.split(' ')[0]
        return {
          caption: figure.querySelector('figcaption').textContent,
          ticks: [...svg.querySelectorAll('text.y')].map((t) => t.textContent),
          grid: [...svg.querySelectorAll('line.grid')].map((l) => l.getBoundingClientRect().top),
          bars: [...svg.querySelectorAll('g.error-bar')].map((g) => {
            const lines = [...g.querySelectorAll('line')]
            const [stem, high, low] = lines.map((l) => l.getBoundingClientRect())
            return { run: runOf(g), tip: g.querySelector('title').textContent, top: stem.top, bottom: stem.bottom,
              x: stem.left + stem.width / 2, caps: [high.top, low.top], capWidth: high.width,
              stroke: getComputedStyle(lines[0]).stroke, strokeWidth: getComputedStyle(lines[0]).strokeWidth }
          }),
          rects: [...svg.querySelectorAll('rect')].map((r) => {
            const box = r.getBoundingClientRect()
            return { run: runOf(r), x: box.left + box.width / 2, tip: r.querySelector('title').textContent }
          }),
        }
      })()`)) as {
        caption: string
        ticks: string[]
        grid: number[]
        bars: {
          run: string
          tip: string
          top: number
          bottom: number
          x: number
          caps: number[]
          capWidth: number
          stroke: string
          strokeWidth: string
        }[]
        rects: { run: string; x: number; tip: string }[]
      }
      await page.close()
      const where = `at ${width} px`
      expect(chart.caption, where).toContain('80 % interval as an error bar')
      // One error bar per run with an interval, none for the others.
      expect(chart.bars.map((b) => b.run).sort(), where).toEqual(
        runs
          .filter((r) => r.ranged)
          .map((r) => r.id)
          .sort(),
      )
      // The axis: kWh, from its grid lines' positions on the screen.
      expect(
        chart.ticks.every((t) => t.endsWith(' kWh')),
        where,
      ).toBe(true)
      const values = chart.ticks.map((t) => Number.parseFloat(t))
      const [zeroY, topY] = [chart.grid[0] ?? 0, chart.grid.at(-1) ?? 0]
      const yOf = (kWh: number) => zeroY + (kWh / (values.at(-1) ?? 1)) * (topY - zeroY)
      for (const bar of chart.bars) {
        const run = runs.find((r) => r.id === bar.run)
        const what = `${where}, ${bar.run}`
        expect(run, what).toBeDefined()
        const kWh = run?.kWh ?? 0
        // The stem from the high to the low, within a pixel of where the axis puts them.
        expect(Math.abs(bar.top - yOf(kWh * 1.35)), what).toBeLessThanOrEqual(1)
        expect(Math.abs(bar.bottom - yOf(kWh * 0.8)), what).toBeLessThanOrEqual(1)
        // Whiskers at both ends, drawn (a visible stroke), over the centre of the run's bar.
        expect(bar.caps[0], what).toBeCloseTo(bar.top, 1)
        expect(bar.caps[1], what).toBeCloseTo(bar.bottom, 1)
        expect(bar.capWidth, what).toBeGreaterThan(2)
        expect(bar.stroke, what).not.toBe('none')
        expect(Number.parseFloat(bar.strokeWidth), what).toBeGreaterThan(0)
        const rect = chart.rects.find((r) => r.run === bar.run)
        expect(Math.abs((rect?.x ?? 0) - bar.x), what).toBeLessThanOrEqual(1)
        // The tooltips say the interval: the error bar's, and the bar's with the wall too.
        const ranged = energyWithRange(kWh, { low: kWh * 0.8, high: kWh * 1.35 })
        expect(bar.tip, what).toContain(`80 % interval ${ranged.slice(ranged.indexOf('('))}`)
        expect(rect?.tip, what).toContain(`: ${ranged}, `)
        expect(rect?.tip, what).toContain('the whole machine at the wall')
      }
    }
  }, 120_000)

  it('says that --by day groups by the UTC date, in the table of the terminal and of the page', () => {
    const dir = tempDir()
    const csv = runsCsv(dir, 3)
    const table = spawnSync(process.execPath, [cli, 'report', csv, '--by', 'day'], { encoding: 'utf8' })
    expect(table.stdout.split('\n')[0]).toMatch(/^day \(UTC\)\s/)
    const html = join(dir, 'by-day.html')
    spawnSync(process.execPath, [cli, 'report', csv, '--by', 'day', '--html', html])
    expect(readFileSync(html, 'utf8')).toContain('<th>day (UTC)</th>')
    const help = spawnSync(process.execPath, [cli, 'report', '--help'], { encoding: 'utf8' }).stdout
    expect(help).toMatch(/day: the UTC date/)
  })
})
