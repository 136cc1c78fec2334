import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { printable, printableJson } from '../src/core/text.js'
import { CSV_HEADER, recordToLine } from '../src/output/csv/sink.js'
import { sampleRecord } from './helpers/records.js'
import { makeTempDir } from './helpers/temp-dir.js'

// What a user types reaches the terminal again in the CLI's refusals and in detect's findings: an escape
// sequence (7-bit or the one-byte C1 CSI), a carriage return or a bidi override in it is written out, never
// run by the terminal or let to reorder the line.

const cli = resolve('dist/cli.js')
const HOSTILE = 'h\u001b[2J\r\u009b31m\u202egpu\u2066'
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
/** What a terminal or a browser would hide or act on: RAW, and the invisible characters besides. */
const HIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|\udb40[\udc00-\udc7f]/
/** Escape sequences (an OSC title, a colour), a bidi override, zero-width characters and tag characters. */
const SNEAKY = 'x\u001b]0;PWNED\u0007\u001b[31m\u202eevil\u200b\u200d\u2060\ufeff\u{e0041}'

const wattprint = (args: string[], env: Record<string, string> = {}, cwd?: string) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      WATTPRINT_RAPL_ROOT: '/nonexistent',
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
      ...env,
    },
    timeout: 60_000,
    ...(cwd ? { cwd } : {}),
  })

const tempDir = (): string => makeTempDir('wattprint-hostile-')

/** Neither stream holds a character a terminal would act on or hide (line ends aside). */
function expectShown(run: { stdout: string; stderr: string }): void {
  expect(run.stdout.replaceAll('\n', '')).not.toMatch(HIDDEN)
  expect(run.stderr.replaceAll('\n', '')).not.toMatch(HIDDEN)
}

