import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { OutputScanner } from '../src/cli/run/status-line.js'
import { makeTempDir } from './helpers/temp-dir.js'

// wattprint run at a real terminal (a pseudo-terminal python3 opens, as a terminal window does) beside a
// command that writes to the same terminal: its status line never overwrites the command's output, nor
// the command's progress bar it. The command still sees a terminal of the terminal's size.

const cli = resolve('dist/cli.js')
const harness = resolve('test/helpers/pty-run.py')
const tempDir = (): string => makeTempDir('wattprint-tty-')

/**
 * What reached the terminal, and the exit status, of `argv` run at a terminal of 100 × 30 or `size`
 * (resized as `resize` says: after how many seconds, to how many columns and rows).
 */
function atTerminal(
  dir: string,
  argv: string[],
  { size = [100, 30], resize = [] }: { size?: [number, number]; resize?: [number, number, number] | [] } = {},
): { screen: string; status: number | null } {
  const out = join(dir, 'screen')
  const shape = [...size, ...resize].map(String)
  const run = spawnSync('python3', [harness, out, ...shape, '--', ...argv], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 90_000,
    env: {
      ...process.env,
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
      WATTPRINT_CPU_POWER_W: '10',
      WATTPRINT_RAPL_ROOT: join(dir, 'none'),
    },
  })
  expect(run.error).toBeUndefined()
  expect(run.stderr).toBe('')
  return { screen: readFileSync(out, 'latin1'), status: run.status }
}

const wattprintRun = (dir: string, ...args: string[]) => [
  process.execPath,
  cli,
  'run',
  '-o',
  dir,
  '--interval',
  '100ms',
  ...args,
]

/** The status line's text (`wattprint 1.1 s | cpu 1 W, ram 10 W | …`), not the summary's. */
const STATUS = /wattprint [\d.]+ (?:s|min|h)[^|\n]* \| cpu \d+ W/g

