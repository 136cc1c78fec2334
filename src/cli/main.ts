#!/usr/bin/env node
import { wattprintVersion } from '../version.js'

const HELP = `wattprint ${wattprintVersion()}: energy and carbon emissions of machine-learning jobs.

Usage:
  wattprint --version     print the version
  wattprint --help        print this help

As a library (see the README):
  import { EmissionsTracker } from 'wattprint'
  const tracker = new EmissionsTracker({ projectName: 'mnist-mlp' })
  await tracker.start(); /* train */ const record = await tracker.stop()

The commands that run and measure any program (wattprint run -- <command>), detect the hardware and
report on CSV files are not part of this version yet.
`

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export function main(argv: readonly string[]): number {
  const [first] = argv
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${wattprintVersion()}\n`)
    return 0
  }
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(HELP)
    return 0
  }
  process.stderr.write(
    `wattprint: unknown command '${first}'. Run 'wattprint --help' for what this version can do.\n`,
  )
  return 2
}

process.exitCode = main(process.argv.slice(2))
