import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CpuTimesReader, parseProcStat, parseProcStatBytes } from '../src/platform/cpu-load.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('parseProcStatBytes', () => {
  it('reads the aggregate line from bytes, with or without the rest of the file', () => {
    const text = 'cpu  100 20 30 400 50 6 4 10 99 99\ncpu0 1 2 3 4\nintr 12 0 0\n'
    expect(parseProcStatBytes(Buffer.from(text))).toEqual({ busy: 170, total: 620 })
    // A short read that ends inside the first line still counts what it holds.
    expect(parseProcStatBytes(Buffer.from('cpu\t1 2 3 4'))).toEqual({ busy: 6, total: 10 })
    expect(parseProcStatBytes(Buffer.from(text), 12)).toBeNull()
  })

  it('refuses what is not the aggregate line of /proc/stat', () => {
    for (const text of [
      'cpu0 1 2 3 4\n',
      'cpu  1 2 -3 4\n',
      'cpu  1 2 3.5 4\n',
      'cpu  1 2 3\n',
      'garbage',
      '',
    ]) {
      expect(parseProcStat(text)).toBeNull()
    }
  })
})

describe('CpuTimesReader', () => {
  it('re-reads a regular file on every read, so that a fixture replaced by rename is seen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-cpu-load-'))
    dirs.push(dir)
    const path = join(dir, 'stat')
    writeFileSync(path, 'cpu  10 0 0 10 0 0 0 0 0 0\n')
    const reader = new CpuTimesReader(path)
    expect(reader.read()).toEqual({ busy: 10, total: 20 })
    writeFileSync(`${path}.new`, 'cpu  30 0 0 20 0 0 0 0 0 0\n')
    renameSync(`${path}.new`, path)
    expect(reader.read()).toEqual({ busy: 30, total: 50 })
    reader.close()
  })

  it.runIf(existsSync('/proc/stat'))('keeps /proc/stat open and reads it afresh each time', () => {
    const fds = () => readdirSync('/proc/self/fd').length
    const before = fds()
    const reader = new CpuTimesReader('/proc/stat')
    const first = reader.read()
    expect(fds()).toBe(before + 1)
    let spin = 0
    for (const until = performance.now() + 60; performance.now() < until; ) spin += 1
    const second = reader.read()
    expect(spin).toBeGreaterThan(0)
    expect(fds()).toBe(before + 1)
    // The kernel regenerates the file on a read at offset 0: the machine's clock ticks moved on.
    expect(second?.total).toBeGreaterThan(first?.total ?? Number.POSITIVE_INFINITY)
    reader.close()
    expect(fds()).toBe(before)
  })
})
