import { spawn } from 'node:child_process'
import { accessSync, constants as fsConstants, statSync } from 'node:fs'
import { constants, hostname } from 'node:os'
import { delimiter, join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Budget, TrackerOptions } from '../config.js'
import { bestEquivalent, describeEquivalent, equivalents } from '../equivalents.js'
import { WattprintError } from '../errors.js'
import type { SampleEvent } from '../events.js'
import { formatEnergy, formatMass } from '../format.js'
import type { EmissionsRecord } from '../record.js'
import { prometheusSink } from '../sinks/prometheus.js'
import type { Sink } from '../sinks/sink.js'
import { EmissionsTracker } from '../tracker.js'
import { TRACKER_FLAGS, trackerOptionsFrom } from './options.js'
import { checkCsvOutput, TimelineWriter } from './output-checks.js'
import { parseQuantity, UsageError } from './units.js'

const RUN_FLAGS = {
  ...TRACKER_FLAGS,
  timeline: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  progress: { type: 'boolean' },
  'max-energy': { type: 'string' },
  'max-emissions': { type: 'string' },
  'max-duration': { type: 'string' },
  grace: { type: 'string' },
  prometheus: { type: 'string' },
  pushgateway: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

export const RUN_HELP = `Usage: wattprint run [options] -- <command> [args...]

Runs the command (no shell, stdio inherited), measures the machine while it runs, writes one CSV row and
prints a summary on stderr. Exits with the command's exit code (128 + the signal's number when a signal
ended it, 127 when it is not found). SIGTERM and SIGHUP are passed on to the command, and SIGINT when
wattprint is not at a terminal (there Ctrl-C already reaches the command).

Options (each mirrors a tracker option; quantities take units):
  --project <name>            --experiment <id>         -o, --output <dir or file.csv>
  --interval <250ms|1s>       --country <FR|FRA>        --zone <US-CAL-CISO>     --cloud <aws:eu-north-1>
  --carbon-intensity <g/kWh>  --pue <1.2>               --cpu-power <200W>       --ram-power <20W>
  --rapl-root <dir>           --nvidia-smi <path>       --nvml-library <path>    --gpu-ids <0,1>
  --timeline <file.jsonl>     every sample as a JSON line, for charts (wattprint report --html)
  --json                      the summary as JSON on stdout
  -q, --quiet                 no status line and no summary
  --progress                  a line every 10 s when stderr is not a terminal
  --max-energy <0.5kWh>  --max-emissions <100g>  --max-duration <2h>
                              budgets: when one is crossed the command gets SIGTERM, then SIGKILL after
  --grace <10s>               the grace period, and the row's status is budget-exceeded
  --prometheus <[host]:port>  serve the run's metrics for Prometheus (host 127.0.0.1 unless given)
  --pushgateway <url>         push them to a Pushgateway (instance label: this host's name)
`

/** Whether `program` names an executable: a path, or a name found on PATH (as spawn would find it). */
function findExecutable(program: string): boolean {
  const executable = (path: string) => {
    try {
      accessSync(path, fsConstants.X_OK)
      return statSync(path).isFile()
    } catch {
      return false
    }
  }
  if (program.includes('/') || program.includes('\\')) return executable(program)
  const extensions =
    process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : ['']
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && extensions.some((ext) => executable(join(dir, program + ext)))) return true
  }
  return false
}

/** Splits `[options] [--] command args` at the command: options take values as declared. */
function splitCommand(argv: readonly string[]): { options: string[]; command: string[] } {
  const takesValue = new Set<string>()
  for (const [name, def] of Object.entries(RUN_FLAGS)) {
    if (def.type !== 'string') continue
    takesValue.add(`--${name}`)
    if ('short' in def) takesValue.add(`-${def.short}`)
  }
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string
    if (token === '--') return { options: argv.slice(0, i), command: argv.slice(i + 1) }
    if (!token.startsWith('-')) return { options: argv.slice(0, i), command: argv.slice(i) }
    if (!token.includes('=') && takesValue.has(token)) i++
  }
  return { options: [...argv], command: [] }
}

