import { execFile, spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { jobPlace, jobPlaceFrom, launcherRank, nodeCsvName } from '../src/distributed/launcher.js'
import { lockFolder, takeRole } from '../src/distributed/role.js'
import type { JobPlace } from '../src/model/job.js'
import type { EmissionsRecord } from '../src/model/record.js'
import { CSV_HEADER } from '../src/output/csv/format.js'
import { recordToLine } from '../src/output/csv/sink.js'
import { constantWatts } from './helpers/constant-watts.js'
import { readCsvWithPython } from './helpers/csv.js'
import { sampleRecord } from './helpers/records.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { readOnlyFolder } from './helpers/unwritable.js'

// A job across machines: who the launcher says a process is, which rank of a node measures it, and rows
// that sum to the job. Real trackers in real processes on a powercap tree at a known wattage; the nodes
// are told apart by SLURMD_NODENAME, as slurmd tells its tasks (the real SLURM cluster is its own test).

const run = promisify(execFile)
const host = () => 'this-host'
const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('the job and the rank, from the launcher', () => {
  it('reads SLURM, torchrun, Open MPI, MPICH, PBS and LSF, the innermost launcher giving the rank', () => {
    const slurm = {
      SLURM_JOB_ID: '123',
      SLURM_PROCID: '5',
      SLURM_LOCALID: '1',
      SLURM_NTASKS: '8',
      SLURMD_NODENAME: 'n07',
    }
    expect(jobPlaceFrom(slurm, host)).toEqual({
      launcher: 'slurm',
      jobId: '123',
      nodeName: 'n07',
      rank: 5,
      localRank: 1,
      worldSize: 8,
    })
    // torchrun started by a SLURM batch script: torchrun's ranks, the scheduler's job.
    const torch = { RANK: '6', LOCAL_RANK: '2', WORLD_SIZE: '16', TORCHELASTIC_RUN_ID: 'none' }
    expect(jobPlaceFrom({ ...slurm, ...torch }, host)).toMatchObject({
      launcher: 'torchrun',
      jobId: '123',
      rank: 6,
      localRank: 2,
      worldSize: 16,
    })
    // Alone, its run id, unless it is torchrun's default `none`.
    expect(jobPlaceFrom(torch, host)).toMatchObject({
      launcher: 'torchrun',
      jobId: null,
      nodeName: 'this-host',
    })
    expect(jobPlaceFrom({ ...torch, TORCHELASTIC_RUN_ID: 'rdzv-9' }, host)?.jobId).toBe('rdzv-9')
    expect(
      jobPlaceFrom(
        {
          OMPI_COMM_WORLD_RANK: '3',
          OMPI_COMM_WORLD_LOCAL_RANK: '0',
          OMPI_COMM_WORLD_SIZE: '4',
          PMIX_NAMESPACE: 'prterun-x-1@1',
        },
        host,
      ),
    ).toEqual({
      launcher: 'openmpi',
      jobId: 'prterun-x-1@1',
      nodeName: 'this-host',
      rank: 3,
      localRank: 0,
      worldSize: 4,
    })
    expect(jobPlaceFrom({ PMI_RANK: '2', PMI_SIZE: '4', MPI_LOCALRANKID: '1' }, host)).toMatchObject({
      launcher: 'mpich',
      jobId: null,
      rank: 2,
      localRank: 1,
      worldSize: 4,
    })
    expect(jobPlaceFrom({ PBS_JOBID: '99.pbs-server' }, host)).toEqual({
      launcher: 'pbs',
      jobId: '99.pbs-server',
      nodeName: 'this-host',
      rank: null,
      localRank: null,
      worldSize: null,
    })
    expect(jobPlaceFrom({ LSB_JOBID: '4711' }, host)).toMatchObject({ launcher: 'lsf', jobId: '4711' })
    expect(jobPlaceFrom({}, host)).toBeNull()
    expect(jobPlaceFrom({ RANK: '1' }, host)).toBeNull()
  })

  it("gives the Pushgateway a rank from any launcher's variable, innermost first, even alone", () => {
    expect(launcherRank({ RANK: '3' })).toBe('3')
    expect(launcherRank({ SLURM_PROCID: '0', OMPI_COMM_WORLD_RANK: '5' })).toBe('5')
    expect(launcherRank({ PMI_RANK: ' 07 ' })).toBe('7')
    expect(launcherRank({ RANK: 'x', SLURM_PROCID: '-1' })).toBeUndefined()
    expect(launcherRank({})).toBeUndefined()
  })

  it('takes a rank only as a plain integer, and a job id as whatever text it is', () => {
    for (const bad of ['-1', '1e3', '0x1', 'one', '', '1.5', '9999999999']) {
      expect(jobPlaceFrom({ SLURM_JOB_ID: '1', SLURM_PROCID: bad }, host)?.rank).toBeNull()
    }
    const hostile = `"q",\n\r..\u001b[31m\u202e=cmd|${'x'.repeat(10_000)}`
    expect(jobPlaceFrom({ SLURM_JOB_ID: hostile, SLURM_PROCID: '0' }, host)?.jobId).toBe(hostile)
  })

  it('takes the jobId option where the launcher gives no id, and as a job of its own outside any launcher', () => {
    expect(jobPlace({ PBS_JOBID: '99.pbs' }, 'mine', host)?.jobId).toBe('99.pbs')
    expect(jobPlace({ RANK: '1', LOCAL_RANK: '1', WORLD_SIZE: '2' }, 'mine', host)).toMatchObject({
      launcher: 'torchrun',
      jobId: 'mine',
      rank: 1,
    })
    // No launcher: the option names the job; no rank, so the node's processes elect their measurer.
    expect(jobPlace({}, 'by-hand', host)).toEqual({
      launcher: null,
      jobId: 'by-hand',
      nodeName: host(),
      rank: null,
      localRank: null,
      worldSize: null,
    })
    expect(jobPlace({}, null, host)).toBeNull()
  })

  it("names each node's CSV so that it stays in its folder", () => {
    expect(nodeCsvName('n07')).toBe('emissions-n07.csv')
    expect(nodeCsvName('../../etc/x')).toBe('emissions-_._.._etc_x.csv')
    expect(nodeCsvName('.hidden')).toBe('emissions-_hidden.csv')
    expect(nodeCsvName('a\nb\u202e')).toBe('emissions-a_b_.csv')
    expect(nodeCsvName('n'.repeat(500)).length).toBe('emissions-.csv'.length + 100)
  })
})

const place = (over: Partial<JobPlace> = {}): JobPlace => ({
  launcher: 'pbs',
  jobId: '99',
  nodeName: 'n1',
  rank: null,
  localRank: null,
  worldSize: null,
  ...over,
})

/** A tracker in another process, under PBS (no local rank) on this node: the role its row says. */
function roleElsewhere(folder: string, job: JobPlace): string {
  const script = `
    import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
    const t = new EmissionsTracker({ saveToFile: false, logLevel: 'silent', carbonIntensityGPerKWh: 100 })
    await t.start()
    console.log((await t.stop()).jobRole)`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: folder, PBS_JOBID: job.jobId ?? '', HOSTNAME: job.nodeName },
  })
  return child.stdout.trim() || child.stderr
}

