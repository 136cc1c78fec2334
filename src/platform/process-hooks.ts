/** What a running tracker does when its process is about to end. Both run synchronously. */
export interface ExitHooks {
  /** The process is exiting (normally, or by process.exit()) with this code. */
  onExit(code: number): void
  /**
   * A SIGINT, SIGTERM, SIGHUP or SIGQUIT arrived. `fatal`: nobody else handles it, so the process is about
   * to die by it; otherwise the host's own handler decides what happens next.
   */
  onSignal(signal: EndingSignal, fatal: boolean): void
}

/**
 * The signals that end a process by default and that people send to end it: Ctrl-C, kill, a closed
 * terminal or ssh session (SIGHUP), Ctrl-\ (SIGQUIT).
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const
/** A signal the hooks write the row on. */
export type EndingSignal = (typeof SIGNALS)[number]
const active = new Set<ExitHooks>()

// A hook that threw would change how the process ends (a stack trace, exit code 7): never let one out.
const quietly = (run: () => void): void => {
  try {
    run()
  } catch {}
}

function onExit(code: number): void {
  for (const hooks of [...active]) quietly(() => hooks.onExit(code))
}

function onSignal(signal: (typeof SIGNALS)[number]): void {
  // Were we the only listener, Node's default action (terminate by the signal) is what the host expects.
  const fatal = process.listeners(signal).every((listener) => listener === onSignal)
  for (const hooks of [...active]) quietly(() => hooks.onSignal(signal, fatal))
  if (fatal) {
    uninstall()
    // Re-raise with the default action restored: the process ends as it would have without wattprint
    // (killed by the signal, exit status 128 + its number).
    process.kill(process.pid, signal)
  }
}

function install(): void {
  process.on('exit', onExit)
  for (const signal of SIGNALS) process.on(signal, onSignal)
}

function uninstall(): void {
  process.off('exit', onExit)
  for (const signal of SIGNALS) process.off(signal, onSignal)
}

/**
 * Registers a running tracker's hooks. One set of process listeners serves every tracker, installed
 * while at least one runs, so wattprint adds nothing to a process with no tracker running.
 */
export function registerExitHooks(hooks: ExitHooks): () => void {
  if (active.size === 0) install()
  active.add(hooks)
  return () => {
    active.delete(hooks)
    if (active.size === 0) uninstall()
  }
}
