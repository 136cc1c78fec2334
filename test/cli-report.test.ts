import { spawnSync } from 'node:child_process'
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatCsvLine, LEGACY_CSV_COLUMNS } from '../src/output/csv/format.js'
import { CSV_HEADER, recordToLine } from '../src/output/csv/sink.js'
import { sampleRecord } from './helpers/records.js'
import { makeTempDir, onCleanup } from './helpers/temp-dir.js'

const cli = resolve('dist/cli.js')
const codecarbon = resolve('test/fixtures/codecarbon-emissions.csv')
const tempDir = (): string => makeTempDir('wattprint-report-')

const wattprint = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

/** A wattprint CSV: run A flushed twice then finished, run B failed, then a malformed row and a cut-off one. */
function wattprintCsv(dir: string): string {
  const path = join(dir, 'emissions.csv')
  // No interval and no wall, as an older row: these rows are about totals (test/report-intervals.test.ts
  // has the intervals).
  const part = (energyKWh: number) => ({ energyKWh, lowKWh: energyKWh, highKWh: energyKWh, powerW: 1 })
  const kWh = (cpu: number, gpu: number, ram: number) => ({
    energyLowKWh: undefined,
    energyHighKWh: undefined,
    emissionsLowKg: undefined,
    emissionsHighKg: undefined,
    wall: undefined,
    cpu: { ...part(cpu), source: 'rapl' as const, method: 'measured' as const },
    gpu: { ...part(gpu), source: gpu > 0 ? ('nvml-energy' as const) : null, method: null },
    ram: { ...part(ram), source: 'rapl-dram' as const, method: 'measured' as const },
    energyKWh: cpu + gpu + ram,
  })
  const rows = [
    sampleRecord({
      runId: 'A',
      projectName: 'mnist',
      status: 'running',
      timestamp: '2026-11-22T10:00:00.000Z',
      durationS: 60,
      emissionsKg: 0.001,
      ...kWh(0.001, 0, 0.001),
    }),
    sampleRecord({
      runId: 'A',
      projectName: 'mnist',
      status: 'running',
      timestamp: '2026-11-22T10:01:00.000Z',
      durationS: 120,
      emissionsKg: 0.002,
      ...kWh(0.002, 0, 0.002),
    }),
    sampleRecord({
      runId: 'A',
      projectName: 'mnist',
      status: 'finished',
      timestamp: '2026-11-22T10:02:00.000Z',
      durationS: 180,
      emissionsKg: 0.003,
      ...kWh(0.004, 0.002, 0.003),
    }),
    sampleRecord({
      runId: 'B',
      projectName: 'mnist',
      status: 'failed',
      timestamp: '2026-11-22T11:00:00.000Z',
      durationS: 30,
      emissionsKg: 0.0005,
      ...kWh(0.0005, 0, 0.0005),
    }),
    sampleRecord({
      runId: 'C',
      projectName: 'llm',
      status: 'finished',
      timestamp: '2026-11-23T08:00:00.000Z',
      durationS: 7200,
      emissionsKg: 0.5,
      ...kWh(0.2, 1.0, 0.05),
      embodiedEmissionsKg: null,
      waterConsumedL: null,
    }),
  ]
  writeFileSync(path, CSV_HEADER + rows.map((r) => recordToLine(r)).join(''))
  appendFileSync(
    path,
    '2026-11-23T09:00:00.000Z,llm,D,e,NaN-duration\n2026-11-23T10:00:00.000Z,llm,E,e,12,0.1',
  )
  return path
}