describe('one measurer per node', () => {
  it('is the local rank 0 where the launcher gives local ranks; per-rank counts each its own', () => {
    expect(takeRole(place({ localRank: 0 }), 'auto').role).toBe('node')
    const other = takeRole(place({ localRank: 2, rank: 6 }), 'auto')
    expect(other.role).toBe('deferred')
    expect(other.note).toContain('local rank 2: its node is measured by local rank 0')
    expect(takeRole(place({ localRank: 2 }), 'per-rank').role).toBe('rank')
  })

  it("is elected by the node's lock where none is given: one holder, taken over when it died", () => {
    const runtime = makeTempDir('wattprint-lock-')
    const folder = lockFolder({ XDG_RUNTIME_DIR: runtime })
    const job = place({ nodeName: hostname() })
    const mine = takeRole(job, 'auto', folder)
    expect(mine.role).toBe('node')
    const [lock] = readdirSync(folder)
    expect(readFileSync(join(folder, String(lock)), 'utf8')).toBe(`${process.pid}\n`)
    // Another process of the same job on the same node defers while this one holds the lock.
    expect(roleElsewhere(runtime, job)).toBe('deferred')
    // Another job is not this lock's; its measurer gives its lock back as it stops.
    expect(roleElsewhere(runtime, { ...job, jobId: '100' })).toBe('node')
    expect(readdirSync(folder)).toEqual([lock])
    mine.release()
    expect(readdirSync(folder)).toEqual([])
    // The lock of a holder that died is taken over.
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
    writeFileSync(join(folder, String(lock)), `${dead.stdout.trim()}\n`)
    expect(roleElsewhere(runtime, job)).toBe('node')
  })

  it('measures the node, saying so, when the lock cannot be used', () => {
    const folder = makeTempDir('wattprint-lock-')
    writeFileSync(join(folder, 'in-the-way'), '')
    const role = takeRole(place(), 'auto', join(folder, 'in-the-way'))
    expect(role.role).toBe('node')
    expect(role.note).toContain('could not be used')
  })
})

