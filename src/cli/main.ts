#!/usr/bin/env node
import { resolve } from 'node:path'
import { CHECKPOINT_DIR, recoverCheckpoints } from '../sinks/checkpoint.js'
import { wattprintVersion } from '../version.js'

const HELP = `wattprint ${wattprintVersion()}: energy and carbon emissions of machine-learning jobs.

Usage:
  wattprint recover [dir]   append the rows of runs whose process died (SIGKILL, a crash) from their
                            checkpoints in <dir>/${CHECKPOINT_DIR}/ (default: the current folder), with
                            status 'interrupted'; checkpoints of runs still going are left alone
  wattprint --version       print the version
  wattprint --help          print this help

As a library (see the README):
  import { EmissionsTracker } from 'wattprint'
  const tracker = new EmissionsTracker({ projectName: 'mnist-mlp' })
  await tracker.start(); /* train */ const record = await tracker.stop()

The commands that run and measure any program (wattprint run -- <command>), detect the hardware and
report on CSV files are not part of this version yet.
`

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${wattprintVersion()}\n`)
    return 0
  }
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(HELP)
    return 0
  }
  if (first === 'recover') return recover(rest)
  process.stderr.write(
    `wattprint: unknown command '${first}'. Run 'wattprint --help' for what this version can do.\n`,
  )
  return 2
}

/** `wattprint recover [dir]`: 0 when every orphan was recovered (or none was found), 1 otherwise. */
async function recover(args: readonly string[]): Promise<number> {
  if (args.length > 1 || args[0]?.startsWith('-')) {
    process.stderr.write(`wattprint recover: expected at most one folder, got '${args.join(' ')}'.\n`)
    return 2
  }
  const dir = resolve(args[0] ?? '.')
  const outcomes = await recoverCheckpoints(dir, (w) => process.stderr.write(`wattprint: ${w.message}\n`))
  if (outcomes.length === 0) {
    process.stdout.write(`No checkpoints in ${dir}/${CHECKPOINT_DIR}: nothing to recover.\n`)
    return 0
  }
  for (const o of outcomes) {
    const run = o.runId ?? o.file
    if (o.outcome === 'recovered' && o.record) {
      const r = o.record
      process.stdout.write(
        `recovered ${run}: ${r.durationS.toFixed(1)} s, ${(r.energyKWh * 1000).toFixed(3)} Wh, ` +
          `${(r.emissionsKg * 1000).toFixed(3)} g CO2e, ${o.detail}\n`,
      )
    } else if (o.outcome === 'running') process.stdout.write(`left ${run}: ${o.detail}\n`)
    else process.stdout.write(`failed ${run}: ${o.detail}\n`)
  }
  return outcomes.some((o) => o.outcome === 'failed') ? 1 : 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`wattprint: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  },
)