function budgetFrom(values: Record<string, unknown>): Budget | undefined {
  const budget: { energyKWh?: number; emissionsKg?: number; durationS?: number } = {}
  const energy = values['max-energy']
  if (typeof energy === 'string') budget.energyKWh = parseQuantity('energy', '--max-energy', energy)
  const emissions = values['max-emissions']
  if (typeof emissions === 'string') budget.emissionsKg = parseQuantity('mass', '--max-emissions', emissions)
  const duration = values['max-duration']
  if (typeof duration === 'string') budget.durationS = parseQuantity('duration', '--max-duration', duration)
  return Object.keys(budget).length > 0 ? budget : undefined
}

/** --prometheus [host]:port and --pushgateway url as sinks. */
function sinksFrom(values: Record<string, unknown>): Sink[] {
  const sinks: Sink[] = []
  if (typeof values.prometheus === 'string') {
    const match = /^(?:(.*):)?(\d+)$/.exec(values.prometheus)
    const port = Number(match?.[2])
    if (!match || !(port >= 0 && port < 65_536)) {
      throw new UsageError(
        `--prometheus ${JSON.stringify(values.prometheus)} must be [host]:port: for example --prometheus :9465.`,
      )
    }
    sinks.push(prometheusSink({ port, ...(match[1] ? { host: match[1] } : {}) }))
  }
  if (typeof values.pushgateway === 'string') {
    if (!/^https?:\/\//.test(values.pushgateway)) {
      throw new UsageError(
        `--pushgateway ${JSON.stringify(values.pushgateway)} must be a URL: for example --pushgateway http://localhost:9091.`,
      )
    }
    sinks.push(
      prometheusSink({ pushgateway: { url: values.pushgateway, groupingLabels: { instance: hostname() } } }),
    )
  }
  return sinks
}

const formatSeconds = (s: number): string =>
  s < 60
    ? `${s.toFixed(1)} s`
    : s < 3600
      ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
      : `${(s / 3600).toFixed(2)} h`

/** The one-line live status: elapsed, power by component, energy, emissions. */
function statusLine(sample: SampleEvent): string {
  const p = sample.powerW
  const parts = [
    `cpu ${p.cpu.toFixed(0)} W`,
    p.gpu > 0 ? `gpu ${p.gpu.toFixed(0)} W` : '',
    `ram ${p.ram.toFixed(0)} W`,
  ]
  return (
    `wattprint ${formatSeconds(sample.elapsedS)} | ${parts.filter(Boolean).join(', ')} | ` +
    `${formatEnergy(sample.energyKWh)} | ${formatMass(sample.emissionsKg)} CO2e`
  )
}

/** The end-of-run summary, a few lines for stderr. */
export function summary(record: EmissionsRecord): string {
  const by = (['cpu', 'gpu', 'ram'] as const)
    .filter((c) => record[c].source !== null)
    .map((c) => `${c} ${formatEnergy(record[c].energyKWh)} (${record[c].source})`)
    .join(', ')
  const equivalent = bestEquivalent(record.emissionsKg)
  return [
    `wattprint: ${formatSeconds(record.durationS)}, ${formatEnergy(record.energyKWh)} [${by}], status ${record.status}`,
    `  ${formatMass(record.emissionsKg)} CO2e at ${record.carbonIntensityGPerKWh.toFixed(0)} g/kWh (${record.intensitySource})`,
    `  ${describeEquivalent(equivalent)} (${equivalent.source})`,
  ].join('\n')
}