const WATTS = 40

/** A rank: a tracker in its own process, with the launcher's variables, for about `ms`. */
async function rank(env: Record<string, string>, options: Record<string, unknown>, ms = 1200) {
  const script = `
    import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
    const t = new EmissionsTracker(${JSON.stringify({ logLevel: 'silent', intervalMs: 100, carbonIntensityGPerKWh: 250, gpuIds: [], ...options })})
    await t.start()
    await new Promise((r) => setTimeout(r, ${ms}))
    const r = await t.stop()
    console.log(JSON.stringify({ role: r.jobRole, cpuJ: r.cpu.energyKWh * 3.6e6, durationS: r.durationS, mode: r.trackingMode, file: t.config.outputFile }))`
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
  })
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    role: string
    cpuJ: number
    durationS: number
    mode: string
    file: string
  }
}

describe('a job of 4 ranks on 2 nodes, as SLURM starts it', () => {
  it('counts each node once, writes a file per node, and report --by job sums one job', async () => {
    const { raplRoot, dir } = await constantWatts(WATTS, cleanups, 'wattprint-job-')
    // The hostile corpus as the job's id: it reaches every row whole and every terminal line escaped.
    const jobId = `"q",\n\r..\u001b[31m\u202e=cmd|${'x'.repeat(10_000)}`
    const ranks = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        rank(
          {
            SLURM_JOB_ID: jobId,
            SLURM_PROCID: String(i),
            SLURM_LOCALID: String(i % 2),
            SLURM_NTASKS: '4',
            SLURMD_NODENAME: i < 2 ? 'node-a' : 'node-b',
          },
          { raplRoot, outputDir: dir },
        ),
      ),
    )
    expect(ranks.map((r) => r.role)).toEqual(['node', 'deferred', 'node', 'deferred'])
    expect(ranks.map((r) => r.file)).toEqual([
      'emissions-node-a.csv',
      'emissions-node-a.csv',
      'emissions-node-b.csv',
      'emissions-node-b.csv',
    ])
    // The measurers measured their node (the fixture's package at 40 W); the others nothing.
    for (const r of ranks) {
      if (r.role === 'node') expect(r.cpuJ / (WATTS * r.durationS)).toBeGreaterThan(0.9)
      if (r.role === 'node') expect(r.cpuJ / (WATTS * r.durationS)).toBeLessThan(1.1)
      else expect(r.cpuJ).toBe(0)
    }
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.csv'))
        .sort(),
    ).toEqual(['emissions-node-a.csv', 'emissions-node-b.csv'])
    // Another reader than ours: Python's csv gives the job's id back whole, and the columns.
    const rows = ['node-a', 'node-b'].flatMap((n) => readCsvWithPython(join(dir, `emissions-${n}.csv`)))
    expect(rows.map((r) => r.job_id)).toEqual([jobId, jobId, jobId, jobId])
    expect(
      rows.map((r) => [r.node_name, r.rank, r.local_rank, r.world_size, r.launcher, r.job_role]).sort(),
    ).toEqual([
      ['node-a', '0', '0', '4', 'slurm', 'node'],
      ['node-a', '1', '1', '4', 'slurm', 'deferred'],
      ['node-b', '2', '0', '4', 'slurm', 'node'],
      ['node-b', '3', '1', '4', 'slurm', 'deferred'],
    ])
    const cli = resolve('dist/cli.js')
    const files = ['node-a', 'node-b'].map((n) => join(dir, `emissions-${n}.csv`))
    const json = await run(process.execPath, [cli, 'report', ...files, '--by', 'job', '--json'])
    const report = JSON.parse(json.stdout) as {
      groups: {
        key: string
        runs: number
        cpuKWh: number
        durationS: number
        job: { nodes: number; ranks: number; worldSize: number; incomplete: string | null }
      }[]
    }
    expect(report.groups).toHaveLength(1)
    const [job] = report.groups
    expect(job?.key).toBe(jobId)
    expect(job?.job).toEqual({ nodes: 2, ranks: 4, worldSize: 4, incomplete: null, slurm: true })
    const nodesJ = ranks.reduce((sum, r) => sum + r.cpuJ, 0)
    expect((job?.cpuKWh ?? 0) * 3.6e6).toBeCloseTo(nodesJ, 6)
    // The job's time: the longest node's first start to last stop, not the ranks' sum.
    expect(job?.durationS).toBeGreaterThan(1)
    expect(job?.durationS).toBeLessThan(Math.max(...ranks.map((r) => r.durationS)) + 1)
    const text = await run(process.execPath, [cli, 'report', ...files, '--by', 'job'])
    expect(text.stdout).toContain('4 of 4 rank(s) on 2 node(s)')
    for (const raw of ['\u001b', '\u202e', '\r']) expect(text.stdout).not.toContain(raw)
  })

  it('per-rank: every rank counts its own process tree; off: the launcher is ignored', async () => {
    const { raplRoot, dir } = await constantWatts(WATTS, cleanups, 'wattprint-job-')
    const env = {
      SLURM_JOB_ID: '7',
      SLURM_PROCID: '1',
      SLURM_LOCALID: '1',
      SLURM_NTASKS: '2',
      SLURMD_NODENAME: 'n',
    }
    const perRank = await rank(env, { raplRoot, outputDir: dir, distributed: 'per-rank' }, 600)
    expect(perRank).toMatchObject({ role: 'rank', mode: 'process', file: 'emissions-n.csv' })
    // Its share of the node: its own CPU time's, well under the whole package.
    expect(perRank.cpuJ).toBeLessThan(WATTS * perRank.durationS * 0.9)
    const off = await rank(env, { raplRoot, outputDir: dir, distributed: 'off' }, 600)
    expect(off).toMatchObject({ role: null, mode: 'machine', file: 'emissions.csv' })
    const named = await rank(env, { raplRoot, outputDir: dir, outputFile: 'mine.csv' }, 300)
    expect(named).toMatchObject({ role: 'deferred', file: 'mine.csv' })
    // A local rank 1 given an attribution of its own, as ranks were counted before: its own share, under
    // auto too, never left to a local rank 0 that would count only its own.
    const attributed = await rank(env, { raplRoot, outputDir: dir, attribution: 'process' }, 600)
    expect(attributed).toMatchObject({ role: 'rank', mode: 'process' })
    expect(attributed.cpuJ).toBeGreaterThan(0)
  })
})

