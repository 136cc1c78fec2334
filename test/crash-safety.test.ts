import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import type { EmissionsRecord } from '../src/model/record.js'
import { type Checkpoint, checkpointPath } from '../src/output/checkpoint.js'
import { recoverCheckpoints } from '../src/output/recovery.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { readCsv } from './helpers/csv.js'
import { sampleRecord } from './helpers/records.js'
import { expectSaneNumbers } from './helpers/sane.js'
import { readOnlyFolder } from './helpers/unwritable.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-crash-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const cli = resolve('dist/cli.js')

/**
 * A child process running a tracker (worker sampling, 50 ms interval, a checkpoint every 100 ms) on
 * `outputDir`, then doing what `mode` says: `hang` keeps running until killed; `user-sigterm` installs its
 * own SIGTERM handler that stops the tracker and exits 0; `exit-code` sets exitCode 3 and lets the event
 * loop drain; `exit-call` calls process.exit(5); `exit-zero` just returns.
 */
async function child(
  outputDir: string,
  mode: 'hang' | 'user-sigterm' | 'exit-code' | 'exit-call' | 'exit-zero',
  { scriptDir = outputDir, env = {} }: { scriptDir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{
  proc: ChildProcess
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>
}> {
  const script = join(scriptDir, `child-${mode}.mjs`)
  writeFileSync(
    script,
    `
    import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
    const tracker = new EmissionsTracker({
      outputDir: ${JSON.stringify(outputDir)}, runId: 'child-${mode}', intervalMs: 50, checkpointIntervalMs: 100,
      carbonIntensityGPerKWh: 100, logLevel: 'silent', raplRoot: ${JSON.stringify(join(scriptDir, 'no-powercap'))},
    })
    await tracker.start()
    console.log('started')
    const mode = ${JSON.stringify(mode)}
    if (mode === 'hang') setInterval(() => {}, 1000)
    if (mode === 'user-sigterm') {
      process.on('SIGTERM', async () => { await tracker.stop(); console.log('handled'); process.exit(0) })
      setInterval(() => {}, 1000)
    }
    if (mode === 'exit-code') { await sleep(300); process.exitCode = 3 }
    if (mode === 'exit-call') { await sleep(300); process.exit(5) }
    if (mode === 'exit-zero') await sleep(300)
    `,
  )
  const proc = spawn(process.execPath, [script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  cleanups.push(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  let output = ''
  proc.stdout?.on('data', (d) => (output += d))
  proc.stderr?.on('data', (d) => (output += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((done) =>
    proc.on('close', (code, signal) => done({ code, signal, output })),
  )
  const deadline = Date.now() + 15_000
  while (!output.includes('started')) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`child did not start: ${output}`)
    await sleep(20)
  }
  return { proc, exited }
}

/** A tracker run on `outputDir` in this process, right after another died there: its warnings. */
async function nextTracker(outputDir: string): Promise<TrackerWarning[]> {
  const warnings: TrackerWarning[] = []
  const next = new EmissionsTracker({
    outputDir,
    runId: 'next',
    carbonIntensityGPerKWh: 100,
    logLevel: 'silent',
  })
  next.on('warning', (w) => warnings.push(w))
  await next.start()
  await next.stop()
  return warnings
}

const rows = (dir: string) =>
  existsSync(join(dir, 'emissions.csv')) ? readCsv(join(dir, 'emissions.csv')) : []
const checkpointOf = (dir: string, runId: string) =>
  JSON.parse(readFileSync(checkpointPath(dir, runId), 'utf8')) as Checkpoint

describe('checkpoints', () => {
  it('are saved periodically, whole, and removed by stop()', async () => {
    const dir = tempDir()
    const tracker = new EmissionsTracker({
      outputDir: dir,
      runId: 'periodic',
      sampling: 'inline',
      intervalMs: 50,
      checkpointIntervalMs: 100,
      carbonIntensityGPerKWh: 100,
      logLevel: 'silent',
      raplRoot: join(dir, 'none'),
    })
    await tracker.start()
    const path = checkpointPath(dir, 'periodic')
    expect(existsSync(path)).toBe(true)
    const durations: number[] = []
    for (let i = 0; i < 5; i++) {
      await sleep(150)
      const checkpoint = checkpointOf(dir, 'periodic')
      expect(checkpoint).toMatchObject({ format: 1, runId: 'periodic', pid: process.pid, final: false })
      durations.push(checkpoint.record.durationS)
      // Written by rename: no temporary file is ever left beside it.
      expect(readdirSync(join(dir, '.wattprint')).filter((f) => f.endsWith('.tmp'))).toEqual([])
    }
    expect(durations.every((d, i) => i === 0 || d > (durations[i - 1] ?? 0))).toBe(true)
    await tracker.stop()
    expect(existsSync(path)).toBe(false)
    expect(rows(dir)).toHaveLength(1)
  })
})

describe('a process that dies', () => {
  it('killed with SIGKILL leaves a checkpoint; the next tracker on the folder appends it as interrupted', async () => {
    const dir = tempDir()
    const { proc, exited } = await child(dir, 'hang')
    await sleep(600)
    proc.kill('SIGKILL')
    expect((await exited).signal).toBe('SIGKILL')
    const left = checkpointOf(dir, 'child-hang')
    expect(left.pid).toBe(proc.pid)
    expect(rows(dir)).toHaveLength(0)

    const warnings = await nextTracker(dir)
    expect(warnings.find((w) => w.code === 'RUN_RECOVERED')?.message).toContain('child-hang')
    const [recovered, own] = rows(dir)
    expect(recovered).toMatchObject({ run_id: 'child-hang', status: 'interrupted' })
    expect(Number(recovered?.duration)).toBeGreaterThan(0.4)
    expect(Number(recovered?.duration)).toBeCloseTo(left.record.durationS, 6)
    expect(Number(recovered?.energy_consumed)).toBeGreaterThan(0)
    expectSaneNumbers(recovered ?? {})
    expect(own).toMatchObject({ run_id: 'next', status: 'finished' })
    expect(existsSync(checkpointPath(dir, 'child-hang'))).toBe(false)
  })

  it('treats a killed process its parent has not reaped (a zombie) as dead', async () => {
    const dir = tempDir()
    const script = join(dir, 'zombie.mjs')
    writeFileSync(
      script,
      `import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
      const t = new EmissionsTracker({ outputDir: ${JSON.stringify(dir)}, runId: 'zombie', carbonIntensityGPerKWh: 100,
        logLevel: 'silent', intervalMs: 50, checkpointIntervalMs: 100 })
      await t.start(); setInterval(() => {}, 1000)`,
    )
    // The tracker's parent becomes \`sleep\`, which never reaps it.
    const parent = spawn('sh', ['-c', `"${process.execPath}" "${script}" & echo $!; exec sleep 60`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    cleanups.push(() => {
      parent.kill('SIGKILL')
    })
    const pid = Number(
      await new Promise<string>((done) => parent.stdout?.once('data', (d) => done(String(d)))),
    )
    const deadline = Date.now() + 15_000
    while (!existsSync(checkpointPath(dir, 'zombie')) && Date.now() < deadline) await sleep(20)
    process.kill(pid, 'SIGKILL')
    while (!readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ') && Date.now() < deadline)
      await sleep(20)
    const outcomes = await recoverCheckpoints(dir)
    expect(outcomes.map((o) => [o.runId, o.outcome])).toEqual([['zombie', 'recovered']])
  })

  it('`wattprint recover` appends orphans, leaves live runs alone, and says what it did', async () => {
    const dir = tempDir()
    // The live one starts first: a tracker starting after the death would recover the orphan itself.
    const alive = await child(dir, 'user-sigterm')
    const dead = await child(dir, 'hang')
    await sleep(400)
    dead.proc.kill('SIGKILL')
    await dead.exited

    const first = spawnSync(process.execPath, [cli, 'recover', dir], { encoding: 'utf8' })
    expect(first.status).toBe(0)
    expect(first.stdout).toMatch(/recovered child-hang: \d+\.\d s, [\d.]+ (J|Wh), [\d.]+ (mg|g) CO2e/)
    expect(first.stdout).toContain(`left child-user-sigterm: process ${alive.proc.pid} still runs`)
    expect(rows(dir).map((r) => [r.run_id, r.status])).toEqual([['child-hang', 'interrupted']])
    expect(existsSync(checkpointPath(dir, 'child-user-sigterm'))).toBe(true)

    alive.proc.kill('SIGTERM')
    expect(await alive.exited).toMatchObject({ code: 0 })
    const again = spawnSync(process.execPath, [cli, 'recover', dir], { encoding: 'utf8' })
    expect(again.stdout).toContain('nothing to recover')
    expect(rows(dir).map((r) => [r.run_id, r.status])).toEqual([
      ['child-hang', 'interrupted'],
      ['child-user-sigterm', 'finished'],
    ])
  })

  it('`wattprint recover` gives each figure in a unit that fits it, and writes control characters out', () => {
    const dir = tempDir()
    const runId = 'evil\u001b[2J\r\u009b'
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    const checkpoint = {
      format: 1,
      runId,
      outputFile: 'emissions.csv',
      outputDir: dir,
      pid: dead,
      hostname: hostname(),
      processStart: null,
      final: false,
      record: sampleRecord({ runId, durationS: 0.2, energyKWh: 2e-7, emissionsKg: 5e-8 }),
    }
    mkdirSync(join(dir, '.wattprint'))
    writeFileSync(join(dir, '.wattprint', 'evil.json'), JSON.stringify(checkpoint))
    const run = spawnSync(process.execPath, [cli, 'recover', dir], {
      encoding: 'utf8',
      env: { ...process.env, XDG_STATE_HOME: join(dir, 'state') },
    })
    expect(run.status, run.stderr).toBe(0)
    // 0.72 J and 0.05 mg, where "0.000 Wh, 0.000 g" said nothing.
    expect(run.stdout).toBe(
      `recovered evil\\u001b[2J\\r\\u009b: 0.2 s, 0.72 J, 0.05 mg CO2e, appended to ${join(dir, 'emissions.csv')}\n`,
    )
    expect(rows(dir).map((r) => r.run_id)).toEqual([runId])
  })

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'writes the row on %s and still dies by the signal when the host does not handle it',
    async (signal) => {
      const dir = tempDir()
      const { proc, exited } = await child(dir, 'hang')
      await sleep(300)
      proc.kill(signal)
      const end = await exited
      expect(end.signal).toBe(signal)
      const [row] = rows(dir)
      expect(row).toMatchObject({ run_id: 'child-hang', status: 'interrupted' })
      expect(Number(row?.duration)).toBeGreaterThan(0.25)
      expectSaneNumbers(row ?? {})
      expect(existsSync(checkpointPath(dir, 'child-hang'))).toBe(false)
    },
  )

  it("leaves a host's own SIGTERM handler in charge", async () => {
    const dir = tempDir()
    const { proc, exited } = await child(dir, 'user-sigterm')
    await sleep(300)
    proc.kill('SIGTERM')
    const end = await exited
    expect(end).toMatchObject({ code: 0, signal: null })
    expect(end.output).toContain('handled')
    expect(rows(dir).map((r) => r.status)).toEqual(['finished'])
  })

  it.each([
    ['exit-zero', 0, 'finished'],
    ['exit-code', 3, 'failed'],
    ['exit-call', 5, 'failed'],
  ] as const)(
    'writes the row at a normal exit without stop() (%s), keeping the exit code',
    async (mode, code, status) => {
      const dir = tempDir()
      const { exited } = await child(dir, mode)
      const end = await exited
      expect(end).toMatchObject({ code, signal: null })
      const [row] = rows(dir)
      expect(row).toMatchObject({ run_id: `child-${mode}`, status })
      expect(Number(row?.duration)).toBeGreaterThan(0.25)
      expect(existsSync(checkpointPath(dir, `child-${mode}`))).toBe(false)
    },
  )
})

describe('an output that cannot be written', () => {
  it('keeps the row in the checkpoint, and a later recovery appends it with its own status', async () => {
    const dir = tempDir()
    // A directory where the CSV should be: every append fails (EISDIR), even for root.
    mkdirSync(join(dir, 'emissions.csv'))
    const warnings: TrackerWarning[] = []
    const tracker = new EmissionsTracker({
      outputDir: dir,
      runId: 'blocked',
      intervalMs: 50,
      carbonIntensityGPerKWh: 100,
      logLevel: 'silent',
      sampling: 'inline',
    })
    tracker.on('warning', (w) => warnings.push(w))
    await tracker.start()
    await sleep(200)
    const record: EmissionsRecord = await tracker.stop()
    expect(record.energyKWh).toBeGreaterThan(0)
    const said = warnings
      .filter((w) => w.code === 'CSV_WRITE_FAILED')
      .map((w) => w.message)
      .join(' ')
    // It names the file it wrote, and that file is there.
    expect(said).toContain(`The row is kept in ${checkpointPath(dir, 'blocked')}`)
    expect(said).toContain(`\`wattprint recover ${dir}\``)
    const kept = checkpointOf(dir, 'blocked')
    expect(kept.final).toBe(true)
    expect(kept.record).toEqual(JSON.parse(JSON.stringify(record)))

    rmSync(join(dir, 'emissions.csv'), { recursive: true })
    const outcomes = await recoverCheckpoints(dir)
    expect(outcomes.map((o) => o.outcome)).toEqual(['recovered'])
    const [row] = rows(dir)
    expect(row).toMatchObject({ run_id: 'blocked', status: 'finished' })
    expect(Number(row?.energy_consumed)).toBeCloseTo(record.energyKWh, 12)
  })

  it('a run killed while its folder is read-only is kept in the state folder; the next tracker there appends it', async (ctx) => {
    const folder = readOnlyFolder()
    if (typeof folder === 'string') return ctx.skip(folder)
    cleanups.push(() => folder.remove())
    const dir = tempDir()
    const state = join(dir, 'state')
    const { proc, exited } = await child(folder.path, 'hang', {
      scriptDir: dir,
      env: { XDG_STATE_HOME: state },
    })
    await sleep(400)
    const kept = join(state, 'wattprint', 'checkpoints', 'child-hang.json')
    expect(JSON.parse(readFileSync(kept, 'utf8'))).toMatchObject({ final: false, outputDir: folder.path })
    proc.kill('SIGKILL')
    await exited

    folder.makeWritable()
    const previous = process.env.XDG_STATE_HOME
    process.env.XDG_STATE_HOME = state
    cleanups.push(() => {
      if (previous === undefined) delete process.env.XDG_STATE_HOME
      else process.env.XDG_STATE_HOME = previous
    })
    const warnings = await nextTracker(folder.path)
    expect(warnings.find((w) => w.code === 'RUN_RECOVERED')?.message).toContain('child-hang')
    expect(rows(folder.path).map((r) => [r.run_id, r.status])).toEqual([
      ['child-hang', 'interrupted'],
      ['next', 'finished'],
    ])
    expect(existsSync(kept)).toBe(false)
  })

  it('ignores a file that is not a checkpoint, and never recovers one twice when two processes race', async () => {
    const dir = tempDir()
    const { proc, exited } = await child(dir, 'hang')
    await sleep(300)
    proc.kill('SIGKILL')
    await exited
    writeFileSync(join(dir, '.wattprint', 'garbage.json'), '{"not": "a checkpoint"')
    const racers = Array.from(
      { length: 4 },
      () =>
        new Promise<number | null>((done) => {
          const p = spawn(process.execPath, [cli, 'recover', dir], { stdio: 'ignore' })
          p.on('close', done)
        }),
    )
    await Promise.all(racers)
    expect(rows(dir).filter((r) => r.run_id === 'child-hang')).toHaveLength(1)
    expect(existsSync(join(dir, '.wattprint', 'garbage.json'))).toBe(true)
  })
})
