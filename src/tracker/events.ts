import type { LedgerStep, LedgerTotals } from '../accounting/ledger.js'
import type { Component } from '../core/components.js'
import { JOULES_PER_KWH } from '../core/units.js'
import type { SampleEvent, TrackerEvents } from '../model/events.js'
import type { IntervalReport, MeterDescription } from '../model/interval.js'
import type { RequestTotals } from '../model/requests.js'
import { NO_REQUESTS, requestFields } from '../requests/book.js'

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

/** A listener of tracker event `E`, called with its payload (tracker.on, off, once). */
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