/** `wattprint run`: the exit code to leave with. */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const { options: optionArgs, command } = splitCommand(argv)
  const { values } = parseArgs({
    args: optionArgs,
    options: RUN_FLAGS,
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write(RUN_HELP)
    return 0
  }
  const [program, ...args] = command
  if (!program) throw new UsageError('wattprint run needs a command: wattprint run -- python train.py')
  // A command that cannot run is said at once, before anything is measured or written.
  if (!findExecutable(program)) {
    process.stderr.write(`wattprint: command not found: ${program}\n`)
    return 127
  }
  const budget = budgetFrom(values)
  const graceMs =
    typeof values.grace === 'string' ? parseQuantity('duration', '--grace', values.grace) * 1000 : 10_000
  const sinks = sinksFrom(values)
  const trackerOptions: TrackerOptions = {
    ...trackerOptionsFrom(values),
    ...(budget ? { budget } : {}),
    ...(sinks.length > 0 ? { sinks } : {}),
  }
  const quiet = values.quiet === true
  // Every file the run writes is checked before the command starts: a path that cannot be written is a
  // usage error (exit 2), not a lost row or a crash at the first sample. -o first, in the flag's terms.
  const { outputDir, outputFile } = trackerOptions
  if (values.output !== undefined)
    checkCsvOutput(join(outputDir ?? '.', outputFile ?? 'emissions.csv'), values.output)
  let tracker: EmissionsTracker
  try {
    tracker = new EmissionsTracker({ logLevel: quiet ? 'error' : 'warning', ...trackerOptions })
  } catch (error) {
    if (error instanceof WattprintError) throw new UsageError(error.message)
    throw error
  }

  const { config } = tracker
  if (config.saveToFile) checkCsvOutput(join(config.outputDir, config.outputFile), values.output)
  const timeline = typeof values.timeline === 'string' ? new TimelineWriter(values.timeline) : undefined
  const live = !quiet && process.stderr.isTTY === true
  const progress = !quiet && !live && values.progress === true
  let lastProgressS = 0
  let statusShown = false
  let ended = false
  let drawnAtS = Number.NEGATIVE_INFINITY
  tracker.on('sample', (sample) => {
    timeline?.write(sample)
    if (ended) return
    // About once a second on screen, whatever the sampling interval.
    if (live && sample.elapsedS - drawnAtS >= 0.95) {
      drawnAtS = sample.elapsedS
      process.stderr.write(`\r\x1b[2K${statusLine(sample)}`)
      statusShown = true
    } else if (progress && sample.elapsedS - lastProgressS >= 10) {
      lastProgressS = sample.elapsedS
      process.stderr.write(`${statusLine(sample)}\n`)
    }
  })
  const clearStatus = () => {
    if (statusShown) process.stderr.write('\r\x1b[2K')
    statusShown = false
  }

  await tracker.start()
  const child = spawn(program, args, { stdio: 'inherit', windowsHide: false })
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
  }
  // Ctrl-C at a terminal reaches the whole foreground process group, the command included: passing SIGINT
  // on as well would deliver it twice. From anywhere else (kill, a scheduler) it reached only wattprint.
  const signals = process.stdin.isTTY
    ? (['SIGTERM', 'SIGHUP'] as const)
    : (['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  const forwarders = signals.map((signal) => {
    const handler = forward(signal)
    process.on(signal, handler)
    return () => process.off(signal, handler)
  })
  if (process.stdin.isTTY) {
    // Not passed on, but not fatal to wattprint either: it waits for the command to finish its own exit.
    const waitForCommand = () => {}
    process.on('SIGINT', waitForCommand)
    forwarders.push(() => process.off('SIGINT', waitForCommand))
  }
  let killTimer: NodeJS.Timeout | undefined
  tracker.on('budget', (event) => {
    clearStatus()
    process.stderr.write(
      `wattprint: ${event.message} Stopping the command (SIGTERM, SIGKILL after ${graceMs / 1000} s).\n`,
    )
    child.kill('SIGTERM')
    killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    killTimer.unref()
  })

  const outcome = await new Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    error?: NodeJS.ErrnoException
  }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }))
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  clearTimeout(killTimer)
  for (const off of forwarders) off()
  ended = true
  clearStatus()

  let exitCode: number
  let status: 'finished' | 'failed' | 'interrupted'
  if (outcome.error) {
    const notFound = outcome.error.code === 'ENOENT'
    process.stderr.write(
      notFound
        ? `wattprint: command not found: ${program}\n`
        : `wattprint: could not run ${program}: ${outcome.error.message}\n`,
    )
    exitCode = notFound ? 127 : 126
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
  await timeline?.end()
  if (!quiet) process.stderr.write(`${summary(record)}\n`)
  if (values.json) {
    const json = {
      exitCode,
      command: [program, ...args],
      record,
      equivalents: equivalents(record.emissionsKg),
    }
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }
  return exitCode
}
