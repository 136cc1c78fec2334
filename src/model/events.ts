import type { Component, MeterComponent, MeterSource } from '../core/components.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { RequestFields, RequestRecord } from './requests.js'

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
