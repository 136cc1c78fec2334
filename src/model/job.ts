/** The launchers whose environment names a job and its ranks. */
export type LauncherName = 'slurm' | 'torchrun' | 'openmpi' | 'mpich' | 'pbs' | 'lsf'

/** What a rank's row counts: the whole node, its own share, or nothing (its node's measurer counts it). */
export type JobRole = 'node' | 'rank' | 'deferred'

/**
 * Where a process sits in a job that spans processes and machines, as its launcher's environment says:
 * the figures every row of the job carries, so that rows from many nodes sum to one job.
 */
export interface JobPlace {
  /**
   * The launcher whose variables gave the rank (the innermost: torchrun inside SLURM is torchrun's); null
   * where no launcher runs the process and only the `jobId` option names its job.
   */
  readonly launcher: LauncherName | null
  /**
   * The job's id, the same on every node: the scheduler's (SLURM_JOB_ID, PBS_JOBID, LSB_JOBID) where one
   * runs the job, else the launcher's (TORCHELASTIC_RUN_ID, PMIX_NAMESPACE), else the `jobId` option;
   * null where none is given. Text as the launcher wrote it: it may hold anything.
   */
  readonly jobId: string | null
  /** The node's name: SLURMD_NODENAME under SLURM, else this machine's host name. */
  readonly nodeName: string
  /** The process's rank in the job, from 0; null where the launcher gives none. */
  readonly rank: number | null
  /** Its rank among the job's processes on this node, from 0; null where the launcher gives none. */
  readonly localRank: number | null
  /** How many processes (ranks) the job has; null where the launcher gives none. */
  readonly worldSize: number | null
}

/** The fields a run's record carries of its job; all null outside a launcher (or with `distributed: 'off'`). */
export interface JobFields {
  /** The job's id (see JobPlace.jobId). */
  readonly jobId: string | null
  /** The node the row was measured on. */
  readonly nodeName: string | null
  /** The rank in the job, from 0. */
  readonly rank: number | null
  /** The rank among the job's processes on its node, from 0. */
  readonly localRank: number | null
  /** The job's number of ranks. */
  readonly worldSize: number | null
  /**
   * Whose variables gave the job and the rank: `slurm`, `torchrun`, `openmpi`, `mpich`, `pbs`, `lsf`; null
   * where only the `jobId` option names the job.
   */
  readonly launcher: LauncherName | null
  /**
   * What the row counts: `node` (the whole machine, once per node), `rank` (its own process tree's share)
   * or `deferred` (nothing: its node's measurer counts it). A job's total is the sum of its rows.
   */
  readonly jobRole: JobRole | null
}
