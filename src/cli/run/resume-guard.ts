import { type ChildProcess, spawn } from 'node:child_process'
import type { Writable } from 'node:stream'

/**
 * The guard, a POSIX shell script: it keeps the last state wattprint wrote (a line, `paused` or `running`)
 * until its stdin ends, which happens however wattprint ends (SIGKILL, a V8 abort, a crash included: the
 * kernel closes the pipe's write end), and then continues the process group if it was left paused. The
 * signals a terminal or `pkill` sends by name are ignored, so that only the pipe ends it.
 */
const SCRIPT = [
  "trap '' INT HUP TERM QUIT",
  'state=running',
  'while IFS= read -r line; do state=$line; done',
  'if [ "$state" = paused ]; then kill -s CONT -- "-$1"; fi',
].join('\n')

/** The guard's name in `ps`. */
export const GUARD_NAME = 'wattprint-resume-guard'

/**
 * A tiny process that outlives wattprint to continue a command wattprint paused: a command left stopped
 * (state T, re-parented to init) would never run again, as its process group is orphaned from the start
 * and the kernel's own SIGCONT for orphaned groups never comes. wattprint tells the guard before it stops
 * the group and after it continues it, so that at any moment the guard knows whether a SIGCONT is owed;
 * its own session keeps it out of the signals sent to wattprint's process group. It costs one `sh` per
 * paused run, started before the first pause, not a process per pause.
 */
export class ResumeGuard {
  readonly #child: ChildProcess
  readonly #stdin: Writable | null
  /** Resolves null once the guard runs, or why it could not start (no /bin/sh). */
  readonly started: Promise<string | null>
  #ended = false

  constructor(processGroupId: number, shell = '/bin/sh') {
    this.#child = spawn(shell, ['-c', SCRIPT, GUARD_NAME, String(processGroupId)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    })
    this.#stdin = this.#child.stdin
    // A write to a guard that died would be EPIPE, an 'error' event: never thrown at the run.
    this.#stdin?.on('error', () => {})
    this.started = new Promise((resolve) => {
      this.#child.once('spawn', () => resolve(null))
      this.#child.once('error', (error) => {
        this.#ended = true
        resolve(`${shell} could not start: ${error.message}`)
      })
    })
    // Neither the guard nor its pipe may keep wattprint alive.
    this.#child.unref()
    ;(this.#stdin as { unref?: () => void } | null)?.unref?.()
  }

  /** The guard's pid, for `ps`; undefined when it could not start. */
  get pid(): number | undefined {
    return this.#child.pid
  }

  /** Call just before stopping the group: from now on the guard continues it if wattprint dies. */
  paused(): void {
    this.#say('paused')
  }

  /** Call just after continuing the group. */
  running(): void {
    this.#say('running')
  }

  /** The group runs for good: the guard exits without signalling it. */
  end(): void {
    if (this.#ended) return
    this.#say('running')
    this.#ended = true
    this.#stdin?.end()
  }

  #say(state: 'paused' | 'running'): void {
    // libuv writes at once to a pipe with nothing queued: the line is in the kernel before this returns.
    if (!this.#ended) this.#stdin?.write(`${state}\n`)
  }
}