describe('wattprint report', () => {
  it('totals runs by project from wattprint and CodeCarbon files, counting each run once and skipping malformed rows', () => {
    const dir = tempDir()
    const run = wattprint('report', wattprintCsv(dir), codecarbon, '--by', 'project')
    expect(run.status).toBe(0)
    const lines = run.stdout.split('\n')
    const row = (key: string) => lines.find((l) => l.startsWith(key))?.split(/\s{2,}/) ?? []
    // mnist: A (its last row) + B = 2 runs, 0.0035 kg.
    expect(row('mnist').slice(0, 2)).toEqual(['mnist', '2'])
    expect(row('mnist')).toContain('3.50 g')
    expect(row('llm').slice(0, 2)).toEqual(['llm', '1'])
    expect(row('bert-finetune').slice(0, 2)).toEqual(['bert-finetune', '2'])
    expect(row('total').slice(0, 2)).toEqual(['total', '5'])
    expect(run.stdout).toContain('emissions.csv: 2 malformed row(s) skipped')
    expect(run.stdout).toContain('codecarbon-emissions.csv: 1 malformed row(s) skipped')
  })

  it('counts a run once across every file given: the same file twice, and a backup beside its file', () => {
    const dir = tempDir()
    const csv = wattprintCsv(dir)
    type Report = { total: { runs: number; energyKWh: number; emissionsKg: number } }
    const report = (...files: string[]) =>
      JSON.parse(wattprint('report', ...files, '--json').stdout) as Report
    const once = report(csv).total
    expect(once.runs).toBe(3)
    expect(report(csv, csv).total).toEqual(once)
    // A backup (as a migration keeps) holds the same runs, and this one only A's first flush; the file
    // goes on with a new run. A run counts once, with its latest row: A's final one.
    const text = readFileSync(csv, 'utf8')
    const backup = join(dir, 'emissions.backup-2026-11-24T00-00-00-000Z.csv')
    writeFileSync(backup, text)
    writeFileSync(join(dir, 'old.csv'), `${text.split('\n').slice(0, 2).join('\n')}\n`)
    // (The file ends with a cut-off row: the new one starts on a line of its own.)
    appendFileSync(
      csv,
      '\n' +
        recordToLine(
          sampleRecord({
            runId: 'D',
            projectName: 'llm',
            timestamp: '2026-11-24T08:00:00.000Z',
            energyKWh: 0.5,
          }),
        ),
    )
    const all = report(join(dir, 'old.csv'), backup, csv).total
    expect(all.runs).toBe(4)
    expect(all.energyKWh).toBeCloseTo(once.energyKWh + 0.5, 9)
  })

  it('groups by day, run and experiment, and answers in JSON', () => {
    const dir = tempDir()
    const csv = wattprintCsv(dir)
    const json = JSON.parse(wattprint('report', csv, '--by', 'day', '--json').stdout) as {
      groups: { key: string; runs: number; emissionsKg: number }[]
      total: { runs: number; energyKWh: number }
    }
    expect(json.groups.map((g) => [g.key, g.runs])).toEqual([
      ['2026-11-22', 2],
      ['2026-11-23', 1],
    ])
    expect(json.total.energyKWh).toBeCloseTo(0.009 + 0.001 + 1.25, 9)
    // Embodied emissions and water: A and B have 12.5 g and 4.2 mL each, C none (unknown, not zero).
    const day = (key: string) => json.groups.find((g) => g.key === key) as unknown as Record<string, unknown>
    expect(day('2026-11-22')).toMatchObject({ embodiedKg: 0.025, waterL: 0.0084 })
    expect(day('2026-11-23')).toMatchObject({ embodiedKg: null, waterL: null })
    const table = wattprint('report', csv, '--by', 'day').stdout.split('\n')
    // (The sample rows measured requests too: their columns come last.)
    expect(table[0]).toMatch(
      /g\/kWh\s+wall energy\s+wall emissions\s+embodied\s+water\s+requests\s+J\/request\s+J\/token$/,
    )
    expect(table.find((l) => l.startsWith('2026-11-22'))).toMatch(/25\.00 g\s+8\.40 mL\s+480\s/)
    expect(table.find((l) => l.startsWith('2026-11-23'))).toMatch(/–\s+–\s+240\s/)
    expect(wattprint('report', csv, '--by', 'run').stdout).toMatch(/^A\s+1\s/m)
    expect(wattprint('report', csv, '--by', 'week').stderr).toContain(
      '--by "week" must be one of project, experiment, run, day',
    )
    expect(wattprint('report', join(dir, 'missing.csv')).status).toBe(2)
  })

  it('gives J/request and J/token per project from the request columns, and leaves them out without', () => {
    const dir = tempDir()
    const path = join(dir, 'emissions.csv')
    const served = (
      runId: string,
      requests: number | null,
      perRequestJ: number | null,
      tokens: number | null,
      perTokenJ: number | null,
    ) =>
      sampleRecord({
        runId,
        projectName: requests === null ? 'training' : 'chat',
        requests,
        outputTokens: tokens,
        energyPerRequestJ: perRequestJ,
        energyPerOutputTokenJ: perTokenJ,
      })
    // chat: 100 requests × 2 J + 300 × 4 J = 1400 J over 400; tokens 1000 × 0.1 J + 500 × 0.4 J = 300 J over 1500.
    const rows = [
      served('A', 100, 2, 1000, 0.1),
      served('B', 300, 4, 500, 0.4),
      served('C', null, null, null, null),
    ]
    writeFileSync(path, CSV_HEADER + rows.map((r) => recordToLine(r)).join(''))
    const json = JSON.parse(wattprint('report', path, '--json').stdout) as {
      groups: {
        key: string
        requests: number
        energyPerRequestJ: number | null
        energyPerOutputTokenJ: number | null
      }[]
    }
    const chat = json.groups.find((g) => g.key === 'chat')
    expect(chat?.requests).toBe(400)
    expect(chat?.energyPerRequestJ).toBeCloseTo(1400 / 400, 9)
    expect(chat?.energyPerOutputTokenJ).toBeCloseTo(300 / 1500, 9)
    expect(json.groups.find((g) => g.key === 'training')?.energyPerRequestJ).toBeNull()
    const table = wattprint('report', path).stdout
    expect(table.split('\n')[0]).toMatch(/requests\s+J\/request\s+J\/token$/)
    expect(table).toMatch(/^chat .*\s400\s+3\.50\s+0\.200$/m)
    expect(table).toMatch(/^training .*\s0\s+-\s+-$/m)
    const html = join(dir, 'report.html')
    expect(wattprint('report', path, '--html', html).status).toBe(0)
    const page = readFileSync(html, 'utf8')
    expect(page).toContain('<th>J/request</th><th>J/output token</th>')
    expect(page).toMatch(/<td>chat<\/td>.*?<td>400<\/td><td>3\.50<\/td><td>0\.200<\/td>/)
    writeFileSync(path, CSV_HEADER + recordToLine(served('C', null, null, null, null)))
    expect(wattprint('report', path).stdout).not.toContain('J/request')
    expect(wattprint('report', path, '--html', html).status).toBe(0)
    expect(readFileSync(html, 'utf8')).not.toContain('J/request')
  })

  it('writes a self-contained HTML report that opens offline with its charts', async (context) => {
    const browser = await launchChromium(context)
    if (!browser) return
    const dir = tempDir()
    const timeline = join(dir, 'timeline.jsonl')
    writeFileSync(timeline, timelineLines(40, 1))
    const html = join(dir, 'report.html')
    const run = wattprint('report', wattprintCsv(dir), codecarbon, '--html', html, '--timeline', timeline)
    expect(run.status).toBe(0)
    const text = readFileSync(html, 'utf8')
    // Self-contained: no script, no link, no remote URL.
    expect(text).not.toMatch(/<script|<link|src="http|href="http|url\(http/i)

    for (const scheme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: scheme })
      const problems: string[] = []
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()))
      page.on('pageerror', (e) => problems.push(e.message))
      await page.goto(`file://${html}`)
      // Runs in the page (a string: the tests are compiled without the DOM's types).
      const drawn = (await page.evaluate(`({
        bars: [...document.querySelectorAll('svg rect')].filter((r) => r.getBoundingClientRect().height > 0).length,
        lines: [...document.querySelectorAll('svg polyline')].filter((l) => l.getBoundingClientRect().width > 100).length,
        figures: [...document.querySelectorAll('figure')].filter((f) => f.getBoundingClientRect().height > 0).length,
        background: getComputedStyle(document.body).backgroundColor,
      })`)) as { bars: number; lines: number; figures: number; background: string }
      const shot = await page.screenshot({ fullPage: true, path: join(dir, `report-${scheme}.png`) })
      expect(problems).toEqual([])
      // Energy per run, energy by component, operational vs embodied emissions per run, the timeline.
      expect(drawn.figures).toBe(4)
      expect(drawn.bars).toBeGreaterThanOrEqual(10)
      expect(drawn.lines).toBe(3)
      expect(drawn.background).toBe(scheme === 'dark' ? 'rgb(20, 23, 28)' : 'rgb(255, 255, 255)')
      // A blank page compresses to a few kB; charts, text and a table do not.
      expect(shot.length).toBeGreaterThan(30_000)
      await page.close()
    }
  }, 60_000)

  it('lays its charts out readably in a narrow and a wide window, for 1, 10 and 500 runs', async (context) => {
    const browser = await launchChromium(context)
    if (!browser) return
    const dir = tempDir()
    const timeline = join(dir, 'timeline.jsonl')
    writeFileSync(timeline, timelineLines(300, 1.7))
    for (const count of [1, 10, 500]) {
      const csv = join(dir, `runs-${count}.csv`)
      writeFileSync(
        csv,
        CSV_HEADER +
          manyRuns(count)
            .map((r) => recordToLine(r))
            .join(''),
      )
      const html = join(dir, `report-${count}.html`)
      const run = wattprint('report', csv, '--html', html, '--timeline', timeline)
      expect(run.status).toBe(0)
      // The table says durations as the terminal does: one formatter, the unit chosen by size.
      const terminal = run.stdout
        .split('\n')
        .find((l) => l.startsWith('total'))
        ?.split(/\s{2,}/)[2]
      const text = readFileSync(html, 'utf8')
      expect(text).toContain(`<td>${terminal}</td>`)
      expect(text).not.toContain('<td>0.00 h</td>')
      // Each run's embodied share (12.5 g in the sample record) stacked on its operational emissions.
      expect(text.match(/data-part="embodied"/g)?.length).toBeGreaterThanOrEqual(Math.min(count, 3 * 50))
      expect(text).toContain('Emissions of ')
      for (const width of [420, 800, 1600]) {
        const page = await browser.newPage({ viewport: { width, height: 900 } })
        await page.goto(`file://${html}`)
        const layout = (await page.evaluate(MEASURE)) as Layout
        await page.screenshot({ fullPage: true, path: join(dir, `report-${count}-${width}.png`) })
        await page.close()
        const where = `${count} runs at ${width} px`
        expect(layout.pageWidth, where).toBeLessThanOrEqual(width)
        expect(layout.charts.map((c) => c.caption).length, where).toBe(3)
        for (const chart of layout.charts) {
          const what = `${where}, ${chart.caption}`
          // Text drawn at about its CSS size: the SVG is neither shrunk nor blown up much.
          expect(chart.scale, what).toBeGreaterThan(0.7)
          expect(chart.scale, what).toBeLessThan(1.5)
          // Round ticks: 0, then a step of 1, 2 or 5 × 10ⁿ.
          expect(chart.yTicks[0], what).toBe(0)
          const step = (chart.yTicks[1] ?? 0) - (chart.yTicks[0] ?? 0)
          expect(isNice(step), `${what}: step ${step} of ${chart.yTicks}`).toBe(true)
          for (const [i, t] of chart.yTicks.entries()) expect(t, what).toBeCloseTo(i * step, 9)
          // x labels: at least two when there are two bars or more, none overlapping, all inside.
          expect(chart.xLabels.length, what).toBeGreaterThanOrEqual(Math.min(2, count))
          for (let i = 1; i < chart.xLabels.length; i++) {
            const [a, b] = [chart.xLabels[i - 1], chart.xLabels[i]] as [Box, Box]
            expect(a.x + a.width, `${what}: ${a.text} overlaps ${b.text}`).toBeLessThanOrEqual(b.x)
          }
          for (const box of chart.texts) {
            expect(box.x, `${what}: ${box.text}`).toBeGreaterThanOrEqual(0)
            expect(box.x + box.width, `${what}: ${box.text}`).toBeLessThanOrEqual(chart.viewWidth)
            expect(box.y, `${what}: ${box.text}`).toBeGreaterThanOrEqual(0)
            expect(box.y + box.height, `${what}: ${box.text}`).toBeLessThanOrEqual(chart.viewHeight)
          }
          // The caption promises emissions only where they are drawn.
          expect(chart.caption.includes('emissions'), what).toBe(chart.values > 0)
        }
        const runsChart = layout.charts[0]
        expect(runsChart?.bars, where).toBeGreaterThanOrEqual(Math.min(count, 40))
        if ((runsChart?.bars ?? 0) < count) expect(runsChart?.caption).toContain(`of ${count} runs`)
      }
    }
  }, 120_000)
})

