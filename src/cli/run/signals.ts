import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { constants } from 'node:os'

/** Signals that ask the command to end. wattprint passes them on and waits for the command's end. */
export const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const
/**
 * Of those, the ones after which a command still running after the grace period gets SIGKILL. Not SIGINT:
 * a program may take its time to save after Ctrl-C, and a second Ctrl-C or SIGTERM is the user's to send.
 */
const ESCALATED: ReadonlySet<NodeJS.Signals> = new Set(['SIGTERM', 'SIGHUP', 'SIGQUIT'])
/**
 * Signals that are messages to the command (its own default action may still end it): passed on, and
 * wattprint waits on. Listening to SIGUSR1 also keeps Node from opening its inspector on port 9229.
 * SIGPWR (Linux) and SIGINFO (BSD, macOS) where the platform has them.
 */
export const MESSAGE_SIGNALS = (
  ['SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGWINCH', 'SIGPWR', 'SIGINFO'] as const
).filter((signal) => signal in constants.signals)
/** What a terminal sends to its whole foreground process group (Ctrl-C, Ctrl-\, Ctrl-Z, a resize, Ctrl-T). */
const FROM_TERMINAL: ReadonlySet<NodeJS.Signals> = new Set([
  'SIGINT',
  'SIGQUIT',
  'SIGTSTP',
  'SIGWINCH',
  'SIGINFO',
])

/** How the command was started, and what wattprint does around it. */
export interface RelayOptions {
  /**
   * The command shares wattprint's process group and wattprint is at a terminal: what the terminal sends
   * reached the command already, and passing it on would deliver it twice.
   */
  readonly sharesTerminalGroup: boolean
  /** The command has its own process group (--pause-above): job control is then not passed on. */
  readonly ownGroup: boolean
  /** Between SIGTERM (SIGHUP, SIGQUIT, a budget) and SIGKILL. */
  readonly graceMs: number
  /** The command must act on a signal now: continue it for good if it is paused, for this reason. */
  readonly release: (why: string) => void
  /** Whether wattprint holds the command paused by the forecast (a SIGCONT is then not passed on). */
  readonly paused: () => boolean
  /** A line for stderr (the caller drops it when quiet). */
  readonly say: (line: string) => void
}

/**
 * Passes signals on to the command as a shell's job would get them, so that wattprint in between changes
 * nothing: the ending ones (SIGINT, SIGTERM, SIGHUP, SIGQUIT) and the messages (SIGUSR1, SIGUSR2, SIGALRM,
 * SIGWINCH …) are passed on and wattprint waits for the command, whose end is the run's end and row. After
 * SIGTERM, SIGHUP or SIGQUIT the command has the grace period to end, then gets SIGKILL. Job control
 * (SIGTSTP, SIGCONT) is passed on when the command shares wattprint's process group; wattprint then stops
 * itself too, so that a shell sees the job stopped.
 */
/** How long a command that got SIGTSTP has to stop before wattprint concludes it will not. */
const STOP_WAIT_MS = 2000

export class SignalRelay {
  readonly #offs: (() => void)[] = []
  #killTimer: NodeJS.Timeout | undefined
  #child: ChildProcess | undefined

  constructor(private readonly options: RelayOptions) {}

