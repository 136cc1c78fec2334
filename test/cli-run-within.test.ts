import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { planStart } from '../src/cli/run/schedule.js'
import { readCsv } from './helpers/csv.js'
import { spawnCli, ukForecastServer } from './helpers/forecast-server.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-within-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Slots relative to the test's T0 (ms): [from s, to s, g/kWh]; the same answer at every request. */
async function forecastOf(t0: number, spec: [number, number, number][]) {
  const api = await ukForecastServer(() =>
    spec.map(([a, b, g]) => ({ fromMs: t0 + a * 1000, toMs: t0 + b * 1000, g })),
  )
  cleanups.push(() => api.close())
  return api
}

/** `wattprint run …` in the background, the UK forecast at `url`, fixed intensity for the row. */
const start = (dir: string, url: string, args: string[], env: Record<string, string> = {}) =>
  spawnCli(['run', '--output', dir, '--uk-carbon-intensity', 'national', ...args], {
    WATTPRINT_UK_CARBON_INTENSITY_URL: url,
    WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
    WATTPRINT_RAPL_ROOT: join(dir, 'none'),
    WATTPRINT_CPU_POWER_W: '50',
    ...env,
  })
const node = (code: string) => ['--', process.execPath, '-e', code]

describe('wattprint run --within', () => {
  it('waits for the best slot, a few seconds ahead, and records what starting at once would have emitted', async () => {
    const dir = tempDir()
    const t0 = Date.now()
    // 400 g/kWh now, 100 from 3 s to 8 s, 400 after: the run waits for T0 + 3 s.
    const api = await forecastOf(t0, [
      [-1, 3, 400],
      [3, 8, 100],
      [8, 60, 400],
    ])
    const run = start(
      dir,
      api.url,
      ['--within', '50s', '--duration', '1s', ...node('console.log(Date.now())')],
      {
        WATTPRINT_FORECAST_REFRESH_MS: '500',
      },
    )
    const { status } = await run.done
    const { stdout, stderr } = run.out()
    expect(status, stderr).toBe(0)
    const startedMs = Number(stdout.trim())
    expect(startedMs).toBeGreaterThanOrEqual(t0 + 3000)
    expect(startedMs).toBeLessThan(t0 + 6000)
    expect(stderr).toMatch(
      /wattprint: waiting \d+\.\d s to start at \d\d:\d\d, forecast 100 g\/kWh \(now 400\)/,
    )
    // The forecast was asked for again while waiting (every 0.5 s here).
    expect(api.forecastRequests()).toBeGreaterThanOrEqual(3)
    const [row] = readCsv(join(dir, 'emissions.csv'))
    // The slot's start, or a re-plan's "now" a few milliseconds into the slot when a forecast refresh lands
    // there on a busy machine; never before the slot, never after the command started.
    const plannedMs = Date.parse(row?.planned_start ?? '')
    expect(plannedMs).toBeGreaterThanOrEqual(t0 + 3000)
    expect(plannedMs).toBeLessThanOrEqual(startedMs)
    expect(Number(row?.forecast_intensity)).toBeCloseTo(100, 9)
    expect(row?.forecast_source).toBe('forecast:uk-carbon-intensity')
    expect(row?.paused_duration).toBe('')
    // By hand: had it started at once, its energy would all have been drawn in the 400 g/kWh slot.
    const energyKWh = Number(row?.energy_consumed)
    expect(energyKWh).toBeGreaterThan(0)
    expect(Number(row?.counterfactual_emissions)).toBeCloseTo((energyKWh * 400) / 1000, 12)
    expect(stderr).toMatch(
      /planned start \d\d:\d\d: by the forecast .* instead of .* had it started at once \(.* saved\)/,
    )
  }, 30_000)

  it('aborts cleanly on Ctrl-C while waiting: the command never runs and no row is written', async () => {
    const dir = tempDir()
    const t0 = Date.now()
    const api = await forecastOf(t0, [
      [-1, 20, 400],
      [20, 40, 50],
    ])
    const marker = join(dir, 'ran')
    const run = start(dir, api.url, [
      '--within',
      '60s',
      ...node(`require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`),
    ])
    while (!run.out().stderr.includes('waiting')) await sleep(50)
    run.child.kill('SIGINT')
    const { status } = await run.done
    expect(status).toBe(130)
    expect(run.out().stderr).toContain(
      'aborted while waiting: the command did not run and no row was written',
    )
    expect(existsSync(marker)).toBe(false)
    expect(existsSync(join(dir, 'emissions.csv'))).toBe(false)
    expect(existsSync(join(dir, '.wattprint'))).toBe(false)
  }, 30_000)

  it('--pause-above stops the command while the forecast is above it and resumes it after, counting the pause', async () => {
    const dir = tempDir()
    const t0 = Date.now()
    // Clean now; 500 g/kWh from 2 s to 5 s (paused); clean again after.
    const api = await forecastOf(t0, [
      [-1, 2, 100],
      [2, 5, 500],
      [5, 60, 100],
    ])
    const pidFile = join(dir, 'pid')
    // 40 ticks of 100 ms of running time: about 4 s running, whatever the pause.
    const job = `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); let n = 0; setInterval(() => { if (++n >= 40) process.exit(0) }, 100)`
    const run = start(dir, api.url, ['--within', '60s', '--pause-above', '300', ...node(job)])
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') await sleep(20)
    const pid = Number(readFileSync(pidFile, 'utf8'))
    // The command's state, as the kernel has it, every 20 ms until it ends: what really happened, not what
    // was due at fixed times (a busy machine lets wattprint act late).
    const seen: { atMs: number; stopped: boolean }[] = []
    const poll = setInterval(() => {
      try {
        const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0]
        seen.push({ atMs: Date.now() - t0, stopped: state === 'T' })
      } catch {}
    }, 20)
    const { status } = await run.done
    clearInterval(poll)
    expect(status, run.out().stderr).toBe(0)
    expect(run.out().stderr).toMatch(/paused the command \(forecast 500 g\/kWh\)/)
    expect(run.out().stderr).toMatch(/resumed the command \(forecast 100 g\/kWh\)/)
    // Stopped only while the forecast was above the threshold (2 s to 5 s), or a little after (the resume
    // comes at wattprint's next look at the clock), and running again before it ended.
    const stopped = seen.filter((s) => s.stopped).map((s) => s.atMs)
    expect(stopped.length).toBeGreaterThan(0)
    const firstStopMs = Math.min(...stopped)
    const lastStopMs = Math.max(...stopped)
    expect(firstStopMs).toBeGreaterThanOrEqual(1900)
    expect(lastStopMs).toBeLessThan(7000)
    expect(seen.some((s) => !s.stopped && s.atMs > lastStopMs)).toBe(true)
    // The row counts the pause the command was seen in, within the 20 ms polls (and a busy machine's lag).
    const [row] = readCsv(join(dir, 'emissions.csv'))
    const pausedS = Number(row?.paused_duration)
    expect(Math.abs(pausedS - (lastStopMs - firstStopMs) / 1000)).toBeLessThan(0.75)
    // Its 40 ticks of 100 ms ran besides the pause.
    expect(Number(row?.duration)).toBeGreaterThan(pausedS + 3.9)
  }, 30_000)

  it('--pause-above never pauses past the deadline', async () => {
    const dir = tempDir()
    const t0 = Date.now()
    // Above the threshold throughout: paused from the start, continued for good at the deadline (3 s).
    const api = await forecastOf(t0, [[-1, 60, 500]])
    const job = 'let n = 0; setInterval(() => { if (++n >= 10) process.exit(0) }, 100)'
    const run = start(dir, api.url, ['--within', '3s', '--pause-above', '300', ...node(job)])
    const { status } = await run.done
    expect(status, run.out().stderr).toBe(0)
    expect(run.out().stderr).toContain('wattprint: resumed the command (the deadline)\n')
    const [row] = readCsv(join(dir, 'emissions.csv'))
    // Paused until the deadline (3 s from the request, less the start-up), then its 1 s of work.
    expect(Number(row?.paused_duration)).toBeGreaterThan(1.5)
    expect(Number(row?.paused_duration)).toBeLessThan(3.2)
    expect(Date.now() - t0).toBeLessThan(8000)
  }, 30_000)

  it('needs a deadline for --pause-above and --max-intensity', async () => {
    const run = start(tempDir(), 'http://127.0.0.1:9', ['--pause-above', '300', ...node('0')])
    const { status } = await run.done
    expect(status).toBe(2)
    expect(run.out().stderr).toMatch(/--pause-above need\(s\) a deadline: add --within or --by/)
  })
})

describe('planStart', () => {
  const t0 = Date.UTC(2026, 11, 1)
  const H = 3_600_000
  const forecast = [300, 250, 180, 90, 300].map((g, k) => ({
    startMs: t0 + k * H,
    endMs: t0 + (k + 1) * H,
    gPerKWh: g,
    source: 'test',
  }))
  const request = {
    requestedMs: t0,
    deadlineMs: t0 + 5 * H,
    durationMs: H,
    maxIntensity: null,
    pauseAbove: null,
  }

  it('takes the cleanest window, or with --max-intensity the first moment at or below it', () => {
    expect(planStart(forecast, request, t0)).toEqual({
      startMs: t0 + 3 * H,
      expectedGPerKWh: 90,
      nowGPerKWh: 300,
    })
    expect(planStart(forecast, { ...request, maxIntensity: 200 }, t0)).toEqual({
      startMs: t0 + 2 * H,
      expectedGPerKWh: 180,
      nowGPerKWh: 300,
    })
    // Never under the cap before the last moment the job can start: it starts then (deadline − duration).
    expect(planStart(forecast, { ...request, maxIntensity: 50 }, t0).startMs).toBe(t0 + 4 * H)
  })
})
