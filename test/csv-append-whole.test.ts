import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import { CSV_HEADER, CsvSink, recordToLine } from '../src/output/csv/sink.js'
import { sampleRecord } from './helpers/records.js'

/**
 * A disk that fills up, through the file layer, so that it is checked on every machine (a real full
 * tmpfs is in full-disk.test.ts, where mount works). While `full` is set, as write(2) does when the disk
 * fills up part of the way: a write takes `full.bytes` bytes, really written, and says so (a short
 * write); the next one fails with ENOSPC, after `full.meanwhile` (another process's append, say).
 */
const full = vi.hoisted(() => ({ current: null as null | { bytes: number; meanwhile?: () => void } }))
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>()
  const writeSync = (
    fd: number,
    buffer: Buffer,
    offset = 0,
    length = buffer.length - offset,
    position?: number,
  ) => {
    const failing = full.current
    if (!failing) return fs.writeSync(fd, buffer, offset, length, position)
    if (failing.bytes > 0) {
      const taken = fs.writeSync(fd, buffer, offset, Math.min(failing.bytes, length), position)
      failing.bytes = 0
      return taken
    }
    full.current = null
    failing.meanwhile?.()
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
    })
  }
  return { ...fs, writeSync }
})

const dirs: string[] = []
afterEach(() => {
  full.current = null
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function csvWithOneRow(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-whole-'))
  dirs.push(dir)
  const path = join(dir, 'emissions.csv')
  writeFileSync(path, CSV_HEADER + recordToLine(sampleRecord({ runId: 'old' })))
  return path
}

function sink(path: string) {
  const warnings: TrackerWarning[] = []
  return { csv: new CsvSink(path, (w) => warnings.push(w)), warnings }
}

describe('a row that the disk has room for only part of', () => {
  it('is taken back: the file is byte for byte as it was, and the warning says why and how to fix it', async () => {
    const path = csvWithOneRow()
    const before = readFileSync(path)
    const { csv, warnings } = sink(path)
    // Checked once with room, so that the failing write is the row's own.
    expect(await csv.append(sampleRecord({ runId: 'fits' }))).toBe(true)
    const withRow = readFileSync(path)
    expect(withRow.length).toBeGreaterThan(before.length)
    full.current = { bytes: 100 }
    expect(await csv.append(sampleRecord({ runId: 'cut' }))).toBe(false)
    expect(readFileSync(path).equals(withRow)).toBe(true)
    expect(warnings.map((w) => w.code)).toEqual(['CSV_WRITE_FAILED'])
    expect(warnings[0]?.message).toContain(`no space left on the device of ${path} (ENOSPC): free some`)
    expect(warnings[0]?.message).toContain('The file is as it was')
    // Room again: the next row follows the last whole one.
    expect(await csv.append(sampleRecord({ runId: 'later' }))).toBe(true)
    expect(readFileSync(path, 'utf8')).toBe(
      withRow.toString() + recordToLine(sampleRecord({ runId: 'later' })),
    )
  })

  it('is taken back on the way out of a process too (appendSync)', () => {
    const path = csvWithOneRow()
    const before = readFileSync(path)
    full.current = { bytes: 1 }
    expect(sink(path).csv.appendSync(sampleRecord({ runId: 'cut' }))).toBe(false)
    expect(readFileSync(path).equals(before)).toBe(true)
  })

  it('leaves neither a temporary file nor a partial file when a new CSV cannot get its header', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-whole-'))
    dirs.push(dir)
    const { csv, warnings } = sink(join(dir, 'emissions.csv'))
    full.current = { bytes: 10 }
    expect(await csv.append(sampleRecord())).toBe(false)
    expect(readdirSync(dir)).toEqual([])
    expect(warnings[0]?.message).toContain('(ENOSPC)')
  })

  it('is left, and said to be, when another process appended after it: cutting would take that row too', async () => {
    const path = csvWithOneRow()
    const { csv, warnings } = sink(path)
    expect(await csv.append(sampleRecord({ runId: 'fits' }))).toBe(true)
    const theirs = recordToLine(sampleRecord({ runId: 'theirs' }))
    full.current = { bytes: 100, meanwhile: () => appendFileSync(path, theirs) }
    expect(await csv.append(sampleRecord({ runId: 'cut' }))).toBe(false)
    expect(readFileSync(path, 'utf8').endsWith(theirs)).toBe(true)
    const message = warnings[0]?.message ?? ''
    expect(message).toContain(
      '100 bytes of the row were written before it failed and could not be taken back',
    )
    expect(message).toContain(`${path} ends with a partial row`)
    expect(message).not.toContain('as it was')
  })
})
