#!/usr/bin/env node
import { statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { linesOf, ownStandardStreams, printErr, printOut } from '../core/terminal.js'
import { closest } from '../core/text.js'
import { wattprintVersion } from '../core/version.js'
import type { TrackerWarning } from '../core/warnings.js'
import { CHECKPOINT_DIR } from '../output/checkpoint.js'
import { formatDuration, formatEnergy, formatMass } from '../output/quantities.js'
import { recoverCheckpoints } from '../output/recovery.js'
import { keptRowFolders } from '../platform/state-dir.js'
import { type CommandSpec, helpText } from './flags.js'
import { UsageError } from './units.js'

const HELP = `wattprint ${wattprintVersion()}: energy and carbon emissions of machine-learning jobs.

Usage:
  wattprint run [options] -- <command> [args...]
                            run any command and measure the machine while it runs (--within <d>:
                            wait for the cleanest hours first; --pause-above: pause while dirty)
  wattprint detect [options]
                            what would be measured on this machine, and how
  wattprint report [files...] [--by project|experiment|run|day] [--html report.html] [--json]
                            totals of emissions CSVs (wattprint's or CodeCarbon's), with charts
  wattprint estimate --gpu <model> [--gpus <n>] --hours <h> [--provider aws|gcp|azure]
  wattprint estimate --from <emissions.csv>
                            a planned job's (or measured runs') energy and emissions in every cloud region
  wattprint when --duration <d> (--within <d> | --by <time>) [options]
                            the start, before a deadline, at which the forecast grid is cleanest
                            (and, with --region, where), with the saving
  wattprint recover [dir]   append the rows of runs whose process died (SIGKILL, a crash) from their
                            checkpoints, with status 'interrupted', and the rows kept in the state
                            folder because their folder could not be written
  wattprint --version       print the version
  wattprint --help          print this help

Every command lists its options with --help (or: wattprint help <command>).

As a library (docs/guides/library-api.md):
  import { EmissionsTracker } from 'wattprint'
  const tracker = new EmissionsTracker({ projectName: 'mnist-mlp' })
  await tracker.start(); /* train */ const record = await tracker.stop()
`

const RECOVER: CommandSpec = {
  name: 'recover',
  usage: '[dir]',
  about: `Appends the rows of runs whose process died (SIGKILL, a crash, a power cut) to their CSV, from the
checkpoints a running tracker keeps in <dir>/${CHECKPOINT_DIR}/ (default: the current folder), with status
'interrupted', and the rows kept in the state folder ($XDG_STATE_HOME/wattprint, else
~/.local/state/wattprint, else the temp folder) because their own folder could not be written: all of them
without <dir>, that folder's with it. Checkpoints of runs still going are left alone. A run gets one
row: of several checkpoints of one run (its folder became unwritable mid-run), the latest is recovered and
the others dropped, and so is a checkpoint whose row the CSV already holds. Exits 1 when a checkpoint
could not be recovered, 2 when <dir> is not a folder.`,
  flags: {},
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv
  if (first === '--version' || first === '-v') {
    printOut(wattprintVersion())
    return 0
  }
  if (first === 'help' && rest[0] !== undefined && COMMANDS.includes(rest[0]))
    return main([rest[0], '--help'])
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    printOut(...linesOf(HELP))
    return 0
  }
  try {
    switch (first) {
      case 'recover':
        return await recover(rest)
      case 'run':
        return await (await import('./commands/run.js')).runCommand(rest)
      case 'detect':
        return await (await import('./commands/detect.js')).detectCommand(rest)
      case 'report':
        return await (await import('./commands/report.js')).reportCommand(rest)
      case 'estimate':
        return await (await import('./commands/estimate.js')).estimateCommand(rest)
      case 'when':
        return await (await import('./commands/when.js')).whenCommand(rest)
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      // A refusal quotes what was typed: written out by the one printer, its own lines kept.
      printErr(...linesOf(`wattprint ${first}: ${(error as Error).message}`))
      return 2
    }
    throw error
  }
  const guess = closest(first, COMMANDS)
  printErr(
    `wattprint: unknown command '${first}'${guess ? ` (did you mean '${guess}'?)` : ''}. Run 'wattprint --help'.`,
  )
  return 2
}

const COMMANDS = ['run', 'detect', 'report', 'estimate', 'when', 'recover']

/**
 * `wattprint recover [dir]`: 0 when every orphan was recovered (or none was found), 1 otherwise, 2 for a
 * folder that is not there. Without a folder: the current one, and every row kept in the state folders.
 */
async function recover(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    printOut(...linesOf(helpText(RECOVER)))
    return 0
  }
  if (args.length > 1 || args[0]?.startsWith('-')) {
    printErr(`wattprint recover: expected at most one folder, got '${args.join(' ')}'.`)
    return 2
  }
  const dir = resolve(args[0] ?? '.')
  const problem = notAFolder(dir)
  if (problem) {
    printErr(
      `wattprint recover: ${problem} Name the output folder of the runs (the one holding ${CHECKPOINT_DIR}/).`,
    )
    return 2
  }
  const warn = (w: TrackerWarning) => printErr(`wattprint: ${w.message}`)
  const outcomes = await recoverCheckpoints(dir, warn, args[0] === undefined ? 'all' : 'this-folder')
  if (outcomes.length === 0) {
    const kept = keptRowFolders().join(', ')
    printOut(
      `No checkpoints in ${join(dir, CHECKPOINT_DIR)}, and no rows ${args[0] === undefined ? '' : 'of it '}kept in ${kept}: nothing to recover.`,
    )
    return 0
  }
  for (const o of outcomes) {
    // A run id and a path come from files on disk: the printer writes their control characters out.
    const line = (verb: string, figures = '') =>
      printOut(`${verb} ${o.runId ?? o.file}: ${figures}${o.detail}`)
    if (o.outcome === 'recovered' && o.record) {
      // Each figure in the unit that fits it: a short run's 0.04 Wh is 144 J, not "0.000 Wh".
      const r = o.record
      line(
        'recovered',
        `${formatDuration(r.durationS)}, ${formatEnergy(r.energyKWh)}, ${formatMass(r.emissionsKg)} CO2e, `,
      )
    } else if (o.outcome === 'running') line('left')
    else if (o.outcome === 'dropped') line('dropped')
    else line('failed')
  }
  return outcomes.some((o) => o.outcome === 'failed') ? 1 : 0
}

/** Why `dir` is not an existing folder, or null. */
function notAFolder(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `${dir} is a file, not a folder.`
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? `${dir} does not exist.`
      : `cannot open ${dir}: ${(error as Error).message}.`
  }
}

ownStandardStreams()
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    printErr(`wattprint: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  },
)
