import { COMPONENTS } from '../core/components.js'
import { JOULES_PER_KWH } from '../core/units.js'
import type { SampleEvent } from '../model/events.js'
import type { ComponentRecord, EmissionsRecord, Measurement, WallRecord } from '../model/record.js'
import type { RequestRecord } from '../model/requests.js'
import type { Sink, SinkContext } from './sink.js'

/** What an observable instrument's callback is given: @opentelemetry/api's ObservableResult, by shape. */
export interface ObservableResultLike {
  /** Reports the instrument's current value for one set of attributes (`{ component: 'cpu' }`). */
  observe(value: number, attributes?: Record<string, string>): void
}

/** An observable instrument (counter or gauge) of @opentelemetry/api, by shape: the sink adds its callback. */
export interface ObservableLike {
  /** Registers a callback that the SDK calls at each collection, to observe the latest figures. */
  addCallback(callback: (result: ObservableResultLike) => void): void
}

/** A number that can be observed: finite; null for an unknown one (null, undefined, NaN). */
const known = (value: number | null | undefined, scale: number): number | null =>
  typeof value === 'number' && Number.isFinite(value * scale) ? value * scale : null

/**
 * The final record's figures that only the record carries, in the instruments' units (J, g, s); null
 * where unknown. A record read back from an older checkpoint may lack them, whatever its type says.
 */
function recordFigures(record: EmissionsRecord) {
  const figures: Partial<Measurement> = record
  const wall: Partial<WallRecord> | undefined = figures.wall
  const bound = (side: 'lowKWh' | 'highKWh') => {
    const byComponent = { cpu: null as number | null, gpu: null as number | null, ram: null as number | null }
    for (const c of COMPONENTS) {
      const share: Partial<ComponentRecord> | undefined = record[c]
      byComponent[c] = known(share?.[side], JOULES_PER_KWH)
    }
    return byComponent
  }
  return {
    energyLowJ: bound('lowKWh'),
    energyHighJ: bound('highKWh'),
    emissionsLowG: known(figures.emissionsLowKg, 1000),
    emissionsHighG: known(figures.emissionsHighKg, 1000),
    wallEnergyJ: known(wall?.energyKWh, JOULES_PER_KWH),
    wallEnergyLowJ: known(wall?.lowKWh, JOULES_PER_KWH),
    wallEnergyHighJ: known(wall?.highKWh, JOULES_PER_KWH),
    wallEmissionsG: known(wall?.emissionsKg, 1000),
    wallEmissionsLowG: known(wall?.emissionsLowKg, 1000),
    wallEmissionsHighG: known(wall?.emissionsHighKg, 1000),
    trackerCpuS: known(figures.trackerCpuS, 1),
    trackerEnergyJ: known(figures.trackerEnergyKWh, JOULES_PER_KWH),
  }
}
type RecordFigures = ReturnType<typeof recordFigures>

/**
 * An @opentelemetry/api Meter, described by shape so that wattprint's types do not require the API to be
 * installed (it is an optional peer).
 */
export interface MeterLike {
  /** Makes a cumulative counter observed at collection: the energy and emissions counters. */
  createObservableCounter(name: string, options?: { unit?: string; description?: string }): ObservableLike
  /** Makes a gauge observed at collection: power, intensity and the final record's figures. */
  createObservableGauge(name: string, options?: { unit?: string; description?: string }): ObservableLike
  /** Where the meter has it (every @opentelemetry/api Meter does): the request histogram. */
  createHistogram?(
    name: string,
    options?: { unit?: string; description?: string },
  ): {
    /** Records one request's value (its energy, J) with its attributes. */
    record(value: number, attributes?: Record<string, string>): void
  }
  /** Where the meter has it: the token counter. */
  createCounter?(
    name: string,
    options?: { unit?: string; description?: string },
  ): {
    /** Adds a request's tokens to the count, by its attributes. */
    add(value: number, attributes?: Record<string, string>): void
  }
}

/** The job's attributes of a run under a launcher; none outside one. */
function jobAttributes(job: SinkContext['job']): Record<string, string> {
  if (!job) return {}
  const attributes: Record<string, string> = {}
  if (job.jobId !== null) attributes['wattprint.job_id'] = job.jobId
  if (job.nodeName !== null) attributes['wattprint.node'] = job.nodeName
  if (job.rank !== null) attributes['wattprint.rank'] = String(job.rank)
  if (job.jobRole !== null) attributes['wattprint.job_role'] = job.jobRole
  return attributes
}

