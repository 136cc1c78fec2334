import { existsSync } from 'node:fs'
import type { WarningCode } from '../core/warnings.js'
import type { AttributionFacts } from './account.js'
import { jobCgroup } from './cgroup.js'
import type { AttributionSpec } from './reader.js'

/** What the tracker reads for attribution, and what it says about it. */
export interface AttributionPlan {
  /** Null in machine mode, or when nothing of the job can be read (then the warning says why). */
  readonly spec: AttributionSpec | null
  /** The job, in words: `the process tree of pid 1234`, `cgroup /sys/fs/cgroup/…`. */
  readonly job: string
  readonly warnings: readonly { readonly code: WarningCode; readonly message: string }[]
}

/** The options planAttribution reads (the tracker's resolved configuration is one). */
export interface AttributionConfig {
  readonly attribution: ResolvedAttribution
  readonly procRoot: string
  readonly procStatPath: string
}

/** How `wattprint run`'s job is named before its command has started, and after. */
export const commandJob = (pid: number | null): string =>
  pid === null
    ? "the command's process tree (not started yet)"
    : `the process tree of the command (pid ${pid})`

/**
 * Turns the attribution option into what the sampler reads. `launcher`: this process starts the job
 * (`wattprint run`) and is the tracker's, not the job's, when the job is its own process tree or cgroup.
 */
export function planAttribution(config: AttributionConfig, launcher = false): AttributionPlan {
  const { attribution, procRoot, procStatPath } = config
  if (attribution.kind === 'machine') return { spec: null, job: 'the machine', warnings: [] }
  // The command, started later, in place of this process: not another process's tree named by pid.
  const command = launcher && (attribution.kind === 'cgroup' || attribution.pid === process.pid)
  const launched = command ? { command: { pid: null } } : {}
  if (attribution.kind === 'process') {
    const job = command ? commandJob(null) : `the process tree of pid ${attribution.pid}`
    if (!existsSync(`${procRoot}/${attribution.pid}/stat`)) {
      return {
        spec: null,
        job,
        warnings: [
          {
            code: 'ATTRIBUTION_UNAVAILABLE',
            message:
              `Attribution to ${job} is not possible: ${procRoot}/${attribution.pid}/stat cannot be read ` +
              `(not Linux, /proc not mounted there, or no such process). The figures are the whole machine's.`,
          },
        ],
      }
    }
    return {
      spec: {
        type: 'attribution',
        kind: 'process',
        pid: attribution.pid,
        procRoot,
        procStatPath,
        ...launched,
      },
      job,
      warnings: [],
    }
  }
  const cgroup = jobCgroup(attribution.dir, procRoot)
  if (cgroup.dir === null) {
    // This process's own tree is the nearest thing to its cgroup that can still be read.
    return {
      spec: { type: 'attribution', kind: 'process', pid: process.pid, procRoot, procStatPath, ...launched },
      job: command ? commandJob(null) : `the process tree of pid ${process.pid}`,
      warnings: [
        {
          code: 'ATTRIBUTION_UNAVAILABLE',
          message: `Attribution to a cgroup is not possible: ${cgroup.why}. Attributing to ${command ? "the command's process tree" : 'this process and its descendants'} instead.`,
        },
      ],
    }
  }
  const warnings: AttributionPlan['warnings'][number][] = []
  if (cgroup.root) {
    warnings.push({
      code: 'ATTRIBUTION_SHARED',
      message:
        `${cgroup.dir} is the root cgroup: it holds every process of the machine, so the "job" is the whole ` +
        "machine. Name the cgroup of the job itself, or use attribution: 'process'.",
    })
  } else if (cgroup.others.length > 0) {
    const shown = cgroup.others.slice(0, 5).join(', ')
    warnings.push({
      code: 'ATTRIBUTION_SHARED',
      message:
        `This process's cgroup ${cgroup.dir} also holds ${cgroup.others.length} process(es) that are not ` +
        `this one, its children or its parents (pid ${shown}${cgroup.others.length > 5 ? ', …' : ''}): their ` +
        "CPU time and memory count as the job's. Run the job in a cgroup of its own (systemd-run --user " +
        "--scope -- <command>, a container), or use attribution: 'process'.",
    })
  }
  return {
    spec: { type: 'attribution', kind: 'cgroup', dir: cgroup.dir, procRoot, procStatPath, ...launched },
    job: `cgroup ${cgroup.dir}${cgroup.root ? ' (the root cgroup: the whole machine)' : ''}${command ? ' less wattprint' : ''}`,
    warnings,
  }
}

const GPU_METHOD: Record<string, string> = {
  sm: 'by SM samples (NVML)',
  exclusive: 'whole or nothing by its compute processes (NVML)',
  count: 'by its count of compute processes (NVML, no SM samples)',
  idle: 'idle (no compute process)',
  unknown: 'not attributed: NVML could not list its processes',
  'not-nvml': 'not attributed: per-process GPU figures need NVML',
}

/** The row's `attribution_note`: whose energy the figures are, and how each share was found. */
export function attributionNote(job: string, idle: 'include' | 'exclude', facts: AttributionFacts): string {
  const memory = facts.memoryMeasures.join('/').toUpperCase()
  const parts = [
    `${job} (at most ${facts.mostProcesses} process${facts.mostProcesses === 1 ? '' : 'es'})`,
    `CPU by CPU time over the machine's busy time, of the power above idle (${facts.cpuIdleW.toFixed(1)} W, ` +
      `${facts.cpuIdleSource === 'observed' ? 'lowest seen at low load' : facts.cpuIdleSource === 'estimate' ? "the estimate's idle term" : 'not known: counted as active'})`,
    memory === ''
      ? 'RAM: no memory figure of the job could be read'
      : `RAM by ${memory === 'CGROUP' ? "the cgroup's memory.current" : memory} over the memory in use`,
  ]
  if (facts.gpuMethods.length > 0)
    parts.push(`GPU ${facts.gpuMethods.map((m) => GPU_METHOD[m] ?? m).join(', ')}`)
  if (facts.foreignGpuProcesses > 0) {
    parts.push(
      `${facts.foreignGpuProcesses} GPU process(es) of another PID namespace (a container without --pid=host) could not be matched`,
    )
  }
  if (facts.intervalsWithoutSample > 0)
    parts.push(`${facts.intervalsWithoutSample} interval(s) unread, charged to others`)
  for (const component of ['cpu', 'ram'] as const) {
    const { bridged, unknown } = facts.unreadShares[component]
    const name = component.toUpperCase()
    if (bridged > 0)
      parts.push(`${name} share unreadable in ${bridged} interval(s): the last share read used`)
    if (unknown > 0)
      parts.push(
        `${name} share unreadable in ${unknown} interval(s) before any was read: charged to others, not the job`,
      )
  }
  parts.push(idle === 'include' ? 'idle power included by share' : 'idle power excluded (idle_energy)')
  return parts.join('; ')
}

/** Attribution as resolved: the process tree's root pid, or the cgroup v2 folder (null: this process's own). */
export type ResolvedAttribution =
  | {
      /** No attribution: the figures are the whole machine's. */
      readonly kind: 'machine'
    }
  | {
      /** The job is a process and its descendants. */
      readonly kind: 'process'
      /** The pid of the process tree's root. */
      readonly pid: number
    }
  | {
      /** The job is a cgroup v2 and everything in it. */
      readonly kind: 'cgroup'
      /** The cgroup's folder as named (`/sys/fs/cgroup/…`); null for this process's own cgroup. */
      readonly dir: string | null
    }
