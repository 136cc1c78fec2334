import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readCsv } from './helpers/csv.js'
import { spawnCli, ukForecastServer } from './helpers/forecast-server.js'
import { reap } from './helpers/processes.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-paused-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The UK forecast on 127.0.0.1, slots relative to the test's T0: [from s, to s, g/kWh]. */
async function forecastOf(t0: number, spec: [number, number, number][]) {
  const api = await ukForecastServer(() =>
    spec.map(([a, b, g]) => ({ fromMs: t0 + a * 1000, toMs: t0 + b * 1000, g })),
  )
  cleanups.push(() => api.close())
  return api
}

/** `wattprint run -o dir --uk-carbon-intensity national <flags> -- node -e <job>`, fixed intensity for the row. */
function start(dir: string, url: string, flags: string[], job: string) {
  const run = spawnCli(
    ['run', '-o', dir, '--uk-carbon-intensity', 'national', '--interval', '100ms', ...flags, '--'].concat([
      process.execPath,
      '-e',
      job,
    ]),
    {
      WATTPRINT_UK_CARBON_INTENSITY_URL: url,
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
      WATTPRINT_RAPL_ROOT: join(dir, 'none'),
      WATTPRINT_CPU_POWER_W: '50',
    },
  )
  cleanups.push(() => reap(run.child.pid))
  return run
}

/** A job of `ticks` × 100 ms of running time that leaves a file when it is done. */
const job = (done: string, ticks: number) =>
  `let n = 0; setInterval(() => { if (++n >= ${ticks}) { require('fs').writeFileSync(${JSON.stringify(done)}, 'x'); process.exit(0) } }, 100)`

describe('--pause-above: the time and energy of a pause are not the command’s', () => {
  it('--max-duration counts the time the command ran, not the time wattprint held it paused', async () => {
    const dir = tempDir()
    const done = join(dir, 'done')
    // Above 300 until the deadline (4 s): paused from its start to the deadline, then its 1.5 s of work.
    const api = await forecastOf(Date.now(), [[-1, 60, 500]])
    const run = start(
      dir,
      api.url,
      ['--within', '4s', '--pause-above', '300', '--max-duration', '4s'],
      job(done, 15),
    )
    const { status } = await run.done
    const { stderr } = run.out()
    // Before: "Budget crossed: the duration 4.0 s", and the job killed before its work was done.
    expect(stderr).not.toContain('Budget crossed')
    expect(status, stderr).toBe(0)
    expect(existsSync(done)).toBe(true)
    const [row] = readCsv(join(dir, 'emissions.csv'))
    expect(row?.status).toBe('finished')
    const pausedS = Number(row?.paused_duration)
    expect(pausedS).toBeGreaterThan(1)
    // The run lasted longer than the budget; its command ran less.
    expect(Number(row?.duration)).toBeGreaterThan(4)
    expect(Number(row?.duration) - pausedS).toBeLessThan(4)
  }, 60_000)

  it('--count-paused counts the pause too, as asked; the command is continued to act on the budget’s SIGTERM', async () => {
    const dir = tempDir()
    const done = join(dir, 'done')
    // Paused until a 20 s deadline; the 3 s budget runs out while it is paused.
    const api = await forecastOf(Date.now(), [[-1, 60, 500]])
    const run = start(
      dir,
      api.url,
      ['--within', '20s', '--pause-above', '300', '--max-duration', '3s', '--count-paused'],
      job(done, 15),
    )
    const { status } = await run.done
    const { stderr } = run.out()
    expect(stderr).toMatch(/Budget crossed: the duration \d+\.\d s reached the limit of 3\.0 s\./)
    expect(stderr).toContain('wattprint: resumed the command (the budget was crossed)\n')
    expect(status).toBe(128 + 15)
    expect(existsSync(done)).toBe(false)
    expect(readCsv(join(dir, 'emissions.csv'))[0]?.status).toBe('budget-exceeded')
  }, 60_000)

  it('refuses --count-paused without --pause-above, saying why', async () => {
    const run = start(tempDir(), 'http://127.0.0.1:9', ['--count-paused'], '0')
    expect((await run.done).status).toBe(2)
    expect(run.out().stderr).toBe(
      'wattprint run: --count-paused needs --pause-above: without it, nothing is paused.\n',
    )
  })

  it('the counterfactual prices the draw while paused as the run does: pausing in dirty hours is a saving', async () => {
    const dir = tempDir()
    const done = join(dir, 'done')
    const t0 = Date.now()
    // 400 and 100 g/kWh by turns, 2 s each, from 400 now: the run starts in the first 100, pauses in each 400.
    const slots: [number, number, number][] = []
    for (let s = -1; s < 60; s += 2) slots.push([s, s + 2, slots.length % 2 === 0 ? 400 : 100])
    const api = await forecastOf(t0, slots)
    const run = start(dir, api.url, ['--within', '1m', '--pause-above', '300'], job(done, 30))
    const { status } = await run.done
    const { stderr } = run.out()
    expect(status, stderr).toBe(0)
    const [row] = readCsv(join(dir, 'emissions.csv'))
    expect(Number(row?.paused_duration)).toBeGreaterThan(0.5)
    const asRunKg = Number(row?.energy_consumed) * (Number(row?.forecast_intensity) / 1000)
    const atOnceKg = Number(row?.counterfactual_emissions)
    // Its work moved out of the 400 slots: a saving. Before, the machine's draw while paused was priced on
    // the run's side only ("28.18 mg instead of 12.98 mg (-15.20 mg saved)").
    expect(atOnceKg).toBeGreaterThan(asRunKg)
    expect(stderr).toMatch(/instead of .* had it started at once \((?!-)[^)]* saved\)/)
  }, 60_000)
})
