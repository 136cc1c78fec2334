import { show } from '../core/arguments.js'
import { type WarningCode, warnThrough } from '../core/warnings.js'
import type { Prediction } from '../model/events.js'
import type { TaskRecord } from '../model/record.js'
import { BUDGET_WORDS } from '../tracker/budget-watch.js'
import type { EmissionsTracker } from '../tracker/tracker.js'

/** The part of a TensorFlow.js model the callback touches. */
export interface StoppableModel {
  /** Set to true to end model.fit after the current epoch (TensorFlow.js's own flag). */
  stopTraining: boolean
}

/** Options of tfjsCallback. */
export interface TfjsCallbackOptions {
  /** The epochs passed to model.fit: what the prediction extrapolates to. */
  readonly epochs: number
  /** Predict the whole run after this many epochs (and after each one since). Default 1. */
  readonly predictAfter?: number
  /**
   * Stop training (model.stopTraining) when the budget is crossed, or predicted to be; a forecast over
   * the budget then counts as the budget crossed, for the whole tracker (see tracker.predict). Default true.
   */
  readonly stopOnBudget?: boolean
  /**
   * The model being fitted: needed to stop training on a budget. TensorFlow.js hands a model to tf.Callback
   * subclasses only, not to CustomCallback or plain-object callbacks, which this is.
   */
  readonly model?: StoppableModel
  /** Called after each epoch with its task record. */
  readonly onEpoch?: (epoch: number, task: TaskRecord) => void
}

/** What tfjsCallback returns: callback methods for model.fit, and what they recorded. */
export interface TfjsCallback {
  /** model.fit starts: with `epochs`, the prediction's progress is set to 0 of them. */
  onTrainBegin(logs?: unknown): Promise<void>
  /** An epoch starts, and with it its task (`epoch-1`, `epoch-2` …). */
  onEpochBegin(epoch: number, logs?: unknown): Promise<void>
  /**
   * An epoch ends: its task stops; after `predictAfter` epochs the whole run is predicted, and with
   * `stopOnBudget` training is stopped on a budget crossed or predicted to be.
   */
  onEpochEnd(epoch: number, logs?: unknown): Promise<void>
  /** model.fit ends: nothing to do (the tracker is yours to stop). */
  onTrainEnd(logs?: unknown): Promise<void>
  /** Each finished epoch's energy and emissions. */
  readonly epochs: TaskRecord[]
  /** The latest prediction of the whole run; null before `predictAfter` epochs. */
  readonly prediction: Prediction | null
  /** Why training was stopped early, if it was. */
  readonly stoppedBecause: string | null
}

/**
 * A `model.fit` callback: a task per epoch (energy and emissions per epoch), a prediction of the whole
 * run's duration, energy and emissions after `predictAfter` epochs (the run so far plus the mean epoch
 * for each remaining one, as CarbonTracker does), emitted as the tracker's `prediction` event; and, with a
 * budget, training stopped cleanly (`model.stopTraining = true`) when the actuals or the prediction cross
 * it. Pass it as `callbacks: tfjsCallback(…)` (a plain object) or wrap it: `new tf.CustomCallback(…)`.
 * Never mix a plain object into an array of tf.Callback instances: TensorFlow.js rejects such arrays.
 */
export function tfjsCallback(tracker: EmissionsTracker, options: TfjsCallbackOptions): TfjsCallback {
  const predictAfter = countOption(tracker, 'predictAfter', options.predictAfter, 1)
  // Without the run's length there is nothing to extrapolate to: tasks per epoch only.
  const predicts = countOption(tracker, 'epochs', options.epochs, null) !== null
  const stopOnBudget = options.stopOnBudget ?? true
  const epochs: TaskRecord[] = []
  let prediction: Prediction | null = null
  let stoppedBecause: string | null = null
  const task = (epoch: number) => `epoch-${epoch + 1}`

  let warned = false
  function stop(why: string): void {
    if (stoppedBecause) return
    if (!options.model) {
      if (!warned) {
        warned = true
        say(tracker, 'INTEGRATION_FAILED', `${why}, but tfjsCallback has no model to stop: pass { model }.`)
      }
      return
    }
    options.model.stopTraining = true
    stoppedBecause = why
  }

  return {
    get epochs() {
      return epochs
    },
    get prediction() {
      return prediction
    },
    get stoppedBecause() {
      return stoppedBecause
    },
    async onTrainBegin() {
      if (predicts) tracker.predict({ done: 0, total: options.epochs })
    },
    async onEpochBegin(epoch: number) {
      tracker.startTask(task(epoch))
    },
    async onEpochEnd(epoch: number) {
      const record = tracker.stopTask(task(epoch))
      if (record) {
        epochs.push(record)
        options.onEpoch?.(epoch, record)
      }
      if (predicts && epoch + 1 >= predictAfter) {
        // A forecast over the budget goes through the tracker's own budget path (event, stderr line, note,
        // signal, status), but only when this callback can act on it by stopping the model.
        const progress = { done: epoch + 1, total: options.epochs }
        const enforce = stopOnBudget && options.model !== undefined
        prediction = tracker.predict(progress, { stopOnBudget: enforce }) ?? prediction
      }
      if (stopOnBudget && tracker.signal.aborted) {
        stop(String((tracker.signal.reason as Error | undefined)?.message ?? 'budget'))
      } else if (stopOnBudget && prediction?.exceeds && epoch + 1 < options.epochs) {
        stop(`the prediction crosses the ${BUDGET_WORDS[prediction.exceeds]} budget`) // no model: warns that it cannot
      }
    },
    async onTrainEnd() {},
  }
}

/** A count option of tfjsCallback (a positive integer), or `fallback` with a warning saying so. */
function countOption<T extends number | null>(
  tracker: EmissionsTracker,
  name: string,
  value: unknown,
  fallback: T,
): number | T {
  if (value === undefined && fallback !== null) return fallback
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value
  say(
    tracker,
    'INVALID_ARGUMENT',
    `tfjsCallback's ${name} must be a whole number from 1, got ${show(value)}; ` +
      (fallback === null
        ? 'no prediction is made (pass the epochs given to model.fit).'
        : `using ${fallback}.`),
  )
  return fallback
}

/** A warning through the tracker's channel: its `warning` event and its stderr line. */
function say(tracker: EmissionsTracker, code: WarningCode, message: string): void {
  if (warnThrough(tracker, { code, message })) return
  // Typed as an EmissionsTracker, but plain JavaScript may pass something else: it has no warning channel
  // of wattprint's, and the process's own is the one left.
  try {
    process.emitWarning(`wattprint: ${message}`, { code })
  } catch {
    // nothing left to tell
  }
}
