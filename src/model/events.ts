import type { Component, MeterComponent, MeterSource } from '../core/components.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { RequestFields, RequestRecord } from './requests.js'

/** One interval, as the `sample` event delivers it (the request figures are the run's so far). */
export interface SampleEvent extends RequestFields {
  /** The interval's number in the run, from 1. */
  readonly seq: number
  /** ISO 8601 UTC end of the interval. */
  readonly timestamp: string
  /** The interval's length, s. */
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
    /** The machine's mean power over the interval, W, PUE excluded, by component and in all. */
    readonly powerW: Readonly<Record<Component | 'total', number>>
    /** The machine's cumulative CPU + GPU + RAM energy, kWh, PUE included. */
    readonly energyKWh: number
    /** The machine's cumulative energy by component, kWh, PUE included. */
    readonly energyKWhByComponent: Readonly<Record<Component, number>>
  }
  /** Cumulative kg CO2e. */
  readonly emissionsKg: number
  /** The carbon intensity the interval was priced at, g CO2e/kWh. */
  readonly carbonIntensityGPerKWh: number
  /** Where that intensity came from (`electricitymaps-yearly-2025:DE`, `fixed`, `world-average` …). */
  readonly intensitySource: string
  /** Each meter's reading of the interval: the machine's, whatever the attribution. */
  readonly meters: readonly {
    /** The meter's id, unique within a tracker (`rapl-package`, `cpu-model` …). */
    readonly id: string
    /** What the meter measures: a component, the whole server (`node`) or the modelled rest. */
    readonly component: MeterComponent
    /** Where the meter's figure comes from. */
    readonly source: MeterSource
    /** The meter's mean power over the interval, W, PUE excluded. */
    readonly powerW: number
    /** The meter's energy over the interval, J, PUE excluded. */
    readonly joules: number
    /** Seconds of the interval the meter could not be read (bridged from neighbouring readings). */
    readonly blindS: number
    /** The meter's channels (a RAPL zone, one GPU …), in the meter's order. */
    readonly channels: readonly {
      /** The channel's name, as its source spells it (`package-0`). */
      readonly name: string
      /** The channel's mean power over the interval, W, PUE excluded. */
      readonly powerW: number
    }[]
  }[]
}

/**
 * A budget limit the run crossed, as measured or as forecast by `predict(…, { stopOnBudget: true })`
 * (emitted once, for the first limit crossed).
 */
export interface BudgetEvent {
  /** Which of the budget's limits was crossed: its name in the `budget` option. */
  readonly limit: 'energyKWh' | 'emissionsKg' | 'durationS'
  /** The limit as set. */
  readonly budget: number
  /** The run's measured figure at that moment. */
  readonly actual: number
  /** The forecast of the whole run that crossed the limit; null when the measured figure crossed it. */
  readonly predicted: number | null
  /** The crossing in words, as the warning line and `tracker.signal`'s abort reason give it. */
  readonly message: string
}

/** A forecast of the whole run from its progress so far (tracker.predict, tfjsCallback). */
export interface Prediction {
  /** Units of work done and in all (epochs, steps, files …). */
  readonly done: number
  /** Units of work the whole run has, as the progress gave them. */
  readonly total: number
  /**
   * The whole run, predicted: measured so far, plus the rest at the rate since progress began. Energy and
   * emissions are of the figure emissionsScope names (default: the whole machine at the wall).
   */
  readonly durationS: number
  /** The whole run's energy, predicted, kWh, PUE included. */
  readonly energyKWh: number
  /** The whole run's emissions, predicted, kg CO2e. */
  readonly emissionsKg: number
  /** The budget limit the prediction crosses, if any. */
  readonly exceeds: 'energyKWh' | 'emissionsKg' | 'durationS' | null
}

/** Events of a tracker, with their payloads. */
export interface TrackerEvents {
  /** An interval closed: its figures, and the run's so far. */
  sample: SampleEvent
  /** Something the user should know went wrong or was guessed; the run goes on. */
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
