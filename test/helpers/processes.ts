import { readdirSync, readFileSync } from 'node:fs'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The process's state letter (R, S, T, Z …) from /proc, or null once it is gone. */
export function processState(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] ?? null
  } catch {
    return null
  }
}

/** Whether the process has ended (gone, or a zombie not reaped yet). */
export function processGone(pid: number): boolean {
  const state = processState(pid)
  return state === null || state === 'Z'
}

/** The process's argv, empty once it is gone. */
export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  } catch {
    return []
  }
}

/** The children of `pid`, from every thread's list. */
export function childrenOf(pid: number): number[] {
  const found: number[] = []
  let tasks: string[] = []
  try {
    tasks = readdirSync(`/proc/${pid}/task`)
  } catch {
    return found
  }
  for (const task of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
      if (text) found.push(...text.split(/\s+/).map(Number))
    } catch {}
  }
  return found
}

/** Polls `get` until it gives something truthy; throws, naming `what`, after `timeoutMs`. */
export async function until<T>(
  what: string,
  get: () => T | null | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = get()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

/** Ends a process the test started, if it still runs (SIGKILL ends a stopped one too). */
export function reap(pid: number | undefined): void {
  if (pid === undefined || processGone(pid)) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}
