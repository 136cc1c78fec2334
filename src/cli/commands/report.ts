import { readFileSync } from 'node:fs'
import { describeError } from '../../core/errors.js'
import { linesOf, printErr, printJson, printOut } from '../../core/terminal.js'
import { replaceWhole } from '../../output/csv/file.js'
import { type CommandSpec, type Flags, helpText, parseFlags, textOf } from '../flags.js'
import { groupRuns, jobLines, total } from '../report/groups.js'
import { renderHtmlReport } from '../report/html.js'
import { GROUPINGS, type Grouping, type RunRow, type TimelinePoint } from '../report/model.js'
import { foreignFileMessage, latestPerRun, type ReadResult, readEmissionsCsv } from '../report/read.js'
import { waitingLine, waitingSavings } from '../report/savings.js'
import { slurmEnergy } from '../report/slurm.js'
import { renderTable } from '../report/table.js'
import { checkOutputFile } from '../run/output-checks.js'
import { UsageError } from '../units.js'

/** The flags of `wattprint report`: parsed, and listed in its help, from this one table. */
export const REPORT_FLAGS = {
  by: {
    type: 'string',
    value: GROUPINGS.join('|'),
    help: 'how to group the runs (default project); day: the UTC date of each run; job, node, rank: a job across machines',
    example: 'day',
  },
  html: {
    type: 'string',
    value: 'report.html',
    help: 'also write a self-contained HTML report with charts (no script, opens offline)',
    example: 'report.html',
  },
  timeline: {
    type: 'string',
    multiple: true,
    value: 'file.jsonl',
    help: 'a power-over-time chart in the HTML report from a wattprint run --timeline file',
    example: 'timeline.jsonl',
  },
  sacct: {
    type: 'boolean',
    help: "with --by job: SLURM's own energy for each SLURM job (sacct's ConsumedEnergyRaw), beside wattprint's",
  },
  json: { type: 'boolean', help: 'the totals as JSON on stdout' },
} as const satisfies Flags

const REPORT: CommandSpec = {
  name: 'report',
  usage: '[files...] [options]',
  about: `Totals of emissions CSVs, wattprint's or CodeCarbon's (default: emissions.csv in the current folder):
runs, duration, energy by component, emissions and intensity, grouped. A run (its run_id) counts once,
with its latest row, whether it was flushed several times or is in several of the files given; malformed
rows are skipped and counted.`,
  flags: REPORT_FLAGS,
  footer: `Example:
  wattprint report results/*.csv --by day --html report.html --timeline run1.jsonl`,
}

/** `wattprint report [files...] [--by …] [--html file] [--timeline file.jsonl …] [--json]`. */
export async function reportCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseFlags(REPORT, argv, true)
  const { positionals } = parsed
  if (parsed.values.help) {
    printOut(...linesOf(helpText(REPORT)))
    return 0
  }
  const values = {
    by: (textOf(parsed.values, 'by') ?? 'project').trim().toLowerCase(),
    html: textOf(parsed.values, 'html'),
    timeline: parsed.values.timeline as string[] | undefined,
    json: parsed.values.json === true,
    sacct: parsed.values.sacct === true,
  }
  const by = values.by as Grouping
  if (!GROUPINGS.includes(by)) {
    throw new UsageError(
      `--by ${JSON.stringify(values.by)} must be one of ${GROUPINGS.join(', ')}: for example --by day.`,
    )
  }
  if (values.sacct && by !== 'job') {
    throw new UsageError("--sacct adds SLURM's figure to jobs: use it with --by job.")
  }
  // The report's one output is checked before any work: a folder that cannot hold it is a usage error.
  if (values.html) checkOutputFile('--html', values.html)
  const files = positionals.length > 0 ? positionals : ['emissions.csv']
  const runs: RunRow[] = []
  const skipped: string[] = []
  let readable = 0
  for (const file of files) {
    let result: ReadResult
    try {
      result = readEmissionsCsv(file)
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
    }
    if (result.format === 'foreign') {
      skipped.push(foreignFileMessage(file))
      continue
    }
    readable += 1
    runs.push(...result.runs)
    if (result.malformed > 0) skipped.push(`${file}: ${result.malformed} malformed row(s) skipped`)
    if (result.intervalsDropped > 0) {
      skipped.push(
        `${file}: ${result.intervalsDropped} interval(s) left out that did not contain their figure (the figures are kept)`,
      )
    }
  }
  if (readable === 0) {
    printErr(...skipped.map((line) => `wattprint report: ${line}`))
    return 1
  }
  // A run found in several files (a backup beside its file, a file named twice) counts once.
  const counted = latestPerRun(runs)
  // SLURM's own figure, asked once per SLURM job, now: never while a job is measured.
  const groups = groupRuns(counted, by).map((group) =>
    values.sacct && group.job?.slurm
      ? { ...group, job: { ...group.job, sacct: slurmEnergy(group.key) } }
      : group,
  )
  const all = total('total', counted)
  const waiting = waitingSavings(counted)
  if (values.json) printJson({ by, groups, total: all, waiting, skipped })
  else {
    const saved = waitingLine(waiting)
    printOut(
      ...linesOf(renderTable(groups, by, all)),
      ...jobLines(groups),
      ...(saved ? [saved] : []),
      ...skipped,
    )
  }
  if (values.html) {
    const timelines = (values.timeline ?? []).map((file) => ({ file, samples: readTimeline(file) }))
    try {
      // Whole or not at all: a full disk leaves the last report as it was, never half of a new one.
      replaceWhole(
        values.html,
        renderHtmlReport({ runs: counted, groups, by, total: all, timelines, skipped }),
      )
    } catch (error) {
      printErr(
        `wattprint report: could not write ${values.html}: ${describeError(error)}; it is as it was before, ` +
          'and no other file was left.',
      )
      return 1
    }
    if (!values.json) printOut(`report written to ${values.html}`)
  }
  return 0
}

function readTimeline(file: string): TimelinePoint[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
  }
  const points: TimelinePoint[] = []
  for (const line of text.split('\n')) {
    try {
      const s = JSON.parse(line) as {
        elapsedS?: unknown
        powerW?: { cpu?: unknown; gpu?: unknown; ram?: unknown }
      }
      const values = [s.elapsedS, s.powerW?.cpu, s.powerW?.gpu, s.powerW?.ram]
      if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        const [elapsedS, cpuW, gpuW, ramW] = values as number[]
        points.push({ elapsedS: elapsedS ?? 0, cpuW: cpuW ?? 0, gpuW: gpuW ?? 0, ramW: ramW ?? 0 })
      }
    } catch {
      // a partial last line, or not a timeline: skipped
    }
  }
  return points
}
