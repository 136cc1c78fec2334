import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import { CSV_COLUMNS, isEarlierHeader, LEGACY_CSV_COLUMNS, ROW_STATUSES } from './format.js'
import { parseCsvCells } from './read.js'

/** What the head and the end of a CSV file say about it. */
export interface CsvFileState {
  /**
   * `wattprint`: the current header; `wattprint-legacy`: wattprint 0.1's first one; `wattprint-earlier`: one
   * from before the latest columns were added (see isEarlierHeader); `other`: anything else.
   */
  readonly header: 'wattprint' | 'wattprint-legacy' | 'wattprint-earlier' | 'other'
  /** The file's line ending, from its header line: rows appended use the same. */
  readonly eol: '\n' | '\r\n'
  readonly endsWithNewline: boolean
  readonly size: number
}

const CURRENT = CSV_COLUMNS.join(',')
const LEGACY = LEGACY_CSV_COLUMNS.join(',')
// The status is the last column: a row cut inside it leaves a partial word.
const STATUS_INDEX = CSV_COLUMNS.indexOf('status')

/** The header and ending of a file, reading only its head and last byte. */
export function inspectCsv(path: string): CsvFileState {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const head = Buffer.alloc(Math.min(size, 64 * 1024))
    const bytes = readSync(fd, head, 0, head.length, 0)
    const text = head.toString('utf8', 0, bytes)
    const newline = text.indexOf('\n')
    const eol = newline > 0 && text[newline - 1] === '\r' ? '\r\n' : '\n'
    // A spreadsheet may add a byte order mark and end lines with CRLF: the same header.
    const line = (newline === -1 ? text : text.slice(0, newline)).replace(/^\uFEFF/, '').replace(/\r$/, '')
    const last = Buffer.alloc(1)
    if (size > 0) readSync(fd, last, 0, 1, size - 1)
    return {
      header:
        line === CURRENT
          ? 'wattprint'
          : line === LEGACY
            ? 'wattprint-legacy'
            : isEarlierHeader(line.split(','))
              ? 'wattprint-earlier'
              : 'other',
      eol,
      endsWithNewline: size > 0 && last[0] === 0x0a,
      size,
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * Whether a wattprint file that lacks its final newline ends with a complete row (an editor dropped the
 * newline) rather than one cut off: the last record parses, has every column, and its last cell, the
 * status, is a whole status word (a row cut inside it leaves `finis` or `runn`). Reads the whole file, which
 * happens only for such a file.
 */
export function endsWithCompleteRow(path: string): boolean {
  const { records, unreadable } = parseCsvCells(readFileSync(path))
  if (unreadable > 0) return false
  const last = records.at(-1)
  if (!last) return false
  if (records.length === 1) return true // the header alone
  return last.length === CSV_COLUMNS.length && ROW_STATUSES.has(last[STATUS_INDEX] ?? '')
}

/**
 * Whether a file holds an even number of `"`: in a CSV, quotes come in pairs (a quoted cell's two, and
 * doubled ones inside it), so an odd count means the file was cut inside a quoted cell, possibly just
 * after a line break in it, where the file still ends with a newline. One pass over the bytes (about
 * 15 ms for 32 MB), done once per sink.
 */
export function quotesBalanced(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    return quotesBalancedIn(fd, fstatSync(fd).size)
  } finally {
    closeSync(fd)
  }
}

function quotesBalancedIn(fd: number, size: number): boolean {
  const chunk = Buffer.alloc(1 << 20)
  let quotes = 0
  let position = 0
  while (position < size) {
    const bytes = readSync(fd, chunk, 0, Math.min(chunk.length, size - position), position)
    if (bytes === 0) break
    position += bytes
    const view = chunk.subarray(0, bytes)
    for (let i = view.indexOf(0x22); i !== -1; i = view.indexOf(0x22, i + 1)) quotes += 1
  }
  return quotes % 2 === 0
}

/**
 * Ends a file's last line where it stops: a `"` first when the file was cut inside a quoted cell, then
 * the line ending (`eol`, or only `\n` after a lone `\r`). A row cut off (by a full disk, a crash) so
 * becomes one short, malformed row that readers skip and count, with every byte of it kept, and rows
 * appended after it stay rows of their own; a complete row that lost its final newline is whole again.
 * The ending is written at the offset where the file ended, not appended: two processes that end the same
 * file at once write the same bytes at the same place, never a second quote that would open a cell.
 * Returns what was written; null when the file changed meanwhile (judge it again) or ends a line already.
 */
export function endLastLine(path: string, eol: '\n' | '\r\n'): string | null {
  const fd = openSync(path, 'r+')
  try {
    const size = fstatSync(fd).size
    const open = !quotesBalancedIn(fd, size)
    const last = Buffer.alloc(1)
    if (size > 0) readSync(fd, last, 0, 1, size - 1)
    if (!open && last[0] === 0x0a) return null
    const ending = `${open ? '"' : ''}${!open && last[0] === 0x0d ? '\n' : eol}`
    if (fstatSync(fd).size !== size) return null
    writeAllAt(fd, Buffer.from(ending), size)
    return ending
  } finally {
    closeSync(fd)
  }
}

function writeAllAt(fd: number, bytes: Buffer, position: number): void {
  for (let done = 0; done < bytes.length; )
    done += writeSync(fd, bytes, done, bytes.length - done, position + done)
}

/**
 * Appends `text` to the existing file `path` whole or not at all. A write that fails part of the way (a
 * full disk, a quota, a file size limit) is undone, the file cut back to where it ended before, so that
 * no half row is ever left for the next row to be glued to; the error is then thrown. The file is not
 * created: a missing one throws ENOENT (the caller creates it with its header).
 */
export function appendWhole(path: string, text: string): void {
  // Read and write: undoing a partial write checks the bytes at the end before cutting them.
  const fd = openSync(path, constants.O_RDWR | constants.O_APPEND)
  try {
    appendWholeTo(fd, path, text)
  } finally {
    closeSync(fd)
  }
}

/**
 * appendWhole() on a file kept open (`fd`, opened to append, and to read so that a partial write can be
 * checked before it is cut off): `text` is appended whole or not at all. `what` names the piece in the
 * error when a partial one could not be taken back: a CSV's `row`, a JSON-lines file's `line`.
 */
export function appendWholeTo(fd: number, path: string, text: string, what: 'row' | 'line' = 'row'): void {
  const bytes = Buffer.from(text, 'utf8')
  let written = 0
  try {
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
  } catch (error) {
    if (written > 0) undoPartialAppend(fd, bytes.subarray(0, written), path, error, what)
    throw error
  }
}

/**
 * Cuts off the `ours` bytes a failed append left at the end of a file. Only when they are still the last
 * bytes: should another process have appended after them, cutting would take its row too, so the file is
 * left and the error says where the partial row is. (Cutting frees space: it works on a full disk.)
 */
function undoPartialAppend(
  fd: number,
  ours: Buffer,
  path: string,
  cause: unknown,
  what: 'row' | 'line',
): void {
  let start = -1
  try {
    const size = fstatSync(fd).size
    const tail = Buffer.alloc(ours.length)
    if (size >= ours.length) readSync(fd, tail, 0, ours.length, size - ours.length)
    if (size >= ours.length && tail.equals(ours)) {
      start = size - ours.length
      ftruncateSync(fd, start)
      return
    }
  } catch {}
  const reason = cause instanceof Error ? cause.message : String(cause)
  throw Object.assign(
    new Error(
      `${reason}; ${ours.length} bytes of the ${what} were written before it failed and could not be taken back` +
        `${start >= 0 ? ` (at byte ${start})` : ''}: ${path} ends with a partial ${what}`,
    ),
    { code: (cause as NodeJS.ErrnoException).code, partialRowLeft: true },
  )
}

/** A name for a backup of `path` that does not exist yet (emissions.csv → emissions.backup-<time>.csv). */
export function backupPath(path: string, now: Date): string {
  const ext = extname(path)
  const stem = join(dirname(path), basename(path, ext))
  const stamp = now.toISOString().replace(/[:.]/g, '-')
  for (let n = 0; ; n++) {
    const candidate = `${stem}.backup-${stamp}${n > 0 ? `-${n}` : ''}${ext}`
    if (!existsSync(candidate)) return candidate
  }
}

/**
 * Creates `path` holding `content` in one atomic step (a temporary file hard-linked into place, which fails
 * if another process got there first); false if it already exists. Nothing is left behind when it fails
 * (a full disk): neither the temporary file nor a partial `path`.
 */
export function createExclusive(path: string, content: string): boolean {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    writeNew(temp, content)
    linkSync(temp, path)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      // No hard links here (some network and FUSE file systems): exclusive create, then the content.
      try {
        writeNew(path, content)
        return true
      } catch (inner) {
        if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false
        throw inner
      }
    }
    throw error
  } finally {
    try {
      unlinkSync(temp)
    } catch {}
  }
}

