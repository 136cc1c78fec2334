import { spawnSync } from 'node:child_process'

/** SLURM's own figure for a job, as its accounting has it, beside wattprint's. */
export interface SlurmEnergy {
  /** ConsumedEnergyRaw of the job's allocation, J; null when SLURM gave none. */
  readonly energyJ: number | null
  /** Where it came from: the command run. */
  readonly source: string
  /** Why there is no figure, or why it is 0; null for a figure to trust. */
  readonly note: string | null
}

/** How long one sacct or scontrol may take: a controller that does not answer must not hang the report. */
const TIMEOUT_MS = 15_000

/** A command's output; the reason instead when it cannot run or fails. */
function output(command: string, args: readonly string[]): { stdout: string } | { reason: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: TIMEOUT_MS })
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code
    return { reason: code === 'ENOENT' ? `${command} is not installed here` : result.error.message }
  }
  if (result.status !== 0) {
    const said = `${result.stderr}${result.stdout}`.trim().split('\n')[0] ?? ''
    return { reason: `${command} exited ${result.status ?? result.signal}${said ? `: ${said}` : ''}` }
  }
  return { stdout: result.stdout }
}

/** The energy plugin SLURM is configured with (`scontrol show config`), or null when it cannot be read. */
function energyPlugin(): string | null {
  const shown = output('scontrol', ['show', 'config'])
  if ('reason' in shown) return null
  return /^AcctGatherEnergyType\s*=\s*(\S+)/m.exec(shown.stdout)?.[1] ?? null
}

/**
 * SLURM's ConsumedEnergyRaw for a job (`sacct -j <id> -X -n -P --format=JobID,ConsumedEnergyRaw`), read
 * once, when the report is made: never while the job is measured. 0 is reported as what it usually means,
 * no energy plugin configured, with the plugin `scontrol show config` names.
 */
export function slurmEnergy(jobId: string): SlurmEnergy {
  const args = ['-j', jobId, '-X', '-n', '-P', '--format=JobID,ConsumedEnergyRaw']
  const source = `sacct ${args.join(' ')}`
  const answer = output('sacct', args)
  if ('reason' in answer) return { energyJ: null, source, note: answer.reason }
  const line = answer.stdout.split('\n').find((l) => l.split('|')[0] === jobId)
  if (!line) return { energyJ: null, source, note: `sacct has no record of job ${jobId}` }
  const raw = line.split('|')[1]?.trim() ?? ''
  const joules = raw === '' ? 0 : Number(raw)
  if (!Number.isFinite(joules) || joules < 0) {
    return {
      energyJ: null,
      source,
      note: `sacct gave ConsumedEnergyRaw ${JSON.stringify(raw)}, not a figure`,
    }
  }
  if (joules > 0) return { energyJ: joules, source, note: null }
  const plugin = energyPlugin()
  return {
    energyJ: 0,
    source,
    note:
      plugin === null || plugin.endsWith('/none')
        ? `0: SLURM measures no energy here (AcctGatherEnergyType ${plugin ?? 'unknown'}): no energy plugin is configured`
        : `0 with ${plugin} configured: the plugin measured nothing for this job`,
  }
}
