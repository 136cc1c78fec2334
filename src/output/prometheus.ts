import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { show } from '../core/arguments.js'
import { COMPONENTS } from '../core/components.js'
import { describeError, WattprintError } from '../core/errors.js'
import { JOULES_PER_KWH } from '../core/units.js'
import { launcherRank } from '../distributed/launcher.js'
import type { SampleEvent } from '../model/events.js'
import type { ComponentRecord, EmissionsRecord, Measurement, WallRecord } from '../model/record.js'
import type { RequestRecord } from '../model/requests.js'
import { groupingKey, groupUrl, labelNameProblem, pushGroup } from './pushgateway.js'
import type { Sink, SinkContext } from './sink.js'

type PromClient = typeof import('prom-client')

/** The default buckets of wattprint_request_energy_joules, J. */
const DEFAULT_REQUEST_BUCKETS_J = [
  0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000, 10_000,
] as const
type PromRegistry = import('prom-client').Registry

/**
 * A prom-client Registry, described by shape so that wattprint's types do not require prom-client to be
 * installed (it is an optional peer).
 */
export interface RegistryLike {
  /** The Content-Type header to serve the metrics with (Prometheus's text format, its version). */
  readonly contentType: string
  /** Every metric registered, in that format, for a /metrics handler to send. */
  metrics(): Promise<string>
}

/** Options of prometheusSink. */
export interface PrometheusSinkOptions {
  /** Serve /metrics on this port (0: any free port; see `url`). Default: no server of its own. */
  readonly port?: number
  /** The address to listen on. Default 127.0.0.1: a machine's metrics are not the network's business. */
  readonly host?: string
  /** Default `/metrics`. */
  readonly path?: string
  /**
   * Upper bounds of `wattprint_request_energy_joules`'s buckets, J. Default: 1 mJ to 10 kJ in steps of
   * about 3×, which spans a small model's call on a CPU to a long generation on a GPU.
   */
  readonly requestBucketsJ?: readonly number[]
  /** Register into this prom-client registry (served by you) instead of a registry of the sink's own. */
  readonly registry?: RegistryLike
  /**
   * Push to a Pushgateway: for batch jobs that end before Prometheus would scrape them. Each run pushes to
   * a group of its own, `job`, `project`, `run_id`, and under a launcher `job_id`, `node` and `rank`, so
   * runs on one host, and ranks on many, never replace each other's metrics.
   */
  readonly pushgateway?: {
    /** The Pushgateway's base URL, http:// or https:// (`http://localhost:9091`). */
    readonly url: string
    /** Default `wattprint`. */
    readonly job?: string
    /**
     * More grouping labels, such as `{ instance: 'gpu-node-3' }`; they win over the run's own, so
     * `{ run_id: 'nightly' }` makes each run replace the last one's group.
     */
    readonly groupingLabels?: Readonly<Record<string, string>>
    /** How often to push while running, ms. Default 10,000; always once more at stop. */
    readonly intervalMs?: number
  }
}

/** How long one push may take, ms. */
const PUSH_TIMEOUT_MS = 5000

/** Refuses, at once, a grouping key the Pushgateway would refuse at every push. */
function checkPushgateway(pushgateway: PrometheusSinkOptions['pushgateway']): void {
  if (pushgateway === undefined) return
  const refuse = (field: string, problem: string) => {
    throw new WattprintError(
      'INVALID_OPTION',
      `prometheusSink: pushgateway.${field} ${problem}.`,
      `pushgateway.${field}`,
    )
  }
  let url: URL | undefined
  try {
    url = new URL(pushgateway.url)
  } catch {}
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:')
    refuse(
      'url',
      `${show(pushgateway.url)} must be an http:// or https:// URL: for example 'http://localhost:9091'`,
    )
  if (pushgateway.job !== undefined && (typeof pushgateway.job !== 'string' || pushgateway.job.trim() === ''))
    refuse('job', `${show(pushgateway.job)} must be a non-empty string: for example 'wattprint'`)
  for (const [name, value] of Object.entries(pushgateway.groupingLabels ?? {})) {
    const problem = labelNameProblem(name)
    if (problem) refuse('groupingLabels', `has the label ${show(name)}: ${problem} (for example instance)`)
    if (typeof value !== 'string')
      refuse(`groupingLabels.${name}`, `${show(value)} must be a string: for example 'gpu-node-3'`)
  }
}