describe('report --by job, from the rows as nodes wrote them', () => {
  /** A job's row as a node wrote it: ended at `end` on that node's clock, after `durationS`. */
  const row = (over: Partial<EmissionsRecord>) =>
    recordToLine(sampleRecord({ jobId: 'j1', worldSize: 4, energyKWh: 0.001, ...over }))

  it("never gives a negative time where a node's clock is 5 minutes off, and says a job whose node died is incomplete", async () => {
    const dir = makeTempDir('wattprint-job-report-')
    const a = join(dir, 'emissions-a.csv')
    const b = join(dir, 'emissions-b.csv')
    // Node b's measurer, in both of its files below.
    const measurerB = { runId: 'r2', nodeName: 'b', rank: 2, localRank: 0, jobRole: 'node' } as const
    // Node b's clock is 5 minutes behind: its rows end "before" node a's started.
    writeFileSync(
      a,
      CSV_HEADER +
        row({
          runId: 'r0',
          nodeName: 'a',
          rank: 0,
          localRank: 0,
          jobRole: 'node',
          timestamp: '2026-12-05T10:10:00.000Z',
          durationS: 600,
        }) +
        row({
          runId: 'r1',
          nodeName: 'a',
          rank: 1,
          localRank: 1,
          jobRole: 'deferred',
          energyKWh: 0,
          timestamp: '2026-12-05T10:10:00.000Z',
          durationS: 590,
        }),
    )
    writeFileSync(
      b,
      CSV_HEADER +
        row({ ...measurerB, timestamp: '2026-12-05T10:05:00.000Z', durationS: 620 }) +
        row({
          runId: 'r3',
          nodeName: 'b',
          rank: 3,
          localRank: 1,
          jobRole: 'deferred',
          energyKWh: 0,
          timestamp: '2026-12-05T10:05:00.000Z',
          durationS: 610,
        }),
    )
    const cli = resolve('dist/cli.js')
    const report = async () =>
      JSON.parse((await run(process.execPath, [cli, 'report', a, b, '--by', 'job', '--json'])).stdout) as {
        groups: {
          key: string
          energyKWh: number
          durationS: number
          job: { nodes: number; ranks: number; incomplete: string | null }
        }[]
      }
    const whole = (await report()).groups[0]
    expect(whole?.energyKWh).toBeCloseTo(0.002, 12)
    // Each node's span on its own clock; the job's the longest: 620 s, not 15 minutes, never negative.
    expect(whole?.durationS).toBeCloseTo(620, 6)
    expect(whole?.job).toEqual({ nodes: 2, ranks: 4, worldSize: 4, incomplete: null, slurm: true })
    const lines = (await run(process.execPath, [cli, 'report', a, b, '--by', 'job'])).stdout
    expect(lines).toContain(
      'job j1: 4 of 4 rank(s) on 2 node(s), 620.0 s (its longest node, from first start to last stop)',
    )
    // Node b was killed: its measurer's row is what its checkpoint held, recovered as interrupted.
    writeFileSync(
      b,
      CSV_HEADER +
        row({
          ...measurerB,
          status: 'interrupted',
          energyKWh: 0.0004,
          timestamp: '2026-12-05T10:02:00.000Z',
          durationS: 440,
        }),
    )
    const short = (await report()).groups[0]
    expect(short?.energyKWh).toBeCloseTo(0.0014, 12)
    expect(short?.job.incomplete).toContain('1 row(s) on b end at a checkpoint or a flush')
    expect(short?.job.incomplete).toContain('3 of its 4 ranks have rows')
    const text = await run(process.execPath, [cli, 'report', a, b, '--by', 'job'])
    expect(text.stdout).toContain('job j1 is incomplete: 1 row(s) on b end at a checkpoint')
  })
})

