import { closeSync, openSync, readSync } from 'node:fs'

/**
 * Reads a small text file (a sysfs attribute, /proc/stat's first line) into `buffer` with one open,
 * one read and one close, and returns the text. Reopening each time is what makes a vanished or
 * re-permissioned file show up at once, and on sysfs it costs a few microseconds.
 */
export function readSmallFile(path: string, buffer: Buffer): string {
  const fd = openSync(path, 'r')
  try {
    const bytes = readSync(fd, buffer, 0, buffer.length, 0)
    return buffer.toString('latin1', 0, bytes)
  } finally {
    closeSync(fd)
  }
}

/** Parses a sysfs integer attribute (`12345\n`); NaN when it is not a plain non-negative integer. */
export function parseCounter(text: string): number {
  const trimmed = text.trim()
  return /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN
}
