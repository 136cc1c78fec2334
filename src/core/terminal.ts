import { fitColumns, printable, printableJson } from './text.js'

/**
 * The one printer: every line wattprint writes to its stdout or stderr goes through here (a test fails the
 * build on a write anywhere else). Text for people is written out by printable(), line by line, so that
 * a name holding an escape sequence, a carriage return or a bidi override is shown, never acted on; JSON
 * is escaped the same way without changing what it says; the only control sequences that reach the
 * terminal are the status line's own, and the command's output relayed as the command wrote it.
 */

type Stream = 'stdout' | 'stderr'

const gone: Record<Stream, boolean> = { stdout: false, stderr: false }

/**
 * For the CLI, whose process wattprint owns: a reader that went away (`| head`, a closed terminal) is an
 * 'error' event on stdout or stderr, later; without a listener it would end wattprint in the middle of a
 * run, its command orphaned and its row lost. A library leaves the host's streams as the host has them.
 */
export function ownStandardStreams(): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    process[stream].on('error', () => {
      gone[stream] = true
    })
  }
}

function write(stream: Stream, text: string | Uint8Array): void {
  if (gone[stream]) return
  const target = process[stream]
  try {
    target.write(text)
  } catch {
    gone[stream] = true
  }
}

/**
 * The lines of a text that holds several (a help, an error's message), for printOut() and printErr(),
 * which take one line per argument: a line break inside an argument (a name's) is written out as `\n`.
 */
export const linesOf = (text: string): string[] => text.replace(/\n$/, '').split('\n')

/** Lines for people, one per argument, on stdout: each written out by printable() and ended by a newline. */
export function printOut(...lines: readonly string[]): void {
  write('stdout', lines.map((line) => `${printable(line)}\n`).join(''))
}

/**
 * Lines for people, one per argument, on stderr: each written out by printable() and ended by a newline,
 * over the status line if one is drawn (any line, a tracker's warning included, takes its place).
 */
export function printErr(...lines: readonly string[]): void {
  write('stderr', `${takeStatusLine()}${lines.map((line) => `${printable(line)}\n`).join('')}`)
}

/** Machine output: `value` as indented JSON on stdout, its hidden characters escaped (see printableJson). */
export function printJson(value: unknown): void {
  write('stdout', `${printableJson(JSON.stringify(value, null, 2))}\n`)
}

/** Moves to the start of the line and erases it: the status line's own control sequence. */
const ERASE_LINE = '\r\x1b[2K'

/** Whether a status line is drawn on stderr's current line now. */
let statusDrawn = false

/** What erases the status line before something else is written on stderr, if one is drawn. */
function takeStatusLine(): string {
  if (!statusDrawn) return ''
  statusDrawn = false
  return ERASE_LINE
}

/**
 * Draws `text` over the current line of stderr (a terminal), without a newline: the live status line. It
 * is cut to the terminal's width less a column, so that it never wraps onto a second line: erasing the
 * line would leave the first one behind.
 */
export function drawStatus(text: string): void {
  const columns = process.stderr.columns
  const shown = printable(text)
  write('stderr', `${ERASE_LINE}${columns && columns > 1 ? fitColumns(shown, columns - 1) : shown}`)
  statusDrawn = true
}

/** Erases the status line that drawStatus() left on the current line of stderr, if it is there. */
export function eraseStatus(): void {
  write('stderr', takeStatusLine())
}

/**
 * The command's own output, read from the pseudo-terminal it writes to, passed to stderr byte for byte
 * (over the status line if one is drawn): what it writes is its own (colours, progress bars), as had it
 * written to the terminal itself.
 */
export function relayOutput(bytes: Uint8Array): void {
  const erase = takeStatusLine()
  if (erase) write('stderr', erase)
  write('stderr', bytes)
}
