import { readFileSync } from 'node:fs'

/** One environment entry a child spawned by Node.js does not get as it was given. */
export interface UnpassableEntry {
  /** The entry's name as bytes escaped to printable ASCII (`\xff`); its value is never shown (a secret?). */
  readonly name: string
  /** `left out`: Node.js drops it; `altered`: its value arrives with U+FFFD in place of its bad bytes. */
  readonly fate: 'left out' | 'altered'
  readonly why: string
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
const isUtf8 = (bytes: Uint8Array): boolean => {
  try {
    utf8.decode(bytes)
    return true
  } catch {
    return false
  }
}

/** Longest name shown: a hostile one may be thousands of bytes long. */
const NAME_BYTES_SHOWN = 60

/**
 * Bytes as printable ASCII: a backslash and every byte outside space…tilde as `\xHH`, so that no escape
 * sequence, bidi override or invalid UTF-8 reaches the terminal.
 */
function escapeBytes(bytes: Uint8Array): string {
  let text = ''
  for (const byte of bytes.subarray(0, NAME_BYTES_SHOWN)) {
    text +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`
  }
  return bytes.length > NAME_BYTES_SHOWN ? `${text}… (${bytes.length} bytes)` : text
}

/**
 * The entries of a raw environment block (`name=value` entries, each ended by a NUL, as the kernel gives it)
 * that Node.js cannot pass to a child as they are: process.env holds strings, so a name that is not UTF-8,
 * an empty name or an entry without `=` is left out of it (and of every child's environment), and a value
 * that is not UTF-8 reaches the child with U+FFFD in place of its bad bytes.
 */
export function unpassableEntries(block: Uint8Array): UnpassableEntry[] {
  const found: UnpassableEntry[] = []
  let start = 0
  while (start < block.length) {
    let end = block.indexOf(0, start)
    if (end < 0) end = block.length
    const entry = block.subarray(start, end)
    start = end + 1
    if (entry.length === 0) continue
    const equals = entry.indexOf(0x3d)
    const name = equals < 0 ? entry : entry.subarray(0, equals)
    if (equals < 0) found.push({ name: escapeBytes(name), fate: 'left out', why: 'no "=" in the entry' })
    else if (equals === 0) found.push({ name: '(empty)', fate: 'left out', why: 'an empty name' })
    else if (!isUtf8(name))
      found.push({ name: escapeBytes(name), fate: 'left out', why: 'its name is not UTF-8' })
    else if (!isUtf8(entry.subarray(equals + 1)))
      found.push({
        name: escapeBytes(name),
        fate: 'altered',
        why: 'its value is not UTF-8: U+FFFD replaces its bad bytes',
      })
  }
  return found
}

/** Entries listed in the warning; the rest are counted. */
const LISTED = 5

/**
 * The warning for a command about to be spawned from this process, or null when its environment passes on
 * whole (or cannot be read: only Linux shows a process its own environment as given, in /proc/self/environ).
 */
export function environmentWarning(environPath = '/proc/self/environ'): string | null {
  let block: Buffer
  try {
    block = readFileSync(environPath)
  } catch {
    return null
  }
  const entries = unpassableEntries(block)
  if (entries.length === 0) return null
  const listed = entries.slice(0, LISTED).map((e) => `${e.name} ${e.fate} (${e.why})`)
  const more = entries.length > LISTED ? `, and ${entries.length - LISTED} more` : ''
  return (
    `wattprint: ${entries.length} environment variable(s) cannot be passed on to the command as given ` +
    `(Node.js holds the environment as text): ${listed.join(', ')}${more}. ` +
    'Rename or re-encode them if the command needs them.'
  )
}
