import type { LedgerStep, LedgerTotals } from '../accounting/ledger.js'
import type { Component, MeterComponent, MeterSource } from '../core/components.js'
import { JOULES_PER_KWH } from '../core/units.js'
import type { TrackerWarning } from '../core/warnings.js'
import { NO_REQUESTS, type RequestFields, type RequestTotals, requestFields } from '../requests/book.js'
import type { RequestRecord } from '../requests/span.js'
import type { IntervalReport, MeterDescription } from '../sampling/sampler.js'

/** One interval, as the `sample` event delivers it (the request figures are the run's so far). */
export interface SampleEvent extends RequestFields {
  readonly seq: number
  /** ISO 8601 UTC end of the interval. */
  readonly timestamp: string
  readonly intervalS: number
  /** Seconds measured since start(). */
  readonly elapsedS: number
  /** Mean power over the interval, without PUE. */
  readonly powerW: Readonly<Record<Component | 'total', number>>
  /** Cumulative kWh, PUE included. */
  readonly energyKWh: number
  /** Cumulative kWh by component, PUE included. */
  readonly energyKWhByComponent: Readonly<Record<Component, number>>
  /**
   * The whole machine's figures, the same as the above without attribution: mean power over the interval
   * (PUE excluded) and cumulative kWh (PUE included), per component and in all.
   */
  readonly machine: {
    readonly powerW: Readonly<Record<Component | 'total', number>>
    readonly energyKWh: number
    readonly energyKWhByComponent: Readonly<Record<Component, number>>
  }
  /** Cumulative kg CO2e. */
  readonly emissionsKg: number
  readonly carbonIntensityGPerKWh: number
  readonly intensitySource: string
  readonly meters: readonly {
    readonly id: string
    readonly component: MeterComponent
    readonly source: MeterSource
    readonly powerW: number
    readonly joules: number
    readonly blindS: number
    readonly channels: readonly { readonly name: string; readonly powerW: number }[]
  }[]
}

/**
 * A budget limit the run crossed, as measured or as forecast by `predict(…, { stopOnBudget: true })`
 * (emitted once, for the first limit crossed).
 */
export interface BudgetEvent {
  readonly limit: 'energyKWh' | 'emissionsKg' | 'durationS'
  /** The limit as set. */
  readonly budget: number
  /** The run's measured figure at that moment. */
  readonly actual: number
  /** The forecast of the whole run that crossed the limit; null when the measured figure crossed it. */
  readonly predicted: number | null
  readonly message: string
}

/** A forecast of the whole run from its progress so far (tracker.predict, tfjsCallback). */
export interface Prediction {
  /** Units of work done and in all (epochs, steps, files …). */
  readonly done: number
  readonly total: number
  /**
   * The whole run, predicted: measured so far, plus the rest at the rate since progress began. Energy and
   * emissions are of the figure emissionsScope names (default: the whole machine at the wall).
   */
  readonly durationS: number
  readonly energyKWh: number
  readonly emissionsKg: number
  /** The budget limit the prediction crosses, if any. */
  readonly exceeds: 'energyKWh' | 'emissionsKg' | 'durationS' | null
}

/** Events of a tracker, with their payloads. */
export interface TrackerEvents {
  sample: SampleEvent
  warning: TrackerWarning
  /** The tracker cannot measure (start failed): the record will say so. */
  error: TrackerWarning
  /** A budget limit was crossed; `tracker.signal` is aborted with the same message at once. */
  budget: BudgetEvent
  /** A forecast of the whole run (tracker.predict, tfjsCallback). */
  prediction: Prediction
  /** A request span settled: its every interval is accounted (tracker.request, measure, the wrappers). */
  request: RequestRecord
}

/** Every event's name, for checking the names listeners are registered under. */
export const TRACKER_EVENTS = [
  'sample',
  'warning',
  'error',
  'budget',
  'prediction',
  'request',
] as const satisfies readonly (keyof TrackerEvents)[]

// Fails to compile when an event is added to TrackerEvents but not to TRACKER_EVENTS.
const everyEventListed: Record<Exclude<keyof TrackerEvents, (typeof TRACKER_EVENTS)[number]>, never> = {}
void everyEventListed

export type Listener<E extends keyof TrackerEvents> = (payload: TrackerEvents[E]) => void

/**
 * A small typed emitter. Unlike node:events it has no special 'error' event that throws when unheard,
 * and a listener that throws is reported to `onListenerError` instead of breaking the emitter's caller.
 */