describe('a node killed mid-job', () => {
  it('is incomplete in the report until its row is recovered from its checkpoint, then says so', async () => {
    const { raplRoot, dir } = await constantWatts(WATTS, cleanups, 'wattprint-job-kill-')
    const script = `
      import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
      const t = new EmissionsTracker({ logLevel: 'silent', intervalMs: 100, checkpointIntervalMs: 200,
        carbonIntensityGPerKWh: 250, gpuIds: [], raplRoot: ${JSON.stringify(raplRoot)}, outputDir: ${JSON.stringify(dir)} })
      await t.start()
      console.log('started')
      await new Promise((r) => setTimeout(r, Number(process.env.WP_MS)))
      await t.stop()`
    const ranks = [0, 1, 2, 3].map((i) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: {
          ...process.env,
          SLURM_JOB_ID: '900',
          SLURM_PROCID: String(i),
          SLURM_LOCALID: String(i % 2),
          SLURM_NTASKS: '4',
          SLURMD_NODENAME: i < 2 ? 'node-a' : 'node-b',
          // node-b's measurer would run long: it is killed first.
          WP_MS: i === 2 ? '60000' : '1500',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const started = new Promise<void>((ok) => child.stdout.once('data', () => ok()))
      const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)))
      return { child, started, exited }
    })
    await Promise.all(ranks.map((r) => r.started))
    // Long enough for checkpoints after the first intervals, then node-b's measurer dies without a word.
    await new Promise((r) => setTimeout(r, 800))
    ranks[2]?.child.kill('SIGKILL')
    await Promise.all(ranks.map((r) => r.exited))
    const cli = resolve('dist/cli.js')
    const files = ['node-a', 'node-b'].map((n) => join(dir, `emissions-${n}.csv`))
    const report = async () =>
      (
        JSON.parse(
          (await run(process.execPath, [cli, 'report', ...files, '--by', 'job', '--json'])).stdout,
        ) as {
          groups: { cpuKWh: number; job: { ranks: number; incomplete: string | null } }[]
        }
      ).groups[0]
    const before = await report()
    expect(before?.job.ranks).toBe(3)
    expect(before?.job.incomplete).toBe('3 of its 4 ranks have rows')
    // recover appends the dead rank's row from its checkpoint: the node's energy up to it, said incomplete.
    await run(process.execPath, [cli, 'recover', dir])
    const rows = readCsvWithPython(files[1] ?? '')
    const recovered = rows.find((r) => r.rank === '2')
    expect(recovered).toMatchObject({
      status: 'interrupted',
      job_id: '900',
      node_name: 'node-b',
      job_role: 'node',
    })
    expect(Number(recovered?.cpu_energy)).toBeGreaterThan(0)
    const after = await report()
    expect(after?.job.ranks).toBe(4)
    expect(after?.job.incomplete).toBe(
      '1 row(s) on node-b end at a checkpoint or a flush, not at stop(): what was recovered',
    )
    expect(after?.cpuKWh).toBeGreaterThan(before?.cpuKWh ?? 0)
  }, 60_000)

  it("a node whose shared folder is read-only keeps its rows and the job says so, the other node's rows whole", async (ctx) => {
    // node-b's view of the shared folder: read-only, even for root (chattr +i, or a read-only tmpfs).
    const folder = readOnlyFolder()
    if (typeof folder === 'string') return ctx.skip(folder)
    cleanups.push(() => folder.remove())
    const roDir = folder.path
    const { raplRoot, dir } = await constantWatts(WATTS, cleanups, 'wattprint-job-ro-')
    const stateHome = makeTempDir('wattprint-job-state-')
    const options = { raplRoot, checkpointIntervalMs: 200 }
    const env = (i: number, node: string) => ({
      SLURM_JOB_ID: '901',
      SLURM_PROCID: String(i),
      SLURM_LOCALID: '0',
      SLURM_NTASKS: '2',
      SLURMD_NODENAME: node,
      XDG_STATE_HOME: stateHome,
    })
    const [a, b] = await Promise.all([
      rank(env(0, 'node-a'), { ...options, outputDir: dir }, 600),
      rank(env(1, 'node-b'), { ...options, outputDir: roDir }, 600),
    ])
    expect(a.role).toBe('node')
    expect(b.role).toBe('node')
    const cli = resolve('dist/cli.js')
    const { stdout } = await run(process.execPath, [
      cli,
      'report',
      join(dir, 'emissions-node-a.csv'),
      '--by',
      'job',
      '--json',
    ])
    const job = (JSON.parse(stdout) as { groups: { job: { incomplete: string | null } }[] }).groups[0]?.job
    expect(job?.incomplete).toBe('1 of its 2 ranks have rows')
    // node-b's row waits in its state folder for `wattprint recover`, never lost.
    const kept = readdirSync(join(stateHome, 'wattprint'), { recursive: true }).map(String)
    expect(kept.some((f) => f.endsWith('.json'))).toBe(true)
  }, 60_000)
})