describe('wattprint run at a terminal the command writes to', () => {
  it('draws no status line once the command draws a progress bar with carriage returns', () => {
    const dir = tempDir()
    // A second of lines first (the status line is drawn beside them), then 3 s of a progress bar.
    const command =
      'echo starting; sleep 1.2; i=0; while [ $i -lt 15 ]; do printf "\\rprogress %d%%" $i; sleep 0.2; i=$((i+1)); done; echo'
    const { screen, status } = atTerminal(dir, [...wattprintRun(dir), '--', 'sh', '-c', command])
    expect(status).toBe(0)
    const bar = screen.indexOf('\rprogress 0%')
    expect(bar).toBeGreaterThan(0)
    expect(screen).toContain('\rprogress 14%')
    // Not one status line after the bar began, and the run's summary at the end, on a line of its own.
    expect(screen.slice(bar).match(STATUS)).toBeNull()
    expect(screen).toMatch(/progress 14%\r?\n(?:.*\n)*wattprint: [\d.]+ s, .*status finished/)
  }, 120_000)

  it("draws the status line between the command's lines, never in front of one", () => {
    const dir = tempDir()
    const command = 'i=0; while [ $i -lt 10 ]; do echo "line $i"; sleep 0.3; i=$((i+1)); done'
    const { screen, status } = atTerminal(dir, [...wattprintRun(dir), '--', 'sh', '-c', command])
    expect(status).toBe(0)
    expect(screen.match(STATUS)?.length ?? 0).toBeGreaterThan(0)
    for (let i = 0; i < 10; i++) {
      const at = screen.indexOf(`line ${i}\r\n`)
      expect(at, `line ${i}`).toBeGreaterThan(-1)
      // At the start of a line: after a line end, or after the sequence that erased the status line.
      expect(
        at === 0 || screen.slice(0, at).endsWith('\n') || screen.slice(0, at).endsWith('\r\x1b[2K'),
      ).toBe(true)
    }
  }, 120_000)

  it("cuts the status line to the terminal's width, so that it never wraps onto a line it cannot erase", () => {
    const dir = tempDir()
    const { screen, status } = atTerminal(dir, [...wattprintRun(dir), '--', 'sleep', '2.2'], {
      size: [40, 10],
    })
    expect(status).toBe(0)
    const drawn = screen
      .split('\r\x1b[2K')
      .slice(1)
      .map((s) => s.split(/[\r\n]/)[0] ?? '')
      .filter((s) => s.startsWith('wattprint '))
    expect(drawn.length).toBeGreaterThan(0)
    for (const line of drawn) {
      expect(Buffer.from(line, 'latin1').toString('utf8').length, line).toBeLessThanOrEqual(39)
      expect(line.endsWith(Buffer.from('…').toString('latin1'))).toBe(true)
    }
  }, 120_000)

  it('--no-status leaves the status line out and still prints the summary', () => {
    const dir = tempDir()
    const { screen, status } = atTerminal(dir, [
      ...wattprintRun(dir, '--no-status'),
      '--',
      'sh',
      '-c',
      'echo working; sleep 2.2',
    ])
    expect(status).toBe(0)
    expect(screen).toContain('working')
    expect(screen.match(STATUS)).toBeNull()
    expect(screen).not.toContain('\x1b[2K')
    expect(screen).toMatch(/wattprint: [\d.]+ s, .*status finished/)
  }, 120_000)

  it('leaves the command a terminal of the same size on its stdout and stderr, resized with the window', () => {
    const dir = tempDir()
    const probe = join(dir, 'probe.py')
    writeFileSync(
      probe,
      [
        'import os, time',
        'fds = os.listdir("/proc/self/fd")',
        // The terminal's other side is wattprint's alone: a command holding it would never see its end.
        'held = [f for f in fds if os.path.exists(f"/proc/self/fd/{f}") and os.readlink(f"/proc/self/fd/{f}") == "/dev/ptmx"]',
        'print("tty", os.isatty(1), os.isatty(2), tuple(os.get_terminal_size(1)), "ptmx", len(held), flush=True)',
        'for _ in range(40):',
        '    time.sleep(0.1)',
        '    if tuple(os.get_terminal_size(2)) == (80, 20): break',
        'print("now", tuple(os.get_terminal_size(1)), tuple(os.get_terminal_size(2)), flush=True)',
      ].join('\n'),
    )
    const { screen, status } = atTerminal(dir, [...wattprintRun(dir), '--', 'python3', probe], {
      resize: [1.5, 80, 20],
    })
    expect(status).toBe(0)
    expect(screen).toContain('tty True True (100, 30) ptmx 0')
    expect(screen).toContain('now (80, 20) (80, 20)')
  }, 120_000)

  it('keeps passing on what the command writes after wattprint is killed: the command never gets EIO', () => {
    const dir = tempDir()
    const survived = join(dir, 'survived')
    const job = join(dir, 'job.py')
    writeFileSync(
      job,
      [
        'import time',
        'for i in range(25):',
        '    print("line", i, flush=True)',
        '    time.sleep(0.1)',
        `open(${JSON.stringify(survived)}, "w").write("yes")`,
      ].join('\n'),
    )
    const pid = join(dir, 'pid')
    const run = wattprintRun(dir)
      .concat(['--', 'python3', job])
      .map((a) => `'${a}'`)
      .join(' ')
    // wattprint in the background of a shell that outlives it, as at an interactive prompt; SIGKILL it.
    const shell = `${run} & echo $! > ${pid}; sleep 0.8; kill -KILL $(cat ${pid}); sleep 4`
    const { screen } = atTerminal(dir, ['sh', '-c', shell])
    expect(existsSync(survived)).toBe(true)
    for (let i = 0; i < 25; i++) expect(screen).toContain(`line ${i}\r\n`)
  }, 120_000)
})

describe("the command's output, as the status line reads it", () => {
  const scan = (...chunks: string[]) => {
    const scanner = new OutputScanner()
    for (const chunk of chunks) scanner.scan(Buffer.from(chunk, 'latin1'))
    return { inPlace: scanner.drawsInPlace, atLineStart: scanner.atLineStart }
  }

  it('tells drawing in place from lines, across reads', () => {
    expect(scan('one\ntwo\r\n')).toEqual({ inPlace: false, atLineStart: true })
    expect(scan('half a line')).toEqual({ inPlace: false, atLineStart: false })
    expect(scan('one\r', '\ntwo\n')).toEqual({ inPlace: false, atLineStart: true })
    expect(scan(' 10%|█', '\r', ' 20%')).toMatchObject({ inPlace: true })
    expect(scan('\rprogress')).toMatchObject({ inPlace: true })
    expect(scan('spin\b\b')).toMatchObject({ inPlace: true })
  })

  it('takes colours, titles and links as text, and cursor moves and erasing as drawing in place', () => {
    expect(scan('\x1b[1;31mred\x1b[0m\n')).toEqual({ inPlace: false, atLineStart: true })
    expect(scan('\x1b]0;title\x07', '\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n')).toEqual({
      inPlace: false,
      atLineStart: true,
    })
    expect(scan('\x1b[', '2K')).toMatchObject({ inPlace: true })
    expect(scan('\x1b[1A')).toMatchObject({ inPlace: true })
    expect(scan('\x1b7')).toMatchObject({ inPlace: true })
  })
})