/**
 * Reports a tracker's figures as OpenTelemetry observable instruments on a Meter you give
 * (`@opentelemetry/api`, an optional peer dependency: your SDK and exporter do the rest):
 * `wattprint.energy` (counter, J, by `component`, PUE included), `wattprint.emissions` (counter, g CO2e),
 * `wattprint.power` (gauge, W, by `component`), `wattprint.carbon_intensity` (gauge, g/kWh),
 * `wattprint.embodied_emissions` (gauge, g CO2e) and `wattprint.water` (gauge, L; both from the final
 * record, absent when unknown), `wattprint.request.energy` (histogram, J, by `wattprint.route`; the
 * failed requests in `wattprint.failed_request.energy`) and
 * `wattprint.tokens` (counter, by `wattprint.route` and `wattprint.direction`), with
 * `wattprint.project`, `wattprint.experiment` and `wattprint.run_id` attributes, and under a launcher
 * `wattprint.job_id`, `wattprint.node`, `wattprint.rank` and `wattprint.job_role` (a Collector sums a job
 * across nodes by `wattprint.job_id`; a deferring rank's counters stay at 0). Values are read when your
 * reader collects: the sink only keeps the latest figures.
 *
 * From the final record too (gauges, not observed when the record lacks them): the 80 % intervals,
 * `wattprint.energy_low` / `wattprint.energy_high` (J, by `component`; their sums are the record's
 * energyLowKWh / energyHighKWh) and `wattprint.emissions_low` / `wattprint.emissions_high` (g); the whole
 * machine at the wall, `wattprint.wall.energy` (J) and `wattprint.wall.emissions` (g) with their `_low` /
 * `_high` bounds; what measuring cost, `wattprint.tracker.cpu_time` (s) and `wattprint.tracker.energy` (J;
 * both absent in machine mode). The energy and emissions counters follow every interval; these are
 * cumulative run totals as well, but the interval events carry none of them, so they are observed only
 * once the record arrives, at stop.
 */
