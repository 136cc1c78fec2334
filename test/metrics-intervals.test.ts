import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import type { EmissionsRecord } from '../src/model/record.js'
import { otelSink } from '../src/output/otel.js'
import { prometheusSink } from '../src/output/prometheus.js'
import type { SinkContext } from '../src/output/sink.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { havePrometheus, startPrometheusStack } from './helpers/prometheus.js'
import { sampleRecord } from './helpers/records.js'

// The final record's 80 % intervals, the whole machine at the wall and the tracker's own cost, as the
// Prometheus and OpenTelemetry sinks export them: from a record built here (every value known), from a
// record read back from an older checkpoint (none of them: no series, no crash), and from a real run.

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

const J = 3.6e6

function context(runId: string, warnings: TrackerWarning[] = []): SinkContext {
  return {
    projectName: 'intervals',
    experimentId: 'exp-1',
    runId,
    pue: 1.2,
    warn: (warning) => warnings.push(warning),
    routeLabel: (name) => name,
  }
}

/** A record with every new figure known, the tracker's cost included (process mode). */
const fullRecord = (over: Partial<EmissionsRecord> = {}) =>
  sampleRecord({
    runId: 'full',
    trackingMode: 'process',
    trackerCpuS: 0.31,
    trackerEnergyKWh: 1.2 / J,
    ...over,
  })

/** A record as an older checkpoint gives it back: no intervals, no wall, no tracker figures. */
function oldRecord(): EmissionsRecord {
  const record: Record<string, unknown> = { ...sampleRecord({ runId: 'old' }) }
  for (const field of ['energyLowKWh', 'energyHighKWh', 'emissionsLowKg', 'emissionsHighKg', 'wall'])
    delete record[field]
  for (const component of ['cpu', 'gpu', 'ram', 'node']) {
    const { lowKWh: _low, highKWh: _high, ...rest } = record[component] as Record<string, unknown>
    record[component] = rest
  }
  return record as unknown as EmissionsRecord
}

/** The gauges the record alone sets, with the labels beyond project, experiment and run_id. */
const RECORD_SERIES = [
  'wattprint_energy_low_joules',
  'wattprint_energy_high_joules',
  'wattprint_emissions_low_grams',
  'wattprint_emissions_high_grams',
  'wattprint_wall_energy_joules',
  'wattprint_wall_energy_low_joules',
  'wattprint_wall_energy_high_joules',
  'wattprint_wall_emissions_grams',
  'wattprint_wall_emissions_low_grams',
  'wattprint_wall_emissions_high_grams',
  'wattprint_tracker_cpu_seconds',
  'wattprint_tracker_energy_joules',
] as const

interface Sample {
  readonly name: string
  readonly labels: Record<string, string>
  readonly value: number
}

