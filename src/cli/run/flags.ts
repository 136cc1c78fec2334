import { hostname } from 'node:os'
import type { Budget } from '../../config/options.js'
import { prometheusSink } from '../../output/prometheus.js'
import { labelNameProblem } from '../../output/pushgateway.js'
import type { Sink } from '../../output/sink.js'
import { type CommandSpec, type Flags, type FlagValues, helpText, textOf } from '../flags.js'
import { FOOTPRINT_FLAGS } from '../footprint-flags.js'
import { TRACKER_FLAGS } from '../options.js'
import { UK_FLAG } from '../schedule-flags.js'
import { parseQuantity, UsageError } from '../units.js'
import { SCHEDULE_FLAGS } from './schedule.js'

/** The flags of `wattprint run`: parsed, and listed in its help, from this one table. */
export const RUN_FLAGS = {
  ...TRACKER_FLAGS,
  ...UK_FLAG,
  ...SCHEDULE_FLAGS,
  ...FOOTPRINT_FLAGS,
  timeline: {
    type: 'string',
    value: 'file.jsonl',
    help: 'append every sample as a JSON line, for charts (wattprint report --html … --timeline)',
  },
  json: {
    type: 'boolean',
    help: "the summary as JSON on stdout, which then holds nothing else: the command's own stdout goes to stderr",
  },
  quiet: {
    type: 'boolean',
    short: 'q',
    help: 'no status line, no summary, no warnings (errors, such as a row not written, still shown)',
  },
  'no-status': {
    type: 'boolean',
    help: 'no live status line at a terminal, the summary and warnings still shown (the line is also left out once the command draws in place itself, as a progress bar does)',
  },
  progress: { type: 'boolean', help: 'a status line every 10 s when stderr is not a terminal' },
  'max-energy': {
    type: 'string',
    value: '0.5kWh',
    help: 'energy budget: when crossed, the command gets SIGTERM (then SIGKILL after --grace) and the row is budget-exceeded',
    example: '0.5kWh',
    options: ['budget.energyKWh'],
  },
  'max-emissions': {
    type: 'string',
    value: '100g',
    help: 'emissions budget (g, kg of CO2e), as --max-energy',
    example: '100g',
    options: ['budget.emissionsKg'],
  },
  'max-duration': {
    type: 'string',
    value: '2h',
    help: 'duration budget, as --max-energy',
    example: '2h',
    options: ['budget.durationS'],
  },
  grace: {
    type: 'string',
    value: '10s',
    help: 'how long a command asked to end (by a budget, or SIGTERM, SIGHUP or SIGQUIT passed on) has before SIGKILL, up to 24h (default 10s)',
    example: '10s',
  },
  prometheus: {
    type: 'string',
    value: '[host]:port',
    help: "serve the run's metrics for Prometheus (host 127.0.0.1 unless given)",
    example: ':9465',
  },
  pushgateway: {
    type: 'string',
    value: 'url',
    help: "push the run's metrics to a Pushgateway, to a group of the run's own: job wattprint, project, run_id, rank (where the launcher sets one) and instance (this host's name)",
    example: 'http://localhost:9091',
  },
  'pushgateway-label': {
    type: 'string',
    multiple: true,
    value: 'name=value',
    help: "a grouping label of --pushgateway's, or a new value for one of its own (run_id=nightly: each run replaces the last)",
    example: 'cluster=eu-1',
  },
} as const satisfies Flags

