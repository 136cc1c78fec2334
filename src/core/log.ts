import { linesOf, printErr } from './terminal.js'
import { printable } from './text.js'
import type { TrackerWarning, WarningCode } from './warnings.js'

/** How much wattprint prints on stderr. */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'silent'

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error', 'silent']

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3, silent: 4 }

/** A stderr logger with a level; never throws (a closed stderr must not break the host). */
export class Logger {
  constructor(
    readonly level: LogLevel,
    /** Receives each message already written out, its own lines kept; by default the one printer's. */
    private readonly write: (line: string) => void = (line) => printErr(...linesOf(line)),
  ) {}

  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return rank[level] >= rank[this.level]
  }

  log(level: Exclude<LogLevel, 'silent'>, message: string): void {
    if (!this.enabled(level)) return
    const prefix = level === 'info' ? 'wattprint' : `wattprint ${level}`
    try {
      // A message's own lines stay lines; control characters within them (a name holding an escape
      // sequence or a carriage return) are written out, never run by the terminal.
      this.write(`[${prefix}] ${message.split('\n').map(printable).join('\n  ')}\n`)
    } catch {
      // stderr closed or broken: nothing sensible left to do
    }
  }

  debug(message: string): void {
    this.log('debug', message)
  }
  info(message: string): void {
    this.log('info', message)
  }
  warning(message: string): void {
    this.log('warning', message)
  }
  error(message: string): void {
    this.log('error', message)
  }
}

// Warnings printed once per process however many trackers run (each tracker still emits the event).
const loggedOncePerProcess = new Set<WarningCode>([
  'RAPL_UNREADABLE',
  'LOCATION_UNKNOWN',
  'LOCATION_GUESSED',
  'CPU_UNKNOWN',
  'DEPRECATED_OPTION',
])
const alreadyLogged = new Set<string>()

/**
 * Printed as errors, so that the `error` log level (`wattprint run -q`) still shows them: a row that is
 * not in its CSV is a result the user does not have, whatever the run did.
 */
const loggedAsError = new Set<WarningCode>(['CSV_WRITE_FAILED'])

/** Prints a tracker's warning: recoveries as info, lost rows as errors, those about the machine once. */
export function logWarning(logger: Logger, warning: TrackerWarning): void {
  const key = `${warning.code}:${warning.message}`
  if (!loggedOncePerProcess.has(warning.code) || !alreadyLogged.has(key)) {
    alreadyLogged.add(key)
    if (warning.code === 'METER_RECOVERED' || warning.code === 'RUN_RECOVERED') logger.info(warning.message)
    else if (loggedAsError.has(warning.code)) logger.error(warning.message)
    else logger.warning(warning.message)
  }
}