/**
 * Parses the text exposition format strictly: every line is empty, a HELP, a TYPE or a sample whose label
 * values are quoted with only \\, \" and \n escaped. A line that is none of them fails the test.
 */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = []
  const lines = text.split('\n')
  expect(lines.at(-1)).toBe('')
  for (const line of lines.slice(0, -1)) {
    if (line === '') continue // between metric families, as the format allows
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* (?:[^\\\n]|\\[\\n])*$/.test(line)) continue
    if (/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (?:counter|gauge|histogram|summary|untyped)$/.test(line)) continue
    const match =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)$/.exec(
        line,
      )
    expect(match, line).not.toBeNull()
    const labels: Record<string, string> = {}
    for (const m of (match?.[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[m[1] ?? ''] = (m[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    samples.push({ name: match?.[1] ?? '', labels, value: Number(match?.[3]) })
  }
  return samples
}

/** The one sample of `name` (with `component`, when given); fails when there is not exactly one. */
function only(samples: readonly Sample[], name: string, component?: string): number {
  const found = samples.filter(
    (s) => s.name === name && (component === undefined || s.labels.component === component),
  )
  expect(found, `${name}${component ? `{component="${component}"}` : ''}`).toHaveLength(1)
  return found[0]?.value ?? Number.NaN
}

async function prometheusText(record: EmissionsRecord): Promise<string> {
  const registry = new Registry()
  const sink = prometheusSink({ registry })
  await sink.start(context(record.runId))
  await sink.stop?.(record)
  return registry.metrics()
}

describe('Prometheus sink: intervals, the wall and the tracker from the final record', () => {
  it('sets each figure, in joules, grams and seconds, labelled like the run', async () => {
    const record = fullRecord()
    const text = await prometheusText(record)
    const samples = parseExposition(text)
    for (const name of RECORD_SERIES) expect(text).toContain(`# TYPE ${name} gauge`)
    // Energy bounds by component, as the energy counter; their sums are the record's interval.
    expect(only(samples, 'wattprint_energy_low_joules', 'cpu')).toBeCloseTo(record.cpu.lowKWh * J, 9)
    expect(only(samples, 'wattprint_energy_low_joules', 'ram')).toBeCloseTo(record.ram.lowKWh * J, 9)
    expect(only(samples, 'wattprint_energy_low_joules', 'gpu')).toBe(0)
    expect(only(samples, 'wattprint_energy_high_joules', 'cpu')).toBeCloseTo(record.cpu.highKWh * J, 9)
    const sum = (name: string) =>
      samples.filter((s) => s.name === name).reduce((total, s) => total + s.value, 0)
    expect(sum('wattprint_energy_low_joules') / (record.energyLowKWh * J)).toBeCloseTo(1, 12)
    expect(sum('wattprint_energy_high_joules') / (record.energyHighKWh * J)).toBeCloseTo(1, 12)
    expect(samples.filter((s) => s.name === 'wattprint_energy_low_joules')).toHaveLength(3)
    // The interval brackets the value the counters were settled to.
    const energy = sum('wattprint_energy_joules_total')
    expect(sum('wattprint_energy_low_joules')).toBeLessThan(energy)
    expect(sum('wattprint_energy_high_joules')).toBeGreaterThan(energy)
    expect(only(samples, 'wattprint_emissions_low_grams')).toBeCloseTo(record.emissionsLowKg * 1000, 9)
    expect(only(samples, 'wattprint_emissions_high_grams')).toBeCloseTo(record.emissionsHighKg * 1000, 9)
    expect(only(samples, 'wattprint_wall_energy_joules')).toBeCloseTo(record.wall.energyKWh * J, 9)
    expect(only(samples, 'wattprint_wall_energy_low_joules')).toBeCloseTo(record.wall.lowKWh * J, 9)
    expect(only(samples, 'wattprint_wall_energy_high_joules')).toBeCloseTo(record.wall.highKWh * J, 9)
    expect(only(samples, 'wattprint_wall_emissions_grams')).toBeCloseTo(record.wall.emissionsKg * 1000, 9)
    expect(only(samples, 'wattprint_wall_emissions_low_grams')).toBeCloseTo(
      record.wall.emissionsLowKg * 1000,
      9,
    )
    expect(only(samples, 'wattprint_wall_emissions_high_grams')).toBeCloseTo(
      record.wall.emissionsHighKg * 1000,
      9,
    )
    expect(only(samples, 'wattprint_tracker_cpu_seconds')).toBe(0.31)
    expect(only(samples, 'wattprint_tracker_energy_joules')).toBeCloseTo(1.2, 12)
    for (const sample of samples.filter((s) => (RECORD_SERIES as readonly string[]).includes(s.name))) {
      expect(sample.labels).toMatchObject({ project: 'intervals', experiment: 'exp-1', run_id: 'full' })
      expect(Object.keys(sample.labels).sort()).toEqual(
        sample.name.startsWith('wattprint_energy_')
          ? ['component', 'experiment', 'project', 'run_id']
          : ['experiment', 'project', 'run_id'],
      )
    }
    expect(text).not.toMatch(/NaN/)
  })

  it('an older checkpoint record: no crash, the counters settled, and no sample of what it lacks', async () => {
    const record = oldRecord()
    const text = await prometheusText(record)
    const samples = parseExposition(text)
    const energy = samples.filter((s) => s.name === 'wattprint_energy_joules_total')
    expect(energy.reduce((t, s) => t + s.value, 0) / (record.energyKWh * J)).toBeCloseTo(1, 12)
    for (const name of RECORD_SERIES) {
      expect(text).toContain(`# TYPE ${name} gauge`)
      expect(samples.filter((s) => s.name === name)).toEqual([])
    }
    expect(text).not.toMatch(/NaN/)
  })

  it('machine mode and figures that are not finite: those series left out, never NaN', async () => {
    const record = sampleRecord({
      runId: 'nan',
      trackerCpuS: null,
      trackerEnergyKWh: null,
      emissionsLowKg: Number.NaN,
      wall: { ...sampleRecord().wall, energyKWh: Number.NaN, highKWh: Number.POSITIVE_INFINITY },
    })
    const samples = parseExposition(await prometheusText(record))
    const names = new Set(samples.map((s) => s.name))
    for (const name of [
      'wattprint_tracker_cpu_seconds',
      'wattprint_tracker_energy_joules',
      'wattprint_emissions_low_grams',
      'wattprint_wall_energy_joules',
      'wattprint_wall_energy_high_joules',
    ])
      expect(names.has(name), name).toBe(false)
    expect(only(samples, 'wattprint_wall_energy_low_joules')).toBeCloseTo(record.wall.lowKWh * J, 9)
    expect(only(samples, 'wattprint_emissions_high_grams')).toBeCloseTo(record.emissionsHighKg * 1000, 9)
    expect(samples.every((s) => Number.isFinite(s.value))).toBe(true)
  })

  it('a hostile wall source stays out of the exposition, which still parses', async () => {
    const hostile = 'rapl"} 1\n# TYPE evil counter\nevil_total{a="\\"} 9\r\u0000 é'
    const record = fullRecord({ wall: { ...sampleRecord().wall, source: hostile } })
    const text = await prometheusText(record)
    expect(text).not.toContain('evil')
    expect(text).not.toContain('rapl')
    const samples = parseExposition(text)
    expect(only(samples, 'wattprint_wall_energy_joules')).toBeCloseTo(record.wall.energyKWh * J, 9)
  })

  it.skipIf(!havePrometheus())(
    'a real Pushgateway takes the final push, and Prometheus reads the wall, its bounds and the tracker',
    async () => {
      const stack = await startPrometheusStack()
      cleanups.push(() => stack.stop())
      const warnings: TrackerWarning[] = []
      const sink = prometheusSink({ pushgateway: { url: stack.pushgatewayUrl, intervalMs: 60_000 } })
      await sink.start(context('pushed-1', warnings))
      const record = fullRecord({
        runId: 'pushed-1',
        wall: { ...sampleRecord().wall, source: 'node"}\n\\evil' },
      })
      await sink.stop?.(record)
      expect(warnings).toEqual([])
      const query = async (promql: string) => {
        const deadline = Date.now() + 20_000
        for (;;) {
          const result = await stack.query(promql)
          if (result.length > 0) return result
          if (Date.now() > deadline) throw new Error(`${promql}: no result`)
          await new Promise((r) => setTimeout(r, 250))
        }
      }
      const value = async (promql: string) => Number((await query(promql))[0]?.value[1])
      expect(await value('wattprint_wall_energy_joules{run_id="pushed-1"}')).toBeCloseTo(
        record.wall.energyKWh * J,
        9,
      )
      expect(await value('wattprint_wall_emissions_high_grams{run_id="pushed-1"}')).toBeCloseTo(
        record.wall.emissionsHighKg * 1000,
        9,
      )
      expect(await value('sum(wattprint_energy_low_joules{run_id="pushed-1"})')).toBeCloseTo(
        record.energyLowKWh * J,
        9,
      )
      expect(await value('wattprint_tracker_cpu_seconds{run_id="pushed-1"}')).toBe(0.31)
      // The scrape of the group stayed up, and no label carries the source.
      expect(await value('up{job="pushgateway"}')).toBe(1)
      const series = await query('{__name__=~"wattprint_wall_.*",run_id="pushed-1"}')
      expect(series).toHaveLength(6)
      for (const s of series) expect(JSON.stringify(s.metric)).not.toContain('evil')
    },
    60_000,
  )
})

/** Collects once and returns the last export's metrics by name. */
async function otelMetrics(record: EmissionsRecord) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })
  const provider = new MeterProvider({ readers: [reader] })
  cleanups.push(() => provider.shutdown())
  const sink = otelSink({ meter: provider.getMeter('intervals') })
  await sink.start(context(record.runId))
  await sink.stop?.(record)
  await reader.forceFlush()
  const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
  return (name: string) => metrics.filter((m) => m.descriptor.name === name).at(-1)
}

