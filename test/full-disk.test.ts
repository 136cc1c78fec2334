import { spawnSync } from 'node:child_process'
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseEmissionsCsv } from '../src/output/csv/read.js'
import { recordToLine } from '../src/output/csv/sink.js'
import { readCsvWithPython } from './helpers/csv.js'
import { sampleRecord } from './helpers/records.js'
import { makeTempDir, onCleanup } from './helpers/temp-dir.js'

const cli = resolve('dist/cli.js')
const tempDir = (): string => makeTempDir('wattprint-full-')

/** `wattprint <args>` in `cwd` through `shell` (a prefix such as `ulimit -f 4;`), estimates and a fixed intensity. */
function wattprint(cwd: string, state: string, args: string[], prefix = '') {
  const quoted = [process.execPath, cli, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ')
  return spawnSync('bash', ['-c', `${prefix} exec ${quoted}`], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
      WATTPRINT_CPU_POWER_W: '10',
      WATTPRINT_RAPL_ROOT: join(state, 'no-powercap'),
      XDG_STATE_HOME: state,
    },
  })
}

/** Everything in `dir` but the CSV, the filler and kept rows: temporary files, backups, empty folders. */
function leftovers(dir: string): string[] {
  const names = readdirSync(dir).filter((f) => f !== 'emissions.csv' && f !== 'filler')
  const own = join(dir, '.wattprint')
  const keeps =
    existsSync(own) && readdirSync(own).length > 0 && readdirSync(own).every((f) => f.endsWith('.json'))
  return keeps ? names.filter((f) => f !== '.wattprint') : names
}

/** The rows kept in checkpoints: in the output folder's .wattprint, or in the state folder. */
const keptRows = (dir: string, state: string) =>
  [join(dir, '.wattprint'), join(state, 'wattprint', 'checkpoints')].flatMap((folder) =>
    existsSync(folder) ? readdirSync(folder) : [],
  )

/**
 * After `fill`, runs `wattprint run -q -- true` until three rows could not be written (a tmpfs allocates
 * whole pages, so the first rows after filling may still fit). A row is appended whole, or not at all:
 * the CSV is then byte for byte as it was (no partial row, no temporary file, nothing moved aside), the
 * failure is an error line even with -q, and the row stays in the state folder until `wattprint recover`
 * (after `free`) appends it.
 */
function failedRowsAreKept(
  dir: string,
  how: { fill: () => void; free: () => void; code: string; prefix?: () => string },
): Record<string, string>[] {
  const state = tempDir()
  const csv = join(dir, 'emissions.csv')
  const first = wattprint(dir, state, ['run', '-q', '--', 'true'])
  expect(first.status, first.stderr).toBe(0)
  how.fill()
  let written = parseEmissionsCsv(readFileSync(csv)).rows.length
  let failed = 0
  for (let n = 0; failed < 3; n++) {
    expect(n, 'runs before three rows failed').toBeLessThan(12)
    const before = readFileSync(csv)
    const run = wattprint(dir, state, ['run', '-q', '--', 'true'], how.prefix?.() ?? '')
    // The command's own exit code: the job ran; its row is what could not be written.
    expect(run.status).toBe(0)
    if (run.stderr === '') {
      written += 1
      const after = readFileSync(csv)
      expect(after.subarray(0, before.length).equals(before)).toBe(true)
      expect(parseEmissionsCsv(after).rows).toHaveLength(parseEmissionsCsv(before).rows.length + 1)
    } else {
      failed += 1
      expect(run.stderr).toContain(`[wattprint error] Could not write the row to ${csv}`)
      expect(run.stderr).toContain(`(${how.code})`)
      expect(run.stderr).toContain('The file is as it was')
      expect(run.stderr).toContain('[wattprint error] The row is kept in')
      expect(readFileSync(csv).equals(before)).toBe(true)
    }
    expect(leftovers(dir)).toEqual([])
    expect(keptRows(dir, state)).toHaveLength(failed)
  }
  how.free()
  const recovered = wattprint(dir, state, ['recover'])
  expect(recovered.status, recovered.stdout + recovered.stderr).toBe(0)
  expect(recovered.stdout.match(/^recovered /gm)).toHaveLength(3)
  expect(keptRows(dir, state)).toEqual([])
  const rows = readCsvWithPython(csv)
  expect(rows).toHaveLength(written + 3)
  expect(new Set(rows.map((r) => r.run_id)).size).toBe(rows.length)
  expect(leftovers(dir)).toEqual([])
  return rows
}

