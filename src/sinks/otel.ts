import { COMPONENTS } from '../components.js'
import type { SampleEvent } from '../events.js'
import type { EmissionsRecord } from '../record.js'
import type { RequestRecord } from '../requests/span.js'
import { JOULES_PER_KWH } from '../units.js'
import type { Sink, SinkContext } from './sink.js'

/** What an observable instrument's callback is given: @opentelemetry/api's ObservableResult, by shape. */
interface ObservableResultLike {
  observe(value: number, attributes?: Record<string, string>): void
}

interface ObservableLike {
  addCallback(callback: (result: ObservableResultLike) => void): void
}

/**
 * An @opentelemetry/api Meter, described by shape so that wattprint's types do not require the API to be
 * installed (it is an optional peer).
 */
export interface MeterLike {
  createObservableCounter(name: string, options?: { unit?: string; description?: string }): ObservableLike
  createObservableGauge(name: string, options?: { unit?: string; description?: string }): ObservableLike
  /** Where the meter has it (every @opentelemetry/api Meter does): the request histogram. */
  createHistogram?(
    name: string,
    options?: { unit?: string; description?: string },
  ): { record(value: number, attributes?: Record<string, string>): void }
  /** Where the meter has it: the token counter. */
  createCounter?(
    name: string,
    options?: { unit?: string; description?: string },
  ): { add(value: number, attributes?: Record<string, string>): void }
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
 * `wattprint.project`, `wattprint.experiment` and `wattprint.run_id` attributes. Values are read when your
 * reader collects: the sink only keeps the latest figures.
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
        if (request.tokensIn !== null)
          tokens?.add(request.tokensIn, { ...by, 'wattprint.direction': 'input' })
        if (request.tokensOut !== null)
          tokens?.add(request.tokensOut, { ...by, 'wattprint.direction': 'output' })
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
    },
  }
}
