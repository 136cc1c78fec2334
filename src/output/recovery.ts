import { readdirSync, readFileSync, renameSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { describeError } from '../core/errors.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { EmissionsRecord } from '../model/record.js'
import { keptRowFolders } from '../platform/state-dir.js'
import {
  CHECKPOINT_DIR,
  type Checkpoint,
  parseCheckpoint,
  pidAlive,
  removeCheckpoint,
  writerAlive,
} from './checkpoint.js'
import { parseEmissionsCsv } from './csv/read.js'
import { CsvSink } from './csv/sink.js'

/** What recovery did with one checkpoint file. */
export interface RecoveryOutcome {
  readonly file: string
  readonly runId: string | null
  /**
   * `recovered` (row appended, checkpoint removed), `running` (left alone), `failed` (left for later),
   * `dropped` (removed without a row: its run's row is in the CSV already, or comes from a later
   * checkpoint of the same run).
   */
  readonly outcome: 'recovered' | 'running' | 'failed' | 'dropped'
  readonly detail: string
  readonly record?: EmissionsRecord
  /** The row recovered was a run's own final row (kept because its CSV could not take it), not a checkpoint's. */
  readonly final?: boolean
}

/** A checkpoint file found, and the CSV its row belongs to. */
interface Found {
  readonly file: string
  readonly checkpoint: Checkpoint
  readonly csvPath: string
  /** Whether the CSV is not the one the checkpoint names, whose name cannot be used (see safeFileName). */
  readonly renamed: boolean
}

/**
 * Appends a row for every orphaned run of `outputDir` (its writer died: SIGKILL, a crash, a power cut)
 * with status `interrupted` and the figures of its last checkpoint, then removes its checkpoints: those
 * in `<outputDir>/.wattprint`, and the rows kept in the user's state folders (keptRowFolders) because
 * `outputDir` could not be written; with `keptRows: 'all'`, every kept row, each to the CSV it names.
 *
 * One row per run: a run whose checkpoint had to move (its folder became unwritable, and the old file
 * could not be removed) has several, and only its latest is recovered (a final row before any other), the
 * others removed; a run whose row the CSV already holds (its checkpoint could not be removed after the row
 * was appended) gets none. A checkpoint whose writer still runs is left alone, and a row whose CSV still
 * cannot be written stays where it is. Each file is first claimed by renaming it, so two processes
 * recovering at once never append the same run twice. Never throws.
 */
export async function recoverCheckpoints(
  outputDir: string,
  warn: (warning: TrackerWarning) => void = () => {},
  keptRows: 'this-folder' | 'all' = 'this-folder',
): Promise<RecoveryOutcome[]> {
  const outcomes: RecoveryOutcome[] = []
  const found: Found[] = []
  /** `targetDir`: null to pass a checkpoint over (another directory's), '' when it cannot be told. */
  const collect = (folder: string, targetDir: (checkpoint: Checkpoint | null) => string | null) => {
    for (const file of checkpointFiles(folder)) {
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch {
        continue // another process claimed it meanwhile
      }
      const checkpoint = parseCheckpoint(text)
      const dir = targetDir(checkpoint)
      if (dir === null) continue
      if (!checkpoint) {
        outcomes.push({
          file,
          runId: null,
          outcome: 'failed',
          detail: 'not a wattprint checkpoint (left as it is)',
        })
      } else if (dir === '') {
        const detail = `names no output folder; the row stays in ${file}`
        outcomes.push({ file, runId: checkpoint.runId, outcome: 'failed', detail })
      } else {
        const name = safeFileName(checkpoint.outputFile)
        found.push({ file, checkpoint, csvPath: join(dir, name), renamed: name !== checkpoint.outputFile })
      }
    }
  }
  collect(join(outputDir, CHECKPOINT_DIR), () => outputDir)
  // A kept row belongs to the directory it names (rows written by an older version name none: '').
  const target = (c: Checkpoint | null): string | null =>
    keptRows === 'all'
      ? c?.outputDir && isAbsolute(c.outputDir)
        ? c.outputDir
        : ''
      : c?.outputDir === outputDir
        ? outputDir
        : null
  for (const folder of keptRowFolders()) collect(folder, target)
  const csvRows = new Map<string, readonly Readonly<Record<string, string>>[]>()
  for (const run of byRun(found)) outcomes.push(...(await recoverRun(run, warn, csvRows)))
  return outcomes
}

/** The checkpoint files of a folder: `<run>.json`, and `<run>.json.recovering-<pid>` of a recovery that died. */
function checkpointFiles(folder: string): string[] {
  let names: string[]
  try {
    names = readdirSync(folder)
  } catch {
    return []
  }
  return names
    .filter((name) => {
      const claimedBy = /\.json\.recovering-(\d+)$/.exec(name)?.[1]
      if (claimedBy === undefined) return name.endsWith('.json')
      return Number(claimedBy) === process.pid || !pidAlive(Number(claimedBy))
    })
    .map((name) => join(folder, name))
}

/** The checkpoints grouped by run: one run id, written by one process, for one CSV. */
function byRun(found: readonly Found[]): Found[][] {
  const runs = new Map<string, Found[]>()
  for (const f of found) {
    const { runId, hostname, pid, processStart } = f.checkpoint
    const key = JSON.stringify([f.csvPath, runId, hostname, pid, processStart])
    runs.set(key, [...(runs.get(key) ?? []), f])
  }
  return [...runs.values()]
}

const timeOf = (f: Found): number => Date.parse(f.checkpoint.record.timestamp) || 0

/** Recovers one run from its checkpoints: one row, from the latest (a final one first), or none. */
async function recoverRun(
  run: readonly Found[],
  warn: (warning: TrackerWarning) => void,
  csvRows: Map<string, readonly Readonly<Record<string, string>>[]>,
): Promise<RecoveryOutcome[]> {
  const finals = run.filter((f) => f.checkpoint.final === true)
  const candidates = finals.length > 0 ? finals : run
  const best = candidates.reduce((a, b) =>
    timeOf(b) > timeOf(a) ||
    (timeOf(b) === timeOf(a) && b.checkpoint.record.durationS > a.checkpoint.record.durationS)
      ? b
      : a,
  )
  const { runId, pid } = best.checkpoint
  // A final checkpoint holds the row of a run that ended: recoverable whether or not its writer still runs.
  if (!best.checkpoint.final && writerAlive(best.checkpoint)) {
    return run.map((f) => ({ file: f.file, runId, outcome: 'running', detail: `process ${pid} still runs` }))
  }
  const outcomes: RecoveryOutcome[] = []
  // The older ones go first: stopped half-way, the checkpoint left is still the run's latest.
  for (const f of run) {
    if (f === best) continue
    const dropped = drop(f, `an earlier checkpoint of the run, whose row comes from ${best.file}`)
    if (dropped) outcomes.push(dropped)
  }
  const outcome = rowAlreadyIn(best, csvRows)
    ? drop(best, `its row is in ${best.csvPath} already`)
    : await recoverOne(best, warn)
  if (outcome) outcomes.push(outcome)
  csvRows.delete(best.csvPath)
  return outcomes
}

/** Slack for a row's start, which is its end less its duration, against the clock of a checkpoint. */
const START_SLACK_MS = 1000

/**
 * Whether the CSV already holds the end of this checkpoint's run: a row of the same run id, not a
 * flush's `running` one, whose span (its end less its duration, to its end) holds the checkpoint's time.
 */
function rowAlreadyIn(
  found: Found,
  csvRows: Map<string, readonly Readonly<Record<string, string>>[]>,
): boolean {
  const atMs = Date.parse(found.checkpoint.record.timestamp)
  if (Number.isNaN(atMs)) return false
  let rows = csvRows.get(found.csvPath)
  if (!rows) {
    try {
      rows = parseEmissionsCsv(readFileSync(found.csvPath)).rows
    } catch {
      rows = [] // no CSV yet, or one that cannot be read: the append says why
    }
    csvRows.set(found.csvPath, rows)
  }
  return rows.some((row) => {
    if (row.run_id !== found.checkpoint.runId || row.status === 'running') return false
    const endMs = Date.parse(row.timestamp ?? '')
    const startMs = endMs - Number(row.duration) * 1000
    return Number.isFinite(startMs) && atMs >= startMs - START_SLACK_MS && atMs <= endMs
  })
}

/** Claims a checkpoint for this process by renaming it; null when another process has it. */
function claim(f: Found): { claimed: string } | RecoveryOutcome | null {
  const claimed = `${f.file.replace(/\.recovering-\d+$/, '')}.recovering-${process.pid}`
  try {
    if (claimed !== f.file) renameSync(f.file, claimed)
    return { claimed }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    return {
      file: f.file,
      runId: f.checkpoint.runId,
      outcome: 'failed',
      detail: `cannot take it (${describeError(error)}); the row stays in ${f.file}`,
    }
  }
}

/** Removes a checkpoint whose row is not wanted, saying why. */
function drop(f: Found, why: string): RecoveryOutcome | null {
  const taken = claim(f)
  if (taken === null || !('claimed' in taken)) return taken
  const { runId } = f.checkpoint
  if (!removeCheckpoint(taken.claimed)) {
    return {
      file: f.file,
      runId,
      outcome: 'failed',
      detail: `${why}, but it cannot be removed: ${taken.claimed}`,
    }
  }
  return { file: f.file, runId, outcome: 'dropped', detail: `${why}: removed without a row` }
}

async function recoverOne(
  f: Found,
  warn: (warning: TrackerWarning) => void,
): Promise<RecoveryOutcome | null> {
  const { checkpoint, file } = f
  const taken = claim(f)
  if (taken === null || !('claimed' in taken)) return taken
  const { claimed } = taken
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
  // Why an append failed is the outcome's to say; the sink's other warnings (a migration) are passed on.
  const sink = new CsvSink(f.csvPath, (w) => {
    if (w.code !== 'CSV_WRITE_FAILED') warn(w)
  })
  if (await sink.append(row)) {
    removeCheckpoint(claimed)
    const instead = f.renamed
      ? ` (the file it names, ${JSON.stringify(checkpoint.outputFile)}, cannot be one in that folder)`
      : ''
    return {
      file,
      runId: checkpoint.runId,
      outcome: 'recovered',
      detail: `appended to ${sink.path}${instead}`,
      record: row,
      final: checkpoint.final === true,
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
    detail: `could not append to ${sink.path} (${sink.lastFailure ?? 'unknown error'}); the row stays in ${stays}`,
  }
}

/**
 * A checkpoint names its CSV; only a plain file name inside the output directory is honoured, else the
 * default: a name with a NUL byte (an older version accepted one) would fail at every recovery, forever.
 */
const safeFileName = (name: string): string =>
  /^[^\\/\0]+$/.test(name) && name !== '.' && name !== '..' ? name : 'emissions.csv'
