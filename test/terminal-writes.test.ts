import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

// Every line wattprint writes to stdout or stderr goes through the one printer (src/core/terminal.ts), which
// writes out what a terminal would act on. A write anywhere else could send a name's escape sequence to
// the terminal as it is: this reads the sources and fails on one, so that a new raw write fails the build.

/** The only files that may write to stdout and stderr themselves: the printer. */
const ALLOWED = new Set(['src/core/terminal.ts'])

/** Writes that bypass the printer: the streams' own methods, console.*, and writes to fds 1 and 2. */
const BYPASS = [
  /process\s*\.\s*std(?:out|err)\b(?!\s*\.\s*(?:isTTY|columns|rows|fd|on|off|once)\b)/,
  /process\s*\[\s*['"`]std(?:out|err)['"`]\s*\]/,
  /\bconsole\s*\.\s*\w+/,
  /\bwriteSync\s*\(\s*[12]\s*,/,
  /\bcreateWriteStream\s*\([^)]*\bfd\s*:\s*[12]\b/,
]

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** The code of a source file without its comments (a comment may name console.log). */
const code = (text: string): string =>
  text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')

describe('writes to the terminal', () => {
  it('go through the one printer: no source but the printer writes to stdout or stderr', () => {
    const files = sources('src')
    expect(files.length).toBeGreaterThan(50)
    const bypasses = files
      .filter((file) => !ALLOWED.has(file))
      .flatMap((file) =>
        code(readFileSync(file, 'utf8'))
          .split('\n')
          .flatMap((line, i) =>
            BYPASS.some((pattern) => pattern.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : [],
          ),
      )
    expect(bypasses).toEqual([])
  })

  it('would catch a raw write (the check itself works)', () => {
    for (const line of [
      'process.stderr.write(line + name)',
      'process.stdout.write(text)',
      'const out = process.stdout',
      "process['stderr'].write(x)",
      'console.error(message)',
      'writeSync(2, text)',
    ])
      expect(
        BYPASS.some((pattern) => pattern.test(code(line))),
        line,
      ).toBe(true)
    for (const line of ['const live = process.stderr.isTTY === true', 'const width = process.stderr.columns'])
      expect(
        BYPASS.some((pattern) => pattern.test(code(line))),
        line,
      ).toBe(false)
  })
})

describe("the host's streams", () => {
  it('are left as the host has them by the library: no error listener added to its stdout or stderr', () => {
    // A tracker that warns (an unknown CPU, the world average) prints through the printer; the CLI alone
    // owns its process and listens for a reader that went away.
    const script = `
      const { EmissionsTracker } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)})
      const before = [process.stdout.listenerCount('error'), process.stderr.listenerCount('error')]
      const tracker = new EmissionsTracker({ saveToFile: false, raplRoot: '/nonexistent', logLevel: 'warning' })
      await tracker.start()
      await tracker.stop()
      const after = [process.stdout.listenerCount('error'), process.stderr.listenerCount('error')]
      process.stdout.write(JSON.stringify({ before, after }))`
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    const { before, after } = JSON.parse(run.stdout) as { before: number[]; after: number[] }
    expect(run.stderr).toMatch(/wattprint/)
    expect(after).toEqual(before)
  }, 30_000)
})
