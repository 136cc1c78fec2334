import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
  bin: Record<string, string>
}
const wattprint = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

describe('the wattprint bin', () => {
  it('is declared in package.json and built', () => {
    expect(pkg.bin.wattprint).toBe('./dist/cli.js')
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true)
  })

  it('prints its version', () => {
    const run = wattprint('--version')
    expect(run.status).toBe(0)
    expect(run.stdout.trim()).toBe(pkg.version)
  })

  it('prints help listing every command', () => {
    const run = wattprint('--help')
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('Usage:')
    for (const command of ['run', 'detect', 'report', 'estimate', 'recover']) {
      expect(run.stdout).toContain(`wattprint ${command}`)
    }
  })

  it('exits 2 with a clear message on an unknown command, suggesting the one meant', () => {
    const run = wattprint('rnu', '--', 'true')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain("unknown command 'rnu' (did you mean 'run'?)")
  })
})

describe('numeric flags', () => {
  // Every numeric flag of every command against the values people get wrong. Each refusal names the
  // flag and its text as typed, says what is wrong in words, and gives a value that works.
  const cases: [string, string, RegExp][] = []
  const audit = (command: string, flag: string, bad: Record<string, RegExp>) => {
    for (const [text, message] of Object.entries(bad)) cases.push([command, `--${flag}=${text}`, message])
  }
  const quantity = (unit: string) => ({
    [`-1${unit}`]: /must be positive/,
    [`0${unit}`]: /must be more than zero/,
    NaN: /is not a number with a unit/,
    [`1e400${unit}`]: /must be a finite number/,
    '5parsecs': /has a unit that is not one of/,
  })
  audit('run', 'max-energy', quantity('kWh'))
  audit('run', 'max-emissions', quantity('g'))
  audit('run', 'max-duration', quantity('h'))
  audit('run', 'interval', {
    '-1s': /must be at least 10ms \(and at most 1h\)/,
    '0s': /must be at least 10ms/,
    '1e9h': /must be at most 1h/,
    '1e400s': /must be a finite number/,
    Infinity: /is not a number with a unit/,
    '5': /needs a unit/,
  })
  audit('run', 'grace', { ...quantity('s'), '1e9h': /must be at most 1d/ })
  audit('run', 'cpu-power', {
    '-5W': /must be at least 0.1W/,
    '0': /must be at least 0.1W/,
    '1e400W': /must be a finite number/,
    '20kg': /has a unit that is not one of w, kw/,
    '2e4W': /must be at most 10kW/,
  })
  audit('run', 'ram-power', { '-5W': /must be positive or zero/, NaN: /is not a number/, '1e400': /finite/ })
  for (const [command, example] of [
    ['run', '1.2'],
    ['estimate', '1.1'],
  ] as const) {
    audit(command, 'pue', {
      '-1': new RegExp(`must be at least 1 \\(and at most 5\\): for example --pue ${example}`),
      '0': /must be at least 1/,
      NaN: /is not a number/,
      '0x2': /is not a number/,
      '1e400': /must be a finite number/,
      '6': /must be at most 5/,
    })
  }
  audit('run', 'carbon-intensity', {
    '-3': /must be positive or zero/,
    '3000': /must be at most 2000/,
    'lots g/kWh': /is not a number/,
    '1e400': /finite/,
  })
  audit('run', 'prometheus', {
    ':-1': /port from 0 to 65535/,
    ':70000': /port from 0 to 65535/,
    ':9.5': /port/,
  })
  audit('run', 'pushgateway-label', {
    'bad-name=x': /a label name is letters, digits and _.*: for example --pushgateway-label cluster=eu-1/,
    '__name__=x': /reserved by Prometheus/,
    'job=other': /the job is the grouping key's job name/,
    cluster: /must be name=value/,
    'cluster=eu-1': /names a group of --pushgateway's: give --pushgateway <url> too/,
  })
  audit('estimate', 'gpus', {
    '2.5': /must be a whole number: for example --gpus 8/,
    '0': /must be at least 1/,
    '-2': /must be at least 1/,
    NaN: /is not a number/,
    '1e400': /must be a finite number/,
  })
  audit('estimate', 'hours', { ...quantity('h'), '-1': /must be positive/ })
  audit('estimate', 'cpu-power', {
    '-3W': /must be positive or zero/,
    NaN: /is not a number/,
    '1e400W': /finite/,
  })

  it.each(cases)('wattprint %s %s is refused: %s', async (command, arg, message) => {
    const { runCommand } = await import('../src/cli/commands/run.js')
    const { estimateCommand } = await import('../src/cli/commands/estimate.js')
    const flag = arg.slice(0, arg.indexOf('='))
    const text = arg.slice(arg.indexOf('=') + 1)
    const call =
      command === 'run'
        ? runCommand([arg, '--', 'true'])
        : estimateCommand(['--gpu', 'L4', '--hours', '1', arg])
    const error = await call.then(
      () => new Error('accepted'),
      (e: unknown) => e as Error,
    )
    expect(error.name).toBe('UsageError')
    expect(error.message).toMatch(message)
    expect(error.message.startsWith(`${flag} ${JSON.stringify(text)} `)).toBe(true)
    expect(error.message).not.toContain('EmissionsTracker')
  })

  it('takes a negative value after a space as the value, not as a flag', () => {
    const run = wattprint('run', '--max-energy', '-1kWh', '--', 'true')
    expect(run.status).toBe(2)
    expect(run.stderr).toBe(
      'wattprint run: --max-energy "-1kWh" must be positive: for example --max-energy 0.5kWh.\n',
    )
    expect(wattprint('estimate', '--gpu', 'L4', '--hours', '-2').stderr).toContain(
      '--hours "-2" must be positive',
    )
  })
})

