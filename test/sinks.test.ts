import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { Registry } from 'prom-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { otelSink } from '../src/sinks/otel.js'
import { prometheusSink } from '../src/sinks/prometheus.js'
import { EmissionsTracker } from '../src/tracker.js'
import type { TrackerWarning } from '../src/warnings.js'
import { readCsv } from './helpers/csv.js'
import { freePort, havePrometheus, type PrometheusStack, startPrometheusStack } from './helpers/prometheus.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-sinks-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const base = {
  logLevel: 'silent' as const,
  carbonIntensity: 200,
  intervalMs: 100,
  sampling: 'inline' as const,
}

/** Polls `check` until it returns a value, or fails after `ms`. */
async function eventually<T>(check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(250)
  }
}

// CI installs prometheus and prometheus-pushgateway and sets WATTPRINT_REQUIRE_PROMETHEUS: there these
// tests cannot silently skip.
const real = havePrometheus()
if (!real && process.env.WATTPRINT_REQUIRE_PROMETHEUS)
  throw new Error('prometheus and prometheus-pushgateway are required')

describe.skipIf(!real)('Prometheus, against a real Prometheus and Pushgateway', () => {
  let stack: PrometheusStack
  let sinkPort: number
  beforeAll(async () => {
    sinkPort = await freePort()
    stack = await startPrometheusStack([`127.0.0.1:${sinkPort}`])
  }, 60_000)
  afterAll(async () => stack?.stop())

  it('serves /metrics on 127.0.0.1, named and labelled the Prometheus way, and Prometheus scrapes it', async () => {
    const dir = tempDir()
    const sink = prometheusSink({ port: sinkPort })
    const tracker = new EmissionsTracker({
      ...base,
      outputDir: dir,
      projectName: 'scraped',
      runId: 'r-1',
      sinks: [sink],
    })
    await tracker.start()
    expect(sink.url).toBe(`http://127.0.0.1:${sinkPort}/metrics`)
    await sleep(500)
    const text = await (await fetch(sink.url ?? '')).text()
    expect(text).toContain(
      '# HELP wattprint_energy_joules_total Energy drawn since the run started, by component',
    )
    expect(text).toContain('# TYPE wattprint_energy_joules_total counter')
    const ram = text
      .split('\n')
      .find((l) => l.startsWith('wattprint_power_watts{') && l.includes('component="ram"'))
    expect(ram).toMatch(/project="scraped",experiment="",run_id="r-1".*\} \d/)
    expect(text).toContain(
      'wattprint_carbon_intensity_grams_per_kwh{project="scraped",experiment="",run_id="r-1"} 200',
    )
    const scraped = await eventually(async () => {
      const result = await stack.query('wattprint_power_watts{job="direct",component="ram"}')
      return result.length > 0 ? result : undefined
    })
    expect(Number(scraped[0]?.value[1])).toBeGreaterThan(0)
    await tracker.stop()
  }, 60_000)

  it('several machines push to one Pushgateway; the PromQL sum of their energy equals the sum of their rows', async () => {
    const dir = tempDir()
    const script = `
      import { EmissionsTracker, prometheusSink } from ${JSON.stringify(resolve('dist/index.js'))}
      const machine = process.argv[1]
      const tracker = new EmissionsTracker({
        outputDir: ${JSON.stringify(dir)}, logLevel: 'silent', carbonIntensity: 200, intervalMs: 100,
        projectName: 'fleet', runId: 'run-' + machine,
        sinks: [prometheusSink({ pushgateway: { url: ${JSON.stringify(stack.pushgatewayUrl)}, job: 'wattprint',
          groupingLabels: { instance: 'machine-' + machine }, intervalMs: 300 } })],
      })
      await tracker.start()
      await new Promise((r) => setTimeout(r, 800 + 300 * Number(machine)))
      await tracker.stop()`
    await Promise.all(
      [0, 1, 2].map(
        (n) =>
          new Promise<void>((done, fail) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, String(n)], {
              stdio: 'inherit',
            })
            child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`machine ${n} exited ${code}`))))
          }),
      ),
    )
    const rows = readCsv(join(dir, 'emissions.csv'))
    expect(rows).toHaveLength(3)
    const csvJoules = rows.reduce((sum, r) => sum + Number(r.energy_consumed) * 3.6e6, 0)
    const csvGrams = rows.reduce((sum, r) => sum + Number(r.emissions) * 1000, 0)
    let seen = ''
    const promJoules = await eventually(async () => {
      seen = JSON.stringify(await stack.query('wattprint_energy_joules_total{project="fleet"}'))
      const instances = await stack.query(
        'count(count by (instance) (wattprint_energy_joules_total{job="wattprint",project="fleet"}))',
      )
      if (Number(instances[0]?.value[1]) !== 3) return undefined
      const sum = await stack.query('sum(wattprint_energy_joules_total{job="wattprint",project="fleet"})')
      const value = Number(sum[0]?.value[1])
      return Math.abs(value / csvJoules - 1) < 1e-9 ? value : undefined
    }).catch((error: Error) => {
      throw new Error(`${error.message}; CSV ${csvJoules} J; Prometheus has ${seen}`)
    })
    expect(promJoules / csvJoules).toBeCloseTo(1, 9)
    const grams = await stack.query('sum(wattprint_emissions_grams_total{job="wattprint",project="fleet"})')
    expect(Number(grams[0]?.value[1]) / csvGrams).toBeCloseTo(1, 9)
  }, 60_000)
})

