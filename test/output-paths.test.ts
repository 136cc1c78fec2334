import { spawnSync } from 'node:child_process'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readCsv } from './helpers/csv.js'
import { makeTempDir, onCleanup } from './helpers/temp-dir.js'
import { blockedPaths, type ReadOnlyFolder, readOnlyFolder } from './helpers/unwritable.js'

const cli = resolve('dist/cli.js')
const tempDir = (): string => makeTempDir('wattprint-paths-')

function readOnly(skip: (note: string) => void): ReadOnlyFolder {
  const folder = readOnlyFolder()
  if (typeof folder === 'string') {
    skip(folder)
    throw new Error('unreachable')
  }
  onCleanup(() => folder.remove())
  return folder
}

/** A hang (the old recursive mkdir on procfs spins forever) fails the test in seconds, not at its timeout. */
const HANG_MS = 8000

/** `wattprint <args>` in `cwd`, with estimates only, a fixed intensity, and a state folder of the test's own. */
function wattprint(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const started = Date.now()
  const result = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: HANG_MS,
    env: {
      ...process.env,
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
      WATTPRINT_RAPL_ROOT: join(cwd, 'none'),
      XDG_STATE_HOME: join(cwd, 'state'),
      ...env,
    },
  })
  return { ...result, elapsedMs: Date.now() - started }
}

/** Runs a script of ESM code in a child process (the tracker from dist/), with a state folder in `cwd`. */
function script(cwd: string, code: string, env: NodeJS.ProcessEnv = {}) {
  const file = join(cwd, `script-${Math.random().toString(36).slice(2)}.mjs`)
  writeFileSync(file, `import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}\n${code}`)
  return spawnSync(process.execPath, [file], {
    cwd,
    encoding: 'utf8',
    timeout: HANG_MS,
    env: { ...process.env, XDG_STATE_HOME: join(cwd, 'state'), ...env },
  })
}

/** A tracker in a child process on `outputDir`, run for `ms`: its start time, warnings and record. */
function trackedRun(dir: string, outputDir: string, runId: string, ms: number, env: NodeJS.ProcessEnv = {}) {
  const result = script(
    dir,
    `const warnings = []
    const tracker = new EmissionsTracker({ outputDir: ${JSON.stringify(outputDir)}, runId: ${JSON.stringify(runId)},
      intervalMs: 50, carbonIntensityGPerKWh: 100, logLevel: 'silent', raplRoot: ${JSON.stringify(join(dir, 'none'))} })
    tracker.on('warning', (w) => warnings.push(w))
    const t0 = performance.now()
    await tracker.start()
    const startMs = performance.now() - t0
    await new Promise((r) => setTimeout(r, ${ms}))
    const record = await tracker.stop()
    console.log(JSON.stringify({ startMs, warnings, record }))`,
    env,
  )
  expect(result.error, 'timed out').toBeUndefined()
  const out = JSON.parse(result.stdout) as {
    startMs: number
    warnings: { code: string; message: string }[]
    record: { energyKWh: number; status: string }
  }
  return { ...out, messages: out.warnings.map((w) => w.message).join('\n') }
}

/** A clean usage error: exit 2, one `wattprint <command>:` line naming `path`, no stack trace, fast. */
function expectUsageError(result: ReturnType<typeof wattprint>, command: string, path: RegExp): void {
  expect(result.error, 'timed out: a hang').toBeUndefined()
  expect(result.status, result.stderr).toBe(2)
  expect(result.stderr).toMatch(new RegExp(`^wattprint ${command}: `))
  expect(result.stderr).toMatch(path)
  expect(result.stderr).not.toMatch(/\n\s+at |node:internal|Error:/)
  // Node's own start-up is most of this; the check itself is a few system calls.
  expect(result.elapsedMs).toBeLessThan(3000)
}