describe('a disk that fills up', () => {
  it('a real 64 KiB tmpfs filled to the last byte: every row whole or kept, recovered once there is room', (ctx) => {
    const dir = tempDir()
    const disk = join(dir, 'disk')
    mkdirSync(disk)
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk], { encoding: 'utf8' })
    if (mount.status !== 0) {
      return ctx.skip(
        `cannot mount a tmpfs here (${(mount.stderr || String(mount.error)).trim()}): not root, or no CAP_SYS_ADMIN`,
      )
    }
    onCleanup(() => spawnSync('umount', [disk]))
    const filler = join(disk, 'filler')
    const fill = () => {
      // Until the tmpfs refuses another byte.
      const fd = openSync(filler, 'a')
      const block = Buffer.alloc(512, 0x20)
      try {
        for (let size = block.length; size >= 1; ) {
          try {
            writeSync(fd, block, 0, size)
          } catch {
            size = Math.floor(size / 2)
          }
        }
      } finally {
        closeSync(fd)
      }
    }
    failedRowsAreKept(disk, { fill, free: () => unlinkSync(filler), code: 'ENOSPC' })
  })

  it('a file size limit (ulimit -f) cuts a write part of the way, as a full disk does, on any machine', () => {
    const dir = tempDir()
    const csv = join(dir, 'emissions.csv')
    let limitKiB = 0
    // A whole row padded (by its project name) so that the file ends 200 bytes short of the limit, a
    // limit high enough for the run's checkpoint (about 3.5 kB): every later row is cut after 200 bytes.
    const pad = () => {
      const size = readFileSync(csv).length
      const padding = (length: number) =>
        recordToLine(sampleRecord({ runId: 'padding', projectName: 'p'.repeat(Math.max(1, length)) }))
      const bytes = (length: number) => Buffer.byteLength(padding(length))
      limitKiB = Math.max(6, Math.ceil((size + bytes(1) + 400) / 1024))
      const room = limitKiB * 1024 - 200 - size
      appendFileSync(csv, padding(1 + room - bytes(1)))
      expect(readFileSync(csv).length).toBe(limitKiB * 1024 - 200)
    }
    const rows = failedRowsAreKept(dir, {
      fill: pad,
      free: () => {},
      code: 'EFBIG',
      prefix: () => `ulimit -f ${limitKiB};`,
    })
    expect(rows.map((r) => r.run_id)).toContain('padding')
  })

  it("a timeline line cut by a file size limit is taken back: the next run's lines are never glued to it", () => {
    const dir = tempDir()
    const state = tempDir()
    const timeline = join(dir, 'timeline.jsonl')
    // A file 200 bytes short of the limit, which a sample's line is longer than: its write is cut after 200.
    const limitKiB = 8
    const padding = `${JSON.stringify({ pad: 'p'.repeat(limitKiB * 1024 - 200 - 11) })}\n`
    writeFileSync(timeline, padding)
    expect(readFileSync(timeline).length).toBe(limitKiB * 1024 - 200)
    const args = ['run', '-q', '--interval', '50ms', '--timeline', timeline, '--', 'sleep', '0.3']
    const cut = wattprint(dir, state, args, `ulimit -f ${limitKiB};`)
    expect(cut.status, cut.stderr).toBe(0)
    expect(cut.stderr).toMatch(
      /could not write the timeline .*timeline\.jsonl: EFBIG.*the run goes on without it/,
    )
    expect(readFileSync(timeline, 'utf8')).toBe(padding)
    const next = wattprint(dir, state, args)
    expect(next.status, next.stderr).toBe(0)
    const lines = readFileSync(timeline, 'utf8').split('\n')
    expect(lines.pop()).toBe('')
    expect(lines.length).toBeGreaterThan(2)
    for (const line of lines.slice(1)) {
      expect(line.length).toBeGreaterThan(200)
      expect(JSON.parse(line)).toHaveProperty('powerW')
    }
  })
})
