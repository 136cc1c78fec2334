import { parseArgs } from 'node:util'
import { closest } from '../core/text.js'
import { UsageError } from './units.js'

/** A command-line flag: how parseArgs reads it and how the command's help describes it. */
export interface Flag {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  /** May be given more than once (its values are collected). */
  readonly multiple?: boolean
  /** The value as help shows it, without the brackets: `250ms|1s`. */
  readonly value?: string
  /** What the flag does, one line for help. */
  readonly help: string
  /** A good value, for error messages: `1s`. */
  readonly example?: string
  /** The tracker options it sets, as paths (`intervalMs`, `budget.energyKWh`), to name it in refusals. */
  readonly options?: readonly string[]
}

/** A command's flags by long name (without the dashes). */
export type Flags = Readonly<Record<string, Flag>>

/** What parseFlags read: strings, booleans, or lists of strings for `multiple` flags. */
export type FlagValues = Readonly<Record<string, string | boolean | string[] | undefined>>

/** Every command takes this one. */
export const HELP_FLAG: Flags = { help: { type: 'boolean', short: 'h', help: 'print this help' } }

/** A command-line command: its usage line, what it does, and its flags (help comes from these). */
export interface CommandSpec {
  readonly name: string
  /** After `wattprint <name>`: `[options] -- <command> [args...]`. */
  readonly usage: string
  /** Paragraphs about the command, already wrapped. */
  readonly about: string
  readonly flags: Flags
  /** Lines after the flags (examples). */
  readonly footer?: string
}

const flagsWithHelp = (flags: Flags): Flags => ({ ...flags, ...HELP_FLAG })

/** The flag's value, when it was given as a string. */
export const textOf = (values: FlagValues, name: string): string | undefined => {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * Parses a command's arguments. A value that starts with a dash is taken as the value when it is a
 * negative number (`--max-energy -1kWh`, then refused as negative in words), rather than parseArgs'
 * "argument is ambiguous"; an unknown flag gets the one meant and a pointer to the command's help.
 */
export function parseFlags(
  spec: CommandSpec,
  argv: readonly string[],
  allowPositionals = false,
): { values: FlagValues; positionals: string[] } {
  const flags = flagsWithHelp(spec.flags)
  const byShort = new Map(Object.entries(flags).flatMap(([name, f]) => (f.short ? [[f.short, name]] : [])))
  const args: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string
    const next = argv[i + 1]
    const name = token.startsWith('--') ? token.slice(2) : byShort.get(token.slice(1))
    if (token === '--') {
      args.push(...argv.slice(i))
      break
    }
    if (name && flags[name]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      args.push(`--${name}=${next}`)
      i++
    } else args.push(token)
  }
  try {
    const options = Object.fromEntries(
      Object.entries(flags).map(([name, f]) => [
        name,
        { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) },
      ]),
    )
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals })
    return { values: values as FlagValues, positionals }
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) throw error
    const unknown = /^Unknown option '(-{1,2})([^']*)'/.exec((error as Error).message)
    const guess = unknown?.[1] === '--' ? closest(unknown[2] ?? '', Object.keys(flags)) : undefined
    const message = (error as Error).message.split('\n')[0]?.replace(/\.$/, '') ?? 'bad arguments'
    throw new UsageError(
      `${message}${guess ? ` (did you mean --${guess}?)` : ''}. Run 'wattprint ${spec.name} --help' for its options.`,
    )
  }
}

const HELP_WIDTH = 100
const LEFT_MAX = 30

function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  return line ? [...lines, line] : lines
}

/** The help of a command, generated from its flags: no flag it takes can be missing from it. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(flagsWithHelp(spec.flags)).map(([name, f]) => ({
    left: `${f.short ? `-${f.short}, ` : '    '}--${name}${f.value ? ` <${f.value}>` : ''}`,
    help: `${f.help}${f.multiple ? ' (may be repeated)' : ''}`,
  }))
  const column = Math.min(LEFT_MAX, Math.max(...rows.map((r) => r.left.length))) + 2
  const lines = rows.flatMap(({ left, help }) => {
    const text = wrap(help, HELP_WIDTH - column - 2)
    const first =
      left.length + 2 <= column ? [`  ${left.padEnd(column)}${text.shift() ?? ''}`] : [`  ${left}`]
    return [...first, ...text.map((t) => `  ${' '.repeat(column)}${t}`)]
  })
  return (
    `Usage: wattprint ${spec.name} ${spec.usage}\n\n${spec.about.trim()}\n\nOptions:\n${lines.join('\n')}\n` +
    (spec.footer ? `\n${spec.footer.trim()}\n` : '')
  )
}
