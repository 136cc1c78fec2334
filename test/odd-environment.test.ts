import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { unpassableEntries } from '../src/cli/run/environment.js'
import { readCsv } from './helpers/csv.js'
import { withRawEnvironment } from './helpers/raw-environment.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-env-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A name with the byte 0xff (not UTF-8), and a value with the byte 0xfe: both as `env $'FOO\xff=1'` makes them. */
const ODD = ['FOO\\377=1', 'ODD_VALUE=a\\376b']

/** `argv` run with the odd entries in its environment (and the usual test settings). */
function runOdd(argv: string[], dir: string) {
  const [program, ...args] = withRawEnvironment(ODD, argv)
  return spawnSync(program as string, args, {
    encoding: 'utf8',
    cwd: dir,
    env: {
      ...process.env,
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
      WATTPRINT_RAPL_ROOT: join(dir, 'none'),
    },
    timeout: 30_000,
  })
}

describe('an environment variable whose name is not UTF-8', () => {
  it('neither aborts `wattprint run` nor stops the command; the row is written', () => {
    const dir = tempDir()
    const run = runOdd(
      [process.execPath, resolve('dist/cli.js'), 'run', '-q', '-o', dir, '--', 'echo', 'RAN'],
      dir,
    )
    // Before: "FATAL ERROR: v8::ToLocalChecked Empty MaybeLocal", exit 134, the command never ran.
    expect(run.stderr).not.toContain('FATAL ERROR')
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toBe('RAN\n')
    expect(readCsv(join(dir, 'emissions.csv'))[0]?.status).toBe('finished')
  })

  it('`run` says which variables the command does not get as given, escaped, without their values', () => {
    const dir = tempDir()
    const probe =
      "console.log(JSON.stringify({ odd: process.env.ODD_VALUE, foo: Object.keys(process.env).filter((k) => k.startsWith('FOO')) }))"
    const run = runOdd(
      [process.execPath, resolve('dist/cli.js'), 'run', '-o', dir, '--', process.execPath, '-e', probe],
      dir,
    )
    expect(run.status, run.stderr).toBe(0)
    // What the command got: the value with U+FFFD, the variable with the bad name not at all.
    expect(JSON.parse(run.stdout)).toEqual({ odd: 'a\ufffdb', foo: [] })
    expect(run.stderr).toContain(
      'wattprint: 2 environment variable(s) cannot be passed on to the command as given (Node.js holds the environment as text): ' +
        'FOO\\xff left out (its name is not UTF-8), ODD_VALUE altered (its value is not UTF-8: U+FFFD replaces its bad bytes). ' +
        'Rename or re-encode them if the command needs them.',
    )
    expect(run.stderr).not.toContain('a\ufffdb')
  })

  it('a tracker started in such an environment samples in its worker thread, and writes its row', () => {
    const dir = tempDir()
    const script = join(dir, 'train.mjs')
    writeFileSync(
      script,
      `import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
      const tracker = new EmissionsTracker({ outputDir: ${JSON.stringify(dir)}, intervalMs: 50, logLevel: 'silent' })
      await tracker.start()
      await new Promise((r) => setTimeout(r, 300))
      const record = await tracker.stop()
      console.log(JSON.stringify({ status: record.status, notes: record.notes }))`,
    )
    const run = runOdd([process.execPath, script], dir)
    expect(run.stderr).not.toContain('FATAL ERROR')
    expect(run.status, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout) as { status: string; notes: string[] }
    expect(record.status).toBe('finished')
    // Not the inline fallback: the worker itself started.
    expect(record.notes.join('\n')).not.toContain('sampled on the main thread')
    expect(readCsv(join(dir, 'emissions.csv'))).toHaveLength(1)
  })
})

describe('unpassableEntries', () => {
  const block = (...entries: (string | number[])[]) =>
    Buffer.concat(
      entries.map((e) =>
        Buffer.concat([Buffer.from(typeof e === 'string' ? e : Uint8Array.from(e)), Buffer.from([0])]),
      ),
    )

  it('finds what Node.js leaves out or alters, and shows names as printable ASCII only', () => {
    const found = unpassableEntries(
      block(
        'PATH=/usr/bin',
        [0x41, 0xff, 0x3d, 0x31], // A\xff=1
        [0x42, 0x3d, 0xfe], // B=\xfe
        '=empty',
        'NO_EQUALS',
        [0x1b, 0x5b, 0x33, 0x31, 0x6d, 0xe2, 0x80, 0xae, 0xc3, 0x3d, 0x78], // ESC[31m, RLO, a lone 0xc3
        'UTF8_OK=é',
      ),
    )
    expect(found).toEqual([
      { name: 'A\\xff', fate: 'left out', why: 'its name is not UTF-8' },
      { name: 'B', fate: 'altered', why: 'its value is not UTF-8: U+FFFD replaces its bad bytes' },
      { name: '(empty)', fate: 'left out', why: 'an empty name' },
      { name: 'NO_EQUALS', fate: 'left out', why: 'no "=" in the entry' },
      { name: '\\x1b[31m\\xe2\\x80\\xae\\xc3', fate: 'left out', why: 'its name is not UTF-8' },
    ])
  })

  it('cuts a 20,000-byte name short', () => {
    const [entry] = unpassableEntries(block([...Buffer.from('X'.repeat(20_000)), 0xff, 0x3d, 0x31]))
    expect(entry?.name).toBe(`${'X'.repeat(60)}… (20001 bytes)`)
  })
})
