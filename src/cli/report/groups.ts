import { JOULES_PER_KWH } from '../../core/units.js'
import { formatEnergy } from '../../output/quantities.js'
import { sumKnown } from './footprint.js'
import { intervalTotals } from './intervals.js'
import type { Grouping, GroupTotals, RunRow } from './model.js'

// The report's groups: runs summed by project, experiment, run, day, or a job across machines (by job,
// node or rank), with what a job adds (its ranks and nodes, its time, why it may be short).

const KEYS: Readonly<Record<Grouping, (run: RunRow) => string>> = {
  project: (run) => run.project || '(none)',
  experiment: (run) => run.experiment || '(none)',
  run: (run) => run.runId,
  day: (run) => run.timestamp.slice(0, 10),
  job: (run) => run.jobId || '(none)',
  node: (run) => run.nodeName || '(none)',
  rank: (run) => (run.rank === null ? '(none)' : `${run.jobId || '(none)'} rank ${run.rank}`),
}

/** Sums runs by project, experiment, run, day, job, node or rank, sorted by key. */
export function groupRuns(runs: readonly RunRow[], by: Grouping): GroupTotals[] {
  const groups = new Map<string, RunRow[]>()
  for (const run of runs) {
    const key = KEYS[by](run)
    const members = groups.get(key)
    if (members) members.push(run)
    else groups.set(key, [run])
  }
  return [...groups]
    .map(([key, members]) =>
      by === 'job' && key !== '(none)' ? jobTotal(key, members) : total(key, members),
    )
    .sort((a, b) => a.key.localeCompare(b.key))
}

/** What --by job says of each job under the table: its ranks, its nodes, and why it may be short. */
export function jobLines(groups: readonly GroupTotals[]): string[] {
  return groups.flatMap(({ key, job, durationS }) => {
    if (!job) return []
    const ranks = job.worldSize === null ? `${job.ranks} rank(s)` : `${job.ranks} of ${job.worldSize} rank(s)`
    // The job's time is its longest node's span, each on that node's own clock (see jobTotal).
    const line = `job ${key}: ${ranks} on ${job.nodes} node(s), ${durationS.toFixed(1)} s (its longest node, from first start to last stop)`
    const lines = job.incomplete ? [line, `job ${key} is incomplete: ${job.incomplete}`] : [line]
    if (job.sacct) {
      const { energyJ, note, source } = job.sacct
      const figure = energyJ === null ? 'none' : formatEnergy(energyJ / JOULES_PER_KWH)
      lines.push(`job ${key}, SLURM's own figure: ${figure}${note ? ` (${note})` : ''}; from ${source}`)
    }
    return lines
  })
}

/** When a row's run started and ended, ms since the epoch, on its own node's clock. */
function spanOf(run: RunRow): { startMs: number; endMs: number } {
  const endMs = Date.parse(run.timestamp)
  return { startMs: endMs - run.durationS * 1000, endMs }
}

/**
 * A job's totals: its rows summed (each node counted once by the rows' roles: deferring ranks carry no
 * energy), its wall time the longest node's span from its first start to its last stop, on that node's
 * own clock (nodes' clocks differ: a span across them could be off by the difference, or negative), and
 * why it may be short.
 */
export function jobTotal(key: string, runs: readonly RunRow[]): GroupTotals {
  const byNode = new Map<string, RunRow[]>()
  for (const run of runs) {
    const members = byNode.get(run.nodeName)
    if (members) members.push(run)
    else byNode.set(run.nodeName, [run])
  }
  let durationS = 0
  for (const members of byNode.values()) {
    const spans = members.map(spanOf)
    const spanS = (Math.max(...spans.map((s) => s.endMs)) - Math.min(...spans.map((s) => s.startMs))) / 1000
    durationS = Math.max(durationS, spanS)
  }
  const ranks = new Set(runs.filter((r) => r.rank !== null).map((r) => r.rank))
  const sizes = runs.map((r) => r.worldSize).filter((n): n is number => n !== null)
  const worldSize = sizes.length > 0 ? Math.max(...sizes) : null
  const why: string[] = []
  const recovered = runs.filter((r) => r.status === 'interrupted' || r.status === 'running')
  if (recovered.length > 0) {
    const nodes = [...new Set(recovered.map((r) => r.nodeName || '(no node)'))]
    why.push(
      `${recovered.length} row(s) on ${nodes.join(', ')} end at a checkpoint or a flush, not at stop(): what was recovered`,
    )
  }
  if (worldSize !== null && ranks.size < worldSize)
    why.push(`${ranks.size} of its ${worldSize} ranks have rows`)
  return {
    ...total(key, runs),
    durationS,
    job: {
      nodes: byNode.size,
      ranks: ranks.size,
      worldSize,
      incomplete: why.length > 0 ? why.join('; ') : null,
      slurm: slurmMayHold(key, runs),
    },
  }
}

/**
 * Whether SLURM's accounting may hold the job: SLURM's ranks wrote a row, or ranks of torchrun or MPI
 * started inside a SLURM job (the rows then name the launcher, but the id is the scheduler's: SLURM's,
 * digits). Not a PBS or LSF job, nor one that only the jobId option names.
 */
function slurmMayHold(key: string, runs: readonly RunRow[]): boolean {
  if (runs.some((r) => r.launcher === 'slurm')) return true
  const others = new Set(['pbs', 'lsf', ''])
  return /^\d+$/.test(key) && runs.every((r) => !others.has(r.launcher))
}

/** A group's sums: its runs, time, energy by component, emissions, requests, footprint and intervals. */
export function total(key: string, runs: readonly RunRow[]): GroupTotals {
  const sum = (f: (r: RunRow) => number) => runs.reduce((s, r) => s + f(r), 0)
  const energyKWh = sum((r) => r.energyKWh)
  const emissionsKg = sum((r) => r.emissionsKg)
  const requests = sum((r) => r.requests)
  const outputTokens = sum((r) => r.outputTokens)
  return {
    key,
    runs: runs.length,
    durationS: sum((r) => r.durationS),
    cpuKWh: sum((r) => r.cpuKWh),
    gpuKWh: sum((r) => r.gpuKWh),
    ramKWh: sum((r) => r.ramKWh),
    energyKWh,
    emissionsKg,
    intensityGPerKWh: energyKWh > 0 ? (emissionsKg * 1000) / energyKWh : 0,
    requests,
    outputTokens,
    energyPerRequestJ: requests > 0 ? sum((r) => r.requestEnergyJ) / requests : null,
    energyPerOutputTokenJ: outputTokens > 0 ? sum((r) => r.tokenEnergyJ) / outputTokens : null,
    embodiedKg: sumKnown(runs.map((r) => r.embodiedKg)),
    waterL: sumKnown(runs.map((r) => r.waterL)),
    ...intervalTotals(runs),
  }
}
