import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readCsv } from './helpers/csv.js'
import { configureNvmlStub, fakeNvidiaSmi, NVML_STUB_LIBRARY } from './helpers/gpu.mjs'
import { makePowercapTree } from './helpers/powercap.mjs'
import { expectSaneNumbers } from './helpers/sane.js'
import { makeTempDir, onCleanup } from './helpers/temp-dir.js'

const cli = resolve('dist/cli.js')
const tempDir = (): string => makeTempDir('wattprint-cli-')

/** `wattprint <args>` with the machine's own meters replaced by nothing (estimates) and a fixed intensity. */
const wattprint = (dir: string, ...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
      WATTPRINT_RAPL_ROOT: join(dir, 'none'),
    },
    timeout: 30_000,
  })
const node = (code: string) => [process.execPath, '-e', code]
const rows = (dir: string) => readCsv(join(dir, 'emissions.csv'))

describe('wattprint run', () => {
  it('runs the command with its stdio, measures it, writes the row, prints a summary, exits with its code', () => {
    const dir = tempDir()
    const run = wattprint(
      dir,
      'run',
      '--output',
      dir,
      '--project',
      'job',
      '--',
      ...node("console.log('hello from the job'); process.exit(0)"),
    )
    expect(run.status).toBe(0)
    expect(run.stdout).toBe('hello from the job\n')
    // The whole machine at the wall first (emissionsScope's default), then CodeCarbon's scope, each with its
    // 80 % interval.
    expect(run.stderr).toMatch(
      /wattprint: \d+\.\d s, [\d.]+ J at the wall \(80 %: [\d.]+ J–[\d.]+ J\) \(cpu-model\+ram-model\+rest-model\), status finished/,
    )
    expect(run.stderr).toMatch(
      /CPU\+GPU\+RAM \(CodeCarbon's scope\) [\d.]+ J \(80 %: [\d.]+ J–[\d.]+ J\) \[cpu .*\]/,
    )
    expect(run.stderr).toMatch(/CO2e at the wall \(80 %: .+–.+\) at 100 g\/kWh \(fixed\); CPU\+GPU\+RAM /)
    expect(run.stderr).toMatch(/≈ .* \(US EPA, Greenhouse Gas Equivalencies Calculator/)
    const [row] = rows(dir)
    expect(row).toMatchObject({ project_name: 'job', status: 'finished', intensity_source: 'fixed' })
    expectSaneNumbers(row)
    expect(Number(row?.energy_consumed)).toBeGreaterThan(0)
    expect(Number(row?.wall_energy)).toBeGreaterThan(Number(row?.energy_consumed))
  })

  it("leads with CodeCarbon's scope under --emissions-scope components, the wall beside it", () => {
    const dir = tempDir()
    const run = wattprint(dir, 'run', '-o', dir, '--emissions-scope', 'components', '--', ...node(''))
    expect(run.status, run.stderr).toBe(0)
    expect(run.stderr).toMatch(
      /wattprint: \d+\.\d s, [\d.]+ J \(80 %: [\d.]+ J–[\d.]+ J\) \[cpu .*\], status finished/,
    )
    expect(run.stderr).toMatch(/\n {2}[\d.]+ J at the wall \(80 %: /)
    expect(run.stderr).toMatch(/CO2e CPU\+GPU\+RAM \(80 %: .+\) at 100 g\/kWh \(fixed\); at the wall /)
    const bad = wattprint(dir, 'run', '-o', dir, '--emissions-scope', 'machine', '--', ...node(''))
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/--emissions-scope .*'wall' or 'components'/)
  })

  it.each([
    [3, 'process.exit(3)', 'failed'],
    [137, "process.kill(process.pid, 'SIGKILL')", 'interrupted'],
  ])('exits %i for %s, and the row says %s', (code, script, status) => {
    const dir = tempDir()
    const run = wattprint(dir, 'run', '-o', dir, '--', ...node(script))
    expect(run.status).toBe(code)
    expect(rows(dir)[0]?.status).toBe(status)
  })

  it('exits 127 with a clear message when the command is not found, and writes nothing', () => {
    const dir = tempDir()
    const run = wattprint(dir, 'run', '-o', dir, '--', 'no-such-command-xyz', '--flag')
    expect(run.status).toBe(127)
    expect(run.stderr).toContain('command not found: no-such-command-xyz')
    expect(existsSync(join(dir, 'emissions.csv'))).toBe(false)
  })

  describe('a command that cannot run: the exit code and message a shell gives, before anything is written', () => {
    /** A temporary folder of real files: one without the execute bit, a folder, a script whose #! is missing. */
    function commands(): { dir: string; env: NodeJS.ProcessEnv } {
      const dir = tempDir()
      writeFileSync(join(dir, 'no-exec-bit'), '#!/bin/sh\necho ran\n', { mode: 0o644 })
      mkdirSync(join(dir, 'a-folder'))
      writeFileSync(join(dir, 'bad-interpreter'), `#!${join(dir, 'no-such-interpreter')}\necho ran\n`, {
        mode: 0o755,
      })
      // On PATH: `tool` first without, then with the execute bit; `only-no-exec` only without; `only-dir` a folder.
      for (const sub of ['bin1', 'bin2']) mkdirSync(join(dir, sub))
      writeFileSync(join(dir, 'bin1', 'tool'), '#!/bin/sh\necho wrong tool\n', { mode: 0o644 })
      writeFileSync(join(dir, 'bin2', 'tool'), '#!/bin/sh\necho right tool\n', { mode: 0o755 })
      writeFileSync(join(dir, 'bin1', 'only-no-exec'), '#!/bin/sh\necho ran\n', { mode: 0o644 })
      mkdirSync(join(dir, 'bin1', 'only-dir'))
      const PATH = [join(dir, 'bin1'), join(dir, 'bin2'), process.env.PATH].join(delimiter)
      return { dir, env: { ...process.env, PATH, WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100' } }
    }
    const runIn = (dir: string, env: NodeJS.ProcessEnv, command: string) =>
      spawnSync(process.execPath, [cli, 'run', '-q', '-o', join(dir, 'out'), '--', command], {
        cwd: dir,
        encoding: 'utf8',
        env,
        timeout: 30_000,
      })

    it.each([
      [
        './no-exec-bit',
        126,
        'permission denied: ./no-exec-bit is not executable (make it so with chmod +x ./no-exec-bit)',
      ],
      ['./a-folder', 126, 'is a directory: ./a-folder'],
      ['./missing-file', 127, 'no such file or directory: ./missing-file'],
      [
        './bad-interpreter',
        127,
        'cannot run ./bad-interpreter: its interpreter <dir>/no-such-interpreter (the #! line) was not found',
      ],
      [
        'only-no-exec',
        126,
        'permission denied: <dir>/bin1/only-no-exec is not executable (make it so with chmod +x <dir>/bin1/only-no-exec)',
      ],
      ['only-dir', 127, 'command not found: only-dir'],
    ])('%s: exit %i', (command, code, message) => {
      const { dir, env } = commands()
      const run = runIn(dir, env, command)
      expect(run.status).toBe(code)
      expect(run.stderr).toBe(`wattprint: ${message.replaceAll('<dir>', dir)}\n`)
      expect(existsSync(join(dir, 'out'))).toBe(false)
    })

    it('skips a file without the execute bit on PATH and runs the next one, as a shell does', () => {
      const { dir, env } = commands()
      const run = runIn(dir, env, 'tool')
      expect(run.status).toBe(0)
      expect(run.stdout).toBe('right tool\n')
    })
  })

  it('passes SIGTERM on to the command and exits as it did', async () => {
    const dir = tempDir()
    const child = spawn(
      process.execPath,
      [
        cli,
        'run',
        '-o',
        dir,
        '--',
        ...node(
          "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(42) }); console.log('ready'); setInterval(() => {}, 1000)",
        ),
      ],
      { env: { ...process.env, WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100' } },
    )
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    while (!output.includes('ready')) await new Promise((r) => setTimeout(r, 20))
    await new Promise((r) => setTimeout(r, 300))
    child.kill('SIGTERM')
    const code = await new Promise<number | null>((done) => child.on('close', done))
    expect(output).toContain('got SIGTERM')
    expect(code).toBe(42)
    expect(rows(dir)[0]?.status).toBe('failed')
  })

  it('stops the command when a budget is crossed: SIGTERM, then SIGKILL after the grace period', () => {
    const dir = tempDir()
    // This command ignores SIGTERM: only SIGKILL ends it.
    const stubborn =
      "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); setInterval(() => {}, 1000)"
    const run = wattprint(
      dir,
      'run',
      '-o',
      dir,
      '--interval',
      '100ms',
      '--max-duration',
      '1s',
      '--grace',
      '500ms',
      '--',
      ...node(stubborn),
    )
    expect(run.status).toBe(128 + 9)
    expect(run.stdout).toContain('ignoring SIGTERM')
    expect(run.stderr).toContain('Budget crossed: the duration')
    const [row] = rows(dir)
    expect(row?.status).toBe('budget-exceeded')
    expect(Number(row?.duration)).toBeGreaterThan(1)
    expect(Number(row?.duration)).toBeLessThan(3)
  })

  it('writes the summary as JSON and every sample to a timeline', () => {
    const dir = tempDir()
    const timeline = join(dir, 'timeline.jsonl')
    const run = wattprint(
      dir,
      'run',
      '-o',
      join(dir, 'runs.csv'),
      '--interval',
      '100ms',
      '--timeline',
      timeline,
      '--json',
      '--quiet',
      '--',
      ...node('setTimeout(() => {}, 600)'),
    )
    expect(run.status).toBe(0)
    expect(run.stderr).toBe('')
    const json = JSON.parse(run.stdout) as {
      exitCode: number
      record: { status: string; energyKWh: number }
      equivalents: unknown[]
    }
    expect(json.exitCode).toBe(0)
    expect(json.record.status).toBe('finished')
    expect(json.equivalents).toHaveLength(3)
    const samples = readFileSync(timeline, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { powerW: { total: number } })
    expect(samples.length).toBeGreaterThanOrEqual(4)
    expect(samples.every((s) => s.powerW.total > 0)).toBe(true)
    expect(readCsv(join(dir, 'runs.csv'))).toHaveLength(1)
  })

  it("--json keeps stdout for the JSON alone, the command's own stdout sent to stderr: python3 -m json.tool reads it", () => {
    const dir = tempDir()
    const quoted = [
      process.execPath,
      cli,
      'run',
      '--json',
      '-o',
      dir,
      '--',
      ...node("console.log('hi'); console.error('to stderr'); process.exit(3)"),
    ]
      .map((a) => `'${a.replaceAll("'", `'\\''`)}'`)
      .join(' ')
    const piped = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; ${quoted} | python3 -m json.tool --sort-keys; echo "statuses \${PIPESTATUS[*]}" >&2`,
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
          WATTPRINT_RAPL_ROOT: join(dir, 'none'),
        },
        timeout: 30_000,
      },
    )
    // wattprint exits as the command did (3); python3 read the JSON (0).
    expect(piped.stderr).toContain('statuses 3 0')
    const json = JSON.parse(piped.stdout) as { exitCode: number; record: { status: string } }
    expect(json.exitCode).toBe(3)
    expect(json.record.status).toBe('failed')
    expect(piped.stderr).toMatch(/^hi$/m)
    expect(piped.stderr).toMatch(/^to stderr$/m)
    expect(piped.stdout).not.toMatch(/^hi$/m)
  })

  it('refuses bad values with the flag and an example', () => {
    const dir = tempDir()
    const cases: [string[], RegExp][] = [
      [['--interval', 'fast'], /--interval "fast" is not a number with a unit: write it like 250ms/],
      [['--max-energy', '5'], /--max-energy "5" needs a unit: write it like 300Wh, 0.5kWh/],
      [['--max-emissions=-2kg'], /--max-emissions "-2kg" must be positive/],
      [['--cloud', 'aws'], /--cloud "aws" must be provider:region/],
      [['--country', 'Germany'], /--country "Germany" is not an ISO 3166/],
      [['--frobnicate'], /Unknown option '--frobnicate'/],
    ]
    for (const [flags, message] of cases) {
      const run = wattprint(dir, 'run', ...flags, '--', 'true')
      expect(run.status, flags.join(' ')).toBe(2)
      expect(run.stderr).toMatch(message)
    }
    expect(wattprint(dir, 'run').stderr).toContain('needs a command')
  })
})

describe('wattprint detect', () => {
  it('says what would be measured and how, as text and JSON, and exits 0 on estimates alone', () => {
    const dir = tempDir()
    const tree = makePowercapTree([
      { id: 'intel-rapl:0', name: 'package-0' },
      { id: 'intel-rapl:0:0', name: 'dram' },
    ])
    onCleanup(() => tree.cleanup())
    const text = wattprint(
      dir,
      'detect',
      '--rapl-root',
      tree.root,
      '--zone',
      'US-CAL-CISO',
      '--nvidia-smi',
      '/nonexistent/nvidia-smi',
    )
    expect(text.status).toBe(0)
    expect(text.stdout).toMatch(/measured by rapl: RAPL counters: package-0/)
    expect(text.stdout).toMatch(/dram intel-rapl:0:0 \(dram\)/)
    expect(text.stdout).toContain('nvidia-smi: /nonexistent/nvidia-smi not found')
    expect(text.stdout).toContain('RAM')
    const json = wattprint(dir, 'detect', '--json', '--rapl-root', join(dir, 'none'), '--country', 'FR')
    expect(json.status).toBe(0)
    const detection = JSON.parse(json.stdout) as {
      cpu: { source: string }
      rapl: { unavailable: string }
      intensity: { gPerKWh: number; source: string }
    }
    expect(detection.cpu.source).toBe('cpu-model')
    expect(detection.rapl.unavailable).toContain('does not exist')
    // WATTPRINT_CARBON_INTENSITY_G_PER_KWH=100 from the helper wins over the country, as in a tracker.
    expect(detection.intensity).toMatchObject({ gPerKWh: 100, source: 'fixed' })
  })

  it('lists the GPUs NVML sees, and falls back to nvidia-smi with the reason', () => {
    const dir = tempDir()
    configureNvmlStub(dir, [
      {
        uuid: 'GPU-aaaa1111',
        name: 'NVIDIA H100 80GB HBM3',
        arch: 9,
        energyCounter: true,
        profile: { watts: 300 },
      },
      {
        uuid: 'GPU-bbbb2222',
        name: 'Tesla P100-PCIE-16GB',
        arch: 4,
        energyCounter: false,
        profile: { watts: 100 },
      },
    ])
    const nvml = wattprint(dir, 'detect', '--nvml-library', NVML_STUB_LIBRARY, '--json')
    const found = JSON.parse(nvml.stdout) as {
      gpu: { devices: { name: string; source: string }[]; nvml: string | null }
    }
    expect(found.gpu.devices).toEqual([
      expect.objectContaining({ name: 'NVIDIA H100 80GB HBM3', source: 'nvml-energy' }),
      expect.objectContaining({ name: 'Tesla P100-PCIE-16GB', source: 'nvml-power' }),
    ])
    expect(found.gpu.nvml).toBeNull()
    const smi = fakeNvidiaSmi(dir, { gpus: [{ uuid: 'GPU-cccc3333', name: 'NVIDIA L4', watts: 30 }] })
    const text = wattprint(dir, 'detect', '--nvml-library', join(dir, 'missing.so'), '--nvidia-smi', smi)
    expect(text.stdout).toContain('GPU     0: NVIDIA L4 (GPU-cccc3333) by nvidia-smi')
    expect(text.stdout).toMatch(/NVML: NVML library not found/)
    delete process.env.NVML_STUB_CONFIG
  })
})
