import type { TrackerWarning } from '../core/warnings.js'

/**
 * Each tracker's one warning channel (what its `warning` event and its stderr line say), by the tracker's
 * configuration: `tracker.config`, one object per tracker, made by its constructor. It is for the code
 * that is handed a tracker and must report through it, the integrations (`warnThrough(tracker, warning)`),
 * and it carries the warnings of the options the tracker was given (`DEPRECATED_OPTION`). Weak: a channel
 * goes with its tracker.
 */
const channels = new WeakMap<object, (warning: TrackerWarning) => void>()

/**
 * Opens a tracker's channel: `warn` is the tracker's own (it logs the warning and emits the event).
 * `pending`, the warnings resolving its options gave (config.ts's configWarnings), are sent through it on
 * a microtask, once the constructor has returned, so that listeners added just after
 * `new EmissionsTracker(…)` receive them (they were printed on stderr as they were found, once per
 * process; the tracker's log does not print them again). Imports no room but core/: the integrations'
 * subpaths load this module.
 */
export function openWarningChannel(
  config: object,
  warn: (warning: TrackerWarning) => void,
  pending: readonly TrackerWarning[] = [],
): void {
  if (channels.has(config)) return
  channels.set(config, warn)
  if (pending.length === 0) return
  queueMicrotask(() => {
    for (const warning of pending) send(warn, warning)
  })
}

/**
 * Reports `warning` through `tracker`'s channel: its `warning` event and its log. False when `tracker`
 * has none (it is no EmissionsTracker: a test's fake, an object of the user's that opens spans), and
 * nothing was said.
 */
export function warnThrough(tracker: unknown, warning: TrackerWarning): boolean {
  let warn: ((warning: TrackerWarning) => void) | undefined
  try {
    const config: unknown =
      typeof tracker === 'object' && tracker !== null ? (tracker as { config?: unknown }).config : undefined
    warn = typeof config === 'object' && config !== null ? channels.get(config) : undefined
  } catch {
    // an object whose `config` throws is no tracker of ours
  }
  if (!warn) return false
  send(warn, warning)
  return true
}

/** A tracker's warn never throws (its listeners' errors are its own to log); this keeps it so. */
function send(warn: (warning: TrackerWarning) => void, warning: TrackerWarning): void {
  try {
    warn(warning)
  } catch {
    // nothing left to tell
  }
}