/**
 * Creates `path` (failing with EEXIST if it exists) holding `content`, on the disk (fsync) when `durable`;
 * removed again if the write fails.
 */
function writeNew(path: string, content: string, durable = false): void {
  const fd = openSync(path, 'wx')
  try {
    writeAllAt(fd, Buffer.from(content, 'utf8'), 0)
    // A full disk may refuse the data only when it is flushed: found here, not after the rename.
    if (durable) fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    try {
      unlinkSync(path)
    } catch {}
    throw error
  }
  closeSync(fd)
}

/**
 * Writes `path` whole or not at all: `content` goes to a temporary file in the same folder, renamed into
 * place once it is all on the disk. A failure (a full disk, a file size limit) leaves `path` as it was
 * and no temporary file behind. A symbolic link is kept, the file it points to replaced; a path that is
 * no regular file (a device, a FIFO: /dev/stdout) is written as it is, since it cannot be replaced.
 */
export function replaceWhole(path: string, content: string): void {
  // Only a regular file, or nothing at all, is replaced: /dev/stdout (a link to a pipe) is written to, and
  // so is a link to nothing (it names the file to make).
  const found = statOrNull(path) ?? lstatOrNull(path)
  if (found && !found.isFile()) {
    writeFileSync(path, content)
    return
  }
  const target = found ? realpathSync(path) : path
  const temp = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  )
  writeNew(temp, content, true)
  try {
    renameSync(temp, target)
  } catch (error) {
    try {
      unlinkSync(temp)
    } catch {}
    throw error
  }
}

const statOrNull = (path: string): Stats | null => orNull(() => statSync(path))
const lstatOrNull = (path: string): Stats | null => orNull(() => lstatSync(path))

function orNull<T>(read: () => T): T | null {
  try {
    return read()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}
