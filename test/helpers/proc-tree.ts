import { readdirSync, readFileSync } from 'node:fs'
import { parseProcessStat } from '../../src/attribution/process-tree.js'

/** A process's own CPU time in ticks (what it used itself, not its reaped children's); 0 once gone. */
export const ownTicks = (pid: number): number => {
  try {
    return parseProcessStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.ownTicks ?? 0
  } catch {
    return 0
  }
}

/** The live descendants of `pid`, from /proc/<pid>/task/*\/children, added to `into`. */
export function descendants(pid: number, into: Set<number>): void {
  let tasks: string[] = []
  try {
    tasks = readdirSync(`/proc/${pid}/task`)
  } catch {
    return
  }
  for (const tid of tasks) {
    let children = ''
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
    } catch {}
    for (const child of children.split(' ').filter(Boolean).map(Number)) {
      if (!into.has(child)) {
        into.add(child)
        descendants(child, into)
      }
    }
  }
}