describe('hostile text on the terminal', () => {
  it('is written out by the one printer: control characters and bidi controls alike', () => {
    expect(printable(HOSTILE)).toBe('h\\u001b[2J\\r\\u009b31m\\u202egpu\\u2066')
    expect(printable('a\u200e\u200f\u061cb')).toBe('a\\u200e\\u200f\\u061cb')
    expect(printable('été 東京 🚀')).toBe('été 東京 🚀')
  })

  it('writes out zero-width, invisible and tag characters and the line separators too, and JSON stays JSON', () => {
    expect(printable('a\u200bb\u200c\u200d\u2060\ufeff\u00ad\u180e\u2028\u2029\u{e0041}')).toBe(
      'a\\u200bb\\u200c\\u200d\\u2060\\ufeff\\u00ad\\u180e\\u2028\\u2029\\udb40\\udc41',
    )
    expect(printable(printable(SNEAKY))).toBe(printable(SNEAKY))
    const value = { name: SNEAKY, list: ['\u009b', '\u202e'] }
    const json = printableJson(JSON.stringify(value, null, 2))
    expect(json.replaceAll('\n', '')).not.toMatch(HIDDEN)
    expect(JSON.parse(json)).toEqual(value)
  })

  it.each([
    ['estimate --gpu', ['estimate', '--gpu', HOSTILE, '--hours', '1'], /is not in the GPU table/],
    [
      'when --by',
      ['when', '--duration', '1h', '--by', `2026-12-0${HOSTILE}`],
      /--by .* is not a date and time/,
    ],
    ['report --by', ['report', '--by', HOSTILE], /--by .* must be one of/],
    [
      'estimate --memory',
      ['estimate', '--cpu', 'Intel Xeon Gold 6248', '--memory', HOSTILE],
      /--memory .* is not a number with a unit/,
    ],
    [
      'estimate --load',
      ['estimate', '--cpu', 'Intel Xeon Gold 6248', '--memory', '8GB', '--load', HOSTILE],
      /--load/,
    ],
    ['estimate --cpu unknown', ['estimate', '--cpu', HOSTILE, '--memory', '8GB'], /is not in the CPU table/],
  ])('in a refusal of wattprint %s', (_, args, message) => {
    const run = wattprint(args)
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(run.stderr.replace(/\n$/, '')).not.toMatch(RAW)
  })

  it("in estimate --cpu's description of the machine, and in its JSON, read back by Python", () => {
    const name = `${SNEAKY},"=1+2"@${'w'.repeat(20_000)}`
    const text = wattprint([
      'estimate',
      '--cpu',
      name,
      '--threads',
      '8',
      '--memory',
      '16GB',
      '--provider',
      'aws',
    ])
    expect(text.status, text.stderr).toBe(0)
    expect(text.stdout).toContain('x\\u001b]0;PWNED\\u0007\\u001b[31m\\u202eevil\\u200b')
    expectShown(text)
    const json = wattprint(['estimate', '--cpu', name, '--threads', '8', '--memory', '16GB', '--json'])
    expect(json.status, json.stderr).toBe(0)
    expectShown(json)
    const python = spawnSync(
      'python3',
      [
        '-c',
        'import json,sys; print(json.load(sys.stdin)["machine"]["what"] == sys.argv[1])',
        `1 × ${name}, 8 threads, 16 GB`,
      ],
      { input: json.stdout, encoding: 'utf8' },
    )
    expect(python.stdout.trim(), python.stderr).toBe('True')
  })

  it("in detect's findings", () => {
    const run = wattprint(['detect'], { WATTPRINT_PROC_ROOT: `/nonexistent/${HOSTILE}` })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toContain('\\u001b[2J')
    expect(run.stdout.replace(/\n/g, '')).not.toMatch(RAW)
  })

  it.each([
    [
      'a command that is not found',
      ['run', '--', SNEAKY],
      127,
      'stderr',
      /command not found: x\\u001b\]0;PWNED/,
    ],
    ['an unknown command', [SNEAKY], 2, 'stderr', /unknown command 'x\\u001b\]0;PWNED\\u0007/],
    ['an unknown option', ['report', `--${SNEAKY}`], 2, 'stderr', /Unknown option '--x\\u001b\]0;PWNED/],
    [
      'a file report cannot read',
      ['report', `/nonexistent/${SNEAKY}`],
      2,
      'stderr',
      /cannot read \/nonexistent\/x\\u001b/,
    ],
    [
      'recover given two folders',
      ['recover', SNEAKY, 'b'],
      2,
      'stderr',
      /got 'x\\u001b\]0;PWNED\\u0007.*\\u202eevil\\u200b/,
    ],
  ] as const)('in what wattprint says about %s', (_, args, status, stream, message) => {
    const run = wattprint([...args])
    expect(run.status, run.stderr).toBe(status)
    expect(run[stream]).toMatch(message)
    expectShown(run)
  })

  it("in report's notes on each file, on stdout and (when no file could be read) on stderr", () => {
    const dir = tempDir()
    const foreign = join(dir, `${SNEAKY}.csv`)
    writeFileSync(foreign, 'a,b\n1,2\n')
    const malformed = join(dir, `malformed${SNEAKY}.csv`)
    writeFileSync(malformed, `${CSV_HEADER}${recordToLine(sampleRecord())}2026-11-23T09:00:00.000Z,p,D\n`)
    const both = wattprint(['report', foreign, malformed])
    expect(both.status, both.stderr).toBe(0)
    expect(both.stdout).toMatch(/x\\u001b\]0;PWNED.*: not a wattprint or CodeCarbon file/)
    expect(both.stdout).toMatch(/malformedx\\u001b.*: 1 malformed row\(s\) skipped/)
    expectShown(both)
    const none = wattprint(['report', foreign])
    expect(none.status).toBe(1)
    expect(none.stderr).toMatch(/wattprint report: .*x\\u001b\]0;PWNED\\u0007.*not a wattprint/)
    expectShown(none)
  })

  it("in estimate's description of the runs it prices, and in the JSON of run, the same value read back", () => {
    const dir = tempDir()
    const csv = join(dir, `${SNEAKY}.csv`)
    writeFileSync(csv, CSV_HEADER + recordToLine(sampleRecord()))
    const estimate = wattprint(['estimate', '--from', csv, '--provider', 'aws'])
    expect(estimate.status, estimate.stderr).toBe(0)
    expect(estimate.stdout).toContain('x\\u001b]0;PWNED\\u0007\\u001b[31m\\u202eevil\\u200b')
    expectShown(estimate)
    const run = wattprint(['run', '--json', '--project', SNEAKY, '-o', dir, '--', process.execPath, '-e', ''])
    expect(run.status, run.stderr).toBe(0)
    expectShown(run)
    expect((JSON.parse(run.stdout) as { record: { projectName: string } }).record.projectName).toBe(SNEAKY)
  })
})
