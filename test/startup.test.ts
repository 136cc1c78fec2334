import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const preload = fileURLToPath(new URL('./helpers/count-spawns.mjs', import.meta.url))
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/**
 * A script that starts a tracker with the default options (the CSV in `dir`), waits past a couple of
 * samples and a checkpoint, and stops it. PATH holds no nvidia-smi: the GPU look-up must find that out
 * without starting one.
 */
function trackerScript(dir: string): string {
  const script = join(dir, 'start.mjs')
  writeFileSync(
    script,
    `import { EmissionsTracker } from ${JSON.stringify(dist)}
const tracker = new EmissionsTracker({ outputDir: ${JSON.stringify(dir)}, logLevel: 'silent', intervalMs: 100, checkpointIntervalMs: 200 })
await tracker.start()
await new Promise((resolve) => setTimeout(resolve, 500))
// Whether koffi (the native-call library, loaded for GPU libraries only) is mapped into the process.
const { readFileSync } = await import('node:fs')
const koffi = readFileSync('/proc/self/maps', 'utf8').includes('koffi')
const record = await tracker.stop()
console.log(JSON.stringify({ status: record.status, cpuSource: record.cpuSource, koffi, notes: record.notes }))
`,
  )
  return script
}

/** strace's full path (the traced child runs with a PATH that lacks it), or null. */
const strace =
  (process.env.PATH ?? '')
    .split(':')
    .map((dir) => join(dir, 'strace'))
    .find((path) => existsSync(path) && spawnSync(path, ['-V']).status === 0) ?? null

describe.runIf(process.platform === 'linux')('start-up on Linux', () => {
  it('starts, samples and stops a tracker without calling child_process in any thread', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-startup-'))
    dirs.push(dir)
    const log = join(dir, 'spawns.log')
    const out = execFileSync(process.execPath, ['--import', preload, trackerScript(dir)], {
      env: { ...process.env, PATH: dir, WATTPRINT_TEST_SPAWN_LOG: log },
      encoding: 'utf8',
    })
    expect(JSON.parse(out.trim())).toMatchObject({ status: 'finished' })
    expect(existsSync(log) ? readFileSync(log, 'utf8') : '').toBe('')
    expect(existsSync(join(dir, 'emissions.csv'))).toBe(true)
  }, 20_000)

  it('loads neither koffi nor any GPU library where no GPU driver shows itself', () => {
    // The real machine decides: the test machines have no GPU driver; a GPU machine has one.
    const drivers = [
      ...['/dev/nvidiactl', '/proc/driver/nvidia', '/dev/dxg'],
      ...['/dev/kfd', '/sys/module/amdgpu'],
      ...['/sys/module/i915', '/sys/module/xe'],
    ].filter((path) => existsSync(path))
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-startup-'))
    dirs.push(dir)
    const out = execFileSync(process.execPath, [trackerScript(dir)], {
      env: { ...process.env, PATH: dir, LD_LIBRARY_PATH: dir },
      encoding: 'utf8',
    })
    const run = JSON.parse(out.trim()) as { status: string; koffi: boolean; notes: string[] }
    expect(run.status).toBe('finished')
    if (drivers.length === 0) {
      // Loading koffi and failing to open amdsmi, ROCm SMI and Level Zero cost the sampler ~20 ms of its start.
      expect(run.koffi).toBe(false)
      expect(run.notes.join(' ')).toContain('no NVIDIA driver on this machine')
    }
  }, 20_000)

  it.runIf(strace !== null)(
    'runs no program but node itself (strace -f -e trace=execve)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'wattprint-startup-'))
      dirs.push(dir)
      const trace = join(dir, 'execve.txt')
      execFileSync(
        strace as string,
        ['-f', '-qq', '-e', 'trace=execve', '-o', trace, process.execPath, trackerScript(dir)],
        { env: { ...process.env, PATH: dir }, encoding: 'utf8' },
      )
      const calls = readFileSync(trace, 'utf8')
        .split('\n')
        .filter((l) => l.includes('execve('))
      // The one execve is strace starting node; any other, even a failed one, is a process wattprint made.
      expect(calls).toHaveLength(1)
      expect(calls[0]).toContain(process.execPath)
    },
    30_000,
  )
})
