import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { EmissionsRecord } from '../src/model/record.js'
import type { Checkpoint } from '../src/output/checkpoint.js'
import { CSV_HEADER, recordToLine } from '../src/output/csv/sink.js'
import { recoverCheckpoints } from '../src/output/recovery.js'
import { readCsv } from './helpers/csv.js'
import { sampleRecord } from './helpers/records.js'
import { makeTempDir, onCleanup } from './helpers/temp-dir.js'

const tempDir = (): string => makeTempDir('wattprint-one-row-')

const rows = (dir: string) =>
  existsSync(join(dir, 'emissions.csv')) ? readCsv(join(dir, 'emissions.csv')) : []
const files = (folder: string) => (existsSync(folder) ? readdirSync(folder) : [])

/** Points the kept-row folder of this process at `state` for the test. */
function stateFolder(state: string): string {
  const previous = process.env.XDG_STATE_HOME
  process.env.XDG_STATE_HOME = state
  onCleanup(() => {
    if (previous === undefined) delete process.env.XDG_STATE_HOME
    else process.env.XDG_STATE_HOME = previous
  })
  return join(state, 'wattprint', 'checkpoints')
}

/** The pid of a process that has exited, as the writer of an orphaned checkpoint. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid ?? 999_999

/** Writes a checkpoint of run `runId`, by process `pid`, for the CSV of `outputDir`, into `folder`. */
function checkpoint(
  folder: string,
  outputDir: string,
  pid: number,
  final: boolean,
  record: Partial<EmissionsRecord>,
  outputFile = 'emissions.csv',
): void {
  mkdirSync(folder, { recursive: true })
  const content: Checkpoint = {
    format: 1,
    runId: 'moved',
    outputFile,
    outputDir,
    pid,
    hostname: hostname(),
    processStart: null,
    final,
    record: sampleRecord({ runId: 'moved', status: 'running', ...record }),
  }
  writeFileSync(join(folder, 'moved.json'), JSON.stringify(content))
}

describe('recovery gives a run one row', () => {
  it("from the final checkpoint, when the run's checkpoint moved folders and the old one stayed", async () => {
    const dir = tempDir()
    const kept = stateFolder(join(dir, 'state'))
    const pid = deadPid()
    // The start checkpoint in the output folder, left when the folder became unwritable; the final row
    // kept in the state folder because the CSV could not be written either.
    checkpoint(join(dir, '.wattprint'), dir, pid, false, {
      timestamp: '2026-12-01T10:00:00.000Z',
      durationS: 0,
    })
    checkpoint(kept, dir, pid, true, {
      timestamp: '2026-12-01T10:00:14.100Z',
      durationS: 14.1,
      status: 'finished',
    })
    const outcomes = await recoverCheckpoints(dir)
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['dropped', 'recovered'])
    expect(rows(dir).map((r) => [r.run_id, r.status, r.duration])).toEqual([['moved', 'finished', '14.1']])
    expect(files(join(dir, '.wattprint'))).toEqual([])
    expect(files(kept)).toEqual([])
  })

  it('from the latest checkpoint, when none is final', async () => {
    const dir = tempDir()
    const kept = stateFolder(join(dir, 'state'))
    const pid = deadPid()
    checkpoint(join(dir, '.wattprint'), dir, pid, false, {
      timestamp: '2026-12-01T10:00:00.200Z',
      durationS: 0.2,
    })
    checkpoint(kept, dir, pid, false, { timestamp: '2026-12-01T10:00:04.000Z', durationS: 4 })
    await recoverCheckpoints(dir)
    expect(rows(dir).map((r) => [r.run_id, r.status, r.duration])).toEqual([['moved', 'interrupted', '4']])
    expect(files(kept)).toEqual([])
  })

  it('none, when the CSV holds its row already; a later run under the same id still gets its own', async () => {
    const dir = tempDir()
    stateFolder(join(dir, 'state'))
    // The run ended at 10:00:14 after 14 s, its row appended; its checkpoint of 10:00:05 could not be removed.
    const csv =
      CSV_HEADER +
      recordToLine(sampleRecord({ runId: 'moved', timestamp: '2026-12-01T10:00:14.000Z', durationS: 14 }))
    writeFileSync(join(dir, 'emissions.csv'), csv)
    checkpoint(join(dir, '.wattprint'), dir, deadPid(), false, {
      timestamp: '2026-12-01T10:00:05.000Z',
      durationS: 5,
    })
    const first = await recoverCheckpoints(dir)
    expect(first.map((o) => [o.outcome, o.detail])).toEqual([
      ['dropped', `its row is in ${join(dir, 'emissions.csv')} already: removed without a row`],
    ])
    expect(readFileSync(join(dir, 'emissions.csv'), 'utf8')).toBe(csv)
    // A run an hour later that reused the id and was killed: not the same run.
    checkpoint(join(dir, '.wattprint'), dir, deadPid(), false, {
      timestamp: '2026-12-01T11:00:05.000Z',
      durationS: 5,
    })
    await recoverCheckpoints(dir)
    expect(rows(dir).map((r) => [r.status, r.duration])).toEqual([
      ['finished', '14'],
      ['interrupted', '5'],
    ])
  })
})