describe('wattprint report on other files', () => {
  it('says a file is not a wattprint or CodeCarbon file, and fails when no file could be read', () => {
    const dir = tempDir()
    const foreign = join(dir, 'foreign.csv')
    writeFileSync(foreign, 'name,age\nada,36\n')
    const alone = wattprint('report', foreign)
    expect(alone.status).toBe(1)
    expect(alone.stderr).toContain('foreign.csv: not a wattprint or CodeCarbon file')
    expect(alone.stdout + alone.stderr).not.toContain('malformed')
    // Beside a readable file, it is skipped with the same words and the report goes on.
    const mixed = wattprint('report', foreign, codecarbon)
    expect(mixed.status).toBe(0)
    expect(mixed.stdout).toContain('foreign.csv: not a wattprint or CodeCarbon file')
    expect(mixed.stdout).toMatch(/^bert-finetune\s+2\s/m)
    const estimate = wattprint('estimate', '--from', foreign)
    expect(estimate.status).toBe(2)
    expect(estimate.stderr).toContain('not a wattprint or CodeCarbon file')
  })

  it("reads a file under wattprint's earlier header, and one saved with CRLF line ends", () => {
    const dir = tempDir()
    const legacy = join(dir, 'legacy.csv')
    const columns = LEGACY_CSV_COLUMNS
    const cells = (run: string) =>
      columns.map((c) =>
        c === 'timestamp'
          ? '2026-11-01T00:00:00.000Z'
          : c === 'run_id'
            ? run
            : c === 'project_name'
              ? "'old"
              : c === 'energy_consumed'
                ? '0.5'
                : c === 'node_version'
                  ? '22.1.0'
                  : '',
      )
    writeFileSync(
      legacy,
      formatCsvLine(columns, '\n') + formatCsvLine(cells('a'), '\n') + formatCsvLine(cells('b'), '\n'),
    )
    const old = JSON.parse(wattprint('report', legacy, '--json').stdout) as {
      groups: { key: string; runs: number }[]
    }
    // Written before neutralisation existed: a leading ' is part of the name there.
    expect(old.groups).toMatchObject([{ key: "'old", runs: 2 }])

    const crlf = join(dir, 'crlf.csv')
    writeFileSync(crlf, readFileSync(wattprintCsv(dir), 'utf8').split('\n').slice(0, 6).join('\r\n'))
    const json = JSON.parse(wattprint('report', crlf, '--json').stdout) as {
      total: { runs: number }
      skipped: string[]
    }
    expect(json.total.runs).toBe(3)
    expect(json.skipped).toEqual([])
  })
})

