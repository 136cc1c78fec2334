import { type StdioOptions, spawn } from 'node:child_process'
import { constants } from 'node:os'
import { join } from 'node:path'
import { bestEquivalent, describeEquivalent, equivalents } from '../../accounting/equivalents.js'
import { headline } from '../../accounting/record.js'
import type { TrackerOptions } from '../../config/options.js'
import { linesOf, printErr, printJson, printOut } from '../../core/terminal.js'
import { printable } from '../../core/text.js'
import type { ForecastConfig } from '../../intensity/forecast/select.js'
import type { SampleEvent } from '../../model/events.js'
import type { EmissionsRecord } from '../../model/record.js'
import { footprintPhrase } from '../../output/footprint-format.js'
import { jobEnergy, trackerPhrase } from '../../output/format.js'
import { formatEnergy, formatMass } from '../../output/quantities.js'
import { forecastConfig } from '../../scheduling/forecast.js'
import { EmissionsTracker, launcher, scheduledBy } from '../../tracker/tracker.js'
import { type Flags, type FlagValues, parseFlags, textOf } from '../flags.js'
import { footprintOptionsFrom } from '../footprint-flags.js'
import { forecastPlaceFrom, trackerOptionsFrom, usageErrorFrom } from '../options.js'
import { locateCommand, spawnProblem } from '../run/command.js'
import { environmentWarning } from '../run/environment.js'
import { budgetFrom, RUN, RUN_FLAGS, RUN_HELP, sinksFrom } from '../run/flags.js'
import { checkCsvOutput, checkTimelineFile, timelineSink } from '../run/output-checks.js'
import { OutputRelay } from '../run/output-relay.js'
import { scheduleFrom } from '../run/schedule.js'
import { ScheduledRun } from '../run/scheduled.js'
import { holdMessagesBeforeCommand, SignalRelay } from '../run/signals.js'
import { StatusLine } from '../run/status-line.js'
import { ukOptionFrom } from '../schedule-flags.js'
import { parseQuantity, UsageError } from '../units.js'

/** Splits `[options] [--] command args` at the command: options take values as declared. */
function splitCommand(argv: readonly string[]): { options: string[]; command: string[] } {
  const takesValue = new Set<string>()
  for (const [name, def] of Object.entries(RUN_FLAGS as Flags)) {
    if (def.type !== 'string') continue
    takesValue.add(`--${name}`)
    if (def.short) takesValue.add(`-${def.short}`)
  }
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string
    if (token === '--') return { options: argv.slice(0, i), command: argv.slice(i + 1) }
    if (!token.startsWith('-')) return { options: argv.slice(0, i), command: argv.slice(i) }
    if (!token.includes('=') && takesValue.has(token)) i++
  }
  return { options: [...argv], command: [] }
}

const formatSeconds = (s: number): string =>
  s < 60
    ? `${s.toFixed(1)} s`
    : s < 3600
      ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
      : `${(s / 3600).toFixed(2)} h`

/** The one-line live status: elapsed, power by component, energy, emissions. */
function statusLine(sample: SampleEvent, attributed: boolean): string {
  const p = sample.powerW
  const parts = [
    `cpu ${p.cpu.toFixed(0)} W`,
    p.gpu > 0 ? `gpu ${p.gpu.toFixed(0)} W` : '',
    `ram ${p.ram.toFixed(0)} W`,
  ]
  const energy = jobEnergy(sample.energyKWh, sample.machine.energyKWh, attributed)
  return (
    `wattprint ${formatSeconds(sample.elapsedS)} | ${parts.filter(Boolean).join(', ')} | ` +
    `${energy} | ${formatMass(sample.emissionsKg)} CO2e`
  )
}

/**
 * The end-of-run summary, a few lines for stderr: the figure emissionsScope prices first (the whole machine
 * at the wall by default), each with its 80 % interval, then the other scope's.
 */