/** The labels a run under a launcher adds to every series. */
type JobLabel = 'job_id' | 'node' | 'rank' | 'job_role'

/**
 * A run's job labels: `job_id`, `node`, `rank` and `job_role` where the launcher gave them (none outside
 * a launcher). Every rank's series carries them, and a deferring rank's counters stay at 0, so
 * `sum by (job_id) (wattprint_energy_joules_total)` is the job, each node counted once.
 */
function jobLabels(job: SinkContext['job']): Partial<Record<JobLabel, string>> {
  // Each label only where known: outside a job (NO_JOB) every field is null, and none is added.
  if (!job) return {}
  const labels: Partial<Record<JobLabel, string>> = {}
  if (job.jobId !== null) labels.job_id = job.jobId
  if (job.nodeName !== null) labels.node = job.nodeName
  if (job.rank !== null) labels.rank = String(job.rank)
  if (job.jobRole !== null) labels.job_role = job.jobRole
  return labels
}

/** A Prometheus sink, with where it serves once started. */
export interface PrometheusSink extends Sink {
  /** `http://127.0.0.1:9465/metrics` once started with a port; undefined otherwise. */
  readonly url: string | undefined
  /** The registry the metrics are in. */
  readonly registry: RegistryLike | undefined
}

/**
 * Exposes a tracker's figures to Prometheus through prom-client (an optional peer dependency, loaded only
 * here): `wattprint_energy_joules_total{component}` and `wattprint_emissions_grams_total` (counters, PUE
 * included, as the CSV), `wattprint_power_watts{component}` and `wattprint_carbon_intensity_grams_per_kwh`
 * (gauges), `wattprint_request_energy_joules{route}` (a histogram of the request spans' energies; the
 * failed ones in `wattprint_failed_request_energy_joules{route}`),
 * `wattprint_tokens_total{route, direction}`, `wattprint_embodied_emissions_grams` and
 * `wattprint_water_litres` (gauges, from the final record, absent when unknown), each labelled with project,
 * experiment and run_id, and under a launcher job_id, node, rank and job_role (a deferring rank's counters
 * stay at 0: `sum by (job_id) (wattprint_energy_joules_total)` is the job, each node once). Served on its
 * own port, registered into yours, and/or pushed to a Pushgateway; failures warn and never stop the run.
 *
 * From the final record too (gauges, absent when the record lacks them): the 80 % intervals,
 * `wattprint_energy_low_joules{component}` / `wattprint_energy_high_joules{component}` (their sums over
 * `component` are the record's energyLowKWh / energyHighKWh) and `wattprint_emissions_low_grams` /
 * `wattprint_emissions_high_grams`; the whole machine at the wall, `wattprint_wall_energy_joules` and
 * `wattprint_wall_emissions_grams` with their `_low_` / `_high_` bounds (`wattprint_wall_energy_low_joules`
 * …); what measuring cost, `wattprint_tracker_cpu_seconds` and `wattprint_tracker_energy_joules` (absent in
 * machine mode). The energy and emissions counters follow every interval (the ledger's running totals);
 * these are cumulative run totals as well, but the interval events carry none of them, so they are set
 * only when the record arrives, at stop (and so in the final push).
 */