describe('the terminal table', () => {
  it('shows control characters in names as escapes, never sends them to the terminal', () => {
    const dir = tempDir()
    const path = join(dir, 'emissions.csv')
    writeFileSync(path, CSV_HEADER + recordToLine(sampleRecord({ projectName: 'a\rb\x1b[2J\x9b' })))
    const run = wattprint('report', path)
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('a\\rb\\u001b[2J\\u009b')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
    expect(run.stdout.replaceAll('\n', '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
  })
})
/** A box of an SVG text, in the SVG's units (getBBox). */
interface Box {
  text: string
  x: number
  y: number
  width: number
  height: number
}

interface Layout {
  pageWidth: number
  charts: {
    caption: string
    scale: number
    viewWidth: number
    viewHeight: number
    yTicks: number[]
    xLabels: Box[]
    texts: Box[]
    values: number
    bars: number
  }[]
}

// Measures the visible charts in the page (the report draws each at several widths, shows one).
const MEASURE = `(() => {
  const box = (t) => { const b = t.getBBox(); return { text: t.textContent, x: b.x, y: b.y, width: b.width, height: b.height } }
  const charts = [...document.querySelectorAll('figure')]
    .filter((f) => f.querySelector('svg') && f.getBoundingClientRect().height > 0)
    .map((f) => {
      const svg = f.querySelector('svg')
      const view = svg.viewBox.baseVal
      const texts = [...svg.querySelectorAll('text')]
      return {
        caption: f.querySelector('figcaption').textContent,
        scale: svg.getBoundingClientRect().width / view.width,
        viewWidth: view.width,
        viewHeight: view.height,
        yTicks: texts.filter((t) => t.classList.contains('y')).map((t) => parseFloat(t.textContent)).sort((a, b) => a - b),
        xLabels: texts.filter((t) => t.classList.contains('tick') && !t.classList.contains('y')).map(box).sort((a, b) => a.x - b.x),
        texts: texts.map(box),
        values: texts.filter((t) => t.classList.contains('value')).length,
        bars: new Set([...svg.querySelectorAll('rect')].map((r) => r.getAttribute('x'))).size,
      }
    })
  return { pageWidth: document.documentElement.scrollWidth, charts }
})()`

/** 1, 2 or 5 × 10ⁿ. */
function isNice(step: number): boolean {
  if (!(step > 0)) return false
  const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9)
  return [1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6)
}

/**
 * `count` runs, 37 minutes apart from 1 November, of varied sizes, some without a GPU; each with an
 * 80 % interval (0.85 to 1.2 × its figures, drawn as an error bar) but every fourth, as an older row.
 */
function manyRuns(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const cpu = 0.002 + (i % 7) * 0.0011
    const gpu = i % 3 ? 0.01 + (i % 5) * 0.004 : 0
    const ram = 0.0008
    const [kWh, kg] = [cpu + gpu + ram, (cpu + gpu + ram) * 0.3]
    const interval =
      i % 4 === 3
        ? {
            energyLowKWh: undefined,
            energyHighKWh: undefined,
            emissionsLowKg: undefined,
            emissionsHighKg: undefined,
          }
        : {
            energyLowKWh: kWh * 0.85,
            energyHighKWh: kWh * 1.2,
            emissionsLowKg: kg * 0.85,
            emissionsHighKg: kg * 1.2,
          }
    const part = (energyKWh: number) => ({ energyKWh, lowKWh: energyKWh, highKWh: energyKWh, powerW: 1 })
    return sampleRecord({
      runId: `run-${i}`,
      projectName: `project-${i % 3}`,
      timestamp: new Date(Date.UTC(2026, 10, 1, 8) + i * 37 * 60_000).toISOString(),
      durationS: 30 + (i % 11) * 40,
      energyKWh: kWh,
      emissionsKg: kg,
      ...interval,
      cpu: { ...part(cpu), source: 'rapl', method: 'measured' },
      gpu: { ...part(gpu), source: gpu > 0 ? 'nvml-energy' : null, method: gpu > 0 ? 'measured' : null },
      ram: { ...part(ram), source: 'rapl-dram', method: 'measured' },
    })
  })
}

