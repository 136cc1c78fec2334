import { show } from '../core/arguments.js'
import { closest } from '../core/text.js'
import type { TrackerEvents } from '../model/events.js'
import type { RunStatus } from '../model/record.js'
import { TRACKER_EVENTS } from './events.js'

// What the tracker's methods are given, checked at run time: TypeScript's types do not reach plain
// JavaScript, and after the constructor a bad argument must become a warning, never an exception.

/** The statuses stop() accepts; `budget-exceeded` is the tracker's to decide, `running` is flush()'s. */
export const STOP_STATUSES = ['finished', 'failed', 'interrupted'] as const satisfies readonly RunStatus[]

/** A status stop() accepts. */
export type StopStatus = (typeof STOP_STATUSES)[number]

/** Why `value` is not a stop() options object or its status; null when it is fine. */
export function stopOptionsProblem(value: unknown): string | null {
  if (value === undefined) return null
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `stop(${show(value)}): the argument must be an object like { status: 'failed' }`
  }
  const status = (value as { status?: unknown }).status
  if (status === undefined || (STOP_STATUSES as readonly unknown[]).includes(status)) return null
  const guess = typeof status === 'string' ? closest(status, STOP_STATUSES) : undefined
  return (
    `stop({ status: ${show(status)} }): the status must be one of ${STOP_STATUSES.join(', ')}` +
    `${guess ? ` (did you mean '${guess}'?)` : ''}`
  )
}

/** Why `name` cannot name a task in `call` (startTask, stopTask, measure); null when it can. */
export function taskNameProblem(call: string, name: unknown): string | null {
  if (typeof name === 'string' && name.trim() !== '') return null
  return `${call}(${show(name)}): a task's name must be a non-empty string`
}

/** Why `progress` is not a predict() argument; null when it is. */
export function progressProblem(progress: unknown): string | null {
  const call = `predict(${show(progress)})`
  if (progress === null || typeof progress !== 'object') {
    return `${call}: the argument must be an object like { done: 3, total: 20 }`
  }
  const { done, total } = progress as { done?: unknown; total?: unknown }
  if (typeof total !== 'number' || !Number.isFinite(total) || total <= 0) {
    return `${call}: total must be a finite number above 0 (the units of work in all)`
  }
  if (typeof done !== 'number' || !Number.isFinite(done) || done < 0 || done > total) {
    return `${call}: done must be a finite number from 0 to total (the units of work done so far)`
  }
  return null
}

/** Why on/off/once(event, listener) cannot register; null when it can. */
export function listenerProblem(call: string, event: unknown, listener: unknown): string | null {
  if (!(TRACKER_EVENTS as readonly unknown[]).includes(event)) {
    const guess = typeof event === 'string' ? closest(event, TRACKER_EVENTS) : undefined
    return (
      `${call}(${show(event)}, …): no such event${guess ? ` (did you mean '${guess}'?)` : ''}; ` +
      `the events are ${TRACKER_EVENTS.join(', ')}`
    )
  }
  if (typeof listener !== 'function') {
    return `${call}('${event as keyof TrackerEvents}', ${show(listener)}): the listener must be a function`
  }
  return null
}
