import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readCsv } from './helpers/csv.js'
import { ukForecastServer } from './helpers/forecast-server.js'
import { type Route, startServer } from './helpers/http-server.js'
import { childrenOf, commandLine, processGone, processState, reap, until } from './helpers/processes.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-signals-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const cli = resolve('dist/cli.js')

/**
 * A job as a job-control shell makes one: a session leader (this Python) starts the command in a process
 * group of its own, in the same session, so that the group is not orphaned and SIGTSTP stops it. It says
 * the command's pid first, and ends as the command did (128 + the signal's number).
 */
const AS_JOB = `import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], preexec_fn=os.setpgrp)
print("PID", p.pid, file=sys.stderr, flush=True)
rc = p.wait()
sys.exit(rc if rc >= 0 else 128 - rc)`

/**
 * `wattprint run -o dir <flags> -- <command>` in the background, stdin not a terminal, without core files
 * (a command killed by SIGQUIT would dump one). Its output is collected; `ended` resolves at its exit.
 * `group`: wattprint in this test's process group (`inherit`), in a session of its own, its group then
 * orphaned (`orphaned`), or as a shell's job (`job`, see AS_JOB).
 */
function startRun(
  dir: string,
  flags: string[],
  command: string[],
  env: Record<string, string> = {},
  group: 'inherit' | 'orphaned' | 'job' = 'inherit',
) {
  const wattprint = ['-c', 'ulimit -c 0; exec "$@"', 'sh', process.execPath, cli, 'run', '-o', dir, ...flags]
  const [program, args] =
    group === 'job'
      ? ['python3', ['-c', AS_JOB, '/bin/sh', ...wattprint, '--', ...command]]
      : ['/bin/sh', [...wattprint, '--', ...command]]
  const child = spawn(program as string, args as string[], {
    env: {
      ...process.env,
      TZ: 'UTC',
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
      WATTPRINT_RAPL_ROOT: join(dir, 'none'),
      ...env,
    },
    detached: group !== 'inherit',
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('close', (code, signal) => done({ code, signal })),
  )
  cleanups.push(() => reap(child.pid))
  return { pid: child.pid as number, ended, out: () => ({ stdout, stderr }) }
}
type Run = ReturnType<typeof startRun>

/** The command wattprint runs (its child that is not the sampler's nvidia-smi or a guard), once it runs. */
async function commandOf(run: Run, name: string): Promise<number> {
  const pid = await until(`${name} to run`, () =>
    childrenOf(run.pid).find((p) => commandLine(p).some((arg) => arg.endsWith(name))),
  )
  cleanups.push(() => reap(pid))
  return pid
}
const rows = (dir: string) =>
  existsSync(join(dir, 'emissions.csv')) ? readCsv(join(dir, 'emissions.csv')) : []
const node = (code: string) => [process.execPath, '-e', code]

describe('wattprint run passes signals on', () => {
  it('SIGQUIT: passed on, wattprint waits for the command and writes its row', async () => {
    const dir = tempDir()
    const run = startRun(dir, ['--interval', '100ms'], ['sleep', '30'])
    const sleepPid = await commandOf(run, 'sleep')
    await sleep(500)
    process.kill(run.pid, 'SIGQUIT')
    // Before: wattprint died by it (131), no row, and sleep ran on alone.
    const end = await run.ended
    expect(end, run.out().stderr).toEqual({ code: 128 + 3, signal: null })
    expect(processGone(sleepPid)).toBe(true)
    const [row] = rows(dir)
    expect(row?.status).toBe('interrupted')
    expect(Number(row?.duration)).toBeGreaterThan(0.4)
    expect(Number(row?.energy_consumed)).toBeGreaterThan(0)
  })

  it('SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH: passed on, not ending wattprint, and no inspector opens', async () => {
    const dir = tempDir()
    const signals = ['SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGWINCH']
    const job = `const want = new Set(${JSON.stringify(signals)})
      for (const s of want) process.on(s, () => { console.log('got ' + s); want.delete(s); if (want.size === 0) process.exit(0) })
      console.log('ready'); setInterval(() => {}, 1000)`
    const run = startRun(dir, [], node(job))
    await until('the job to be ready', () => run.out().stdout.includes('ready'))
    for (const signal of signals) {
      process.kill(run.pid, signal)
      // One at a time: each is seen before the next is sent (signals of a kind do not queue).
      await until(`the job to get ${signal}`, () => run.out().stdout.includes(`got ${signal}`))
    }
    const end = await run.ended
    expect(end, run.out().stderr).toEqual({ code: 0, signal: null })
    expect(run.out().stderr).not.toContain('Debugger listening')
    expect(rows(dir)[0]?.status).toBe('finished')
  })

  it.each(['SIGTERM', 'SIGHUP', 'SIGQUIT'] as const)(
    'a command that ignores %s gets SIGKILL after --grace, and the row is written',
    async (signal) => {
      const dir = tempDir()
      const job = `process.on(${JSON.stringify(signal)}, () => console.log('ignoring it')); console.log('ready'); setInterval(() => {}, 1000)`
      const run = startRun(dir, ['--grace', '1s'], node(job))
      await until('the job to be ready', () => run.out().stdout.includes('ready'))
      process.kill(run.pid, signal)
      // Before: wattprint waited for ever.
      const end = await run.ended
      expect(run.out().stdout).toContain('ignoring it')
      expect(end).toEqual({ code: 128 + 9, signal: null })
      expect(run.out().stderr).toContain(
        `wattprint: the command did not end within 1 s of ${signal}: SIGKILL (--grace sets how long).`,
      )
      expect(rows(dir)[0]?.status).toBe('interrupted')
    },
    60_000,
  )

  it('SIGINT is passed on but never escalated: a command may take its time after Ctrl-C', async () => {
    const dir = tempDir()
    const job =
      "process.on('SIGINT', () => console.log('saving')); console.log('ready'); setInterval(() => {}, 1000)"
    const run = startRun(dir, ['--grace', '200ms'], node(job))
    await until('the job to be ready', () => run.out().stdout.includes('ready'))
    const jobPid = await commandOf(run, '-e')
    process.kill(run.pid, 'SIGINT')
    await until('the job to get SIGINT', () => run.out().stdout.includes('saving'))
    // Ten grace periods later it still runs.
    await sleep(2000)
    expect(processGone(jobPid)).toBe(false)
    process.kill(run.pid, 'SIGTERM')
    expect((await run.ended).code).toBe(128 + 15)
  })

  it('job control: SIGTSTP stops the command and wattprint, SIGCONT continues both', async () => {
    const dir = tempDir()
    const run = startRun(dir, [], ['sleep', '30'], {}, 'job')
    const wattprintPid = Number(await until('its pid', () => /PID (\d+)/.exec(run.out().stderr)?.[1]))
    cleanups.push(() => reap(wattprintPid))
    const sleepPid = await until('sleep to run', () =>
      childrenOf(wattprintPid).find((p) => commandLine(p).some((arg) => arg.endsWith('sleep'))),
    )
    cleanups.push(() => reap(sleepPid))
    process.kill(wattprintPid, 'SIGTSTP')
    await until('both to stop', () => processState(sleepPid) === 'T' && processState(wattprintPid) === 'T')
    process.kill(wattprintPid, 'SIGCONT')
    await until('both to run', () => processState(sleepPid) !== 'T' && processState(wattprintPid) !== 'T')
    process.kill(wattprintPid, 'SIGTERM')
    expect((await run.ended).code).toBe(128 + 15)
    expect(rows(dir)[0]?.status).toBe('interrupted')
  })

  it('in an orphaned process group, where the kernel discards SIGTSTP, wattprint does not stop beside its command', async () => {
    const dir = tempDir()
    const run = startRun(dir, [], ['sleep', '30'], {}, 'orphaned')
    const sleepPid = await commandOf(run, 'sleep')
    process.kill(run.pid, 'SIGTSTP')
    await until('wattprint to say so', () => run.out().stderr.includes('did not stop on SIGTSTP'))
    expect(processState(sleepPid)).not.toBe('T')
    expect(processState(run.pid)).not.toBe('T')
    process.kill(run.pid, 'SIGTERM')
    expect((await run.ended).code).toBe(128 + 15)
    expect(rows(dir)[0]?.status).toBe('interrupted')
  })

  it('a signal after the command ended, while the row and sinks are written, neither ends wattprint nor changes its exit code', async () => {
    const dir = tempDir()
    // A Pushgateway that takes 3 s to answer: wattprint is still running, its row written, the push pending.
    const gateway = await startServer(
      new Proxy({} as Record<string, Route>, { get: () => () => ({ status: 200, body: '', delayMs: 3000 }) }),
    )
    cleanups.push(() => gateway.close())
    const run = startRun(dir, ['--pushgateway', gateway.url], node('process.exit(3)'))
    await until('the row', () => rows(dir).length === 1)
    process.kill(run.pid, 'SIGUSR1')
    process.kill(run.pid, 'SIGTERM')
    // Before: killed by SIGTERM there, no summary, and not the command's exit code.
    expect(await run.ended).toEqual({ code: 3, signal: null })
    expect(run.out().stderr).toMatch(/status failed/)
    expect(run.out().stderr).not.toContain('Debugger listening')
    expect(rows(dir).map((r) => r.status)).toEqual(['failed'])
  })

  it('while waiting for the forecast: SIGUSR1 is said and ignored, SIGQUIT aborts the wait like Ctrl-C', async () => {
    const dir = tempDir()
    const t0 = Date.now()
    // Dirty now, clean from 60 s: the run waits.
    const api = await ukForecastServer(() => [
      { fromMs: t0 - 1000, toMs: t0 + 60_000, g: 400 },
      { fromMs: t0 + 60_000, toMs: t0 + 120_000, g: 50 },
    ])
    cleanups.push(() => api.close())
    const marker = join(dir, 'ran')
    const run = startRun(
      dir,
      ['--uk-carbon-intensity', 'national', '--within', '2m', '--duration', '1m'],
      node(`require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`),
      { WATTPRINT_UK_CARBON_INTENSITY_URL: api.url },
    )
    await until('the wait', () => run.out().stderr.includes('waiting'))
    process.kill(run.pid, 'SIGUSR1')
    await until('SIGUSR1 to be said', () =>
      run.out().stderr.includes('wattprint: SIGUSR1 not passed on: the command has not started.'),
    )
    expect(run.out().stderr).not.toContain('Debugger listening')
    process.kill(run.pid, 'SIGQUIT')
    expect(await run.ended).toEqual({ code: 128 + 3, signal: null })
    expect(run.out().stderr).toContain(
      'aborted while waiting: the command did not run and no row was written',
    )
    expect(existsSync(marker)).toBe(false)
    expect(rows(dir)).toEqual([])
  })
})
