import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/config/config.js'
import { captureStderr } from './helpers/stderr.js'

// `idle` says whether the job carries its share of the idle power: it means something only where there is
// a job apart from the machine. Given without attribution it would change nothing: it is said, not ignored.

const cli = resolve('dist/cli.js')
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('idle without attribution', () => {
  it('is refused as an option, naming what to add', () => {
    const resolve = (options: object) => () => resolveConfig({ saveToFile: false, ...options }, {})
    expect(resolve({ idle: 'include' })).toThrow(
      "Option idle applies only with attribution (got idle 'include' with attribution 'machine', the whole machine's figures). " +
        "For example: new EmissionsTracker({ attribution: 'process', idle: 'include' }), or leave idle out.",
    )
    expect(resolve({ idle: 'exclude', attribution: 'machine' })).toThrow(/applies only with attribution/)
    expect(resolve({ idle: 'include', attribution: 'process' })().idle).toBe('include')
    expect(resolve({ idle: 'include', attribution: 'cgroup' })().idle).toBe('include')
  })

  it('from the environment alone, is said once on stderr and leaves the tracker working', () => {
    const stderr = captureStderr()
    try {
      const config = resolveConfig({ saveToFile: false }, { WATTPRINT_IDLE: 'include' })
      expect(config.attribution).toEqual({ kind: 'machine' })
      resolveConfig({ saveToFile: false }, { WATTPRINT_IDLE: 'include' })
      resolveConfig({ saveToFile: false, attribution: 'process' }, { WATTPRINT_IDLE: 'include' })
    } finally {
      stderr.restore()
    }
    const lines = stderr
      .text()
      .split('\n')
      .filter((l) => l.includes('WATTPRINT_IDLE'))
    expect(lines).toEqual([
      '[wattprint warning] Environment variable WATTPRINT_IDLE=include is ignored: idle applies only with attribution (WATTPRINT_ATTRIBUTION=process or cgroup).',
    ])
  })

  it("is refused by wattprint run before the command runs, in the flags' terms", () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-idle-'))
    dirs.push(dir)
    const env = {
      ...process.env,
      WATTPRINT_RAPL_ROOT: '/nonexistent',
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
    }
    const marker = join(dir, 'ran')
    const command = [
      '--',
      process.execPath,
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`,
    ]
    const refused = spawnSync(process.execPath, [cli, 'run', '-o', dir, '--idle', 'include', ...command], {
      encoding: 'utf8',
      env,
    })
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain(
      'wattprint run: --idle applies only with --attribution: add --attribution process (or cgroup), or leave --idle out.',
    )
    expect(existsSync(marker)).toBe(false)
    expect(existsSync(join(dir, 'emissions.csv'))).toBe(false)
    const run = spawnSync(
      process.execPath,
      [cli, 'run', '-o', dir, '--attribution', 'process', '--idle', 'include', ...command],
      { encoding: 'utf8', env },
    )
    expect(run.status, run.stderr).toBe(0)
    expect(existsSync(marker)).toBe(true)
  })
})
