import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Why a command cannot be run, with the exit code a shell gives for it (bash's, and POSIX's 126/127). */
export interface CommandProblem {
  /** 127: nothing of that name; 126: found, but it cannot be executed. */
  readonly exitCode: 126 | 127
  /** One line for stderr, without the `wattprint: ` prefix. */
  readonly message: string
}

type Found = 'executable' | 'not-executable' | 'directory' | 'missing'

function probe(path: string): Found {
  let isDirectory: boolean
  try {
    isDirectory = statSync(path).isDirectory()
  } catch {
    return 'missing'
  }
  if (isDirectory) return 'directory'
  try {
    accessSync(path, constants.X_OK)
    return 'executable'
  } catch {
    return 'not-executable'
  }
}

/**
 * The executable file `program` names, or why it cannot be run, as a shell would say it. A name with a
 * slash is that path; a bare name is looked up on PATH as spawn looks it up, skipping directories and files
 * without execute permission, and the first of those files is reported when nothing else is found.
 */
export function locateCommand(program: string): { path: string } | CommandProblem {
  if (program.includes('/') || program.includes('\\')) {
    switch (probe(program)) {
      case 'executable':
        return interpreterProblem(program) ?? { path: program }
      case 'missing':
        return { exitCode: 127, message: `no such file or directory: ${program}` }
      case 'directory':
        return { exitCode: 126, message: `is a directory: ${program}` }
      case 'not-executable':
        return notExecutable(program)
    }
  }
  const extensions =
    process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : ['']
  let firstNotExecutable: string | undefined
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    for (const ext of extensions) {
      const path = join(dir, program + ext)
      const found = probe(path)
      if (found === 'executable') return interpreterProblem(path) ?? { path }
      if (found === 'not-executable') firstNotExecutable ??= path
    }
  }
  return firstNotExecutable
    ? notExecutable(firstNotExecutable)
    : { exitCode: 127, message: `command not found: ${program}` }
}

/** Why the `#!` interpreter of the script at `path` cannot run it (the kernel's execve would fail). */
function interpreterProblem(path: string): CommandProblem | null {
  if (process.platform === 'win32') return null
  const interpreter = shebang(path)
  if (!interpreter) return null
  switch (probe(interpreter)) {
    case 'executable':
      return null
    case 'missing':
      return {
        exitCode: 127,
        message: `cannot run ${path}: its interpreter ${interpreter} (the #! line) was not found`,
      }
    default:
      return {
        exitCode: 126,
        message: `cannot run ${path}: its interpreter ${interpreter} (the #! line) is not executable`,
      }
  }
}

function notExecutable(path: string): CommandProblem {
  return {
    exitCode: 126,
    message: `permission denied: ${path} is not executable (make it so with chmod +x ${path})`,
  }
}

/**
 * What spawn's error means for a command locateCommand() found at `path`, which changed since (removed,
 * its `#!` interpreter removed) or cannot be executed after all (EACCES: a noexec mount): 127 or 126.
 */
export function spawnProblem(program: string, path: string, error: NodeJS.ErrnoException): CommandProblem {
  if (error.code === 'ENOENT') {
    return interpreterProblem(path) ?? { exitCode: 127, message: `command not found: ${program}` }
  }
  if (error.code === 'EACCES')
    return { exitCode: 126, message: `permission denied: ${program} cannot be executed` }
  return { exitCode: 126, message: `could not run ${program}: ${error.message}` }
}

/** The interpreter named by the `#!` line of the script at `path`, if it is one. */
function shebang(path: string): string | undefined {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const head = Buffer.alloc(256)
    const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('utf8')
    return /^#!\s*(\S+)/.exec(text)?.[1]
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