/** A timeline of `count` samples `everyS` apart: the GPU steps up after the first tenth. */
function timelineLines(count: number, everyS: number): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      elapsedS: i * everyS,
      powerW: { cpu: 40 + (i % 7), gpu: i > count / 10 ? 250 : 60, ram: 12, total: 0 },
    }),
  ).join('\n')
}

/** Headless Chromium, closed after the test; undefined (the test skipped) where it is not installed. */
async function launchChromium(context: { skip: () => void }) {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))
  if (!chromium) {
    // CI installs chromium and sets this, so there the test cannot silently skip.
    if (process.env.WATTPRINT_REQUIRE_CHROMIUM) throw new Error('chromium is required here but missing')
    context.skip()
    return undefined
  }
  const { chromium: browser } = await import('playwright-core')
  const instance = await browser.launch({ executablePath: chromium, args: ['--no-sandbox'] })
  onCleanup(() => void instance.close())
  return instance
}

describe('the HTML report charts', () => {
  it('draws each run of a timeline that several runs appended to as its own line, not one zigzag', async () => {
    const { powerChart } = await import('../src/cli/report/charts.js')
    const samples = [0, 1, 2, 0, 1, 2, 3].map((elapsedS) => ({ elapsedS, cpuW: 10, gpuW: 0, ramW: 5 }))
    const chart = powerChart({ file: 't.jsonl', samples }, 720)
    // Two runs × the two components that drew anything; every line only goes forwards in time.
    const lines = [...chart.svg.matchAll(/<polyline points="([^"]+)"/g)].map((m) =>
      (m[1] ?? '').split(' ').map((p) => Number(p.split(',')[0])),
    )
    expect(lines).toHaveLength(4)
    for (const xs of lines) expect(xs).toEqual([...xs].sort((a, b) => a - b))
    expect(chart.caption).toContain('2 runs')
    expect(powerChart({ file: 't.jsonl', samples: samples.slice(0, 3) }, 720).caption).toBe(
      'Power over time: t.jsonl',
    )
  })

  it('labels runs of one minute with their seconds, so no two bars read alike', async () => {
    const { runsChart } = await import('../src/cli/report/charts.js')
    const runs = manyRuns(3).map((r, i) => ({ ...r, timestamp: `2026-12-01T09:43:${10 + i * 5}.000Z` }))
    const { readEmissionsCsv } = await import('../src/cli/report/read.js')
    const dir = tempDir()
    writeFileSync(join(dir, 'e.csv'), CSV_HEADER + runs.map((r) => recordToLine(r)).join(''))
    const labels = [
      ...runsChart(readEmissionsCsv(join(dir, 'e.csv')).runs, 1050).svg.matchAll(
        /class="tick">(\d\d:[^<]+)</g,
      ),
    ].map((m) => m[1])
    expect(labels).toEqual(['09:43:10', '09:43:15', '09:43:20'])
  })
})
