import { hostname } from 'node:os'
import type { JobPlace, LauncherName } from '../model/job.js'

export type { JobPlace, LauncherName } from '../model/job.js'

type Env = Readonly<Record<string, string | undefined>>

/** A rank or a size: a plain decimal integer from 0, else null (a launcher's variable is text). */
function count(text: string | undefined): number | null {
  if (text === undefined || !/^\s*\d{1,9}\s*$/.test(text)) return null
  return Number(text)
}

/** A variable's text, or null when unset or empty. */
function text(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value
}

/** The ranks as each launcher names them, innermost first: torchrun and MPI run inside SLURM's jobs. */
const RANKS: readonly {
  readonly launcher: LauncherName
  readonly present: (env: Env) => boolean
  readonly rank: string
  readonly localRank: string
  readonly worldSize: string
  readonly jobId: readonly string[]
}[] = [
  {
    launcher: 'torchrun',
    present: (env) => env.RANK !== undefined && env.WORLD_SIZE !== undefined && env.LOCAL_RANK !== undefined,
    rank: 'RANK',
    localRank: 'LOCAL_RANK',
    worldSize: 'WORLD_SIZE',
    jobId: ['TORCHELASTIC_RUN_ID'],
  },
  {
    launcher: 'openmpi',
    present: (env) => env.OMPI_COMM_WORLD_RANK !== undefined,
    rank: 'OMPI_COMM_WORLD_RANK',
    localRank: 'OMPI_COMM_WORLD_LOCAL_RANK',
    worldSize: 'OMPI_COMM_WORLD_SIZE',
    jobId: ['PMIX_NAMESPACE', 'OMPI_MCA_orte_ess_jobid', 'OMPI_MCA_ess_base_jobid'],
  },
  {
    launcher: 'mpich',
    present: (env) => env.PMI_RANK !== undefined,
    rank: 'PMI_RANK',
    localRank: 'MPI_LOCALRANKID',
    worldSize: 'PMI_SIZE',
    jobId: ['PMIX_NAMESPACE'],
  },
  {
    launcher: 'slurm',
    present: (env) => env.SLURM_JOB_ID !== undefined && env.SLURM_PROCID !== undefined,
    rank: 'SLURM_PROCID',
    localRank: 'SLURM_LOCALID',
    worldSize: 'SLURM_NTASKS',
    jobId: ['SLURM_JOB_ID'],
  },
]

/**
 * The process's global rank from the first launcher variable that holds one, even where the rest of its
 * launcher's variables are missing (a bare `RANK`); undefined where none does. The Pushgateway's grouping
 * key takes it when the run has no job place (`distributed: 'off'`), so runs on one host stay apart.
 */
export function launcherRank(env: Env): string | undefined {
  for (const { rank } of RANKS) {
    const value = count(env[rank])
    if (value !== null) return String(value)
  }
  return undefined
}

/** Schedulers that name the job but not the ranks (a batch script, or ranks started by other means). */
const SCHEDULERS: readonly { readonly launcher: LauncherName; readonly jobId: string }[] = [
  { launcher: 'slurm', jobId: 'SLURM_JOB_ID' },
  { launcher: 'pbs', jobId: 'PBS_JOBID' },
  { launcher: 'lsf', jobId: 'LSB_JOBID' },
]

/**
 * The job this process is part of, from its launcher's environment; null outside any launcher. Pure but
 * for the host name, which `host` replaces in tests.
 */
export function jobPlaceFrom(env: Env = process.env, host: () => string = hostname): JobPlace | null {
  const scheduler = SCHEDULERS.find((s) => text(env[s.jobId]) !== null)
  const schedulerJob = scheduler ? text(env[scheduler.jobId]) : null
  const nodeName = text(env.SLURMD_NODENAME) ?? host()
  const ranks = RANKS.find((r) => r.present(env))
  if (ranks) {
    const own = ranks.jobId.map((name) => text(env[name])).find((id) => id !== null && id !== 'none')
    return {
      launcher: ranks.launcher,
      jobId: schedulerJob ?? own ?? null,
      nodeName,
      rank: count(env[ranks.rank]),
      localRank: count(env[ranks.localRank]),
      worldSize: count(env[ranks.worldSize]),
    }
  }
  if (!scheduler) return null
  return {
    launcher: scheduler.launcher,
    jobId: schedulerJob,
    nodeName,
    rank: null,
    localRank: null,
    worldSize: null,
  }
}

/**
 * The run's place in its job: the launcher's (its job id the `jobId` option's where the launcher gives
 * none), else, outside any launcher, a job the `jobId` option names (this host, no rank: the job's
 * processes on one node elect their measurer through the node's lock); null when neither names a job.
 */
export function jobPlace(env: Env, jobId: string | null, host: () => string = hostname): JobPlace | null {
  const place = jobPlaceFrom(env, host)
  if (place) return place.jobId === null && jobId !== null ? { ...place, jobId } : place
  if (jobId === null) return null
  return {
    launcher: null,
    jobId,
    nodeName: text(env.SLURMD_NODENAME) ?? host(),
    rank: null,
    localRank: null,
    worldSize: null,
  }
}

/**
 * The CSV a node writes under a launcher, `emissions-<node>.csv`: the node's name with every character
 * outside letters, digits, `.`, `_` and `-` replaced by `_`, at most 100 of them, never a leading dot
 * (whatever a host name holds, the file stays in its folder and in plain sight).
 */
export function nodeCsvName(nodeName: string): string {
  const safe = nodeName
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 100)
    .replace(/^\./, '_')
  return `emissions-${safe || '_'}.csv`
}

/**
 * OpenTelemetry resource attributes for this process's place in its job, for your MeterProvider's
 * resource (`resourceFromAttributes(jobResourceAttributes())`), so that a Collector groups and sums a job
 * by them: `host.name` (the node), `wattprint.job_id`, `wattprint.rank`, `wattprint.local_rank` and
 * `wattprint.launcher`, each where the launcher gives it; `{}` outside a launcher. otelSink puts the same
 * figures on every data point.
 */
export function jobResourceAttributes(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const place = jobPlaceFrom(env)
  if (!place) return {}
  const attributes: Record<string, string> = { 'host.name': place.nodeName }
  if (place.launcher !== null) attributes['wattprint.launcher'] = place.launcher
  if (place.jobId !== null) attributes['wattprint.job_id'] = place.jobId
  if (place.rank !== null) attributes['wattprint.rank'] = String(place.rank)
  if (place.localRank !== null) attributes['wattprint.local_rank'] = String(place.localRank)
  return attributes
}
