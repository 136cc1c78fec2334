import { readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname, isAbsolute, join } from 'node:path'
import { describeError } from '../errors.js'
import { ensureDir, explainWriteError, OutputPathError } from '../output-dir.js'
import type { EmissionsRecord } from '../record.js'
import { keptRowFolders } from '../state-dir.js'
import type { TrackerWarning } from '../warnings.js'
import { CsvSink } from './csv.js'

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

/** What recovery did with one checkpoint file. */
export interface RecoveryOutcome {
  readonly file: string
  readonly runId: string | null
  /** `recovered` (row appended, checkpoint removed), `running` (left alone), `failed` (left for later). */
  readonly outcome: 'recovered' | 'running' | 'failed'
  readonly detail: string
  readonly record?: EmissionsRecord
}

function parseCheckpoint(text: string): Checkpoint | null {
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

/**
 * Appends a row for every orphaned checkpoint of `outputDir` (its writer died: SIGKILL, a crash, a power
 * cut) with status `interrupted` and the figures of its last checkpoint, then removes it: those in
 * `<outputDir>/.wattprint`, and the rows kept in the user's state folders (keptRowFolders) because
 * `outputDir` could not be written; with `keptRows: 'all'`, every kept row, each to the CSV it names. A
 * checkpoint whose writer still runs is left alone, and a row whose CSV still cannot be written stays
 * where it is. Each file is first claimed by renaming it, so two processes recovering at once never
 * append the same run twice. Never throws.
 */
export async function recoverCheckpoints(
  outputDir: string,
  warn: (warning: TrackerWarning) => void = () => {},
  keptRows: 'this-folder' | 'all' = 'this-folder',
): Promise<RecoveryOutcome[]> {
  const outcomes = await recoverFolder(join(outputDir, CHECKPOINT_DIR), () => outputDir, warn)
  // A kept row belongs to the directory it names (rows written by an older version name none: '').
  const target = (c: Checkpoint | null): string | null =>
    keptRows === 'all'
      ? c?.outputDir && isAbsolute(c.outputDir)
        ? c.outputDir
        : ''
      : c?.outputDir === outputDir
        ? outputDir
        : null
  for (const folder of keptRowFolders()) outcomes.push(...(await recoverFolder(folder, target, warn)))
  return outcomes
}

/**
 * Recovers the checkpoints in `folder`; `targetDir` says which output directory each belongs to: null
 * to pass over it (another directory's), '' when it cannot be told (reported as failed).
 */
async function recoverFolder(
  folder: string,
  targetDir: (checkpoint: Checkpoint | null) => string | null,
  warn: (warning: TrackerWarning) => void,
): Promise<RecoveryOutcome[]> {
  let names: string[]
  try {
    names = readdirSync(folder)
  } catch {
    return []
  }
  const outcomes: RecoveryOutcome[] = []
  for (const name of names) {
    // `<run>.json`, or `<run>.json.recovering-<pid>` left by a recovery that died half-way.
    const claimedBy = /\.json\.recovering-(\d+)$/.exec(name)?.[1]
    if (!name.endsWith('.json') && !claimedBy) continue
    if (claimedBy && Number(claimedBy) !== process.pid && pidAlive(Number(claimedBy))) continue
    const outcome = await recoverOne(join(folder, name), targetDir, warn)
    if (outcome) outcomes.push(outcome)
  }
  return outcomes
}

/** Whether a process runs: it answers kill(pid, 0) (EPERM: another user's) and is not a zombie. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  // A killed process its parent has not reaped yet still answers kill(pid, 0).
  const state = procStat(pid)?.state
  return state !== 'Z' && state !== 'X'
}

async function recoverOne(
  file: string,
  targetDir: (checkpoint: Checkpoint | null) => string | null,
  warn: (warning: TrackerWarning) => void,
): Promise<RecoveryOutcome | null> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return null // another process claimed it meanwhile
  }
  const checkpoint = parseCheckpoint(text)
  const outputDir = targetDir(checkpoint)
  if (outputDir === null) return null
  if (!checkpoint) {
    return { file, runId: null, outcome: 'failed', detail: 'not a wattprint checkpoint (left as it is)' }
  }
  if (outputDir === '') {
    return {
      file,
      runId: checkpoint.runId,
      outcome: 'failed',
      detail: `names no output folder; the row stays in ${file}`,
    }
  }
  // A final checkpoint holds the row of a run that ended: recoverable whether or not its writer still runs.
  if (!checkpoint.final && writerAlive(checkpoint)) {
    return {
      file,
      runId: checkpoint.runId,
      outcome: 'running',
      detail: `process ${checkpoint.pid} still runs`,
    }
  }
  const claimed = `${file.replace(/\.recovering-\d+$/, '')}.recovering-${process.pid}`
  try {
    if (claimed !== file) renameSync(file, claimed)
  } catch {
    return null // another process claimed it first
  }
  const { record } = checkpoint
  const row: EmissionsRecord = checkpoint.final
    ? record
    : {
        ...record,
        status: 'interrupted',
        notes: [
          ...record.notes,
          `recovered from the checkpoint of ${record.timestamp}: the process (pid ${checkpoint.pid}) ended without stopping the tracker`,
        ],
      }
  const sink = new CsvSink(join(outputDir, safeFileName(checkpoint.outputFile)), warn)
  if (await sink.append(row)) {
    removeCheckpoint(claimed)
    return {
      file,
      runId: checkpoint.runId,
      outcome: 'recovered',
      detail: `appended to ${sink.path}`,
      record: row,
    }
  }
  const original = file.replace(/\.recovering-\d+$/, '')
  let stays = original
  try {
    renameSync(claimed, original)
  } catch (error) {
    stays = claimed
    warn({ code: 'CHECKPOINT_FAILED', message: `Could not put back ${claimed}: ${describeError(error)}.` })
  }
  return {
    file,
    runId: checkpoint.runId,
    outcome: 'failed',
    detail: `could not append to ${sink.path}; the row stays in ${stays}`,
  }
}

/** A checkpoint names its CSV; only a plain file name inside the output directory is honoured. */
const safeFileName = (name: string): string =>
  /^[^\\/]+$/.test(name) && name !== '.' && name !== '..' ? name : 'emissions.csv'
