/**
 * The argv that runs `command` with these entries added to its environment as raw bytes, which Node.js
 * cannot write itself (its strings reach a child as UTF-8). Each entry is a printf format: `FOO\\377=1`
 * puts the byte 0xff in the name. /bin/sh decodes them and coreutils' env execs the command with them.
 */
export function withRawEnvironment(entries: readonly string[], command: readonly string[]): string[] {
  const script = [
    'n=$1; shift; k=$#; i=0',
    // Every argument goes round once, in order: the first n decoded by printf.
    'while [ $i -lt $k ]; do',
    '  if [ $i -lt $n ]; then v=$(printf "$1"); else v=$1; fi',
    '  shift; set -- "$@" "$v"; i=$((i + 1))',
    'done',
    'exec env "$@"',
  ].join('\n')
  return ['/bin/sh', '-c', script, 'raw-environment', String(entries.length), ...entries, ...command]
}
