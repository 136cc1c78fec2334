import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CSV_HEADER, recordToLine } from '../src/output/csv/sink.js'
import { ukForecastServer, wattprintAsync as wattprint } from './helpers/forecast-server.js'
import { startServer, type TestServer } from './helpers/http-server.js'
import { sampleRecord } from './helpers/records.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
const track = <T extends { close(): Promise<void> }>(s: T): T => {
  cleanups.push(() => s.close())
  return s
}

const HALF_HOUR = 1_800_000
const halfHour = (ms: number) => Math.floor(ms / HALF_HOUR) * HALF_HOUR
/** 48 half-hours from the current one: 300 g/kWh, but 60 from the 6th to the 9th (two hours, 2–4 h ahead). */
const dayAhead = (nowMs: number) =>
  Array.from({ length: 48 }, (_, k) => ({
    fromMs: halfHour(nowMs) + k * HALF_HOUR,
    toMs: halfHour(nowMs) + (k + 1) * HALF_HOUR,
    g: k >= 6 && k < 10 ? 60 : 300,
  }))

describe('wattprint when', () => {
  it('prints the best start, the means, the saving and a chart with the window marked', async () => {
    const api = track(await ukForecastServer(dayAhead))
    const env = { WATTPRINT_UK_CARBON_INTENSITY_URL: api.url }
    const run = await wattprint(
      [
        'when',
        '--duration',
        '2h',
        '--within',
        '12h',
        '--uk-carbon-intensity',
        'national',
        '--energy',
        '10kWh',
      ],
      env,
    )
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const start = new Date(halfHour(Date.now()) + 6 * HALF_HOUR).toISOString().slice(0, 19)
    expect(run.stdout).toContain(`(${start}Z)`)
    expect(run.stdout).toMatch(/2\.00 h at 60 g CO2e\/kWh on average; started now: 300 g\/kWh; 80\.0 % less/)
    // 10 kWh: 0.6 kg instead of 3 kg.
    expect(run.stdout).toContain('for 10.000 kWh: 600.00 g CO2e instead of 3.000 kg, 2.400 kg less')
    expect(run.stdout).toMatch(/━{6,}/)
    expect(run.stdout).toContain('source: forecast:uk-carbon-intensity')

    const json = await wattprint(
      ['when', '--duration', '2h', '--within', '12h', '--uk-carbon-intensity', 'national', '--json'],
      env,
    )
    const answer = JSON.parse(json.stdout) as Record<string, unknown>
    expect(answer).toMatchObject({
      start: `${start}.000Z`,
      meanGPerKWh: 60,
      nowGPerKWh: 300,
      signal: 'average',
    })
  })

  it.each([
    ['iso', (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`],
    ['slurm', (ms: number) => new Date(ms).toISOString().slice(0, 19)],
    ['at', (ms: number) => new Date(ms).toISOString().slice(0, 16).replace(/[-T:]/g, '')],
  ])('--format %s prints only the start as that scheduler takes it', async (format, expected) => {
    const api = track(await ukForecastServer(dayAhead))
    const run = await wattprint(
      [
        'when',
        '--duration',
        '1h',
        '--by',
        new Date(Date.now() + 10 * 3_600_000).toISOString(),
        '--uk-carbon-intensity',
        'national',
        '--format',
        format,
      ],
      { WATTPRINT_UK_CARBON_INTENSITY_URL: api.url },
    )
    expect(run.status).toBe(0)
    expect(run.stdout).toBe(`${expected(halfHour(Date.now()) + 6 * HALF_HOUR)}\n`)
  })

  it('takes the energy and duration of past runs with --from', async () => {
    const api = track(await ukForecastServer(dayAhead))
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-when-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'emissions.csv')
    const row = (runId: string, energyKWh: number, durationS: number) =>
      recordToLine(sampleRecord({ runId, projectName: 'train', energyKWh, durationS }))
    writeFileSync(file, CSV_HEADER + row('a', 4, 3600) + row('b', 6, 3 * 3600))
    const run = await wattprint(
      ['when', '--within', '12h', '--uk-carbon-intensity', 'national', '--from', file, '--project', 'train'],
      {
        WATTPRINT_UK_CARBON_INTENSITY_URL: api.url,
      },
    )
    expect(run.stderr).toBe('')
    expect(run.stdout).toContain(`2 run(s) of train in ${file}: 5.000 kWh, 2.00 h on average`)
    expect(run.stdout).toContain('for 5.000 kWh: 300.00 g CO2e instead of 1.500 kg')
  })

  it('ranks regions by their best window (time × region)', async () => {
    const TOKEN = 'em-t'
    const H = 3_600_000
    const hourly = (values: number[]) =>
      values.map((v, k) => ({
        carbonIntensity: v,
        datetime: new Date(Math.floor(Date.now() / H) * H + k * H).toISOString(),
      }))
    const byZone: Record<string, number[]> = {
      IE: [500, 500, 400, 450, 500, 500, 500, 500],
      'SE-SE3': [40, 30, 20, 35, 40, 40, 40, 40],
      DE: [300, 200, 100, 250, 300, 300, 300, 300],
    }
    const em: TestServer = track(
      await startServer({
        '/v3/carbon-intensity/forecast': (_r, url) => {
          const zone = url.searchParams.get('zone') ?? ''
          return byZone[zone] ? { body: { zone, forecast: hourly(byZone[zone]) } } : { status: 404, body: {} }
        },
      }),
    )
    const run = await wattprint(
      [
        'when',
        '--duration',
        '1h',
        '--within',
        '6h',
        '--region',
        'aws:eu-west-1,aws:eu-north-1',
        '--region',
        'DE',
        '--json',
      ],
      { WATTPRINT_ELECTRICITYMAPS_TOKEN: TOKEN, WATTPRINT_ELECTRICITYMAPS_URL: em.url },
    )
    expect(run.stderr).toBe('')
    const answer = JSON.parse(run.stdout) as { ranked: { region: string; meanGPerKWh: number }[] }
    expect(answer.ranked.map((r) => [r.region, r.meanGPerKWh])).toEqual([
      ['aws:eu-north-1', 20],
      ['DE', 100],
      ['aws:eu-west-1', 400],
    ])
  })

  it('says which providers would cover the place when none is set up, and exits 1', async () => {
    const run = await wattprint(['when', '--duration', '1h', '--within', '6h', '--zone', 'DE'])
    expect(run.status).toBe(1)
    expect(run.stderr).toMatch(/^wattprint when: No carbon-intensity forecast for zone DE/)
    expect(run.stderr).toContain('WATTPRINT_ELECTRICITYMAPS_TOKEN')
  })

  it.each([
    [['--within', '6h'], /needs --duration/],
    [['--duration', '1h'], /needs --within or --by/],
    [['--duration', '1h', '--within', '6h', '--by', '06:00'], /give --within or --by, not both/],
    [['--duration', '1h', '--by', 'tomorrow'], /--by "tomorrow" is not a time/],
    [['--duration', '1h', '--within', '6h', '--format', 'cron'], /--format "cron" must be iso, slurm or at/],
    [
      ['--duration', '1h', '--within', '6h', '--uk-carbon-intensity', 'Atlantis'],
      /--uk-carbon-intensity "Atlantis" is not 'national'/,
    ],
  ])('refuses %j with a usage error', async (args, message) => {
    const run = await wattprint(['when', ...args])
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(message)
  })
})