export function prometheusSink(options: PrometheusSinkOptions = {}): PrometheusSink {
  checkPushgateway(options.pushgateway)
  let server: Server | undefined
  let url: string | undefined
  let registry: PromRegistry | undefined
  let pushTimer: NodeJS.Timeout | undefined
  let push: (() => Promise<void>) | undefined
  let update: ((event: SampleEvent) => void) | undefined
  let settle: ((record: EmissionsRecord) => void) | undefined
  let observe: ((record: RequestRecord) => void) | undefined
  let pushWarned = false

  const sink: PrometheusSink = {
    name: 'prometheus',
    get url() {
      return url
    },
    get registry() {
      return registry
    },
    async start(context: SinkContext) {
      let client: PromClient
      try {
        client = await import('prom-client')
      } catch (error) {
        throw new Error(`prometheusSink needs prom-client (npm install prom-client): ${describeError(error)}`)
      }
      const own = (options.registry as PromRegistry | undefined) ?? new client.Registry()
      registry = own
      // Under a launcher, the job, the node, the rank and what the run counts, so that one PromQL sum
      // adds up a job across nodes (see jobLabels).
      const job = jobLabels(context.job)
      const labels = {
        project: context.projectName,
        experiment: context.experimentId,
        run_id: context.runId,
        ...job,
      }
      const runLabelNames = ['project', 'experiment', 'run_id', ...(Object.keys(job) as JobLabel[])]
      const labelNames = ['component', ...runLabelNames]
      const energy = new client.Counter({
        name: 'wattprint_energy_joules_total',
        help: 'Energy drawn since the run started, by component, in joules (PUE included, as in the CSV).',
        labelNames,
        registers: [own],
      })
      const emissions = new client.Counter({
        name: 'wattprint_emissions_grams_total',
        help: 'Emissions since the run started, in grams of CO2e.',
        labelNames: runLabelNames,
        registers: [own],
      })
      const power = new client.Gauge({
        name: 'wattprint_power_watts',
        help: 'Mean power over the last interval, by component, in watts (PUE excluded).',
        labelNames,
        registers: [own],
      })
      const intensity = new client.Gauge({
        name: 'wattprint_carbon_intensity_grams_per_kwh',
        help: 'Carbon intensity applied to the last interval, in grams of CO2e per kWh.',
        labelNames: runLabelNames,
        registers: [own],
      })
      // Counters only go up: each update adds what the run's cumulative totals gained since the last.
      const sent = { cpu: 0, gpu: 0, ram: 0, grams: 0 }
      const advance = (byComponentKWh: Readonly<Record<'cpu' | 'gpu' | 'ram', number>>, kg: number) => {
        for (const component of COMPONENTS) {
          const joules = byComponentKWh[component] * JOULES_PER_KWH
          if (joules > sent[component]) energy.inc({ ...labels, component }, joules - sent[component])
          sent[component] = Math.max(sent[component], joules)
        }
        const grams = kg * 1000
        if (grams > sent.grams) emissions.inc(labels, grams - sent.grams)
        sent.grams = Math.max(sent.grams, grams)
      }
      for (const component of COMPONENTS) energy.inc({ ...labels, component }, 0)
      emissions.inc(labels, 0)
      update = (event) => {
        advance(event.energyKWhByComponent, event.emissionsKg)
        for (const component of COMPONENTS) power.set({ ...labels, component }, event.powerW[component])
        intensity.set(labels, event.carbonIntensityGPerKWh)
      }
      const requestLabels = ['route', ...runLabelNames]
      const requestEnergy = new client.Histogram({
        name: 'wattprint_request_energy_joules',
        help: 'Energy of each request (its share of the intervals it spans), by route, in joules (PUE included).',
        labelNames: requestLabels,
        buckets: [...(options.requestBucketsJ ?? DEFAULT_REQUEST_BUCKETS_J)],
        registers: [own],
      })
      const tokens = new client.Counter({
        name: 'wattprint_tokens_total',
        help: 'Tokens of the requests measured, by route and direction (input: prompt, output: generated).',
        labelNames: [...requestLabels, 'direction'],
        registers: [own],
      })
      const failedEnergy = new client.Histogram({
        name: 'wattprint_failed_request_energy_joules',
        help: 'Energy of each failed request (a call that threw, a 5xx or unfinished response), by route, in joules (PUE included).',
        labelNames: requestLabels,
        buckets: [...(options.requestBucketsJ ?? DEFAULT_REQUEST_BUCKETS_J)],
        registers: [own],
      })
      observe = (request) => {
        const by = { ...labels, route: context.routeLabel(request.name) }
        // A failed request served nothing: apart from the requests and their tokens, as in the record.
        if (request.failed) {
          failedEnergy.observe(by, request.energyJ)
          return
        }
        requestEnergy.observe(by, request.energyJ)
        if (request.inputTokens !== null) tokens.inc({ ...by, direction: 'input' }, request.inputTokens)
        if (request.outputTokens !== null) tokens.inc({ ...by, direction: 'output' }, request.outputTokens)
      }
      // Embodied emissions and water are the final record's (footprint/): set only when known, never 0.
      const embodied = new client.Gauge({
        name: 'wattprint_embodied_emissions_grams',
        help: "The run's share of its hardware's embodied emissions (SCI's M), in grams of CO2e; set at the end of the run.",
        labelNames: runLabelNames,
        registers: [own],
      })
      const water = new client.Gauge({
        name: 'wattprint_water_litres',
        help: 'Water consumed by the run (on-site cooling at the WUE, off-site generation), in litres; set at the end of the run.',
        labelNames: runLabelNames,
        registers: [own],
      })
      // The final record's intervals, the whole machine at the wall and what measuring cost. Gauges, set
      // from the record only (the intervals are the power model's at the run's load and may move either
      // way; the interval events carry none of these), as embodied emissions and water are. Each bound has
      // a metric name of its own rather than a bound="low"|"high" label: a label here partitions a
      // figure (the sum over `component` is the run's energy), and a sum over low and high, or over a
      // value and its bounds, would be nonsense in every PromQL aggregation that drops the label. The
      // wall's source is free text and stays out of the labels. A figure the record lacks (one read back
      // from an older checkpoint) or that is not finite has no series, never NaN or 0.
      const gauge = <T extends string>(name: string, help: string, labelNames: readonly T[]) =>
        new client.Gauge<T>({ name, help, labelNames, registers: [own] })
      const energyLow = gauge(
        'wattprint_energy_low_joules',
        'Low end of the 80 % interval on wattprint_energy_joules_total, by component, in joules (PUE included); set at the end of the run.',
        labelNames,
      )
      const energyHigh = gauge(
        'wattprint_energy_high_joules',
        'High end of the 80 % interval on wattprint_energy_joules_total, by component, in joules (PUE included); set at the end of the run.',
        labelNames,
      )
      const emissionsLow = gauge(
        'wattprint_emissions_low_grams',
        "Low end of the 80 % interval on wattprint_emissions_grams_total (the energy's; not the intensity's), in grams of CO2e; set at the end of the run.",
        runLabelNames,
      )
      const emissionsHigh = gauge(
        'wattprint_emissions_high_grams',
        "High end of the 80 % interval on wattprint_emissions_grams_total (the energy's; not the intensity's), in grams of CO2e; set at the end of the run.",
        runLabelNames,
      )
      const wallEnergy = gauge(
        'wattprint_wall_energy_joules',
        'The whole machine at the wall (node meter, or the components and the modelled rest), in joules (PUE included; never part of wattprint_energy_joules_total); set at the end of the run.',
        runLabelNames,
      )
      const wallEnergyLow = gauge(
        'wattprint_wall_energy_low_joules',
        'Low end of the 80 % interval on wattprint_wall_energy_joules, in joules; set at the end of the run.',
        runLabelNames,
      )
      const wallEnergyHigh = gauge(
        'wattprint_wall_energy_high_joules',
        'High end of the 80 % interval on wattprint_wall_energy_joules, in joules; set at the end of the run.',
        runLabelNames,
      )
      const wallEmissions = gauge(
        'wattprint_wall_emissions_grams',
        'Emissions of wattprint_wall_energy_joules, in grams of CO2e; set at the end of the run.',
        runLabelNames,
      )
      const wallEmissionsLow = gauge(
        'wattprint_wall_emissions_low_grams',
        'Low end of the 80 % interval on wattprint_wall_emissions_grams, in grams of CO2e; set at the end of the run.',
        runLabelNames,
      )
      const wallEmissionsHigh = gauge(
        'wattprint_wall_emissions_high_grams',
        'High end of the 80 % interval on wattprint_wall_emissions_grams, in grams of CO2e; set at the end of the run.',
        runLabelNames,
      )
      const trackerCpu = gauge(
        'wattprint_tracker_cpu_seconds',
        "What measuring cost: the tracker's own CPU time, in seconds, never charged to the job; absent in machine mode; set at the end of the run.",
        runLabelNames,
      )
      const trackerEnergy = gauge(
        'wattprint_tracker_energy_joules',
        "The energy of wattprint_tracker_cpu_seconds by the job's rule, in joules (PUE included), never charged to the job; set at the end of the run.",
        runLabelNames,
      )
      /** Sets `value × scale`, or removes the series when the value is unknown (null, undefined, NaN). */
      const put = <T extends string>(
        target: import('prom-client').Gauge<T>,
        by: import('prom-client').LabelValues<T>,
        value: number | null | undefined,
        scale: number,
      ) => {
        if (typeof value === 'number' && Number.isFinite(value * scale)) target.set(by, value * scale)
        else target.remove(by)
      }
      settle = (record) => {
        advance(
          { cpu: record.cpu.energyKWh, gpu: record.gpu.energyKWh, ram: record.ram.energyKWh },
          record.emissionsKg,
        )
        if (record.embodiedEmissionsKg !== null) embodied.set(labels, record.embodiedEmissionsKg * 1000)
        if (record.waterConsumedL !== null) water.set(labels, record.waterConsumedL)
        // Typed as always there, but a record read back from an older checkpoint may lack them.
        for (const component of COMPONENTS) {
          const share: Partial<ComponentRecord> | undefined = record[component]
          put(energyLow, { ...labels, component }, share?.lowKWh, JOULES_PER_KWH)
          put(energyHigh, { ...labels, component }, share?.highKWh, JOULES_PER_KWH)
        }
        const figures: Partial<Measurement> = record
        put(emissionsLow, labels, figures.emissionsLowKg, 1000)
        put(emissionsHigh, labels, figures.emissionsHighKg, 1000)
        const wall: Partial<WallRecord> | undefined = figures.wall
        put(wallEnergy, labels, wall?.energyKWh, JOULES_PER_KWH)
        put(wallEnergyLow, labels, wall?.lowKWh, JOULES_PER_KWH)
        put(wallEnergyHigh, labels, wall?.highKWh, JOULES_PER_KWH)
        put(wallEmissions, labels, wall?.emissionsKg, 1000)
        put(wallEmissionsLow, labels, wall?.emissionsLowKg, 1000)
        put(wallEmissionsHigh, labels, wall?.emissionsHighKg, 1000)
        put(trackerCpu, labels, figures.trackerCpuS, 1)
        put(trackerEnergy, labels, figures.trackerEnergyKWh, JOULES_PER_KWH)
      }

      if (options.pushgateway) {
        const {
          url: gatewayUrl,
          job = 'wattprint',
          groupingLabels = {},
          intervalMs = 10_000,
        } = options.pushgateway
        const target = groupUrl(
          gatewayUrl,
          job,
          groupingKey({
            projectName: context.projectName,
            runId: context.runId,
            jobId: context.job?.jobId ?? undefined,
            node: context.job?.nodeName ?? undefined,
            rank: context.job?.rank == null ? launcherRank(process.env) : String(context.job.rank),
            labels: groupingLabels,
          }),
        )
        const pushOnce = async () => {
          try {
            await pushGroup(target, await own.metrics(), own.contentType, PUSH_TIMEOUT_MS)
          } catch (error) {
            if (pushWarned) return
            pushWarned = true
            context.warn({
              code: 'SINK_FAILED',
              message: `Pushing to the Pushgateway at ${gatewayUrl} failed: ${describeError(error)}. The run goes on.`,
            })
          }
        }
        // One push at a time, in order: a slow interval push must not land after the final one and put
        // older counters back.
        let pushing: Promise<void> = Promise.resolve()
        let busy = false
        push = () => {
          pushing = pushing.then(pushOnce)
          return pushing
        }
        pushTimer = setInterval(() => {
          if (busy) return
          busy = true
          void push?.().finally(() => {
            busy = false
          })
        }, intervalMs)
        pushTimer.unref()
      }

      if (options.port !== undefined) {
        const path = options.path ?? '/metrics'
        server = createServer((request, response) => {
          if ((request.url ?? '/').split('?')[0] !== path) {
            response.writeHead(404).end('Not found\n')
            return
          }
          own.metrics().then(
            (text) => response.writeHead(200, { 'content-type': own.contentType }).end(text),
            (error: unknown) => response.writeHead(500).end(`${describeError(error)}\n`),
          )
        })
        const listening = server
        await new Promise<void>((resolve, reject) => {
          listening.once('error', reject)
          listening.listen(options.port, options.host ?? '127.0.0.1', () => resolve())
        })
        listening.unref()
        const address = listening.address() as AddressInfo
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
        url = `http://${host}:${address.port}${path}`
      }
    },
    sample(event) {
      update?.(event)
    },
    request(record) {
      observe?.(record)
    },
    async stop(record) {
      settle?.(record)
      clearInterval(pushTimer)
      await push?.()
      // A scraper keeps its connection open: close it, or close() would wait for it.
      server?.closeAllConnections()
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
      server = undefined
    },
  }
  return sink
}