describe('wattprint run: an output folder that cannot be written', () => {
  it.each([
    ['/proc/wattprint-test', /\/proc is on procfs/],
    ['/proc/wattprint-test/deeper/still', /\/proc is on procfs/],
    ['/sys/wattprint-test', /\/sys is on sysfs/],
    ['/sys/kernel/wattprint-test.csv', /\/sys\/kernel is on sysfs/],
  ])('-o %s: exit 2 at once, before the command runs', (output, reason) => {
    const dir = tempDir()
    const marker = join(dir, 'ran')
    const result = wattprint(dir, ['run', '-o', output, '--', 'touch', marker])
    expectUsageError(result, 'run', reason)
    expect(result.stderr).toContain(`-o "${output}" cannot be written`)
    expect(existsSync(marker)).toBe(false)
  })

  it('-o on a dangling symbolic link, or with a file in the way: exit 2, naming what is in the way', () => {
    const dir = tempDir()
    const { dangling, file } = blockedPaths(dir)
    const marker = join(dir, 'ran')
    const cases: [string, RegExp][] = [
      [dangling, /dangling is a symbolic link to .*no-such-target, which does not exist/],
      [join(dangling, 'sub'), /dangling is a symbolic link/],
      [file, /a-file is a file, not a directory/],
      [
        join(file, 'sub', 'deeper'),
        /a-file is a file, not a directory \(ENOTDIR\), so .*a-file\/sub\/deeper cannot be created/,
      ],
      [join(file, 'run.csv'), /a-file is a file, not a directory/],
    ]
    for (const [output, reason] of cases) {
      expectUsageError(wattprint(dir, ['run', '-o', output, '--', 'touch', marker]), 'run', reason)
    }
    expect(existsSync(marker)).toBe(false)
  })

  it('-o on a read-only folder (or below one): exit 2, naming the folder and why', (ctx) => {
    const folder = readOnly((note) => ctx.skip(note))
    const dir = tempDir()
    const marker = join(dir, 'ran')
    for (const output of [folder.path, join(folder.path, 'sub', 'deeper')]) {
      const result = wattprint(dir, ['run', '-o', output, '--', 'touch', marker])
      expectUsageError(result, 'run', /read-only file system|does not allow new entries \(EPERM/)
      expect(result.stderr).toContain(folder.path)
    }
    // Without -o, the current folder: the message says how to choose another.
    const here = wattprint(folder.path, ['run', '--', 'touch', marker])
    expectUsageError(
      here,
      'run',
      /the CSV .*emissions\.csv cannot be written: .*\. Choose another folder with -o <dir>\./,
    )
    expect(existsSync(marker)).toBe(false)
  })

  it('creates a missing output folder, one level at a time, and writes the row there', () => {
    const dir = tempDir()
    const result = wattprint(dir, ['run', '-q', '-o', 'a/b/c', '--', 'true'])
    expect(result.status, result.stderr).toBe(0)
    expect(readCsv(join(dir, 'a/b/c/emissions.csv'))).toHaveLength(1)
  })
})

describe('wattprint run --timeline', () => {
  it('creates a missing folder for it and writes every sample', () => {
    const dir = tempDir()
    const result = wattprint(dir, [
      'run',
      '-q',
      '--interval',
      '50ms',
      '--timeline',
      'new/dir/t.jsonl',
      '--',
      'sleep',
      '0.3',
    ])
    expect(result.status, result.stderr).toBe(0)
    const lines = readFileSync(join(dir, 'new/dir/t.jsonl'), 'utf8').trim().split('\n')
    expect(lines.length).toBeGreaterThan(2)
    expect(JSON.parse(lines[0] ?? '')).toHaveProperty('powerW')
  })

  it('to an existing device is opened as it is; a write that fails mid-run is one line, not a crash', () => {
    const dir = tempDir()
    // /dev/full opens, and every write to it fails with ENOSPC.
    const full = wattprint(dir, [
      'run',
      '-q',
      '-o',
      dir,
      '--interval',
      '50ms',
      '--timeline',
      '/dev/full',
      '--',
      'sleep',
      '0.3',
    ])
    expect(full.status, full.stderr).toBe(0)
    expect(full.stderr).toBe(
      'wattprint: could not write the timeline /dev/full: ENOSPC: no space left on device, write; the run goes on without it.\n',
    )
    expect(readCsv(join(dir, 'emissions.csv')).map((r) => r.status)).toEqual(['finished'])
  })

  it('to a place that cannot hold it: exit 2 before the command runs, no stack trace, no row', (ctx) => {
    const dir = tempDir()
    const { dangling, file } = blockedPaths(dir)
    mkdirSync(join(dir, 'a-folder'))
    const marker = join(dir, 'ran')
    const cases: [string, RegExp][] = [
      ['/proc/wattprint-test/t.jsonl', /\/proc is on procfs/],
      ['/sys/t.jsonl', /\/sys is on sysfs/],
      [join(dangling, 't.jsonl'), /dangling is a symbolic link/],
      [join(file, 't.jsonl'), /a-file is a file, not a directory/],
      [join(dir, 'a-folder'), /a-folder is a folder, not a file/],
    ]
    const folder = readOnlyFolder()
    if (typeof folder !== 'string') {
      onCleanup(() => folder.remove())
      cases.push([join(folder.path, 't.jsonl'), /read-only file system|does not allow new entries/])
    }
    for (const [timeline, reason] of cases) {
      const result = wattprint(dir, ['run', '-o', dir, '--timeline', timeline, '--', 'touch', marker])
      expectUsageError(result, 'run', reason)
      expect(result.stderr).toContain(`--timeline "${timeline}" cannot be written`)
    }
    expect(existsSync(marker)).toBe(false)
    expect(existsSync(join(dir, 'emissions.csv'))).toBe(false)
    if (typeof folder === 'string') ctx.skip(`the read-only case: ${folder}`)
  })
})

describe('wattprint report --html', () => {
  it('creates a missing folder for the report, and refuses one that cannot hold it before reading anything', () => {
    const dir = tempDir()
    expect(wattprint(dir, ['run', '-q', '-o', dir, '--', 'true']).status).toBe(0)
    const made = wattprint(dir, ['report', 'emissions.csv', '--html', 'out/deep/r.html'])
    expect(made.status, made.stderr).toBe(0)
    expect(readFileSync(join(dir, 'out/deep/r.html'), 'utf8')).toContain('<html')
    const { file } = blockedPaths(dir)
    for (const [html, reason] of [
      ['/proc/wattprint-test/r.html', /\/proc is on procfs/],
      [join(file, 'r.html'), /a-file is a file, not a directory/],
    ] as const) {
      expectUsageError(wattprint(dir, ['report', 'missing.csv', '--html', html]), 'report', reason)
    }
  })

  it('is written whole or not at all: a write cut off leaves the last report as it was, and nothing else', () => {
    const dir = tempDir()
    for (let i = 0; i < 3; i++) expect(wattprint(dir, ['run', '-q', '-o', dir, '--', 'true']).status).toBe(0)
    const html = join(dir, 'report.html')
    expect(wattprint(dir, ['report', 'emissions.csv', '--html', html]).status).toBe(0)
    const before = readFileSync(html)
    const files = readdirSync(dir).sort()
    // Another run, so that the new report differs, then a file size limit that cuts it off half-way.
    expect(wattprint(dir, ['run', '-q', '-o', dir, '--', 'true']).status).toBe(0)
    const limitKiB = Math.max(1, Math.floor(before.length / 2048))
    const quoted = [process.execPath, cli, 'report', 'emissions.csv', '--html', html].map((a) => `'${a}'`)
    const cut = spawnSync('bash', ['-c', `ulimit -f ${limitKiB}; exec ${quoted.join(' ')}`], {
      cwd: dir,
      encoding: 'utf8',
      timeout: HANG_MS,
    })
    expect(cut.status, cut.stderr).toBe(1)
    expect(cut.stderr).toContain(`wattprint report: could not write ${html}: EFBIG`)
    expect(cut.stderr).not.toContain('    at ')
    expect(readFileSync(html).equals(before)).toBe(true)
    expect(readdirSync(dir).sort()).toEqual(files)
  })

  it('replaces the file a symbolic link points to, the link kept', () => {
    const dir = tempDir()
    expect(wattprint(dir, ['run', '-q', '-o', dir, '--', 'true']).status).toBe(0)
    writeFileSync(join(dir, 'real.html'), 'old')
    symlinkSync('real.html', join(dir, 'report.html'))
    expect(wattprint(dir, ['report', 'emissions.csv', '--html', 'report.html']).status).toBe(0)
    expect(lstatSync(join(dir, 'report.html')).isSymbolicLink()).toBe(true)
    expect(readFileSync(join(dir, 'real.html'), 'utf8')).toContain('<html')
  })
})

describe('wattprint recover: the folder', () => {
  it('that does not exist, or is a file, is an error (exit 2), not "nothing to recover"', () => {
    const dir = tempDir()
    const { file } = blockedPaths(dir)
    for (const [folder, reason] of [
      [join(dir, 'nonexistent'), /nonexistent does not exist/],
      [file, /a-file is a file, not a folder/],
    ] as const) {
      const result = wattprint(dir, ['recover', folder])
      expectUsageError(result, 'recover', reason)
      expect(result.stdout).toBe('')
    }
  })
})

describe('a path with a NUL byte', () => {
  // No argv or environment can carry one (the kernel ends strings there): code that calls the commands can.
  it('is a usage error naming the flag, written escaped, for -o, --timeline and report --html', async () => {
    const { runCommand } = await import('../src/cli/commands/run.js')
    const { reportCommand } = await import('../src/cli/commands/report.js')
    const { UsageError } = await import('../src/cli/units.js')
    const dir = tempDir()
    const bad = join(dir, 'a\0b.csv')
    const refusals = [
      [() => runCommand(['-o', bad, '--', 'true']), '-o'],
      [() => runCommand(['--timeline', join(dir, 't\0.jsonl'), '--', 'true']), '--timeline'],
      [() => reportCommand(['--html', join(dir, 'r\0.html')]), '--html'],
    ] as const
    for (const [command, flag] of refusals) {
      const error = await command().then(
        () => null,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(UsageError)
      const { message } = error as Error
      expect(message.startsWith(`${flag} "`)).toBe(true)
      expect(message).toContain('holds a NUL byte (\\0), which no file system takes in a name: remove it')
      expect(message).not.toContain('\0')
    }
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('EmissionsTracker: an output folder that cannot be written', () => {
  it.each([
    ['/proc/wattprint'],
    ['/proc/wattprint/a/b'],
    ['/sys/wattprint'],
    ['dangling'],
    ['a-file'],
    ['a-file/sub'],
  ])('outputDir %s is refused by the constructor at once (start() never hangs)', (outputDir) => {
    const dir = tempDir()
    blockedPaths(dir)
    const result = script(
      dir,
      `const t0 = performance.now()
      try {
        const tracker = new EmissionsTracker({ outputDir: ${JSON.stringify(outputDir)}, carbonIntensityGPerKWh: 100, logLevel: 'silent' })
        await tracker.start()
        await tracker.stop()
        console.log('no error')
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, option: error.option, message: error.message, ms: performance.now() - t0 }))
      }`,
    )
    expect(result.error, 'timed out: start() hung').toBeUndefined()
    const outcome = JSON.parse(result.stdout) as { name: string; option: string; message: string; ms: number }
    expect(outcome).toMatchObject({ name: 'WattprintError', option: 'outputDir' })
    expect(outcome.message).toMatch(/^Option outputDir ".*" cannot hold the CSV: .*saveToFile: false\.$/)
    expect(outcome.ms).toBeLessThan(1000)
  })

  it('read-only: start() measures on, the row is kept in the state folder, and recover appends it later', (ctx) => {
    const folder = readOnly((note) => ctx.skip(note))
    const dir = tempDir()
    const out = trackedRun(dir, folder.path, 'kept-run', 200)
    expect(out.startMs).toBeLessThan(5000)
    expect(out.record.energyKWh).toBeGreaterThan(0)
    const kept = join(dir, 'state', 'wattprint', 'checkpoints', 'kept-run.json')
    const checkpoint = JSON.parse(readFileSync(kept, 'utf8'))
    expect(checkpoint).toMatchObject({ final: true, outputDir: folder.path, outputFile: 'emissions.csv' })
    // Every file a warning names was written; none names the output folder's own .wattprint.
    const { messages } = out
    expect(messages).toContain(`kept in ${kept}`)
    expect(messages).not.toMatch(/kept in [^ ]*\.wattprint\//)
    for (const named of messages.match(/kept in (\S+\.json)/g) ?? []) {
      expect(existsSync(named.slice('kept in '.length))).toBe(true)
    }

    // Still read-only: recover says where the row stays, and leaves it there.
    const elsewhere = tempDir()
    const early = wattprint(elsewhere, ['recover'], { XDG_STATE_HOME: join(dir, 'state') })
    expect(early.status).toBe(1)
    expect(early.stdout).toContain(
      `failed kept-run: could not append to ${join(folder.path, 'emissions.csv')}`,
    )
    expect(early.stdout).toContain(`the row stays in ${kept}`)
    expect(existsSync(kept)).toBe(true)

    folder.makeWritable()
    const later = wattprint(elsewhere, ['recover'], { XDG_STATE_HOME: join(dir, 'state') })
    expect(later.status, later.stderr).toBe(0)
    expect(later.stdout).toMatch(/recovered kept-run: .* appended to .*emissions\.csv/)
    expect(readCsv(join(folder.path, 'emissions.csv')).map((r) => [r.run_id, r.status])).toEqual([
      ['kept-run', 'finished'],
    ])
    expect(existsSync(kept)).toBe(false)
    expect(wattprint(elsewhere, ['recover'], { XDG_STATE_HOME: join(dir, 'state') }).stdout).toContain(
      'nothing to recover',
    )
  })

  it('nowhere writable at all: says the row could not be saved, and claims no file', (ctx) => {
    const folder = readOnly((note) => ctx.skip(note))
    const dir = tempDir()
    // Every kept-row folder is under the read-only one too.
    const env = { XDG_STATE_HOME: join(folder.path, 'state'), HOME: folder.path, TMPDIR: folder.path }
    const out = trackedRun(dir, folder.path, 'lost-run', 100, env)
    expect(out.record.energyKWh).toBeGreaterThan(0)
    const { messages } = out
    expect(messages).toContain("Could not save the run's checkpoint anywhere")
    expect(messages).toContain(
      'The row could not be saved anywhere: it is only in the record stop() returned.',
    )
    expect(messages).not.toContain('kept in')
    expect(readdirSync(folder.path)).toEqual([])
  })
})
