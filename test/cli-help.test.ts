import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DETECT_FLAGS } from '../src/cli/commands/detect.js'
import { ESTIMATE_FLAGS } from '../src/cli/commands/estimate.js'
import { REPORT_FLAGS } from '../src/cli/commands/report.js'
import type { Flags } from '../src/cli/flags.js'
import { RUN_FLAGS } from '../src/cli/run/flags.js'

const cli = resolve('dist/cli.js')
const wattprint = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

// The tables each command hands to parseArgs; recover takes a folder and no flag but --help.
const COMMANDS: Record<string, Flags> = {
  run: RUN_FLAGS,
  detect: DETECT_FLAGS,
  report: REPORT_FLAGS,
  estimate: ESTIMATE_FLAGS,
  recover: {},
}

describe('command help', () => {
  it.each(Object.entries(COMMANDS))('wattprint %s --help lists every flag it parses', (command, flags) => {
    const help = wattprint(command, '--help')
    expect(help.status).toBe(0)
    expect(help.stderr).toBe('')
    expect(help.stdout).toMatch(new RegExp(`^Usage: wattprint ${command} `))
    const listed = new Set([...help.stdout.matchAll(/^ {2}(?:-(\w), | {4})--([\w-]+)/gm)].map((m) => m[2]))
    expect([...listed].sort()).toEqual([...Object.keys(flags), 'help'].sort())
    for (const [name, flag] of Object.entries(flags)) {
      if (flag.short) expect(help.stdout).toContain(`-${flag.short}, --${name}`)
    }
    expect(wattprint(command, '-h').stdout).toBe(help.stdout)
    expect(wattprint('help', command).stdout).toBe(help.stdout)
  })

  it.each(Object.entries(COMMANDS))('wattprint %s accepts every flag its help lists', (command, flags) => {
    // Each flag parses (help then wins over everything else): the help and the parser are one table.
    const args = Object.entries(flags).map(([name, f]) => (f.type === 'string' ? `--${name}=x` : `--${name}`))
    const run = wattprint(command, ...args, '--help')
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const unknown = wattprint(command, '--no-such-flag')
    expect(unknown.status).toBe(2)
    // recover's own argument check answers there (it takes a folder, not flags).
    if (command !== 'recover') expect(unknown.stderr).toContain(`Run 'wattprint ${command} --help'`)
  })

  it('points from the top-level help to each command', () => {
    const help = wattprint('--help').stdout
    expect(help).toContain('wattprint help <command>')
    for (const command of Object.keys(COMMANDS)) expect(help).toContain(`wattprint ${command} `)
  })

  it('suggests the flag meant by a typo', () => {
    const run = wattprint('estimate', '--huors', '1')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain("Unknown option '--huors' (did you mean --hours?)")
  })
})
