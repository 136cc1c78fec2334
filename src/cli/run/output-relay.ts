import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process'
import { closeSync, fstatSync } from 'node:fs'
import type { Writable } from 'node:stream'
import { isatty, ReadStream } from 'node:tty'
import { openPty, type Pty } from './pty.js'

/**
 * The guard, a POSIX shell script holding the pseudo-terminal's reading side (its stdin): it waits for
 * the pipe on its fd 3 to end, which happens however wattprint ends (SIGKILL and crashes included: the
 * kernel closes the pipe), then passes what the command still writes on to the terminal (its stdout)
 * until the command's side is closed. Without it, a command that outlived wattprint would get EIO at its
 * next write (a Python print() raising). One `sh` per run at a terminal, in a session of its own.
 */
const GUARD = ["trap '' INT HUP TERM QUIT", 'IFS= read -r _ <&3', 'exec cat'].join('\n')

/** The guard's name in `ps`. */
const OUTPUT_GUARD_NAME = 'wattprint-output-guard'

/** How long, once the command ended, what it wrote last is waited for (longer: a child that kept it). */
const DRAIN_MS = 500

/**
 * The command's stdout and stderr, where they would be wattprint's terminal, sent through a
 * pseudo-terminal wattprint reads and passes on (see StatusLine), so that its status line knows where the
 * command left the cursor. The command still sees a terminal of the same size; its stdin is untouched.
 */
export class OutputRelay {
  readonly #pty: Pty
  readonly #guardPipe: Writable | null
  readonly #onResize: () => void
  #reader: ReadStream | null = null
  #ended: Promise<void> = Promise.resolve()

  /** The command's stdio, for spawn. */
  readonly stdio: StdioOptions

  private constructor(pty: Pty, stdio: StdioOptions) {
    this.#pty = pty
    this.stdio = stdio
    this.#onResize = () => pty.resize(process.stderr.columns ?? 80, process.stderr.rows ?? 24)
    process.stderr.on('resize', this.#onResize)
    let guard: ChildProcess | null = null
    try {
      guard = spawn('/bin/sh', ['-c', GUARD, OUTPUT_GUARD_NAME], {
        stdio: [pty.master, process.stderr.fd, 'ignore', 'pipe'],
        detached: true,
      })
      guard.on('error', () => {})
      guard.unref()
    } catch {
      guard = null
    }
    this.#guardPipe = (guard?.stdio[3] as Writable | null | undefined) ?? null
    this.#guardPipe?.on('error', () => {})
    ;(this.#guardPipe as { unref?: () => void } | null)?.unref?.()
  }

  /**
   * A relay for a command whose stdout goes to `stdoutFd` (1, or 2 with --json) and whose stderr goes to 2,
   * those of them that are the terminal on stderr; null when neither is; why not when no pseudo-terminal
   * can be had here (not Linux, koffi missing).
   */
  static open(stdoutFd: number): OutputRelay | null | { readonly reason: string } {
    const terminal = sameTerminal(2)
    if (terminal === null) return null
    const onTerminal = (fd: number) => sameTerminal(fd) === terminal
    const routed = [onTerminal(stdoutFd), onTerminal(2)]
    if (!routed.some(Boolean)) return null
    const pty = openPty(process.stderr.columns ?? 80, process.stderr.rows ?? 24)
    if ('reason' in pty) return pty
    return new OutputRelay(pty, [
      'inherit',
      routed[0] ? pty.slave : stdoutFd,
      routed[1] ? pty.slave : 'inherit',
    ])
  }

  /** Call once the command is spawned: reads what it writes, for `onOutput`. */
  started(onOutput: (bytes: Buffer) => void): void {
    // Closed here, so that the command's end (every writer gone) ends the reading with EIO.
    try {
      closeSync(this.#pty.slave)
    } catch {}
    const reader = new ReadStream(this.#pty.master)
    this.#reader = reader
    // The command's end keeps wattprint alive; the reading must not.
    reader.unref()
    this.#ended = new Promise((resolve) => {
      reader.on('data', (bytes: Buffer) => onOutput(bytes))
      reader.once('end', resolve)
      reader.once('close', resolve)
      reader.once('error', () => resolve())
    })
  }

  /**
   * Call once the command has ended: reads what it wrote to its end (a moment at most, as a child of its
   * may keep writing), then leaves the rest to the guard.
   */
  async finish(): Promise<void> {
    process.stderr.off('resize', this.#onResize)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)))])
    clearTimeout(timer)
    this.#reader?.destroy()
    if (!this.#reader) {
      try {
        closeSync(this.#pty.master)
      } catch {}
    }
    this.#guardPipe?.end()
  }
}

/** The terminal `fd` is, as its device number; null when it is not a terminal. */
function sameTerminal(fd: number): number | null {
  try {
    return isatty(fd) ? fstatSync(fd).rdev : null
  } catch {
    return null
  }
}
