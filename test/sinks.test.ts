import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { Registry } from 'prom-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import { jobResourceAttributes } from '../src/distributed/launcher.js'
import { otelSink } from '../src/output/otel.js'
import { prometheusSink } from '../src/output/prometheus.js'
import type { SinkContext } from '../src/output/sink.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
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
  carbonIntensityGPerKWh: 200,
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

  it('hostile request names reach Prometheus as written, scraped and pushed, and the scrape stays up', async () => {
    const names = [
      'cr\rlf\nend',
      'quote " and \\ backslash',
      'a,b;c',
      '=1+1',
      '+x',
      '-x',
      '@x',
      'nul\u0000x',
      'esc \u001b[31mred',
      'bidi \u202eevil',
      'é 東京',
      'y'.repeat(20_000),
    ]
    const sink = prometheusSink({
      port: sinkPort,
      pushgateway: { url: stack.pushgatewayUrl, groupingLabels: { instance: 'hostile' } },
    })
    const tracker = new EmissionsTracker({ ...base, saveToFile: false, runId: 'hostile-1', sinks: [sink] })
    const warnings: TrackerWarning[] = []
    tracker.on('warning', (w) => warnings.push(w))
    await tracker.start()
    const spans = names.map((name) => tracker.request(name))
    await sleep(150)
    for (const span of spans) span.end({ outputTokens: 1 })
    await Promise.all(spans.map((s) => s.settled))
    const routesOf = async (job: string) =>
      (await stack.query(`wattprint_request_energy_joules_count{job="${job}",run_id="hostile-1"}`)).map(
        (r) => r.metric.route,
      )
    const scraped = await eventually(async () => {
      const routes = await routesOf('direct')
      return routes.length === names.length ? routes : undefined
    })
    expect(scraped.sort()).toEqual([...names].sort())
    const up = await stack.query(`up{job="direct"}`)
    expect(up.map((r) => r.value[1])).toEqual(['1'])
    await tracker.stop()
    const pushed = await eventually(async () => {
      const routes = await routesOf('wattprint')
      return routes.length === names.length ? routes : undefined
    })
    expect(pushed.sort()).toEqual([...names].sort())
    expect(warnings.filter((w) => w.code === 'SINK_FAILED')).toEqual([])
  }, 60_000)

  it('several machines push to one Pushgateway; the PromQL sum of their energy equals the sum of their rows', async () => {
    const dir = tempDir()
    const script = `
      import { EmissionsTracker, prometheusSink } from ${JSON.stringify(resolve('dist/index.js'))}
      const machine = process.argv[1]
      const tracker = new EmissionsTracker({
        outputDir: ${JSON.stringify(dir)}, logLevel: 'silent', carbonIntensityGPerKWh: 200, intervalMs: 100,
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

describe.skipIf(!real)('Pushgateway groups, against a real Pushgateway', () => {
  let stack: PrometheusStack
  beforeAll(async () => {
    stack = await startPrometheusStack()
  }, 60_000)
  afterAll(async () => stack?.stop())

  /** The Pushgateway's groups, as its API lists them: each group's labels and its energy in joules. */
  async function groups(): Promise<{ labels: Record<string, string>; joules: number }[]> {
    const body = (await (await fetch(`${stack.pushgatewayUrl}/api/v1/metrics`)).json()) as {
      data: {
        labels: Record<string, string>
        wattprint_energy_joules_total?: { metrics: { value: string }[] }
      }[]
    }
    return body.data.map((group) => ({
      labels: group.labels,
      joules: (group.wattprint_energy_joules_total?.metrics ?? []).reduce((s, m) => s + Number(m.value), 0),
    }))
  }

  /** `wattprint run --pushgateway … -- node -e …` as a user runs it, its exit code checked. */
  const runCli = (dir: string, args: readonly string[], env: Record<string, string> = {}) =>
    new Promise<void>((done, fail) => {
      const child = spawn(
        process.execPath,
        [
          resolve('dist/cli.js'),
          'run',
          '--quiet',
          '--interval',
          '100ms',
          '--output',
          dir,
          '--pushgateway',
          stack.pushgatewayUrl,
          ...args,
          '--',
          process.execPath,
          '-e',
          'setTimeout(() => {}, 400)',
        ],
        {
          stdio: ['ignore', 'inherit', 'inherit'],
          env: { ...process.env, WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100', ...env },
        },
      )
      child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`wattprint run exited ${code}`))))
    })

  it('two runs on one host keep a group each (project, run_id, rank), and nothing is overwritten', async () => {
    const dir = tempDir()
    // The same host, job and project: before each run had its own key, the second push replaced the first.
    await runCli(dir, ['--project', 'same-host'])
    await runCli(dir, ['--project', 'same-host'], { RANK: '3' })
    const rows = readCsv(join(dir, 'emissions.csv'))
    expect(rows).toHaveLength(2)
    // What Prometheus would scrape from the Pushgateway: both runs' energy, not the last one's alone.
    const scraped = await (await fetch(`${stack.pushgatewayUrl}/metrics`)).text()
    const runIds = [...scraped.matchAll(/^wattprint_energy_joules_total\{[^}]*\}/gm)]
      .map((m) => m[0])
      .filter((series) => series.includes('project="same-host"'))
      .map((series) => /run_id="([^"]*)"/.exec(series)?.[1])
    expect([...new Set(runIds)].sort()).toEqual(rows.map((r) => r.run_id).sort())
    const mine = (await groups()).filter((g) => g.labels.project === 'same-host')
    expect(mine.map((g) => g.labels.run_id).sort()).toEqual(rows.map((r) => r.run_id).sort())
    for (const group of mine) {
      const row = rows.find((r) => r.run_id === group.labels.run_id)
      expect(group.labels).toMatchObject({ job: 'wattprint', instance: hostname() })
      expect(group.labels.rank).toBe(row === rows[1] ? '3' : undefined)
      expect(group.joules / (Number(row?.energy_consumed) * 3.6e6)).toBeCloseTo(1, 9)
    }
  }, 60_000)

  it("--pushgateway-label adds labels and replaces the run's own; any value travels exactly", async () => {
    const dir = tempDir()
    // Everything a command line can carry (not NUL: the next test passes that through the API).
    const hostile = 'a/b c,"q"\r\n=+-@\u202e\u001b[31m%2F\u00e9'
    const flags = [
      '--project',
      hostile,
      '--pushgateway-label',
      `cluster=${hostile}`,
      '--pushgateway-label',
      'empty=',
      '--pushgateway-label',
      'run_id=nightly',
    ]
    await runCli(dir, flags)
    await runCli(dir, flags)
    const rows = readCsv(join(dir, 'emissions.csv'))
    expect(rows).toHaveLength(2)
    // run_id=nightly names one group for both runs: the second run's push replaced the first's.
    const mine = (await groups()).filter((g) => g.labels.project === hostile)
    expect(mine).toHaveLength(1)
    expect(mine[0]?.labels).toEqual({
      job: 'wattprint',
      instance: hostname(),
      project: hostile,
      run_id: 'nightly',
      cluster: hostile,
      empty: '',
    })
    expect((mine[0]?.joules ?? 0) / (Number(rows[1]?.energy_consumed) * 3.6e6)).toBeCloseTo(1, 9)
  }, 60_000)

  it('groups a rank under its job, node and rank, a hostile job id whole in the key and the labels', async () => {
    const jobId = `"q",\n\r../..\u001b[31m\u202e=cmd|${'x'.repeat(10_000)}`
    const launcher = {
      SLURM_JOB_ID: jobId,
      SLURM_PROCID: '2',
      SLURM_LOCALID: '0',
      SLURM_NTASKS: '4',
      SLURMD_NODENAME: 'n/1',
    }
    const saved = { ...process.env }
    Object.assign(process.env, launcher)
    let tracker: EmissionsTracker
    try {
      tracker = new EmissionsTracker({
        ...base,
        saveToFile: false,
        projectName: 'job-labels',
        sinks: [prometheusSink({ pushgateway: { url: stack.pushgatewayUrl } })],
      })
    } finally {
      for (const name of Object.keys(launcher)) {
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
      }
    }
    const warnings: TrackerWarning[] = []
    tracker.on('warning', (w) => warnings.push(w))
    await tracker.start()
    await sleep(200)
    const record = await tracker.stop()
    expect(warnings.filter((w) => w.code === 'SINK_FAILED')).toEqual([])
    const mine = (await groups()).filter((g) => g.labels.project === 'job-labels')
    expect(mine.map((g) => [g.labels.job_id, g.labels.node, g.labels.rank])).toEqual([[jobId, 'n/1', '2']])
    // The series carry them too, and the node's measurer its energy: what a PromQL sum by job_id adds up.
    expect(mine[0]?.joules).toBeCloseTo(record.energyKWh * 3.6e6, 6)
    expect(record.jobRole).toBe('node')
  }, 60_000)

  it('takes NUL and 20,000 characters in a grouping label, and refuses a label name the Pushgateway would', async () => {
    const long = `\u0000${'x'.repeat(20_000)}`
    const warnings: TrackerWarning[] = []
    const tracker = new EmissionsTracker({
      ...base,
      saveToFile: false,
      projectName: 'long-label',
      sinks: [prometheusSink({ pushgateway: { url: stack.pushgatewayUrl, groupingLabels: { note: long } } })],
    })
    tracker.on('warning', (w) => warnings.push(w))
    await tracker.start()
    await sleep(200)
    await tracker.stop()
    expect(warnings.filter((w) => w.code === 'SINK_FAILED')).toEqual([])
    const mine = (await groups()).filter((g) => g.labels.project === 'long-label')
    expect(mine.map((g) => g.labels.note)).toEqual([long])
    for (const [labels, message] of [
      [{ 'bad-name': 'x' }, /pushgateway.groupingLabels has the label "bad-name": a label name is letters/],
      [{ __name: 'x' }, /reserved by Prometheus/],
      [{ job: 'x' }, /the job is the grouping key's job name/],
      [{ instance: 3 }, /pushgateway.groupingLabels.instance 3 must be a string/],
    ] as const) {
      expect(() =>
        prometheusSink({ pushgateway: { url: stack.pushgatewayUrl, groupingLabels: labels as never } }),
      ).toThrow(message)
    }
    expect(() => prometheusSink({ pushgateway: { url: 'localhost:9091' } })).toThrow(
      /pushgateway.url "localhost:9091" must be an http:\/\/ or https:\/\/ URL/,
    )
  }, 60_000)
})

/** A sink's context as the tracker gives it, for a sink started by hand (no job unless added). */
const otelContext = (runId: string): SinkContext => ({
  projectName: 'p',
  experimentId: '',
  runId,
  pue: 1,
  warn: () => {},
  routeLabel: (name) => name,
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
      /must be sinks \(prometheusSink\(\), otelSink\(\), memorySink\(\), jsonlSink\(\) or your own object with a start method\)/,
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

describe('Metric sinks: a bound on route labels', () => {
  /** The request histogram's `_count` by route label, from the exposition text. */
  const countsByRoute = (text: string) =>
    new Map(
      [...text.matchAll(/^wattprint_request_energy_joules_count\{[^}]*route="([^"]*)"[^}]*\} (\S+)$/gm)].map(
        (m) => [m[1] ?? '', Number(m[2])],
      ),
    )

  it('10,000 request names by default: 100 routes and other in /metrics, one warning, no energy lost', async () => {
    const sink = prometheusSink()
    const warnings: TrackerWarning[] = []
    const tracker = new EmissionsTracker({ ...base, saveToFile: false, sinks: [sink] })
    tracker.on('warning', (w) => warnings.push(w))
    await tracker.start()
    const spans = Array.from({ length: 10_000 }, (_, i) => tracker.request(`user-${i}`))
    await sleep(150)
    for (const span of spans) span.end({ outputTokens: 1 })
    const records = await Promise.all(spans.map((s) => s.settled))
    await tracker.stop()
    const text = (await sink.registry?.metrics()) ?? ''
    const counts = countsByRoute(text)
    expect(counts.size).toBe(101)
    expect(counts.get('user-0')).toBe(1)
    expect(counts.get('user-99')).toBe(1)
    expect(counts.has('user-100')).toBe(false)
    expect(counts.get('other')).toBe(9_900)
    // The histogram still holds every request's energy, and the token counter every token.
    const sums = [...text.matchAll(/^wattprint_request_energy_joules_sum\{[^}]*\} (\S+)$/gm)]
    const joules = sums.reduce((s, m) => s + Number(m[1]), 0)
    const spanJoules = records.reduce((s, r) => s + r.energyJ, 0)
    expect(spanJoules).toBeGreaterThan(0)
    expect(joules / spanJoules).toBeCloseTo(1, 9)
    const tokens = [...text.matchAll(/^wattprint_tokens_total\{[^}]*\} (\S+)$/gm)]
    expect(tokens.reduce((s, m) => s + Number(m[1]), 0)).toBe(10_000)
    expect(text.length).toBeLessThan(500_000)
    const capped = warnings.filter((w) => w.code === 'ROUTE_LABELS_CAPPED')
    expect(capped).toHaveLength(1)
    expect(capped[0]?.message).toMatch(/More than 100 distinct request names.*maxRouteLabels/)
  })

  it('maxRouteLabels sets the bound, shared by the Prometheus and OpenTelemetry sinks', async () => {
    const prometheus = prometheusSink()
    const { exporter, reader, provider } = inMemoryMetrics()
    const warnings: TrackerWarning[] = []
    const tracker = new EmissionsTracker({
      ...base,
      saveToFile: false,
      maxRouteLabels: 3,
      sinks: [prometheus, otelSink({ meter: provider.getMeter('cap') })],
    })
    tracker.on('warning', (w) => warnings.push(w))
    await tracker.start()
    // A name kept before the bound stays its own after it.
    const names = ['a', 'b', 'c', 'd', 'e', 'a', 'f', 'c']
    const spans = names.map((name) => tracker.request(name))
    await sleep(150)
    for (const span of spans) span.end()
    await Promise.all(spans.map((s) => s.settled))
    await tracker.stop()
    await reader.forceFlush()
    expect(Object.fromEntries(countsByRoute((await prometheus.registry?.metrics()) ?? ''))).toEqual({
      a: 2,
      b: 1,
      c: 2,
      other: 3,
    })
    const histogram = exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics.flatMap((m) => m.metrics))
      .filter((m) => m.descriptor.name === 'wattprint.request.energy')
      .at(-1)
    const otelCounts = Object.fromEntries(
      (histogram?.dataPoints ?? []).map((p) => [
        p.attributes['wattprint.route'],
        (p.value as { count: number }).count,
      ]),
    )
    expect(otelCounts).toEqual({ a: 2, b: 1, c: 2, other: 3 })
    expect(warnings.filter((w) => w.code === 'ROUTE_LABELS_CAPPED')).toHaveLength(1)
  })
})

describe('Prometheus sink: the footprint', () => {
  it('sets embodied emissions and water from the final record, and leaves an unknown one out', async () => {
    const known = prometheusSink()
    const tracker = new EmissionsTracker({
      ...base,
      saveToFile: false,
      runId: 'fp-1',
      embodied: { emissionsKg: 1000, share: 0.5 },
      wueLPerKWh: 0.2,
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
    // for Singapore): no sample, not a zero. /proc and /sys with nothing in them: no sign of a virtual
    // machine, which would be given an assumed host, whatever machine runs the test.
    const unknown = prometheusSink()
    const other = new EmissionsTracker({
      ...base,
      saveToFile: false,
      runId: 'fp-2',
      cloudProvider: 'gcp',
      cloudRegion: 'asia-southeast1',
      procRoot: '/nonexistent',
      sysRoot: '/nonexistent',
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

/** A real MeterProvider whose metrics are read on demand (reader.forceFlush) into memory; shut down after the test. */
function inMemoryMetrics(resource?: ReturnType<typeof resourceFromAttributes>) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })
  const provider = new MeterProvider({ ...(resource ? { resource } : {}), readers: [reader] })
  cleanups.push(() => void provider.shutdown())
  return { exporter, reader, provider }
}

describe('OpenTelemetry sink', () => {
  it('gives a MeterProvider the resource attributes of its place in a job (jobResourceAttributes)', async () => {
    const attributes = jobResourceAttributes({
      SLURM_JOB_ID: '4711',
      SLURM_PROCID: '3',
      SLURM_LOCALID: '1',
      SLURM_NTASKS: '4',
      SLURMD_NODENAME: 'node-b',
    })
    expect(attributes).toEqual({
      'host.name': 'node-b',
      'wattprint.launcher': 'slurm',
      'wattprint.job_id': '4711',
      'wattprint.rank': '3',
      'wattprint.local_rank': '1',
    })
    expect(jobResourceAttributes({})).toEqual({})
    // Through the real SDK: the exported metrics carry them as their resource.
    const { exporter, reader, provider } = inMemoryMetrics(resourceFromAttributes(attributes))
    const sink = otelSink({ meter: provider.getMeter('resource') })
    await sink.start(otelContext('r'))
    await reader.forceFlush()
    expect(exporter.getMetrics()[0]?.resource.attributes).toMatchObject(attributes)
  })

  it("gives every data point the rank's job, node and rank under a launcher", async () => {
    const { exporter, reader, provider } = inMemoryMetrics()
    const sink = otelSink({ meter: provider.getMeter('job') })
    await sink.start({
      ...otelContext('otel-job'),
      job: {
        jobId: '4711',
        nodeName: 'node-b',
        rank: 3,
        localRank: 1,
        worldSize: 4,
        launcher: 'torchrun',
        jobRole: 'deferred',
      },
    })
    await reader.forceFlush()
    const points = exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics.flatMap((m) => m.metrics))
      .filter((m) => m.descriptor.name === 'wattprint.energy')
      .flatMap((m) => m.dataPoints.map((p) => p.attributes))
    expect(points.length).toBeGreaterThan(0)
    for (const attributes of points) {
      expect(attributes).toMatchObject({
        'wattprint.run_id': 'otel-job',
        'wattprint.job_id': '4711',
        'wattprint.node': 'node-b',
        'wattprint.rank': '3',
        'wattprint.job_role': 'deferred',
      })
    }
  })

  it('reports energy, emissions, power and intensity as observable instruments', async () => {
    const { exporter, reader, provider } = inMemoryMetrics()
    const tracker = new EmissionsTracker({
      ...base,
      saveToFile: false,
      runId: 'otel-1',
      embodied: { emissionsKg: 1500 },
      waterIntensityLPerKWh: 2,
      sinks: [otelSink({ meter: provider.getMeter('test') })],
    })
    await tracker.start()
    const spans = [tracker.request('/a'), tracker.request('/a'), tracker.request('/b'), tracker.request('/a')]
    await sleep(400)
    spans[0]?.end({ inputTokens: 3, outputTokens: 7 })
    spans[1]?.end({ outputTokens: 5 })
    spans[2]?.end()
    spans[3]?.end({ outputTokens: 100, failed: true })
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
    // Water follows the priced figure: the wall's (emissionsScope's default).
    expect(Number(byName('wattprint.water')?.dataPoints[0]?.value)).toBeCloseTo(record.wall.energyKWh * 2, 12)
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
    // The failed request in a histogram of its own, its tokens in no count.
    const failed = byName('wattprint.failed_request.energy')?.dataPoints.map((p) => [
      p.attributes['wattprint.route'],
      (p.value as { count: number; sum: number }).count,
      (p.value as { count: number; sum: number }).sum,
    ])
    expect(failed).toEqual([['/a', 1, requests[3]?.energyJ]])
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