const OTEL_INSTRUMENTS = {
  'wattprint.energy_low': 'J',
  'wattprint.energy_high': 'J',
  'wattprint.emissions_low': 'g',
  'wattprint.emissions_high': 'g',
  'wattprint.wall.energy': 'J',
  'wattprint.wall.energy_low': 'J',
  'wattprint.wall.energy_high': 'J',
  'wattprint.wall.emissions': 'g',
  'wattprint.wall.emissions_low': 'g',
  'wattprint.wall.emissions_high': 'g',
  'wattprint.tracker.cpu_time': 's',
  'wattprint.tracker.energy': 'J',
} as const

describe('OpenTelemetry sink: intervals, the wall and the tracker from the final record', () => {
  it('observes each figure as a gauge in its unit, with the run attributes', async () => {
    const record = fullRecord()
    const byName = await otelMetrics(record)
    for (const [name, unit] of Object.entries(OTEL_INSTRUMENTS)) {
      expect(byName(name)?.descriptor.unit, name).toBe(unit)
      expect(byName(name)?.dataPointType, name).toBe(DataPointType.GAUGE)
    }
    const one = (name: string) => {
      const points = byName(name)?.dataPoints ?? []
      expect(points, name).toHaveLength(1)
      expect(points[0]?.attributes).toEqual({
        'wattprint.project': 'intervals',
        'wattprint.experiment': 'exp-1',
        'wattprint.run_id': 'full',
      })
      return Number(points[0]?.value)
    }
    const byComponent = (name: string) =>
      Object.fromEntries(
        (byName(name)?.dataPoints ?? []).map((p) => [p.attributes.component, Number(p.value)]),
      )
    const low = byComponent('wattprint.energy_low')
    expect(Object.keys(low).sort()).toEqual(['cpu', 'gpu', 'ram'])
    expect(low.cpu).toBeCloseTo(record.cpu.lowKWh * J, 9)
    expect(low.gpu).toBe(0)
    const total = (values: Record<string, number>) => Object.values(values).reduce((s, v) => s + v, 0)
    expect(total(low) / (record.energyLowKWh * J)).toBeCloseTo(1, 12)
    expect(total(byComponent('wattprint.energy_high')) / (record.energyHighKWh * J)).toBeCloseTo(1, 12)
    expect(one('wattprint.emissions_low')).toBeCloseTo(record.emissionsLowKg * 1000, 9)
    expect(one('wattprint.emissions_high')).toBeCloseTo(record.emissionsHighKg * 1000, 9)
    expect(one('wattprint.wall.energy')).toBeCloseTo(record.wall.energyKWh * J, 9)
    expect(one('wattprint.wall.energy_low')).toBeCloseTo(record.wall.lowKWh * J, 9)
    expect(one('wattprint.wall.energy_high')).toBeCloseTo(record.wall.highKWh * J, 9)
    expect(one('wattprint.wall.emissions')).toBeCloseTo(record.wall.emissionsKg * 1000, 9)
    expect(one('wattprint.wall.emissions_low')).toBeCloseTo(record.wall.emissionsLowKg * 1000, 9)
    expect(one('wattprint.wall.emissions_high')).toBeCloseTo(record.wall.emissionsHighKg * 1000, 9)
    expect(one('wattprint.tracker.cpu_time')).toBe(0.31)
    expect(one('wattprint.tracker.energy')).toBeCloseTo(1.2, 12)
  })

  it('an older checkpoint record, or machine mode: no crash and no data point of what is unknown', async () => {
    const byName = await otelMetrics(oldRecord())
    for (const name of Object.keys(OTEL_INSTRUMENTS)) expect(byName(name)?.dataPoints ?? [], name).toEqual([])
    // The figures it has are still there.
    expect(byName('wattprint.energy')?.dataPoints).toHaveLength(3)
    const machine = await otelMetrics(
      sampleRecord({ runId: 'machine', wall: { ...sampleRecord().wall, lowKWh: Number.NaN } }),
    )
    expect(machine('wattprint.tracker.cpu_time')?.dataPoints ?? []).toEqual([])
    expect(machine('wattprint.tracker.energy')?.dataPoints ?? []).toEqual([])
    expect(machine('wattprint.wall.energy_low')?.dataPoints ?? []).toEqual([])
    expect(machine('wattprint.wall.energy')?.dataPoints).toHaveLength(1)
  })

  it('a hostile wall source is in no attribute', async () => {
    const hostile = 'rapl"} 1\n# TYPE evil counter\n\\'
    const byName = await otelMetrics(fullRecord({ wall: { ...sampleRecord().wall, source: hostile } }))
    for (const name of Object.keys(OTEL_INSTRUMENTS))
      for (const point of byName(name)?.dataPoints ?? [])
        expect(Object.values(point.attributes).join(' ')).not.toContain('evil')
  })
})

