import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerOptions } from '../src/config/options.js'
import type { TrackerWarning } from '../src/core/warnings.js'
import { clearLiveCache } from '../src/intensity/live.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { readCsv } from './helpers/csv.js'
import { startServer, type TestServer } from './helpers/http-server.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  clearLiveCache()
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-intensity-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args)
  cleanups.push(() => s.close())
  return s
}

/** A short run on the CPU estimate (no powercap tree), inline, writing its row to a fresh folder. */
async function run(
  options: TrackerOptions,
): Promise<{ row: Record<string, string>; warnings: TrackerWarning[] }> {
  const outputDir = tempDir()
  const tracker = new EmissionsTracker({
    logLevel: 'silent',
    outputDir,
    raplRoot: join(outputDir, 'no-powercap'),
    sampling: 'inline',
    intervalMs: 50,
    ...options,
  })
  const warnings: TrackerWarning[] = []
  tracker.on('warning', (w) => warnings.push(w))
  await tracker.start()
  await new Promise((r) => setTimeout(r, 200))
  await tracker.stop()
  const [row] = readCsv(join(outputDir, 'emissions.csv'))
  if (!row) throw new Error('no row written')
  return { row, warnings }
}

describe('location and intensity in the row', () => {
  it('writes the cloud, the zone and the source of the figure', async () => {
    const { row } = await run({ cloudProvider: 'aws', cloudRegion: 'eu-north-1' })
    expect(row).toMatchObject({
      country_name: 'Sweden',
      country_iso_code: 'SWE',
      region: 'SE-SE3',
      cloud_provider: 'aws',
      cloud_region: 'eu-north-1',
      on_cloud: 'Y',
      carbon_intensity: '20',
      intensity_source: 'electricitymaps-yearly-2025:SE-SE3',
    })
  })

  it('writes on_cloud N and an Ember source for a country without a zone of its code', async () => {
    const { row } = await run({ country: 'CHL' })
    expect(row).toMatchObject({ country_iso_code: 'CHL', region: '', cloud_provider: '', on_cloud: 'N' })
    expect(row.intensity_source).toBe('ember:CHL')
  })

  it('labels a time-zone guess on the row', async () => {
    const before = process.env.TZ
    process.env.TZ = 'Europe/Berlin'
    cleanups.push(() => {
      if (before === undefined) delete process.env.TZ
      else process.env.TZ = before
    })
    const { row, warnings } = await run({})
    expect(row.intensity_source).toBe('timezone-guess:Europe/Berlin:electricitymaps-yearly-2025:DE')
    expect(row.country_iso_code).toBe('DEU')
    expect(warnings.map((w) => w.code)).toContain('LOCATION_GUESSED')
  })

  it('writes the live source and its figure', async () => {
    let answers = 0
    const api = await server({
      '/v3/carbon-intensity/latest': () => {
        answers += 1
        return answers === 1
          ? { body: { zone: 'FR', carbonIntensity: 44, datetime: new Date().toISOString() } }
          : { status: 503, body: { message: 'down' } }
      },
    })
    const { row } = await run({ zone: 'FR', electricityMapsToken: 'tok', electricityMapsUrl: api.url })
    expect(row.intensity_source).toBe('live:electricitymaps:FR')
    expect(Number(row.carbon_intensity)).toBeCloseTo(44, 9)
    expect(row.region).toBe('FR')
  })
})

describe('the Electricity Maps token', () => {
  it('appears in no log line, warning, error, record, checkpoint, config print or CSV', async () => {
    const token = 'tok-9f8e7d6c5b4a-SECRET'
    let calls = 0
    const api = await server({
      '/v3/carbon-intensity/latest': (request) => {
        calls += 1
        if (request.headers['auth-token'] !== token)
          return { status: 401, body: { message: 'Invalid auth-token' } }
        return calls === 1
          ? { body: { zone: 'DE', carbonIntensity: 300, datetime: new Date().toISOString() } }
          : { status: 401, body: { message: `token ${token} expired` } }
      },
    })
    const outputDir = tempDir()
    const child = join(outputDir, 'child.mjs')
    const entry = resolve('dist/index.js')
    const script = `
      import { inspect } from 'node:util'
      import { EmissionsTracker } from ${JSON.stringify(entry)}
      import { readFileSync } from 'node:fs'
      const base = { logLevel: 'debug', outputDir: ${JSON.stringify(outputDir)}, zone: 'DE', sampling: 'inline',
        intervalMs: 50, checkpointIntervalMs: 100, electricityMapsUrl: process.env.API }
      // The second asks about another zone: the first's answer is cached for the hour.
      for (const extra of [{}, { electricityMapsToken: 'not-the-token', zone: 'FR' }]) {
        const tracker = new EmissionsTracker({ ...base, ...extra })
        tracker.on('warning', (w) => console.log('warning', JSON.stringify(w)))
        tracker.on('error', (e) => console.log('error', JSON.stringify(e)))
        await tracker.start()
        await new Promise((r) => setTimeout(r, 150))
        console.log('checkpoint', readFileSync(${JSON.stringify(outputDir)} + '/.wattprint/' + tracker.runId + '.json', 'utf8'))
        await tracker.flush()
        const record = await tracker.stop()
        console.log(JSON.stringify(record), inspect(record, { depth: 9 }))
        console.log(inspect(tracker.config), JSON.stringify(tracker.config), String(tracker.config.electricityMapsToken))
      }
      try { new EmissionsTracker({ electricityMapsToken: 42 }) } catch (e) { console.log(e.message) }
      process.env.WATTPRINT_INTENSITY_TIMEOUT_MS = 'x'
      try { new EmissionsTracker() } catch (e) { console.log(e.message, inspect(e)) }
    `
    writeFileSync(child, script)
    const output = await new Promise<string>((done, fail) => {
      const proc = spawn(process.execPath, [child], {
        env: { ...process.env, API: api.url, WATTPRINT_ELECTRICITYMAPS_TOKEN: token, TZ: 'UTC' },
      })
      let text = ''
      proc.stdout.on('data', (d) => (text += d))
      proc.stderr.on('data', (d) => (text += d))
      proc.on('error', fail)
      proc.on('close', (code) => (code === 0 ? done(text) : fail(new Error(`child exited ${code}: ${text}`))))
    })
    const csv = readFileSync(join(outputDir, 'emissions.csv'), 'utf8')
    // The runs did what they should: the token was sent, used, and the refused one was reported.
    expect(api.requests[0]?.headers['auth-token']).toBe(token)
    expect(output).toContain('live:electricitymaps:DE')
    expect(output).toContain('HTTP 401')
    expect(output).toContain('[redacted]')
    expect(output).toContain('not shown')
    expect(output).toContain('checkpoint {"format":1')
    expect(csv.split('\n').length).toBeGreaterThan(4)
    // … and the token is nowhere.
    expect(output).not.toContain(token)
    expect(output).not.toContain('not-the-token')
    expect(csv).not.toContain(token)
    expect(csv).not.toContain('not-the-token')
  })
})