describe('a checkpoint naming a file that cannot be', () => {
  it('(a NUL byte, which an older version accepted) is recovered into emissions.csv once, saying so', async () => {
    const dir = tempDir()
    stateFolder(join(dir, 'state'))
    checkpoint(join(dir, '.wattprint'), dir, deadPid(), true, { status: 'finished' }, 'runs\0.csv')
    const [outcome, ...more] = await recoverCheckpoints(dir)
    expect(more).toEqual([])
    expect(outcome?.outcome).toBe('recovered')
    expect(outcome?.detail).toBe(
      `appended to ${join(dir, 'emissions.csv')} (the file it names, "runs\\u0000.csv", cannot be one in that folder)`,
    )
    expect(rows(dir).map((r) => [r.run_id, r.status])).toEqual([['moved', 'finished']])
    expect(await recoverCheckpoints(dir)).toEqual([])
  })
})

describe('the next tracker on the folder', () => {
  it("says a kept final row is the run's own, not that the run was interrupted", async () => {
    const dir = tempDir()
    stateFolder(join(dir, 'state'))
    checkpoint(join(dir, '.wattprint'), dir, deadPid(), true, { status: 'finished', durationS: 14.1 })
    const { EmissionsTracker } = await import('../src/tracker/tracker.js')
    const next = new EmissionsTracker({
      outputDir: dir,
      runId: 'next',
      carbonIntensityGPerKWh: 100,
      cpuPowerW: 10,
      sampling: 'inline',
      logLevel: 'silent',
      raplRoot: join(dir, 'none'),
    })
    const said: string[] = []
    next.on('warning', (w) => {
      if (w.code === 'RUN_RECOVERED') said.push(w.message)
    })
    await next.start()
    await next.stop()
    expect(said).toEqual([
      `The row of run moved (finished), kept because its CSV could not take it, was appended to ${join(dir, 'emissions.csv')}.`,
    ])
    expect(rows(dir).map((r) => [r.run_id, r.status])).toEqual([
      ['moved', 'finished'],
      ['next', 'finished'],
    ])
  })
})

const NOBODY = 65534
const cli = resolve('dist/cli.js')

/**
 * A real run as user `nobody` (for whom permissions hold; root ignores them) on `<work>/out`, whose
 * `block` (the folder, or its `.wattprint`) the test makes unwritable once the first checkpoint is there:
 * the tracker then keeps its checkpoint in the state folder. `restoreBeforeEnd` gives the folder back
 * before the run stops. Returns the run's duration as its record says.
 */
