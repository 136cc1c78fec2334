import { printable, printableJson } from './text.js'

/**
 * The one printer: every line wattprint writes to its stdout or stderr goes through here (a test fails the
 * build on a write anywhere else). Text for people is written out by printable(), line by line, so that
 * a name holding an escape sequence, a carriage return or a bidi override is shown, never acted on; JSON
 * is escaped the same way without changing what it says; the only control sequences that reach the
 * terminal are the status line's own, and the command's output relayed as the command wrote it.
 */

type Stream = 'stdout' | 'stderr'

const gone: Record<Stream, boolean> = { stdout: false, stderr: false }
const watched = new Set<Stream>()

function write(stream: Stream, text: string | Uint8Array): void {
  if (gone[stream]) return
  const target = process[stream]
  if (!watched.has(stream)) {
    watched.add(stream)
    // A reader that went away (`| head`, a closed terminal) is an 'error' event, later: without a
    // listener it would end wattprint in the middle of a run, its command orphaned and its row lost.
    target.on('error', () => {
      gone[stream] = true
    })
  }
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

/** Lines for people, one per argument, on stderr: each written out by printable() and ended by a newline. */
export function printErr(...lines: readonly string[]): void {
  write('stderr', lines.map((line) => `${printable(line)}\n`).join(''))
}

/** Machine output: `value` as indented JSON on stdout, its hidden characters escaped (see printableJson). */
export function printJson(value: unknown): void {
  write('stdout', `${printableJson(JSON.stringify(value, null, 2))}\n`)
}

/** Moves to the start of the line and erases it: the status line's own control sequence. */
const ERASE_LINE = '\r\x1b[2K'

/** Draws `text` over the current line of stderr (a terminal), without a newline: the live status line. */
export function drawStatus(text: string): void {
  write('stderr', `${ERASE_LINE}${printable(text)}`)
}

/** Erases the status line that drawStatus() left on the current line of stderr. */
export function eraseStatus(): void {
  write('stderr', ERASE_LINE)
}