describe('refusals on the command line', () => {
  it.each([
    [
      ['run', '--interval', '1e9h', '--', 'true'],
      /^wattprint run: --interval "1e9h" must be at most 1h: for example --interval 1s\.$/,
    ],
    [
      ['run', '--country', 'GER', '--', 'true'],
      /^wattprint run: --country "GER" is not an ISO 3166 .*DE\/DEU \(Germany\).* For example: --country FR\.$/,
    ],
    [
      ['run', '--gpu-ids', '-1', '--', 'true'],
      /^wattprint run: --gpu-ids "-1" must list GPU indices .* For example: --gpu-ids 0,1\.$/,
    ],
    [
      ['run', '--cloud', 'aws:mars-1', '--', 'true'],
      /--cloud "mars-1" is not an AWS region .*set --zone to .* For example: --cloud aws:eu-north-1\.$/,
    ],
    [
      ['run', '--project', ' ', '--', 'true'],
      /^wattprint run: --project " " must not be empty\. For example: --project mnist-mlp\.$/,
    ],
    [['detect', '--interval', '5ms'], /^wattprint detect: --interval "5ms" must be at least 10ms/],
    [
      ['estimate', '--from', 'x.csv', '--pue', '1.2'],
      /--pue describes a planned job and cannot be combined with it/,
    ],
  ])('%j names the flag, never the constructor', (args, message) => {
    const run = wattprint(...args)
    expect(run.status).toBe(2)
    expect(run.stderr.trim()).toMatch(message)
    expect(run.stderr).not.toMatch(/EmissionsTracker|intervalMs|gpuIds|cloudRegion|projectName/)
  })

  it('names a misspelt WATTPRINT_* variable, with the one meant', () => {
    const run = spawnSync(
      process.execPath,
      [cli, 'detect', '--carbon-intensity', '100', '--rapl-root', '/nonexistent'],
      {
        encoding: 'utf8',
        env: { ...process.env, WATTPRINT_PROJECTNAME: 'x', WATTPRINT_LOG_LEVEL: 'DEBUG' },
      },
    )
    expect(run.status).toBe(0)
    expect(run.stdout).toContain(
      'warning Environment variable WATTPRINT_PROJECTNAME is not a wattprint setting',
    )
    expect(run.stdout).toContain('did you mean WATTPRINT_PROJECT_NAME?')
  })
})