async function runAsNobody(work: string, block: 'out' | 'out/.wattprint', restoreBeforeEnd: boolean) {
  const out = join(work, 'out')
  const state = join(work, 'state')
  const control = join(work, 'control')
  mkdirSync(control)
  const script = join(work, 'run.mjs')
  writeFileSync(
    script,
    `
    import { existsSync } from 'node:fs'
    import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
    const until = async (done) => { while (!done()) await new Promise((r) => setTimeout(r, 20)) }
    const tracker = new EmissionsTracker({
      outputDir: ${JSON.stringify(out)}, runId: 'moved', intervalMs: 50, checkpointIntervalMs: 100,
      carbonIntensityGPerKWh: 100, cpuPowerW: 10, logLevel: 'silent', raplRoot: ${JSON.stringify(join(work, 'none'))},
    })
    await tracker.start()
    await until(() => existsSync(${JSON.stringify(join(out, '.wattprint', 'moved.json'))}))
    console.log('checkpointed')
    await until(() => existsSync(${JSON.stringify(join(control, 'blocked'))}))
    await until(() => existsSync(${JSON.stringify(join(state, 'wattprint', 'checkpoints', 'moved.json'))}))
    console.log('moved')
    await until(() => existsSync(${JSON.stringify(join(control, 'stop'))}))
    const record = await tracker.stop()
    console.log(JSON.stringify({ durationS: record.durationS }))
    `,
  )
  const env = { ...process.env, XDG_STATE_HOME: state, HOME: work }
  const child: ChildProcess = spawn(process.execPath, [script], { uid: NOBODY, gid: NOBODY, env, cwd: work })
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let output = ''
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((done) => child.on('close', done))
  const said = async (line: string) => {
    const deadline = Date.now() + 30_000
    while (!output.includes(line)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no '${line}': ${output}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  await said('checkpointed')
  const blocked = join(work, block)
  chmodSync(blocked, 0o000)
  onCleanup(() => {
    // Gone once recovery removed it.
    if (existsSync(blocked)) chmodSync(blocked, 0o755)
  })
  writeFileSync(join(control, 'blocked'), '')
  await said('moved')
  if (restoreBeforeEnd) chmodSync(blocked, 0o755)
  writeFileSync(join(control, 'stop'), '')
  expect(await exited, output).toBe(0)
  chmodSync(blocked, 0o755)
  const { durationS } = JSON.parse(output.slice(output.lastIndexOf('{'))) as { durationS: number }
  const recover = spawnSync(process.execPath, [cli, 'recover', out], {
    uid: NOBODY,
    gid: NOBODY,
    env,
    encoding: 'utf8',
  })
  return { out, kept: join(state, 'wattprint', 'checkpoints'), durationS, recover }
}

describe('a folder made unwritable in the middle of a run (as user nobody)', () => {
  const skip =
    process.getuid?.() !== 0 ? 'needs root, to run the tracker as user nobody and chmod its folder' : ''

  function work(): string {
    const dir = tempDir()
    chmodSync(dir, 0o755)
    const shared = join(dir, 'work')
    mkdirSync(shared)
    chmodSync(shared, 0o777)
    return shared
  }

  const oneRow = (out: string, durationS: number) => {
    const [row, ...more] = rows(out)
    expect(more).toEqual([])
    expect(row).toMatchObject({ run_id: 'moved', status: 'finished' })
    expect(Number(row?.duration)).toBeCloseTo(durationS, 6)
  }

  it.skipIf(skip)(
    'and given back after it ended: recover appends its one real row, not the stale start',
    async () => {
      const { out, kept, durationS, recover } = await runAsNobody(work(), 'out', false)
      expect(recover.status, recover.stdout + recover.stderr).toBe(0)
      expect(recover.stdout).toMatch(/^recovered moved: /m)
      expect(recover.stdout).toMatch(/^dropped moved: an earlier checkpoint of the run/m)
      oneRow(out, durationS)
      expect(files(join(out, '.wattprint'))).toEqual([])
      expect(files(kept)).toEqual([])
    },
  )

  it.skipIf(skip)(
    'and given back before it ended: the row is written, and the stale checkpoint removed',
    async () => {
      const { out, kept, durationS, recover } = await runAsNobody(work(), 'out', true)
      expect(files(join(out, '.wattprint'))).toEqual([])
      expect(files(kept)).toEqual([])
      expect(recover.stdout).toContain('nothing to recover')
      oneRow(out, durationS)
    },
  )

  it.skipIf(skip)(
    'only its checkpoint folder: the row is written, and recover drops what it cannot remove',
    async () => {
      const { out, kept, durationS, recover } = await runAsNobody(work(), 'out/.wattprint', false)
      expect(recover.status, recover.stdout + recover.stderr).toBe(0)
      expect(recover.stdout).toMatch(/^dropped moved: its row is in .* already/m)
      oneRow(out, durationS)
      expect(files(join(out, '.wattprint'))).toEqual([])
      expect(files(kept)).toEqual([])
    },
  )
})