/** `wattprint run` as its help describes it. */
export const RUN: CommandSpec = {
  name: 'run',
  usage: '[options] -- <command> [args...]',
  about: `Runs the command (no shell, stdio inherited; at a terminal its output passes through a pseudo-terminal
wattprint reads, to draw its status line only between the command's lines), measures the machine while
it runs, writes one CSV row and prints a summary on stderr. Exits with the command's exit code (128 + the
signal's number when a signal ended it; as shells do, 127 when it is not found, 126 when it is found but
cannot be executed: not executable, or a directory). Signals are passed on to the command, and
wattprint waits for its end:
SIGTERM, SIGHUP, SIGQUIT (then SIGKILL after --grace if it has not ended), SIGUSR1, SIGUSR2, SIGALRM,
SIGWINCH, SIGINT (never followed by SIGKILL), and SIGTSTP and SIGCONT unless --pause-above runs it in its
own process group. At a terminal without --pause-above, Ctrl-C, Ctrl-\\ and Ctrl-Z reach it directly
and are not passed on again. Quantities take units: 250ms, 10s, 5m, 2h; 300Wh, 0.5kWh; 100g, 2kg; 200W.`,
  flags: RUN_FLAGS,
  footer: `Examples:
  wattprint run --project mnist --country FR --max-energy 0.5kWh -- python train.py --epochs 10
  wattprint run --uk-carbon-intensity RG10 --within 12h --duration 2h -- python train.py
  wattprint run --zone DE --within 24h --pause-above 300 -- python train.py   (with an Electricity Maps token)`,
}

/** The help of \`wattprint run\`, from its flags. */
export const RUN_HELP = helpText(RUN)

/** The budget the --max-* flags set, if any. */
export function budgetFrom(values: FlagValues): Budget | undefined {
  const budget: { energyKWh?: number; emissionsKg?: number; durationS?: number } = {}
  const energy = textOf(values, 'max-energy')
  if (energy !== undefined) budget.energyKWh = parseQuantity('energy', '--max-energy', energy)
  const emissions = textOf(values, 'max-emissions')
  if (emissions !== undefined) budget.emissionsKg = parseQuantity('mass', '--max-emissions', emissions)
  const duration = textOf(values, 'max-duration')
  if (duration !== undefined) budget.durationS = parseQuantity('duration', '--max-duration', duration)
  return Object.keys(budget).length > 0 ? budget : undefined
}

/** --prometheus [host]:port and --pushgateway url as sinks. */
export function sinksFrom(values: FlagValues): Sink[] {
  const sinks: Sink[] = []
  const prometheus = textOf(values, 'prometheus')
  if (prometheus !== undefined) {
    const match = /^(?:(.*):)?(\d+)$/.exec(prometheus.trim())
    const port = Number(match?.[2])
    if (!match || !(port >= 0 && port < 65_536)) {
      throw new UsageError(
        `--prometheus ${JSON.stringify(prometheus)} must be [host]:port with a port from 0 to 65535: for example --prometheus :9465.`,
      )
    }
    sinks.push(prometheusSink({ port, ...(match[1] ? { host: match[1] } : {}) }))
  }
  const pushgateway = textOf(values, 'pushgateway')
  const labels = pushgatewayLabels(values)
  if (pushgateway !== undefined) {
    if (!/^https?:\/\/[^/]/.test(pushgateway)) {
      throw new UsageError(
        `--pushgateway ${JSON.stringify(pushgateway)} must be an http:// or https:// URL: for example --pushgateway http://localhost:9091.`,
      )
    }
    const groupingLabels = { instance: hostname(), ...labels }
    sinks.push(prometheusSink({ pushgateway: { url: pushgateway, groupingLabels } }))
  } else if (Object.keys(labels).length > 0) {
    const given = (values['pushgateway-label'] as string[])[0]
    throw new UsageError(
      `--pushgateway-label ${JSON.stringify(given)} names a group of --pushgateway's: give --pushgateway <url> too.`,
    )
  }
  return sinks
}

/** The --pushgateway-label name=value flags, each name checked as the Pushgateway would. */
function pushgatewayLabels(values: FlagValues): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const given of (values['pushgateway-label'] as string[] | undefined) ?? []) {
    const equals = given.indexOf('=')
    const name = equals < 0 ? given : given.slice(0, equals)
    const problem = equals < 0 ? 'must be name=value' : labelNameProblem(name)
    if (problem) {
      throw new UsageError(
        `--pushgateway-label ${JSON.stringify(given)} ${problem}: for example --pushgateway-label cluster=eu-1.`,
      )
    }
    labels[name] = given.slice(equals + 1)
  }
  return labels
}
