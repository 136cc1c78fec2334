import { createHash } from 'node:crypto'
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeError } from '../core/errors.js'
import { describeValue } from '../core/text.js'
import type { JobPlace, JobRole } from '../model/job.js'
import { ensureDir } from '../platform/output-dir.js'

/**
 * How a tracker in one rank of a job counts (the `distributed` option):
 * - `auto`: each node is counted once, by one rank: the local rank 0 (or, where the launcher gives no
 *   local rank, the first to take the node's lock) measures the machine; the node's other ranks defer to
 *   it, and their rows carry no energy.
 * - `per-rank`: every rank measures its own process tree's share of the machine (attribution `process`,
 *   or the attribution asked for), without the idle power, so the ranks' rows add up to what the job
 *   used. A rank given an `attribution` counts as per-rank under `auto` too.
 * - `off`: the launcher is ignored: every tracker measures as it would alone (N ranks on a node count it N
 *   times).
 */
export type DistributedMode = 'auto' | 'per-rank' | 'off'

/** A rank's role, and the lock that holds it, released when the run ends. */
export interface RoleTaken {
  readonly role: JobRole
  /** Why, for the record's notes. */
  readonly note: string
  /** Gives the node's lock back (for the next job's measurer); nothing for roles taken without one. */
  release(): void
}

/**
 * Where the node's lock lives: the user's runtime folder (node-local), else a folder of the user's own in
 * the temporary folder (a job's ranks run as one user; another user's folder there is not writable).
 */
export function lockFolder(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'wattprint-jobs')
  return join(tmpdir(), `wattprint-jobs-${process.getuid?.() ?? 'user'}`)
}

/** The lock's file name: a digest of the job and the node, whatever text they hold. */
function lockName(place: JobPlace): string {
  const digest = createHash('sha256')
    .update(`${place.jobId ?? ''}\0${place.nodeName}`)
    .digest('hex')
  return `measurer-${digest.slice(0, 32)}.pid`
}

/** Whether a process with this pid is alive (signal 0: only asks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: alive, another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the node's measurer lock, holding this pid; a lock whose holder died is taken over. The file is
 * written whole under another name and linked into place (link() fails where the lock exists), so a lock
 * is never seen half written. The pid inside, or null when this process holds it now. Two ranks that find
 * the same dead holder at the same instant may both take over; a job's ranks start together only once,
 * and a dead holder's lock is found only when a job restarts on the node under the same id.
 */
function takeLock(path: string): { holder: number | null } {
  const mine = `${path}.${process.pid}.tmp`
  writeFileSync(mine, `${process.pid}\n`)
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, path)
        return { holder: null }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      const holder = Number.parseInt(readFileSync(path, 'utf8'), 10)
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) return { holder }
      try {
        unlinkSync(path)
      } catch {}
    }
    throw new Error(`could not take ${path}`)
  } finally {
    try {
      unlinkSync(mine)
    } catch {}
  }
}

const NONE = (): void => {}

/**
 * This rank's role under `mode`. Never throws: a lock that cannot be taken makes the rank measure its
 * node, with a note (counting a node twice is better than not at all).
 */
export function takeRole(
  place: JobPlace,
  mode: Exclude<DistributedMode, 'off'>,
  folder: string = lockFolder(),
): RoleTaken {
  const who = `rank ${place.rank ?? '?'} of job ${place.jobId === null ? '(no id)' : describeValue(place.jobId)} on ${describeValue(place.nodeName)}`
  if (mode === 'per-rank') {
    return {
      role: 'rank',
      note: `${who} counts its own share of its node (distributed: per-rank, or an attribution of its own)`,
      release: NONE,
    }
  }
  if (place.localRank !== null) {
    return place.localRank === 0
      ? { role: 'node', note: `${who} is its node's local rank 0: it measures the node`, release: NONE }
      : {
          role: 'deferred',
          note: `${who} is local rank ${place.localRank}: its node is measured by local rank 0, so this row counts no energy`,
          release: NONE,
        }
  }
  const path = join(folder, lockName(place))
  try {
    ensureDir(folder)
    const { holder } = takeLock(path)
    if (holder !== null) {
      return {
        role: 'deferred',
        note: `${who} defers to pid ${holder}, which measures the node (it holds the node's lock)`,
        release: NONE,
      }
    }
    return {
      role: 'node',
      note: `${who} measures the node (no local rank given: it took the node's lock first)`,
      release: () => {
        try {
          if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) unlinkSync(path)
        } catch {}
      },
    }
  } catch (error) {
    return {
      role: 'node',
      note: `${who} measures the node: the node's lock in ${folder} could not be used (${describeError(error)}), so another rank may count it too`,
      release: NONE,
    }
  }
}
