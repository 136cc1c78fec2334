import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { GUARD_NAME, ResumeGuard } from '../src/cli/run/resume-guard.js'
import { spawnCli, ukForecastServer } from './helpers/forecast-server.js'
import {
  childrenOf,
  commandLine as cmdline,
  processGone as gone,
  reap,
  processState as state,
  until,
} from './helpers/processes.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-pause-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
/**
 * `wattprint run --within 60s --pause-above 300 -- node <job>` under a forecast above 300 throughout, so
 * the job is paused as soon as it starts. Resolves once wattprint says so, with the job's and the guard's pids.
 */
async function pausedRun(dir: string, job: string) {
  const t0 = Date.now()
  const api = await ukForecastServer(() => [{ fromMs: t0 - 1000, toMs: t0 + 120_000, g: 500 }])
  cleanups.push(() => api.close())
  const run = spawnCli(
    ['run', '-o', dir, '--uk-carbon-intensity', 'national', '--within', '60s', '--pause-above', '300'].concat(
      ['--', process.execPath, '-e', job],
    ),
    {
      WATTPRINT_UK_CARBON_INTENSITY_URL: api.url,
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
      WATTPRINT_RAPL_ROOT: join(dir, 'none'),
    },
  )
  const wattprintPid = run.child.pid as number
  cleanups.push(() => reap(wattprintPid))
  await until('"paused the command"', () => run.out().stderr.includes('paused the command'))
  const children = childrenOf(wattprintPid)
  const jobPid = children.find((pid) => cmdline(pid).includes('-e')) as number
  const guardPid = children.find((pid) => cmdline(pid).includes(GUARD_NAME))
  expect(jobPid, run.out().stderr).toBeGreaterThan(0)
  cleanups.push(() => reap(jobPid))
  if (guardPid !== undefined) cleanups.push(() => reap(guardPid))
  return { run, wattprintPid, jobPid, guardPid }
}

describe('--pause-above never leaves the command frozen', () => {
  it('a paused command is continued when wattprint is killed with SIGKILL, and runs to its end', async () => {
    const dir = tempDir()
    const done = join(dir, 'done')
    // 10 ticks of 100 ms of running time, then a file that says it finished.
    const job = `let n = 0; setInterval(() => { if (++n >= 10) { require('fs').writeFileSync(${JSON.stringify(done)}, 'x'); process.exit(0) } }, 100)`
    const { run, wattprintPid, jobPid, guardPid } = await pausedRun(dir, job)
    expect(state(jobPid)).toBe('T')
    process.kill(wattprintPid, 'SIGKILL')
    // Its exit, not its pipes' close: the job holds them open as long as it lives.
    await until('wattprint to die', () => run.child.signalCode !== null)
    // Before: the job stayed in state T, re-parented to init, for ever.
    await until('the job to be continued', () => state(jobPid) !== 'T')
    await until('the job to finish its work', () => existsSync(done))
    // The guard's work is done: it is gone too.
    expect(guardPid).toBeDefined()
    await until('the guard to exit', () => gone(guardPid as number))
  }, 60_000)

  it('leaves no guard behind after a run that ends normally', async () => {
    const dir = tempDir()
    const { run, wattprintPid, jobPid, guardPid } = await pausedRun(dir, 'setInterval(() => {}, 1000)')
    // SIGTERM is passed on: the job is continued to act on it, and ends; so do wattprint and the guard.
    process.kill(wattprintPid, 'SIGTERM')
    const { status } = await run.done
    expect(status).toBe(143)
    expect(gone(jobPid)).toBe(true)
    // Why it was continued (before: "the forecast ends", which it did not).
    expect(run.out().stderr).toContain('wattprint: resumed the command (the command got SIGTERM)\n')
    expect(guardPid).toBeDefined()
    await until('the guard to exit', () => gone(guardPid as number))
  }, 60_000)
})

describe('ResumeGuard', () => {
  it('says why when it cannot start', async () => {
    const guard = new ResumeGuard(1, '/nonexistent/sh')
    expect(await guard.started).toMatch(/^\/nonexistent\/sh could not start: spawn \/nonexistent\/sh ENOENT/)
    // Nothing to tell a guard that never ran: no throw.
    guard.paused()
    guard.end()
  })
})
