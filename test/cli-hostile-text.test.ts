import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { printable } from '../src/text.js'

// What a user types reaches the terminal again in the CLI's refusals and in detect's findings: an escape
// sequence (7-bit or the one-byte C1 CSI), a carriage return or a bidi override in it is written out, never
// run by the terminal or let to reorder the line.

const cli = resolve('dist/cli.js')
const HOSTILE = 'h\u001b[2J\r\u009b31m\u202egpu\u2066'
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

const wattprint = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, WATTPRINT_RAPL_ROOT: '/nonexistent', WATTPRINT_CARBON_INTENSITY: '100', ...env },
    timeout: 60_000,
  })

describe('hostile text on the terminal', () => {
  it('is written out by the one printer: control characters and bidi controls alike', () => {
    expect(printable(HOSTILE)).toBe('h\\u001b[2J\\r\\u009b31m\\u202egpu\\u2066')
    expect(printable('a\u200e\u200f\u061cb')).toBe('a\\u200e\\u200f\\u061cb')
    expect(printable('été 東京 🚀')).toBe('été 東京 🚀')
  })

  it.each([
    ['estimate --gpu', ['estimate', '--gpu', HOSTILE, '--hours', '1'], /is not in the GPU table/],
    [
      'when --by',
      ['when', '--duration', '1h', '--by', `2026-12-0${HOSTILE}`],
      /--by .* is not a date and time/,
    ],
    ['report --by', ['report', '--by', HOSTILE], /--by .* must be one of/],
  ])('in a refusal of wattprint %s', (_, args, message) => {
    const run = wattprint(args)
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(run.stderr.replace(/\n$/, '')).not.toMatch(RAW)
  })

  it("in detect's findings", () => {
    const run = wattprint(['detect'], { WATTPRINT_PROC_ROOT: `/nonexistent/${HOSTILE}` })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toContain('\\u001b[2J')
    expect(run.stdout.replace(/\n/g, '')).not.toMatch(RAW)
  })
})
