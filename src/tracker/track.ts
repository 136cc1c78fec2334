import type { TrackerOptions } from '../config/options.js'
import { show } from '../core/arguments.js'
import { WattprintError } from '../core/errors.js'
import type { EmissionsRecord } from '../model/record.js'
import { EmissionsTracker, finishWith } from './tracker.js'

/**
 * Runs `fn` with a tracker around it and returns its result with the run's record. If `fn` throws, the
 * row is written with status `failed` and the error is rethrown (it is the caller's, not wattprint's). An
 * `fn` that is not a function rejects with a WattprintError (`INVALID_ARGUMENT`) saying so, before
 * anything is measured.
 */
export async function track<T>(
  fn: (tracker: EmissionsTracker) => T | Promise<T>,
  options: TrackerOptions = {},
): Promise<{
  /** What `fn` returned (awaited). */
  result: T
  /** The run's record, as tracker.stop() returned it (its row is in the CSV when saveToFile). */
  record: EmissionsRecord
}> {
  if (typeof fn !== 'function') {
    throw new WattprintError(
      'INVALID_ARGUMENT',
      `track(fn): fn must be the function to measure, got ${show(fn)}; nothing was run.`,
      'fn',
    )
  }
  const tracker = new EmissionsTracker(options)
  await tracker.start()
  let result: T
  try {
    result = await fn(tracker)
  } catch (error) {
    await tracker[finishWith]('failed')
    throw error
  }
  return { result, record: await tracker.stop() }
}
