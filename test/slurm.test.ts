import { execFile } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCsvWithPython } from './helpers/csv.js'
import { driveCounters } from './helpers/driver.mjs'
import { DEFAULT_RANGE_UJ, makePowercapTree } from './helpers/powercap.mjs'
import { havePrometheus, type PrometheusStack, startPrometheusStack } from './helpers/prometheus.js'
import { haveSlurm, type SlurmCluster, startSlurmCluster } from './helpers/slurm-cluster.js'
import { makeTempDir } from './helpers/temp-dir.js'

// A job of 4 ranks on 2 nodes of a real SLURM cluster (Debian's slurmctld, two slurmd and munged, each
// node in its own network and UTS namespace; see helpers/slurm-cluster.ts), each node with its own
// powercap tree at a known wattage. sbatch runs the job; srun starts the ranks; each rank is a tracker.

const run = promisify(execFile)

/** libfaketime (Debian's package libfaketime): a process's wall clock set off, as a node's would be. */
const FAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1'

// CI installs slurm-wlm, munge, slurmdbd, mariadb-server and libfaketime and sets WATTPRINT_REQUIRE_SLURM:
// there this test cannot silently skip.
const real = haveSlurm() && havePrometheus() && existsSync(FAKETIME)
if (!real && process.env.WATTPRINT_REQUIRE_SLURM)
  throw new Error(
    'slurmctld, slurmd, munged, slurmdbd, mariadbd, libfaketime, prometheus and the pushgateway (packages slurm-wlm, munge, slurmdbd, mariadb-server, libfaketime, prometheus, prometheus-pushgateway) and root are required',
  )

const WATTS = { nodeA: 30, nodeB: 50 } as const