describe("report --by job --sacct: SLURM's own figure beside ours", () => {
  /** A fake sacct and scontrol on PATH, answering as SLURM's do (`-P`: `|`-separated, no header). */
  function fakeSlurm(sacct: string, status = 0, plugin = 'acct_gather_energy/none'): string {
    const bin = makeTempDir('wattprint-fake-slurm-')
    writeFileSync(
      join(bin, 'sacct'),
      `#!/bin/sh\ncat ${status === 0 ? '' : '>&2'} <<'EOF'\n${sacct}\nEOF\nexit ${status}\n`,
      { mode: 0o755 },
    )
    writeFileSync(
      join(bin, 'scontrol'),
      `#!/bin/sh\nprintf 'AccountingStorageType   = accounting_storage/slurmdbd\\nAcctGatherEnergyType    = ${plugin}\\n'\n`,
      { mode: 0o755 },
    )
    return bin
  }

  it('puts ConsumedEnergyRaw beside the job, says why a 0 is one, and what a failing sacct said', async () => {
    const dir = makeTempDir('wattprint-sacct-')
    const file = join(dir, 'emissions-a.csv')
    writeFileSync(
      file,
      CSV_HEADER +
        recordToLine(sampleRecord({ jobId: '4242', nodeName: 'a', rank: 0, worldSize: 1, jobRole: 'node' })),
    )
    const cli = resolve('dist/cli.js')
    const report = async (bin: string) => {
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` }
      const json = await run(process.execPath, [cli, 'report', file, '--by', 'job', '--sacct', '--json'], {
        env,
      })
      const text = await run(process.execPath, [cli, 'report', file, '--by', 'job', '--sacct'], { env })
      const sacct = (JSON.parse(json.stdout) as { groups: { job: { sacct: unknown } }[] }).groups[0]?.job
        .sacct
      return { sacct, text: text.stdout }
    }
    const measured = await report(fakeSlurm('4242|7200'))
    expect(measured.sacct).toEqual({
      energyJ: 7200,
      source: 'sacct -j 4242 -X -n -P --format=JobID,ConsumedEnergyRaw',
      note: null,
    })
    expect(measured.text).toContain("job 4242, SLURM's own figure: 2.00 Wh; from sacct -j 4242")
    const none = await report(fakeSlurm('4242|0'))
    expect(none.sacct).toMatchObject({
      energyJ: 0,
      note: '0: SLURM measures no energy here (AcctGatherEnergyType acct_gather_energy/none): no energy plugin is configured',
    })
    const plugin = await report(fakeSlurm('4242|0', 0, 'acct_gather_energy/rapl'))
    expect(plugin.sacct).toMatchObject({
      note: '0 with acct_gather_energy/rapl configured: the plugin measured nothing for this job',
    })
    const failing = await report(fakeSlurm('sacct: error: Slurm accounting storage is disabled', 1))
    expect(failing.sacct).toMatchObject({
      energyJ: null,
      note: 'sacct exited 1: sacct: error: Slurm accounting storage is disabled',
    })
    expect(failing.text).toContain("SLURM's own figure: none (sacct exited 1")
    const usage = await run(process.execPath, [cli, 'report', file, '--sacct']).catch(
      (e: { code: number; stderr: string }) => e,
    )
    expect(usage).toMatchObject({ code: 2 })
    expect((usage as { stderr: string }).stderr).toContain('--sacct adds SLURM')
  })

  it("asks for torchrun's and MPI's ranks inside a SLURM job (SLURM's id), not for PBS, LSF or an option's id", async () => {
    const dir = makeTempDir('wattprint-sacct-launchers-')
    const file = join(dir, 'emissions-a.csv')
    const rowOf = (jobId: string, launcher: EmissionsRecord['launcher']) =>
      recordToLine(
        sampleRecord({
          runId: `r-${jobId}`,
          jobId,
          launcher,
          nodeName: 'a',
          rank: 0,
          worldSize: 1,
          jobRole: 'node',
        }),
      )
    writeFileSync(
      file,
      CSV_HEADER +
        rowOf('5151', 'torchrun') +
        rowOf('6161', 'openmpi') +
        rowOf('prterun-a-1@1', 'openmpi') +
        rowOf('7171', 'lsf') +
        rowOf('99.pbs', 'pbs') +
        rowOf('8181', null),
    )
    const bin = fakeSlurm('5151|3600\n6161|1800')
    const json = await run(
      process.execPath,
      [resolve('dist/cli.js'), 'report', file, '--by', 'job', '--sacct', '--json'],
      {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      },
    )
    const groups = (
      JSON.parse(json.stdout) as { groups: { key: string; job: { sacct?: { energyJ: number | null } } }[] }
    ).groups
    const asked = groups.map((g) => [g.key, g.job.sacct === undefined ? 'not asked' : g.job.sacct.energyJ])
    expect(Object.fromEntries(asked)).toEqual({
      '5151': 3600,
      '6161': 1800,
      'prterun-a-1@1': 'not asked',
      '7171': 'not asked',
      '99.pbs': 'not asked',
      '8181': 'not asked',
    })
  })
})

/** `wattprint run --job-id <jobId>` into `out`, around `workMs` of CPU work, with `env` added. */
function wattprintRun(out: string, jobId: string, workMs: number, env: Record<string, string>) {
  return run(
    process.execPath,
    [
      resolve('dist/cli.js'),
      'run',
      '-q',
      '-o',
      out,
      '--interval',
      '100ms',
      '--carbon-intensity',
      '300',
      '--job-id',
      jobId,
      '--',
      process.execPath,
      '-e',
      `const e = Date.now() + ${workMs}; while (Date.now() < e) {}`,
    ],
    { env: { ...process.env, ...env } },
  )
}

describe('wattprint run as the entry of torchrun, mpirun and mpiexec', () => {
  it('gives each wrapped rank its job, node and rank, one measurer per node', async () => {
    const { raplRoot, dir } = await constantWatts(WATTS, cleanups, 'wattprint-launchers-')
    // What each launcher sets in the processes it starts (here, as `torchrun --no-python wattprint run …`
    // would), with a second of work for the rank's command.
    const launchers = {
      torchrun: (i: number) => ({
        RANK: String(i),
        LOCAL_RANK: String(i),
        WORLD_SIZE: '2',
        LOCAL_WORLD_SIZE: '2',
        TORCHELASTIC_RUN_ID: 'rdzv-7',
      }),
      openmpi: (i: number) => ({
        OMPI_COMM_WORLD_RANK: String(i),
        OMPI_COMM_WORLD_LOCAL_RANK: String(i),
        OMPI_COMM_WORLD_SIZE: '2',
        PMIX_NAMESPACE: 'prterun-host-1@1',
      }),
      mpich: (i: number) => ({ PMI_RANK: String(i), MPI_LOCALRANKID: String(i), PMI_SIZE: '2' }),
    }
    for (const [launcher, env] of Object.entries(launchers)) {
      const out = join(dir, launcher)
      await Promise.all(
        [0, 1].map((i) =>
          wattprintRun(out, `${launcher}-job`, 600, { ...env(i), WATTPRINT_RAPL_ROOT: raplRoot }),
        ),
      )
      const [file] = readdirSync(out).filter((f) => f.startsWith('emissions-'))
      const rows = readCsvWithPython(join(out, file ?? ''))
      const jobId =
        launcher === 'torchrun' ? 'rdzv-7' : launcher === 'openmpi' ? 'prterun-host-1@1' : 'mpich-job'
      expect(
        rows.map((r) => [r.launcher, r.job_id, r.rank, r.local_rank, r.world_size, r.job_role]).sort(),
      ).toEqual([
        [launcher, jobId, '0', '0', '2', 'node'],
        [launcher, jobId, '1', '1', '2', 'deferred'],
      ])
      expect(rows.every((r) => r.node_name === hostname())).toBe(true)
    }
  }, 60_000)

  it('wattprint run --job-id outside any launcher: the rows carry the job, and one process measures the node', async () => {
    const { raplRoot, dir } = await constantWatts(WATTS, cleanups, 'wattprint-job-by-hand-')
    const jobId = `by-hand "q",\n=cmd ${process.pid}`
    const out = join(dir, 'out')
    // Two processes of one job started by hand at once on this host, no launcher's variable set.
    await Promise.all([0, 1].map(() => wattprintRun(out, jobId, 800, { WATTPRINT_RAPL_ROOT: raplRoot })))
    // A node's own file, as under a launcher, read back by Python's csv.
    expect(readdirSync(out).filter((f) => f.endsWith('.csv'))).toEqual([
      `emissions-${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}.csv`,
    ])
    const rows = readCsvWithPython(join(out, readdirSync(out).find((f) => f.endsWith('.csv')) ?? ''))
    expect(rows.map((r) => [r.job_id, r.node_name, r.launcher, r.rank, r.job_role]).sort()).toEqual([
      [jobId, hostname(), '', '', 'deferred'],
      [jobId, hostname(), '', '', 'node'],
    ])
    const deferred = rows.find((r) => r.job_role === 'deferred')
    expect(Number(deferred?.cpu_energy)).toBe(0)
    expect(Number(rows.find((r) => r.job_role === 'node')?.cpu_energy)).toBeGreaterThan(0)
  }, 60_000)
})
