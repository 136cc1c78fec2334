import { readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import type { EmissionsRecord } from '../model/record.js'
import { ensureDir, explainWriteError, OutputPathError } from '../platform/output-dir.js'

/** Folder of the checkpoints, inside the output directory. */
export const CHECKPOINT_DIR = '.wattprint'
const FORMAT = 1

/** What a checkpoint file holds: the row as it would be written, and who is writing it. */
export interface Checkpoint {
  readonly format: typeof FORMAT
  readonly runId: string
  /** The CSV file name (inside the same output directory) the row belongs to. */
  readonly outputFile: string
  /**
   * The absolute output directory of that CSV. Honoured only for a row kept in the user's state folder
   * (its output directory could not be written); a checkpoint in `<dir>/.wattprint` belongs to `<dir>`.
   * Absent in older checkpoints.
   */
  readonly outputDir?: string
  readonly pid: number
  readonly hostname: string
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid from the writer. */
  readonly processStart: number | null
  /** True for the row of a finished run that could not be appended: recovered with its own status. */
  readonly final: boolean
  readonly record: EmissionsRecord
}

/** The checkpoint file of a run in its output directory. */
export function checkpointPath(outputDir: string, runId: string): string {
  return checkpointIn(join(outputDir, CHECKPOINT_DIR), runId)
}

/** The checkpoint file of a run in a checkpoint folder. */
const checkpointIn = (folder: string, runId: string): string => join(folder, `${safeName(runId)}.json`)

/** A run id as a file name: anything but letters, digits, dot, dash and underscore becomes `_`. */
const safeName = (runId: string): string => runId.replace(/[^\w.-]/g, '_').slice(0, 200) || '_'

/** A process's state letter and start time (clock ticks since boot), from /proc; null elsewhere. */
function procStat(pid: number): { state: string; startTicks: number | null } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    return { state: fields[0] ?? '?', startTicks: Number.isFinite(ticks) ? ticks : null }
  } catch {
    return null
  }
}

/** A process's start time in clock ticks since boot, from /proc (null elsewhere). */
export function processStartTicks(pid: number): number | null {
  return procStat(pid)?.startTicks ?? null
}

const ownStart = processStartTicks(process.pid)

/**
 * Writes a checkpoint into `folder` (`<outputDir>/.wattprint`, or a kept-row folder) in one step: a
 * temporary file renamed over the old one, so a reader never sees half of one. Returns the file written;
 * throws on failure (the caller warns).
 */
export function writeCheckpoint(
  folder: string,
  content: { runId: string; outputDir: string; outputFile: string; final: boolean; record: EmissionsRecord },
): string {
  const path = checkpointIn(folder, content.runId)
  const checkpoint: Checkpoint = {
    format: FORMAT,
    pid: process.pid,
    hostname: hostname(),
    processStart: ownStart,
    ...content,
  }
  const temp = `${path}.${process.pid}.tmp`
  const text = `${JSON.stringify(checkpoint)}\n`
  let madeFolder = false
  try {
    try {
      writeFileSync(temp, text)
    } catch (error) {
      // The folder is made only when missing (first write, or another process's removeCheckpoint() took
      // the emptied folder away in between), one level at a time: see ensureDir.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      ensureDir(folder)
      madeFolder = true
      writeFileSync(temp, text)
    }
    renameSync(temp, path)
  } catch (error) {
    try {
      unlinkSync(temp)
    } catch {}
    // Nothing left behind by a write that failed (a full disk): a folder made for it goes too, if empty.
    if (madeFolder) {
      try {
        rmdirSync(folder)
      } catch {}
    }
    throw error instanceof OutputPathError
      ? error
      : new OutputPathError(folder, explainWriteError(folder, error))
  }
  return path
}

/** Removes a checkpoint, and its folder once empty; true when it is gone (or never was). */
export function removeCheckpoint(path: string): boolean {
  try {
    unlinkSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false
  }
  try {
    // Fails, harmlessly, while other runs keep checkpoints there.
    rmdirSync(dirname(path))
  } catch {}
  return true
}

/** Whether the process that wrote a checkpoint may still be running (then its checkpoint is left alone). */
export function writerAlive(checkpoint: Pick<Checkpoint, 'pid' | 'hostname' | 'processStart'>): boolean {
  // Another machine's process (a shared output directory) cannot be checked: assume it runs.
  if (checkpoint.hostname !== hostname()) return true
  if (checkpoint.pid === process.pid) return checkpoint.processStart === ownStart
  if (!pidAlive(checkpoint.pid)) return false
  // A live pid may be a new process that reused the number.
  const start = processStartTicks(checkpoint.pid)
  return checkpoint.processStart === null || start === null || start === checkpoint.processStart
}

/** A checkpoint file's content, or null when it is not one of ours. */
export function parseCheckpoint(text: string): Checkpoint | null {
  try {
    const value = JSON.parse(text) as Partial<Checkpoint> | null
    if (
      value?.format !== FORMAT ||
      typeof value.runId !== 'string' ||
      typeof value.outputFile !== 'string' ||
      typeof value.pid !== 'number' ||
      typeof value.record !== 'object' ||
      value.record === null
    ) {
      return null
    }
    return value as Checkpoint
  } catch {
    return null
  }
}

/** Whether a process runs: it answers kill(pid, 0) (EPERM: another user's) and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  // A killed process its parent has not reaped yet still answers kill(pid, 0).
  const state = procStat(pid)?.state
  return state !== 'Z' && state !== 'X'
}