export function summary(record: EmissionsRecord): string {
  const by = (['cpu', 'gpu', 'ram'] as const)
    .filter((c) => record[c].source !== null)
    .map((c) => `${c} ${formatEnergy(record[c].energyKWh)} (${record[c].source})`)
    .join(', ')
  const priced = headline(record)
  const equivalent = bestEquivalent(priced.emissionsKg)
  const attributed = record.trackingMode === 'process'
  const components = `${jobEnergy(record.energyKWh, record.machine.energyKWh, attributed)} ${range(record.energyLowKWh, record.energyHighKWh, formatEnergy)} [${by}]`
  const wall = record.wall as EmissionsRecord['wall'] | undefined
  const atWall = wall
    ? `${jobEnergy(wall.energyKWh, record.machine.wallKWh, attributed)} at the wall ${range(wall.lowKWh, wall.highKWh, formatEnergy)} (${wall.source})`
    : null
  // With attribution, what wattprint itself used: among the others', never the command's.
  const tracker = trackerPhrase(record)
  const status = `status ${record.status}${tracker ? `; wattprint itself ${tracker}` : ''}`
  const wallFirst = priced.what === 'at the wall' && atWall !== null
  const emissions =
    `${formatMass(priced.emissionsKg)} CO2e ${priced.what} ${range(priced.emissionsLowKg, priced.emissionsHighKg, formatMass)} ` +
    `at ${record.carbonIntensityGPerKWh.toFixed(0)} g/kWh (${record.intensitySource})` +
    (wallFirst
      ? `; CPU+GPU+RAM ${formatMass(record.emissionsKg)}`
      : wall
        ? `; at the wall ${formatMass(wall.emissionsKg)}`
        : '')
  return [
    `wattprint: ${formatSeconds(record.durationS)}, ${wallFirst ? atWall : components}, ${status}`,
    wallFirst ? `  CPU+GPU+RAM (CodeCarbon's scope) ${components}` : atWall ? `  ${atWall}` : null,
    `  ${emissions}`,
    `  ${describeEquivalent(equivalent)} (${equivalent.source})`,
    `  ${footprintPhrase(record)}`,
  ]
    .filter((line): line is string => line !== null)
    .map(printable)
    .join('\n')
}

/** `(80 %: 1.20 J–3.40 J)`, or nothing for a figure without an interval (an old checkpoint's). */
function range(low: number | undefined, high: number | undefined, show: (n: number) => string): string {
  if (low === undefined || high === undefined) return ''
  return `(80 %: ${show(low)}–${show(high)})`
}

/** The flag that sets each budget limit. */
const BUDGET_FLAGS = {
  energyKWh: 'max-energy',
  emissionsKg: 'max-emissions',
  durationS: 'max-duration',
} as const