describe('a real run: both sinks report the record the tracker returns', () => {
  it('the wall, its bounds and the energy interval equal the final record', async () => {
    const registry = new Registry()
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })
    const provider = new MeterProvider({ readers: [reader] })
    cleanups.push(() => provider.shutdown())
    const tracker = new EmissionsTracker({
      logLevel: 'silent',
      carbonIntensityGPerKWh: 200,
      intervalMs: 100,
      sampling: 'inline',
      saveToFile: false,
      runId: 'real-1',
      sinks: [prometheusSink({ registry }), otelSink({ meter: provider.getMeter('real') })],
    })
    await tracker.start()
    await new Promise((r) => setTimeout(r, 400))
    const record = await tracker.stop()
    await reader.forceFlush()
    expect(record.wall.energyKWh).toBeGreaterThan(0)
    const samples = parseExposition(await registry.metrics())
    const sum = (name: string) =>
      samples.filter((s) => s.name === name).reduce((total, s) => total + s.value, 0)
    expect(sum('wattprint_wall_energy_joules') / (record.wall.energyKWh * J)).toBeCloseTo(1, 9)
    expect(sum('wattprint_wall_energy_low_joules')).toBeCloseTo(record.wall.lowKWh * J, 9)
    expect(sum('wattprint_wall_energy_high_joules')).toBeCloseTo(record.wall.highKWh * J, 9)
    expect(sum('wattprint_energy_low_joules')).toBeCloseTo(record.energyLowKWh * J, 9)
    expect(sum('wattprint_energy_high_joules')).toBeCloseTo(record.energyHighKWh * J, 9)
    expect(sum('wattprint_wall_emissions_grams')).toBeCloseTo(record.wall.emissionsKg * 1000, 9)
    // Machine mode: the tracker's cost is not told apart, so it has no series.
    expect(record.trackerCpuS).toBeNull()
    expect(samples.some((s) => s.name.startsWith('wattprint_tracker_'))).toBe(false)
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
    const wall = metrics.filter((m) => m.descriptor.name === 'wattprint.wall.energy').at(-1)
    expect(Number(wall?.dataPoints[0]?.value) / (record.wall.energyKWh * J)).toBeCloseTo(1, 9)
  })
})
