import { lstatSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'

/**
 * The folders where a run's row is kept when its own output folder cannot be written, most preferred
 * first: `$XDG_STATE_HOME/wattprint/checkpoints`, else `~/.local/state/wattprint/checkpoints`, else
 * `<os temp>/wattprint-<uid>/checkpoints`. `wattprint recover` looks in all of them.
 */
export function keptRowFolders(env: NodeJS.ProcessEnv = process.env): string[] {
  const folders: string[] = []
  // The XDG base directory spec: a relative value is invalid and is ignored.
  const xdg = env.XDG_STATE_HOME
  if (xdg && isAbsolute(xdg)) folders.push(join(xdg, 'wattprint', 'checkpoints'))
  const home = safeHomedir()
  if (home && isAbsolute(home)) folders.push(join(home, '.local', 'state', 'wattprint', 'checkpoints'))
  const user = process.getuid?.() ?? safeUsername()
  const shared = join(tmpdir(), `wattprint-${user}`)
  // The temp folder is shared by every user: only a real folder of our own there (or none yet) is used.
  if (ownOrMissing(shared)) folders.push(join(shared, 'checkpoints'))
  return [...new Set(folders)]
}

function safeHomedir(): string | null {
  try {
    return homedir()
  } catch {
    return null
  }
}

function safeUsername(): string {
  return (process.env.USER ?? process.env.USERNAME ?? 'user').replace(/[^\w.-]/g, '_')
}

function ownOrMissing(path: string): boolean {
  try {
    const stats = lstatSync(path)
    return stats.isDirectory() && (process.getuid === undefined || stats.uid === process.getuid())
  } catch {
    return true
  }
}