/** `wattprint run`: the exit code to leave with. */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const { options: optionArgs, command } = splitCommand(argv)
  const { values } = parseFlags(RUN, optionArgs)
  if (values.help) {
    printOut(...linesOf(RUN_HELP))
    return 0
  }
  const [program, ...args] = command
  if (!program) throw new UsageError('wattprint run needs a command: wattprint run -- python train.py')
  // A command that cannot run is said at once, before anything is measured or written, as a shell says it.
  const located = locateCommand(program)
  if (!('path' in located)) {
    printErr(`wattprint: ${located.message}`)
    return located.exitCode
  }
  const budget = budgetFrom(values)
  const grace = textOf(values, 'grace')
  // setTimeout cannot wait longer than 24.8 days; a day is more grace than any command needs.
  const graceRange = { max: 86_400 }
  const graceMs =
    grace === undefined ? 10_000 : parseQuantity('duration', '--grace', grace, { range: graceRange }) * 1000
  const sinks = sinksFrom(values)
  // --timeline: every interval a JSON line, by a jsonlSink; its path is checked below, with the CSV's.
  const timeline = values.timeline !== undefined ? String(values.timeline) : undefined
  if (timeline !== undefined) sinks.push(timelineSink(timeline))
  const trackerOptions: TrackerOptions = {
    ...trackerOptionsFrom(values),
    ...footprintOptionsFrom(values),
    ...ukOptionFrom(values),
    ...(budget ? { budget } : {}),
    ...(sinks.length > 0 ? { sinks } : {}),
  }
  const quiet = values.quiet === true
  // Every file the run writes is checked before the command starts: a path that cannot be written is a
  // usage error (exit 2), not a lost row or a crash at the first sample. -o first, in the flag's terms.
  const { outputDir, outputFile } = trackerOptions
  if (values.output !== undefined)
    checkCsvOutput(join(outputDir ?? '.', outputFile ?? 'emissions.csv'), textOf(values, 'output'))
  let tracker: EmissionsTracker
  try {
    tracker = new EmissionsTracker({ logLevel: quiet ? 'error' : 'warning', ...trackerOptions })
  } catch (error) {
    throw usageErrorFrom(error, values, RUN_FLAGS)
  }

  const { config } = tracker
  // wattprint starts the command: with attribution, the job is the command's process tree, not wattprint.
  const commandStarted = tracker[launcher]()
  if (config.saveToFile) checkCsvOutput(join(config.outputDir, config.outputFile), textOf(values, 'output'))
  if (timeline !== undefined) checkTimelineFile(timeline)
  // The command still runs: said, rather than a variable silently missing from its environment.
  const environment = quiet ? null : environmentWarning()
  if (environment) printErr(environment)
  const attributed = config.attribution.kind !== 'machine'
  const atTerminal = process.stderr.isTTY === true
  // The live lines (the wait for --within's start, the status line), which --no-status turns off alone.
  const live = !quiet && atTerminal && values['no-status'] !== true
  // --within: wait for the forecast's cleanest hours before anything starts; Ctrl-C then leaves no row.
  const request = scheduleFrom(values, config)
  const screen = new StatusLine(live)
  const stopHolding = holdMessagesBeforeCommand((line) => {
    if (!quiet) screen.say(line)
  })
  let scheduled: ScheduledRun | null = null
  if (request) {
    const prepared = await ScheduledRun.prepare(forecastOf(trackerOptions, values), request, { live, quiet })
    if (!(prepared instanceof ScheduledRun)) {
      if (!quiet)
        printErr('wattprint: aborted while waiting: the command did not run and no row was written.')
      stopHolding()
      return 128 + (constants.signals[prepared.signal] ?? 0)
    }
    scheduled = prepared
    // Every record of the run carries the schedule's figures; the time it holds the command paused is not
    // the command's to spend.
    tracker[scheduledBy](scheduled.begin())
  }
  const progress = !quiet && !atTerminal && values.progress === true
  let lastProgressS = 0
  let ended = false
  let drawnAtS = Number.NEGATIVE_INFINITY
  tracker.on('sample', (sample) => {
    scheduled?.onSample(sample)
    if (ended) return
    // About once a second on screen, whatever the sampling interval.
    if (screen.drawing && sample.elapsedS - drawnAtS >= 0.95) {
      drawnAtS = sample.elapsedS
      screen.draw(`${statusLine(sample, attributed)}${scheduled?.paused ? ' | paused' : ''}`)
    } else if (progress && sample.elapsedS - lastProgressS >= 10) {
      lastProgressS = sample.elapsedS
      printErr(statusLine(sample, attributed))
    }
  })
  await tracker.start()
  // A command that may be paused gets its own process group, so that SIGSTOP reaches all of it.
  const ownGroup = scheduled?.pauses === true
  const relay = new SignalRelay({
    // Ctrl-C at a terminal reaches the whole foreground process group, the command included: passing
    // SIGINT on as well would deliver it twice. From anywhere else (kill, a scheduler) it reached only
    // wattprint, as it reaches only wattprint when the command has its own group.
    sharesTerminalGroup: process.stdin.isTTY === true && !ownGroup,
    ownGroup,
    graceMs,
    release: (why) => scheduled?.release(why),
    paused: () => scheduled?.paused ?? false,
    say: (line) => {
      if (!quiet) screen.say(line)
    },
  })
  relay.install()
  stopHolding()
  // --json: stdout holds the JSON alone, for a program to read; the command's own stdout goes to stderr.
  const stdoutFd = values.json ? process.stderr.fd : process.stdout.fd
  // Where the command writes to the status line's terminal, it writes through a pseudo-terminal that
  // wattprint reads: the line is drawn around its output, and not at all once it draws in place.
  const watched = screen.drawing ? OutputRelay.open(stdoutFd) : null
  const output = watched instanceof OutputRelay ? watched : null
  if (watched !== null && !output) screen.stop()
  const stdio: StdioOptions = output?.stdio ?? (values.json ? ['inherit', stdoutFd, 'inherit'] : 'inherit')
  const child = spawn(program, args, { stdio, windowsHide: false, detached: ownGroup })
  if (child.pid !== undefined) commandStarted(child.pid)
  output?.started((bytes) => screen.output(bytes))
  relay.attach(child)
  scheduled?.watch(
    child.pid,
    (paused, why) => {
      // The status line says `paused` while it is drawn.
      if (!quiet && !screen.drawing)
        screen.say(`wattprint: ${paused ? 'paused' : 'resumed'} the command (${why})`)
    },
    (why) => {
      if (!quiet) screen.say(`wattprint: --pause-above is off for this run: ${why}.`)
    },
  )
  tracker.on('budget', (event) => {
    // The tracker has printed the budget's message already: this line says what wattprint does about it.
    if (!quiet) {
      const flag = BUDGET_FLAGS[event.limit]
      screen.say(
        `wattprint: stopping the command for --${flag} ${textOf(values, flag) ?? ''}: SIGTERM, then SIGKILL after ${graceMs / 1000} s.`,
      )
    }
    relay.stop('SIGTERM', 'the budget was crossed')
  })

  const outcome = await new Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    error?: NodeJS.ErrnoException
  }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }))
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  scheduled?.release('the command ended')
  // What the command wrote last reaches the terminal before the summary.
  await output?.finish()
  ended = true
  screen.stop()

  let exitCode: number
  let status: 'finished' | 'failed' | 'interrupted'
  if (outcome.error) {
    const problem = spawnProblem(program, located.path, outcome.error)
    printErr(`wattprint: ${problem.message}`)
    exitCode = problem.exitCode
    status = 'failed'
  } else if (outcome.signal) {
    exitCode = 128 + (constants.signals[outcome.signal] ?? 0)
    status = 'interrupted'
  } else {
    exitCode = outcome.code ?? 1
    status = exitCode === 0 ? 'finished' : 'failed'
  }
  // A budget that stopped the command makes the row budget-exceeded, whatever the exit looked like.
  const record = await tracker.stop({ status: tracker.signal.aborted ? 'finished' : status })
  scheduled?.end()
  if (!quiet) screen.say(...linesOf(summary(record)))
  const saved = scheduled?.summary(record)
  if (!quiet && saved) screen.say(saved)
  if (values.json) {
    const json = {
      exitCode,
      command: [program, ...args],
      record,
      equivalents: equivalents(headline(record).emissionsKg),
    }
    printJson(json)
  }
  // Listening until now: a signal while the row and the sinks were written (a slow Pushgateway) had
  // nothing to reach, and its default action would have ended wattprint there, its exit code lost.
  relay.dispose()
  return exitCode
}

/** The forecast of --within: for the run's place, by the service its variables set up. */
function forecastOf(options: TrackerOptions, values: FlagValues): ForecastConfig {
  try {
    return forecastConfig(forecastPlaceFrom(options))
  } catch (error) {
    throw usageErrorFrom(error, values, RUN_FLAGS)
  }
}