describe.skipIf(!real)('a job on a real SLURM cluster of 2 nodes', () => {
  let cluster: SlurmCluster
  let stack: PrometheusStack
  const undo: (() => void | Promise<void>)[] = []
  beforeAll(async () => {
    cluster = await startSlurmCluster(['nodeA', 'nodeB'])
    undo.push(() => cluster.stop())
    // A real Pushgateway and Prometheus, on the cluster's bridge, where the nodes reach them.
    stack = await startPrometheusStack([], cluster.hostAddress)
    undo.push(() => stack.stop())
    // Each node's pm_counters, at the node's wattage for the whole suite: what SLURM's own energy plugin
    // reads (the same watts as the powercap trees the trackers read). Whole joules, read once a second:
    // written every 50 ms, not taking the CPU from the trackers' counters.
    const pm = await driveCounters(
      (['nodeA', 'nodeB'] as const).map((node) => ({
        path: cluster.pmCounters(node),
        watts: WATTS[node],
        startUj: 1e9,
        rangeUj: Number.MAX_SAFE_INTEGER,
        format: 'pm_counters' as const,
      })),
      50,
    )
    undo.push(() => pm.stop())
    await pm.run()
  }, 120_000)
  afterAll(async () => {
    for (const step of undo.splice(0).reverse()) await step()
  })

  /** Each node's package, advanced at its own wattage by one driver process: the trees' roots by node. */
  async function nodePackages(): Promise<Record<keyof typeof WATTS, string>> {
    const trees = {
      nodeA: makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0' }]),
      nodeB: makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0' }]),
    }
    undo.push(() => {
      for (const tree of Object.values(trees)) tree.cleanup()
    })
    const driver = await driveCounters(
      (['nodeA', 'nodeB'] as const).map((node) => ({
        path: trees[node].energyPath('intel-rapl:0'),
        watts: WATTS[node],
        startUj: 1e9,
        rangeUj: DEFAULT_RANGE_UJ,
      })),
    )
    undo.push(() => driver.stop())
    await driver.run()
    return { nodeA: trees.nodeA.root, nodeB: trees.nodeB.root }
  }

  /** `wattprint report <files> --by job --json`, run here (the CSVs are on this machine's disk). */
  const reportByJob = (files: readonly string[]) =>
    run(process.execPath, [resolve('dist/cli.js'), 'report', ...files, '--by', 'job', '--json'])

  /** A job's folder, its results folder, the nodes' driven packages and the ranks' script. */
  async function rankJob(prefix: string) {
    const dir = makeTempDir(prefix)
    const results = join(dir, 'results')
    return { dir, results, roots: await nodePackages(), rank: writeRank(dir, results) }
  }

  /**
   * A rank: a tracker around a second and a half of CPU work, on its node's package (WP_ROOTS), pushing to
   * the Pushgateway (WP_PUSHGATEWAY); it prints its record's place and energy.
   */
  function writeRank(dir: string, results: string): string {
    const rank = join(dir, 'rank.mjs')
    writeFileSync(
      rank,
      `import { EmissionsTracker, prometheusSink } from ${JSON.stringify(resolve('dist/index.js'))}
const node = process.env.SLURMD_NODENAME
const roots = JSON.parse(process.env.WP_ROOTS)
const sink = prometheusSink({ pushgateway: { url: process.env.WP_PUSHGATEWAY, intervalMs: 500 } })
const t = new EmissionsTracker({ outputDir: ${JSON.stringify(results)}, raplRoot: roots[node], intervalMs: 100,
  logLevel: 'silent', carbonIntensityGPerKWh: 300, gpuIds: [], ramPowerW: 0, sinks: [sink] })
await t.start()
const end = Date.now() + 1500
while (Date.now() < end) {}
const r = await t.stop()
console.log(JSON.stringify({ node, rank: r.rank, role: r.jobRole, cpuJ: r.cpu.energyKWh * 3.6e6, durationS: r.durationS }))
`,
    )
    return rank
  }

  it('counts each node once: the job is the sum of its two nodes, in one report of 4 ranks on 2 nodes', async () => {
    const { dir, results, roots, rank } = await rankJob('wattprint-slurm-job-')
    const script = join(dir, 'job.sh')
    writeFileSync(
      script,
      `#!/bin/sh\nexec srun -N2 -n4 ${JSON.stringify(process.execPath)} ${JSON.stringify(rank)}\n`,
    )
    chmodSync(script, 0o755)
    cluster.ctl('sbatch', ['--wait', '-N2', '-n4', '-o', join(dir, 'job-%j.out'), `--chdir=${dir}`, script], {
      WP_ROOTS: JSON.stringify(roots),
      WP_PUSHGATEWAY: stack.pushgatewayUrl,
    })
    const out = readdirSync(dir).find((f) => f.startsWith('job-'))
    const lines = out ? readFileSync(join(dir, out), 'utf8').trim().split('\n') : []
    const ranks = lines.map(
      (line) =>
        JSON.parse(line) as { node: string; rank: number; role: string; cpuJ: number; durationS: number },
    )
    expect(ranks.map((r) => [r.rank, r.node, r.role]).sort()).toEqual([
      [0, 'nodeA', 'node'],
      [1, 'nodeA', 'deferred'],
      [2, 'nodeB', 'node'],
      [3, 'nodeB', 'deferred'],
    ])
    // Each node measured once, at its own wattage.
    let knownJ = 0
    for (const r of ranks) {
      if (r.role !== 'node') {
        expect(r.cpuJ).toBe(0)
        continue
      }
      const expected = WATTS[r.node as keyof typeof WATTS] * r.durationS
      expect(Math.abs(r.cpuJ - expected) / expected).toBeLessThan(0.02)
      knownJ += expected
    }
    // One file per node, read back by Python's csv; the job, the nodes and the ranks on every row.
    expect(
      readdirSync(results)
        .filter((f) => f.endsWith('.csv'))
        .sort(),
    ).toEqual(['emissions-nodeA.csv', 'emissions-nodeB.csv'])
    const rows = ['nodeA', 'nodeB'].flatMap((n) => readCsvWithPython(join(results, `emissions-${n}.csv`)))
    const jobIds = new Set(rows.map((r) => r.job_id))
    expect(jobIds.size).toBe(1)
    expect([...jobIds][0]).toMatch(/^\d+$/)
    expect(rows.map((r) => [r.rank, r.node_name, r.launcher, r.world_size]).sort()).toEqual([
      ['0', 'nodeA', 'slurm', '4'],
      ['1', 'nodeA', 'slurm', '4'],
      ['2', 'nodeB', 'slurm', '4'],
      ['3', 'nodeB', 'slurm', '4'],
    ])
    // report --by job: one job of 4 ranks on 2 nodes; its energy the two nodes' known energies, within 2 %.
    const files = ['nodeA', 'nodeB'].map((n) => join(results, `emissions-${n}.csv`))
    const { stdout } = await reportByJob(files)
    const report = JSON.parse(stdout) as {
      groups: {
        key: string
        cpuKWh: number
        job: { nodes: number; ranks: number; worldSize: number; incomplete: string | null }
      }[]
    }
    expect(report.groups).toHaveLength(1)
    expect(report.groups[0]?.job).toEqual({ nodes: 2, ranks: 4, worldSize: 4, incomplete: null, slurm: true })
    const jobJ = (report.groups[0]?.cpuKWh ?? 0) * 3.6e6
    expect(Math.abs(jobJ - knownJ) / knownJ).toBeLessThan(0.02)
    // SLURM's own figure, asked where sacct reaches slurmdbd: its energy plugin (pm_counters, at the nodes'
    // wattages) measured the job's allocation, which holds the trackers' spans and lasts at most its
    // elapsed whole seconds (+1 for their rounding); the counters are whole joules (-1 J a node).
    const id = [...jobIds][0] ?? ''
    // slurmctld hands the job's end to slurmdbd on its own time, after sbatch --wait returns.
    const recorded = Date.now() + 30_000
    while (
      !/^COMPLETED\|\d+$/m.test(
        cluster.ctl('sacct', ['-j', id, '-X', '-n', '-P', '--format=State,ConsumedEnergyRaw']),
      ) &&
      Date.now() < recorded
    ) {
      await new Promise((r) => setTimeout(r, 250))
    }
    const withSacct = JSON.parse(
      cluster.ctl(process.execPath, [
        resolve('dist/cli.js'),
        'report',
        ...files,
        '--by',
        'job',
        '--sacct',
        '--json',
      ]),
    ) as { groups: { job: { sacct: { energyJ: number | null; source: string; note: string | null } } }[] }
    const sacct = withSacct.groups[0]?.job.sacct
    const [elapsedS, slurmJ] = cluster
      .ctl('sacct', ['-j', id, '-X', '-n', '-P', '--format=ElapsedRaw,ConsumedEnergyRaw'])
      .trim()
      .split('|')
      .map(Number)
    expect(sacct).toEqual({
      energyJ: slurmJ,
      source: `sacct -j ${id} -X -n -P --format=JobID,ConsumedEnergyRaw`,
      note: null,
    })
    expect(slurmJ).toBeGreaterThanOrEqual(jobJ - 2)
    expect(slurmJ).toBeLessThanOrEqual((WATTS.nodeA + WATTS.nodeB) * ((elapsedS ?? 0) + 1))
    // Live, through the engines a team runs: the Pushgateway holds the 4 ranks' series apart (each rank's
    // own grouping key), and one PromQL sum over the job's id is the job, each node once.
    const series = `wattprint_energy_joules_total{job_id="${id}",component="cpu"}`
    const deadline = Date.now() + 20_000
    let promJ = Number.NaN
    for (;;) {
      const count = await stack.query(`count(${series})`)
      const sum = await stack.query(`sum(${series})`)
      promJ = Number(sum[0]?.value[1])
      if (count[0]?.value[1] === '4' && Math.abs(promJ - jobJ) <= jobJ * 1e-6) break
      if (Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 500))
    }
    const ranksSeen = await stack.query(series)
    expect(ranksSeen.map((r) => [r.metric.rank, r.metric.node, r.metric.job_role]).sort()).toEqual([
      ['0', 'nodeA', 'node'],
      ['1', 'nodeA', 'deferred'],
      ['2', 'nodeB', 'node'],
      ['3', 'nodeB', 'deferred'],
    ])
    expect(promJ).toBeCloseTo(jobJ, 3)
  }, 120_000)

  it('srun wattprint run -- <command>: each task wrapped, each node counted once by its local rank 0', async () => {
    const dir = makeTempDir('wattprint-slurm-run-')
    const results = join(dir, 'results')
    const roots = await nodePackages()
    const cli = resolve('dist/cli.js')
    const script = join(dir, 'job.sh')
    // The guide's command line, with node for npx and a second of CPU work for the training script.
    writeFileSync(
      script,
      `#!/bin/sh
exec srun -N2 -n4 sh -c 'WATTPRINT_RAPL_ROOT=$(node_root) exec "$0" "$@"' ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} run -q -o ${JSON.stringify(results)} --interval 100ms --carbon-intensity 300 -- ${JSON.stringify(process.execPath)} -e 'const e = Date.now() + 1000; while (Date.now() < e) {}'
`.replace('$(node_root)', '$(eval echo \\$ROOT_$SLURMD_NODENAME)'),
    )
    chmodSync(script, 0o755)
    try {
      cluster.ctl(
        'sbatch',
        ['--wait', '-N2', '-n4', '-o', join(dir, 'job-%j.out'), `--chdir=${dir}`, script],
        {
          ROOT_nodeA: roots.nodeA,
          ROOT_nodeB: roots.nodeB,
        },
      )
    } catch (error) {
      const out = readdirSync(dir).find((f) => f.startsWith('job-'))
      throw new Error(`${(error as Error).message}\n${out ? readFileSync(join(dir, out), 'utf8') : ''}`)
    }
    const rows = ['nodeA', 'nodeB'].flatMap((n) => readCsvWithPython(join(results, `emissions-${n}.csv`)))
    expect(rows.map((r) => [r.rank, r.node_name, r.job_role, r.status]).sort()).toEqual([
      ['0', 'nodeA', 'node', 'finished'],
      ['1', 'nodeA', 'deferred', 'finished'],
      ['2', 'nodeB', 'node', 'finished'],
      ['3', 'nodeB', 'deferred', 'finished'],
    ])
    for (const row of rows) {
      const cpuJ = Number(row.cpu_energy) * 3.6e6
      if (row.job_role === 'deferred') expect(cpuJ).toBe(0)
      else {
        const expected = WATTS[row.node_name as keyof typeof WATTS] * Number(row.duration)
        expect(Math.abs(cpuJ - expected) / expected).toBeLessThan(0.02)
      }
    }
  }, 120_000)

  it("one node's clock 5 minutes behind: the job's time is its longest node's span, never negative", async () => {
    const { dir, results, roots, rank } = await rankJob('wattprint-slurm-skew-')
    // nodeB's ranks run with their wall clock 5 minutes behind (libfaketime; their monotonic clock true).
    const script = join(dir, 'job.sh')
    writeFileSync(
      script,
      `#!/bin/sh
exec srun -N2 -n4 sh -c 'if [ "$SLURMD_NODENAME" = nodeB ]; then export LD_PRELOAD="$WP_FAKETIME" FAKETIME=-5m FAKETIME_DONT_FAKE_MONOTONIC=1; fi; exec "$0" "$@"' ${JSON.stringify(process.execPath)} ${JSON.stringify(rank)}
`,
    )
    chmodSync(script, 0o755)
    cluster.ctl('sbatch', ['--wait', '-N2', '-n4', '-o', join(dir, 'job-%j.out'), `--chdir=${dir}`, script], {
      WP_ROOTS: JSON.stringify(roots),
      WP_PUSHGATEWAY: stack.pushgatewayUrl,
      WP_FAKETIME: FAKETIME,
    })
    const files = ['nodeA', 'nodeB'].map((n) => join(results, `emissions-${n}.csv`))
    const [rowsA, rowsB] = files.map((f) => readCsvWithPython(f))
    // The skew is real: nodeB's rows end 5 minutes "before" nodeA's.
    const endMs = (rows: Record<string, string>[] = []) =>
      Math.max(...rows.map((r) => Date.parse(r.timestamp ?? '')))
    expect((endMs(rowsA) - endMs(rowsB)) / 1000).toBeGreaterThan(290)
    expect((endMs(rowsA) - endMs(rowsB)) / 1000).toBeLessThan(310)
    const { stdout } = await reportByJob(files)
    const [job] = (JSON.parse(stdout) as { groups: { durationS: number; cpuKWh: number; job: unknown }[] })
      .groups
    expect(job?.job).toMatchObject({ nodes: 2, ranks: 4, worldSize: 4, incomplete: null })
    // Each node's own span (its rows on its own clock); the job's time is the longest, not 5 minutes.
    const spanS = (rows: Record<string, string>[] = []) =>
      endMs(rows) / 1000 -
      Math.min(...rows.map((r) => Date.parse(r.timestamp ?? '') / 1000 - Number(r.duration)))
    expect(job?.durationS).toBeCloseTo(Math.max(spanS(rowsA), spanS(rowsB)), 3)
    expect(job?.durationS).toBeGreaterThan(1.5)
    expect(job?.durationS).toBeLessThan(30)
    // And each node still counted once at its wattage.
    const knownJ = [...(rowsA ?? []), ...(rowsB ?? [])]
      .filter((r) => r.job_role === 'node')
      .reduce((j, r) => j + WATTS[r.node_name as keyof typeof WATTS] * Number(r.duration), 0)
    expect(Math.abs((job?.cpuKWh ?? 0) * 3.6e6 - knownJ) / knownJ).toBeLessThan(0.02)
  }, 120_000)
})
