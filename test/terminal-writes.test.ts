import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

// Every line wattprint writes to stdout or stderr goes through the one printer (src/terminal.ts), which
// writes out what a terminal would act on. A write anywhere else could send a name's escape sequence to
// the terminal as it is: this reads the sources and fails on one, so that a new raw write fails the build.

/** The only files that may write to stdout and stderr themselves: the printer. */
const ALLOWED = new Set(['src/terminal.ts'])

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