  /**
   * Starts listening; call just before spawning the command, and attach() it just after, in the same
   * synchronous block. A signal that arrives in between is not acted on by its default action (no
   * listener yet: SIGTSTP would stop wattprint alone, SIGUSR2 end it): Node runs the listener from the
   * event loop, after attach().
   */
  install(): void {
    const { sharesTerminalGroup } = this.options
    const reached = (signal: NodeJS.Signals) => sharesTerminalGroup && FROM_TERMINAL.has(signal)
    for (const signal of ENDING_SIGNALS) {
      this.#on(signal, () => this.stop(signal, `the command got ${signal}`, { pass: !reached(signal) }))
    }
    for (const signal of MESSAGE_SIGNALS) {
      // A paused command acts on it once continued, as any stopped process does.
      this.#on(signal, () => {
        if (!reached(signal)) this.#send(signal)
      })
    }
    if (!this.options.ownGroup) {
      this.#on('SIGTSTP', () => {
        if (!reached('SIGTSTP')) this.#send('SIGTSTP')
        this.#stopWithCommand()
      })
      this.#on('SIGCONT', () => {
        if (!this.options.paused()) this.#send('SIGCONT')
      })
    }
  }

  /**
   * Asks the command to end with `signal` (passed on unless `pass` is false: it reached the command
   * already), continues it if paused, and for SIGTERM, SIGHUP and SIGQUIT sends SIGKILL after the grace
   * period if it has not ended. Once: a second signal is passed on without a second grace period.
   */
  stop(signal: NodeJS.Signals, why: string, { pass = true }: { pass?: boolean } = {}): void {
    if (pass) this.#send(signal)
    // A stopped command acts on a signal only once continued.
    this.options.release(why)
    if (!ESCALATED.has(signal) || this.#killTimer) return
    const { graceMs } = this.options
    this.#killTimer = setTimeout(() => {
      if (!this.#running()) return
      this.options.say(
        `wattprint: the command did not end within ${graceMs / 1000} s of ${signal}: SIGKILL (--grace sets how long).`,
      )
      this.#send('SIGKILL')
    }, graceMs)
    // The command's own end keeps wattprint alive until then; the timer must not.
    this.#killTimer.unref()
  }

  /** The command the signals go to. */
  attach(child: ChildProcess): void {
    this.#child = child
  }

  /** Stops listening and forgets the grace period; call once the run is over, not when the command ends. */
  dispose(): void {
    clearTimeout(this.#killTimer)
    for (const off of this.#offs.splice(0)) off()
  }

  /**
   * Stops wattprint as SIGTSTP's default action would, so that the shell sees its job stopped (SIGCONT ends
   * it), once the command has stopped: in an orphaned process group (one no job-control shell controls) the
   * kernel discards SIGTSTP, and wattprint stopped beside a command that runs on would measure nothing of
   * it. Where /proc cannot tell, it stops at once, as before.
   */
  #stopWithCommand(): void {
    const pid = this.#child?.pid
    const stateOf = (): string | null => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] ?? null
      } catch {
        return null
      }
    }
    if (pid === undefined || stateOf() === null) {
      process.kill(process.pid, 'SIGSTOP')
      return
    }
    // A command may save its state before it stops (an editor restores the terminal): give it 2 s.
    const deadline = Date.now() + STOP_WAIT_MS
    const look = () => {
      if (stateOf() === 'T') process.kill(process.pid, 'SIGSTOP')
      else if (!this.#running()) return
      else if (Date.now() < deadline) setTimeout(look, 10).unref()
      else
        this.options.say(
          'wattprint: the command did not stop on SIGTSTP (its process group is orphaned: no shell controls the job), so wattprint goes on measuring it.',
        )
    }
    look()
  }

  #running(): boolean {
    const child = this.#child
    return child !== undefined && child.exitCode === null && child.signalCode === null
  }

  #send(signal: NodeJS.Signals): void {
    if (!this.#running()) return
    try {
      this.#child?.kill(signal)
    } catch {
      // Gone between the check and the kill: nothing to pass on to.
    }
  }

  #on(signal: NodeJS.Signals, handler: () => void): void {
    process.on(signal, handler)
    this.#offs.push(() => process.off(signal, handler))
  }
}

/**
 * Until the command runs (the wait for a forecast's window, the tracker's start), a message signal has no
 * one to reach: said rather than ending wattprint, or opening Node's inspector for SIGUSR1. Returns the
 * function that stops listening.
 */
export function holdMessagesBeforeCommand(say: (line: string) => void): () => void {
  const offs = MESSAGE_SIGNALS.map((signal) => {
    const handler = () => {
      if (signal !== 'SIGWINCH') say(`wattprint: ${signal} not passed on: the command has not started.`)
    }
    process.on(signal, handler)
    return () => process.off(signal, handler)
  })
  return () => {
    for (const off of offs) off()
  }
}
