import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ESTIMATE_FLAGS } from '../src/cli/commands/estimate.js'

// Every example a command's --help shows is run as a user would paste it (in a folder holding the files
// it names, offline: the forecast and live-intensity services are pointed at a closed local port). An
// example may find no forecast offline (exit 1, saying so), but none may be refused (exit 2).

const cli = resolve('dist/cli.js')
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** Nothing listens on port 9 (discard) on a test machine: every request there is refused at once. */
const CLOSED = 'http://127.0.0.1:9'
const env = {
  ...process.env,
  WATTPRINT_RAPL_ROOT: '/nonexistent',
  WATTPRINT_NVIDIA_SMI: '/nonexistent/nvidia-smi',
  WATTPRINT_UK_CARBON_INTENSITY_URL: CLOSED,
  WATTPRINT_ELECTRICITYMAPS_URL: CLOSED,
  // "(with an Electricity Maps token)", as one example says.
  WATTPRINT_ELECTRICITYMAPS_TOKEN: 'example-token',
  WATTPRINT_INTENSITY_TIMEOUT_MS: '1000',
}

const help = (command: string) =>
  spawnSync(process.execPath, [cli, command, '--help'], { encoding: 'utf8', env }).stdout

/** A folder holding what the examples name: emissions.csv, results/*.csv, run1.jsonl. */
function exampleFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-examples-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const csv = resolve('test/fixtures/codecarbon-emissions.csv')
  copyFileSync(csv, join(dir, 'emissions.csv'))
  mkdirSync(join(dir, 'results'))
  copyFileSync(csv, join(dir, 'results', 'a.csv'))
  const sample = (elapsedS: number) =>
    JSON.stringify({ elapsedS, powerW: { cpu: 10, gpu: 0, ram: 3, total: 13 } })
  writeFileSync(join(dir, 'run1.jsonl'), `${[0, 1, 2].map(sample).join('\n')}\n`)
  return dir
}

/** The `wattprint …` command lines under the help's Example(s): heading (inside `$(…)` too). */
function examplesOf(text: string): string[] {
  const footer = text.split(/^Examples?:$/m)[1] ?? ''
  return footer
    .split('\n')
    .map((line) => /\$\((wattprint [^)]*)\)/.exec(line)?.[1] ?? line.trim())
    .filter((line) => line.startsWith('wattprint '))
    .map((line) => line.replace(/\s+\(.*\)$/, ''))
}

/** Runs an example line through the shell (for its quotes and globs) with the built CLI as `wattprint`. */
function runExample(line: string, dir: string) {
  // The command `run` measures is replaced by one that is there and ends at once.
  const command = line.replace(/ -- .*$/, ` -- "${process.execPath}" -e ""`)
  return spawnSync('/bin/sh', ['-c', command.replace(/^wattprint /, `"${process.execPath}" "${cli}" `)], {
    cwd: dir,
    encoding: 'utf8',
    env,
    timeout: 60_000,
  })
}

describe('the examples in the help', () => {
  it.each(['run', 'report', 'estimate', 'when'])(
    'wattprint %s --help: each example runs',
    (command) => {
      const examples = examplesOf(help(command))
      expect(examples.length).toBeGreaterThan(0)
      const dir = exampleFolder()
      for (const example of examples) {
        const result = runExample(example, dir)
        const what = `${example}\n${result.stderr}`
        if (command === 'when') {
          // Offline there is no forecast to be had; it must be that, not a refusal.
          expect([0, 1], what).toContain(result.status)
          if (result.status === 1) expect(result.stderr, what).toMatch(/forecast/i)
        } else expect(result.status, what).toBe(0)
      }
    },
    120_000,
  )

  it('wattprint estimate --help: each GPU named in --gpu prices a job', () => {
    // The help prints this text, wrapped: the names after "loosely matched:", quoted where they hold spaces.
    const listed = [
      ...(ESTIMATE_FLAGS.gpu.help.split('loosely matched:')[1] ?? '').matchAll(/"([^"]+)"|([^\s,]+)/g),
    ].map((m) => m[1] ?? m[2] ?? '')
    expect(listed.length).toBeGreaterThanOrEqual(3)
    for (const gpu of listed) {
      const run = spawnSync(process.execPath, [cli, 'estimate', '--gpu', gpu, '--hours', '2'], {
        encoding: 'utf8',
        env,
      })
      expect(run.status, `--gpu ${gpu}: ${run.stderr}`).toBe(0)
    }
  })
})