export function otelSink(options: { readonly meter: MeterLike }): Sink {
  const latest = {
    energyJ: { cpu: 0, gpu: 0, ram: 0 },
    powerW: { cpu: 0, gpu: 0, ram: 0 },
    grams: 0,
    intensity: Number.NaN,
    // The final record's (footprint/); null until known, and never observed as 0 for unknown.
    embodiedGrams: null as number | null,
    waterLitres: null as number | null,
    // The final record's intervals, wall and tracker cost; undefined until the record arrives.
    record: undefined as RecordFigures | undefined,
  }
  let attributes: Record<string, string> = {}
  let observe: ((request: RequestRecord) => void) | undefined
  const take = (byComponentKWh: Readonly<Record<'cpu' | 'gpu' | 'ram', number>>, kg: number) => {
    for (const c of COMPONENTS)
      latest.energyJ[c] = Math.max(latest.energyJ[c], byComponentKWh[c] * JOULES_PER_KWH)
    latest.grams = Math.max(latest.grams, kg * 1000)
  }
  return {
    name: 'otel',
    start(context: SinkContext) {
      attributes = {
        'wattprint.project': context.projectName,
        'wattprint.experiment': context.experimentId,
        'wattprint.run_id': context.runId,
        ...jobAttributes(context.job),
      }
      const { meter } = options
      const requestEnergy = meter.createHistogram?.('wattprint.request.energy', {
        unit: 'J',
        description: 'Energy of each request (its share of the intervals it spans), PUE included',
      })
      const tokens = meter.createCounter?.('wattprint.tokens', {
        unit: '{token}',
        description: 'Tokens of the requests measured, by direction (input: prompt, output: generated)',
      })
      const failedEnergy = meter.createHistogram?.('wattprint.failed_request.energy', {
        unit: 'J',
        description:
          'Energy of each failed request (a call that threw, a 5xx or unfinished response), PUE included',
      })
      observe = (request) => {
        const by = { ...attributes, 'wattprint.route': context.routeLabel(request.name) }
        // A failed request served nothing: apart from the requests and their tokens, as in the record.
        if (request.failed) {
          failedEnergy?.record(request.energyJ, by)
          return
        }
        requestEnergy?.record(request.energyJ, by)
        if (request.inputTokens !== null)
          tokens?.add(request.inputTokens, { ...by, 'wattprint.direction': 'input' })
        if (request.outputTokens !== null)
          tokens?.add(request.outputTokens, { ...by, 'wattprint.direction': 'output' })
      }
      meter
        .createObservableCounter('wattprint.energy', {
          unit: 'J',
          description: 'Energy drawn since the run started, by component (PUE included)',
        })
        .addCallback((result) => {
          for (const c of COMPONENTS) result.observe(latest.energyJ[c], { ...attributes, component: c })
        })
      meter
        .createObservableCounter('wattprint.emissions', {
          unit: 'g',
          description: 'CO2e emitted since the run started',
        })
        .addCallback((result) => result.observe(latest.grams, attributes))
      meter
        .createObservableGauge('wattprint.power', {
          unit: 'W',
          description: 'Mean power over the last interval',
        })
        .addCallback((result) => {
          for (const c of COMPONENTS) result.observe(latest.powerW[c], { ...attributes, component: c })
        })
      meter
        .createObservableGauge('wattprint.carbon_intensity', {
          unit: 'g/kWh',
          description: 'Carbon intensity applied to the last interval',
        })
        .addCallback((result) => {
          if (Number.isFinite(latest.intensity)) result.observe(latest.intensity, attributes)
        })
      meter
        .createObservableGauge('wattprint.embodied_emissions', {
          unit: 'g',
          description: "The run's share of its hardware's embodied emissions (CO2e), from the final record",
        })
        .addCallback((result) => {
          if (latest.embodiedGrams !== null) result.observe(latest.embodiedGrams, attributes)
        })
      meter
        .createObservableGauge('wattprint.water', {
          unit: 'L',
          description: 'Water consumed by the run (on-site and off-site), from the final record',
        })
        .addCallback((result) => {
          if (latest.waterLitres !== null) result.observe(latest.waterLitres, attributes)
        })
      // The final record's intervals, the whole machine at the wall and what measuring cost: gauges, as
      // embodied emissions and water (the intervals are the power model's at the run's load and may move
      // either way). Each bound is an instrument of its own rather than a `wattprint.bound` attribute: an
      // attribute here partitions a figure (the sum over `component` is the run's energy), and a sum over
      // low and high would be nonsense in any view that drops it; `_low`/`_high` rather than `.low`, so
      // that no instrument's name is also a namespace (`wattprint.energy`). The wall's source is free
      // text and stays out of the attributes. A figure the record lacks is not observed, never NaN or 0.
      const fromRecord = (
        name: string,
        unit: string,
        description: string,
        value: (figures: RecordFigures) => number | null,
      ) =>
        meter.createObservableGauge(name, { unit, description }).addCallback((result) => {
          const figure = latest.record ? value(latest.record) : null
          if (figure !== null) result.observe(figure, attributes)
        })
      for (const side of ['low', 'high'] as const)
        meter
          .createObservableGauge(`wattprint.energy_${side}`, {
            unit: 'J',
            description: `${side === 'low' ? 'Low' : 'High'} end of the 80 % interval on wattprint.energy, by component (PUE included), from the final record`,
          })
          .addCallback((result) => {
            const byComponent = latest.record?.[side === 'low' ? 'energyLowJ' : 'energyHighJ']
            for (const c of COMPONENTS) {
              const joules = byComponent?.[c] ?? null
              if (joules !== null) result.observe(joules, { ...attributes, component: c })
            }
          })
      fromRecord(
        'wattprint.emissions_low',
        'g',
        "Low end of the 80 % interval on wattprint.emissions (the energy's, not the intensity's), from the final record",
        (f) => f.emissionsLowG,
      )
      fromRecord(
        'wattprint.emissions_high',
        'g',
        "High end of the 80 % interval on wattprint.emissions (the energy's, not the intensity's), from the final record",
        (f) => f.emissionsHighG,
      )
      fromRecord(
        'wattprint.wall.energy',
        'J',
        'The whole machine at the wall (node meter, or the components and the modelled rest), PUE included, never part of wattprint.energy; from the final record',
        (f) => f.wallEnergyJ,
      )
      fromRecord(
        'wattprint.wall.energy_low',
        'J',
        'Low end of the 80 % interval on wattprint.wall.energy, from the final record',
        (f) => f.wallEnergyLowJ,
      )
      fromRecord(
        'wattprint.wall.energy_high',
        'J',
        'High end of the 80 % interval on wattprint.wall.energy, from the final record',
        (f) => f.wallEnergyHighJ,
      )
      fromRecord(
        'wattprint.wall.emissions',
        'g',
        'CO2e of wattprint.wall.energy, from the final record',
        (f) => f.wallEmissionsG,
      )
      fromRecord(
        'wattprint.wall.emissions_low',
        'g',
        'Low end of the 80 % interval on wattprint.wall.emissions, from the final record',
        (f) => f.wallEmissionsLowG,
      )
      fromRecord(
        'wattprint.wall.emissions_high',
        'g',
        'High end of the 80 % interval on wattprint.wall.emissions, from the final record',
        (f) => f.wallEmissionsHighG,
      )
      fromRecord(
        'wattprint.tracker.cpu_time',
        's',
        "What measuring cost: the tracker's own CPU time, never charged to the job (absent in machine mode), from the final record",
        (f) => f.trackerCpuS,
      )
      fromRecord(
        'wattprint.tracker.energy',
        'J',
        "The energy of wattprint.tracker.cpu_time by the job's rule, PUE included, never charged to the job, from the final record",
        (f) => f.trackerEnergyJ,
      )
    },
    sample(event: SampleEvent) {
      take(event.energyKWhByComponent, event.emissionsKg)
      for (const c of COMPONENTS) latest.powerW[c] = event.powerW[c]
      latest.intensity = event.carbonIntensityGPerKWh
    },
    request(record: RequestRecord) {
      observe?.(record)
    },
    stop(record: EmissionsRecord) {
      take(
        { cpu: record.cpu.energyKWh, gpu: record.gpu.energyKWh, ram: record.ram.energyKWh },
        record.emissionsKg,
      )
      latest.embodiedGrams = record.embodiedEmissionsKg === null ? null : record.embodiedEmissionsKg * 1000
      latest.waterLitres = record.waterConsumedL
      latest.record = recordFigures(record)
    },
  }
}