export class TrackerEmitter {
  readonly #listeners = new Map<keyof TrackerEvents, Set<(payload: never) => void>>()

  constructor(private readonly onListenerError: (event: string, error: unknown) => void) {}

  on<E extends keyof TrackerEvents>(event: E, listener: Listener<E>): void {
    let set = this.#listeners.get(event)
    if (!set) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    set.add(listener as (payload: never) => void)
  }

  /** Adds a listener that removes itself after its first call; off() with the same listener removes it too. */
  once<E extends keyof TrackerEvents>(event: E, listener: Listener<E>): void {
    const wrapper = Object.assign(
      (payload: TrackerEvents[E]) => {
        this.off(event, wrapper)
        listener(payload)
      },
      { original: listener },
    )
    this.on(event, wrapper)
  }

  off<E extends keyof TrackerEvents>(event: E, listener: Listener<E>): void {
    const set = this.#listeners.get(event)
    if (!set) return
    for (const registered of set) {
      if (registered === listener || (registered as { original?: unknown }).original === listener)
        set.delete(registered)
    }
  }

  has(event: keyof TrackerEvents): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0
  }

  emit<E extends keyof TrackerEvents>(event: E, payload: TrackerEvents[E]): void {
    const listeners = this.#listeners.get(event)
    if (!listeners) return
    for (const listener of [...listeners]) {
      try {
        ;(listener as Listener<E>)(payload)
      } catch (error) {
        this.onListenerError(event, error)
      }
    }
  }
}

/** Builds the `sample` event of an interval the ledger just counted. */
/** The machine's figures of a sample event: its power in the interval, and its cumulative energy. */
function machineFigures(
  step: LedgerStep,
  totals: LedgerTotals,
  seconds: number,
  pue: number,
): SampleEvent['machine'] {
  const whole = (c: Component) => {
    const part = step.split?.[c]
    return part ? part.jobJ + part.idleJ + part.othersJ : step.joules[c]
  }
  const watts = (j: number) => (seconds > 0 ? j / seconds : 0)
  return {
    powerW: {
      cpu: watts(whole('cpu')),
      gpu: watts(whole('gpu')),
      ram: watts(whole('ram')),
      total: watts(whole('cpu') + whole('gpu') + whole('ram')),
    },
    energyKWh: totals.machineEnergyKWh,
    energyKWhByComponent: {
      cpu: (totals.machineJoules.cpu * pue) / JOULES_PER_KWH,
      gpu: (totals.machineJoules.gpu * pue) / JOULES_PER_KWH,
      ram: (totals.machineJoules.ram * pue) / JOULES_PER_KWH,
    },
  }
}

export function toSampleEvent(
  report: IntervalReport,
  step: LedgerStep,
  totals: LedgerTotals,
  meters: readonly MeterDescription[],
  pue = 1,
  requests: RequestTotals | null = null,
): SampleEvent {
  const seconds = report.durationS
  const perSecond = (joules: number) => (seconds > 0 ? joules / seconds : 0)
  return {
    seq: report.seq,
    timestamp: new Date(report.wallTimeMs).toISOString(),
    intervalS: seconds,
    elapsedS: totals.durationS,
    powerW: {
      cpu: perSecond(step.joules.cpu),
      gpu: perSecond(step.joules.gpu),
      ram: perSecond(step.joules.ram),
      total: perSecond(step.joules.cpu + step.joules.gpu + step.joules.ram),
    },
    energyKWh: totals.energyKWh,
    energyKWhByComponent: {
      cpu: (totals.joules.cpu * pue) / JOULES_PER_KWH,
      gpu: (totals.joules.gpu * pue) / JOULES_PER_KWH,
      ram: (totals.joules.ram * pue) / JOULES_PER_KWH,
    },
    machine: machineFigures(step, totals, seconds, pue),
    emissionsKg: totals.emissionsKg,
    carbonIntensityGPerKWh: step.gPerKWh,
    intensitySource: step.intensitySource,
    ...(requests ? requestFields(requests) : NO_REQUESTS),
    meters: report.meters.flatMap((interval, i) => {
      const meter = meters[i]
      if (!meter) return []
      return [
        {
          id: meter.id,
          component: meter.component,
          source: meter.source,
          powerW: perSecond(interval.joules),
          joules: interval.joules,
          blindS: interval.blindS,
          channels: meter.channels.map((c, k) => ({
            name: c.name,
            powerW: perSecond(interval.channelJoules[k] ?? 0),
          })),
        },
      ]
    }),
  }
}