describe('Prometheus sink without a server', () => {
  it('registers into your own registry', async () => {
    const registry = new Registry()
    const tracker = new EmissionsTracker({
      ...base,
      saveToFile: false,
      sinks: [prometheusSink({ registry })],
    })
    await tracker.start()
    await sleep(300)
    const record = await tracker.stop()
    const energy = await registry.getSingleMetricAsString('wattprint_energy_joules_total')
    const total = [...energy.matchAll(/ (\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/gm)].reduce(
      (s, m) => s + Number(m[1]),
      0,
    )
    expect(total / (record.energyKWh * 3.6e6)).toBeCloseTo(1, 9)
  })

  it('warns once when the Pushgateway cannot be reached, and the run goes on', async () => {
    const dir = tempDir()
    const port = await freePort()
    const warnings: TrackerWarning[] = []
    const tracker = new EmissionsTracker({
      ...base,
      outputDir: dir,
      sinks: [prometheusSink({ pushgateway: { url: `http://127.0.0.1:${port}`, intervalMs: 100 } })],
    })
    tracker.on('warning', (w) => warnings.push(w))
    await tracker.start()
    await sleep(500)
    const record = await tracker.stop()
    expect(warnings.filter((w) => w.code === 'SINK_FAILED')).toHaveLength(1)
    expect(warnings.find((w) => w.code === 'SINK_FAILED')?.message).toContain(`127.0.0.1:${port}`)
    expect(record.status).toBe('finished')
    expect(readCsv(join(dir, 'emissions.csv'))).toHaveLength(1)
  })

  it('refuses what is not a sink, and a sink that throws never stops the run', async () => {
    expect(() => new EmissionsTracker({ ...base, saveToFile: false, sinks: [{} as never] })).toThrow(
      /must be sinks made by/,
    )
    const warnings: TrackerWarning[] = []
    const broken = {
      name: 'broken',
      start: () => {},
      sample: () => {
        throw new Error('boom')
      },
    }
    const tracker = new EmissionsTracker({ ...base, saveToFile: false, sinks: [broken] })
    tracker.on('warning', (w) => warnings.push(w))
    await tracker.start()
    await sleep(300)
    expect((await tracker.stop()).status).toBe('finished')
    expect(warnings.filter((w) => w.code === 'SINK_FAILED').map((w) => w.message)).toEqual([
      'The broken sink failed at sample: boom.',
    ])
  })
})

describe('Prometheus sink: the footprint', () => {
  it('sets embodied emissions and water from the final record, and leaves an unknown one out', async () => {
    const known = prometheusSink()
    const tracker = new EmissionsTracker({
      ...base,
      saveToFile: false,
      runId: 'fp-1',
      embodied: { kgCO2e: 1000, share: 0.5 },
      wue: 0.2,
      sinks: [known],
    })
    await tracker.start()
    await sleep(300)
    const record = await tracker.stop()
    const text = (await known.registry?.metrics()) ?? ''
    const value = (name: string) =>
      Number(new RegExp(`^${name}\\{[^}]*run_id="fp-1"\\} (\\S+)$`, 'm').exec(text)?.[1])
    expect(
      value('wattprint_embodied_emissions_grams') / ((record.embodiedEmissionsKg ?? 0) * 1000),
    ).toBeCloseTo(1, 9)
    expect(record.embodiedEmissionsKg).toBeGreaterThan(0)
    expect(value('wattprint_water_litres') / (record.waterConsumedL ?? 0)).toBeCloseTo(1, 9)
    // No cloud instance type and no water figure (Google publishes no WUE, and WRI's table has no factor
    // for Singapore): no sample, not a zero.
    const unknown = prometheusSink()
    const other = new EmissionsTracker({
      ...base,
      saveToFile: false,
      runId: 'fp-2',
      cloudProvider: 'gcp',
      cloudRegion: 'asia-southeast1',
      sinks: [unknown],
    })
    await other.start()
    await sleep(200)
    const otherRecord = await other.stop()
    expect(otherRecord.embodiedEmissionsKg).toBeNull()
    expect(otherRecord.waterConsumedL).toBeNull()
    const none = (await unknown.registry?.metrics()) ?? ''
    expect(none).toContain('# TYPE wattprint_embodied_emissions_grams gauge')
    expect(none).not.toMatch(/^wattprint_embodied_emissions_grams\{/m)
    expect(none).not.toMatch(/^wattprint_water_litres\{/m)
  })
})

describe('OpenTelemetry sink', () => {
  it('reports energy, emissions, power and intensity as observable instruments', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })
    const provider = new MeterProvider({ readers: [reader] })
    cleanups.push(() => void provider.shutdown())
    const tracker = new EmissionsTracker({
      ...base,
      saveToFile: false,
      runId: 'otel-1',
      embodied: { kgCO2e: 1500 },
      waterIntensity: 2,
      sinks: [otelSink({ meter: provider.getMeter('test') })],
    })
    await tracker.start()
    const spans = [tracker.request('/a'), tracker.request('/a'), tracker.request('/b')]
    await sleep(400)
    spans[0]?.end({ tokensIn: 3, tokensOut: 7 })
    spans[1]?.end({ tokensOut: 5 })
    spans[2]?.end()
    const requests = await Promise.all(spans.map((s) => s.settled))
    const record = await tracker.stop()
    await reader.forceFlush()
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
    const byName = (name: string) => metrics.filter((m) => m.descriptor.name === name).at(-1)
    const energy = byName('wattprint.energy')
    expect(energy?.descriptor.unit).toBe('J')
    const joules = (energy?.dataPoints ?? []).reduce((s, p) => s + Number(p.value), 0)
    expect(joules / (record.energyKWh * 3.6e6)).toBeCloseTo(1, 9)
    expect(energy?.dataPoints[0]?.attributes).toMatchObject({ 'wattprint.run_id': 'otel-1' })
    expect(
      Number(byName('wattprint.emissions')?.dataPoints[0]?.value) / (record.emissionsKg * 1000),
    ).toBeCloseTo(1, 9)
    expect(byName('wattprint.carbon_intensity')?.dataPoints[0]?.value).toBe(200)
    const power = byName('wattprint.power')?.dataPoints.find((p) => p.attributes.component === 'ram')
    expect(Number(power?.value)).toBeGreaterThan(0)
    const embodied = byName('wattprint.embodied_emissions')?.dataPoints[0]?.value
    expect(Number(embodied) / ((record.embodiedEmissionsKg ?? 0) * 1000)).toBeCloseTo(1, 9)
    expect(Number(byName('wattprint.water')?.dataPoints[0]?.value)).toBeCloseTo(record.energyKWh * 2, 12)
    // The request histogram holds each route's spans, their energies summed exactly.
    const histogram = byName('wattprint.request.energy')
    expect(histogram?.descriptor.unit).toBe('J')
    const route = (name: string) =>
      histogram?.dataPoints.find((p) => p.attributes['wattprint.route'] === name)?.value as
        | { count: number; sum: number }
        | undefined
    expect(route('/a')?.count).toBe(2)
    expect(route('/a')?.sum).toBeCloseTo((requests[0]?.energyJ ?? 0) + (requests[1]?.energyJ ?? 0), 12)
    expect(route('/b')?.sum).toBeCloseTo(requests[2]?.energyJ ?? 0, 12)
    const tokens = byName('wattprint.tokens')?.dataPoints.map((p) => [
      p.attributes['wattprint.direction'],
      p.value,
    ])
    expect(tokens).toEqual([
      ['input', 3],
      ['output', 12],
    ])
  })
})
