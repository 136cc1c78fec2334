// The import graph of src/, and the rules of docs/architecture.md checked against it. Run it to see the
// house (`node scripts/import-graph.mjs`: files and lines per room, arrows between rooms, circles and
// arrows that break a rule); test/architecture.test.ts runs the same checks in CI.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = fileURLToPath(new URL('../', import.meta.url))

/** The rooms of src/ and their floors, from the table in docs/architecture.md. */
export function readRooms(doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8')) {
  const table = /<!-- rooms:start -->([\s\S]*?)<!-- rooms:end -->/.exec(doc)?.[1]
  if (!table)
    throw new Error(
      'docs/architecture.md has no rooms table between <!-- rooms:start --> and <!-- rooms:end -->',
    )
  const rooms = new Map()
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim())
    const floor = Number(cells[1])
    const name = /^`([^`]+)`$/.exec(cells[2] ?? '')?.[1]
    if (!Number.isInteger(floor) || !name) continue
    rooms.set(name.replace(/\/$/, ''), floor)
  }
  return rooms
}

/** Every .ts file under src/, relative to src/. */
function sourceFiles(dir = join(root, 'src')) {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && statSync(join(dir, f)).isFile())
    .map((f) => f.split('\\').join('/'))
    .sort()
}

/** The room of a file relative to src/: its first folder, or the file itself at the root (index.ts). */
export const roomOf = (file) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file)

/** Files with their lines, and every relative import between them (type-only ones too). */
export function importGraph() {
  const src = join(root, 'src')
  const files = sourceFiles()
  const known = new Set(files)
  const lines = new Map()
  const edges = []
  const texts = new Map()
  for (const file of files) {
    const text = readFileSync(join(src, file), 'utf8')
    texts.set(file, text)
    lines.set(file, text.split('\n').length - (text.endsWith('\n') ? 1 : 0))
    for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
      const spec = imported.fileName
      if (!spec.startsWith('.')) {
        edges.push({ from: file, to: null, spec })
        continue
      }
      const target = normalize(join(dirname(file), spec))
        .split('\\')
        .join('/')
        .replace(/\.js$/, '.ts')
      edges.push({ from: file, to: known.has(target) ? target : null, spec })
    }
  }
  return { files, lines, edges, texts }
}

/** Circles among files (strongly connected components of more than one file, or a file importing itself). */
export function circles(files, edges) {
  const next = new Map(files.map((f) => [f, []]))
  for (const e of edges) if (e.to) next.get(e.from)?.push(e.to)
  let index = 0
  const stack = []
  const on = new Set()
  const order = new Map()
  const low = new Map()
  const found = []
  const visit = (v) => {
    order.set(v, index)
    low.set(v, index++)
    stack.push(v)
    on.add(v)
    for (const w of next.get(v) ?? []) {
      if (!order.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v), low.get(w)))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), order.get(w)))
    }
    if (low.get(v) === order.get(v)) {
      const group = []
      let w
      do {
        w = stack.pop()
        on.delete(w)
        group.push(w)
      } while (w !== v)
      if (group.length > 1 || (next.get(v) ?? []).includes(v)) found.push(group.sort())
    }
  }
  for (const f of files) if (!order.has(f)) visit(f)
  return found
}

// Node modules through which a module reads or writes files, or starts processes.
const FILE_ACCESS = /^(node:)?(fs|fs\/promises|child_process|net|http|https|worker_threads)$/

/** Every import that breaks a rule of docs/architecture.md, in words. */
export function ruleBreaks(graph = importGraph(), rooms = readRooms()) {
  const breaks = []
  for (const file of graph.files) {
    if (!rooms.has(roomOf(file))) breaks.push(`src/${file} is in no room of docs/architecture.md's table`)
  }
  for (const { from, to, spec } of graph.edges) {
    const a = roomOf(from)
    if (to === null) {
      if (spec.startsWith('.')) breaks.push(`src/${from} imports ${spec}, which is no file of src/`)
      if ((a === 'accounting' || a === 'model') && FILE_ACCESS.test(spec))
        breaks.push(`src/${from} imports ${spec}: ${a}/ never reads files or starts processes`)
      continue
    }
    const b = roomOf(to)
    if (a === b) continue
    if (b === 'cli') breaks.push(`src/${from} imports src/${to}: nothing outside cli/ imports it`)
    else if (!((rooms.get(b) ?? Number.POSITIVE_INFINITY) < (rooms.get(a) ?? Number.NEGATIVE_INFINITY)))
      breaks.push(
        `src/${from} imports src/${to}: ${a}/ (floor ${rooms.get(a)}) may import only rooms on lower floors, and ${b}/ is on floor ${rooms.get(b)}`,
      )
  }
  // model/ is the data that flows: types only.
  for (const file of graph.files.filter((f) => roomOf(f) === 'model')) {
    const source = ts.createSourceFile(file, graph.texts.get(file) ?? '', ts.ScriptTarget.Latest, true)
    for (const statement of source.statements) {
      const typeOnly =
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        (ts.isImportDeclaration(statement) && statement.importClause?.isTypeOnly === true) ||
        (ts.isExportDeclaration(statement) && statement.isTypeOnly)
      if (!typeOnly) {
        const { line } = source.getLineAndCharacterOfPosition(statement.getStart())
        breaks.push(
          `src/${file}:${line + 1} is not a type: model/ holds types only (import type, interface, type)`,
        )
      }
    }
  }
  for (const group of circles(graph.files, graph.edges))
    breaks.push(`import circle: ${group.map((f) => `src/${f}`).join(' → ')}`)
  return breaks
}

/** Files, lines and the arrows between rooms, for people. */
export function describe(graph = importGraph(), rooms = readRooms()) {
  const perRoom = new Map()
  for (const f of graph.files) {
    const r = perRoom.get(roomOf(f)) ?? { files: 0, lines: 0 }
    r.files++
    r.lines += graph.lines.get(f) ?? 0
    perRoom.set(roomOf(f), r)
  }
  const arrows = new Map()
  for (const e of graph.edges) {
    if (!e.to || roomOf(e.from) === roomOf(e.to)) continue
    const key = `${roomOf(e.from)} → ${roomOf(e.to)}`
    arrows.set(key, (arrows.get(key) ?? 0) + 1)
  }
  const out = ['room            floor  files  lines']
  for (const [room, r] of [...perRoom].sort((x, y) => (rooms.get(x[0]) ?? 99) - (rooms.get(y[0]) ?? 99)))
    out.push(
      `${room.padEnd(15)} ${String(rooms.get(room) ?? '?').padStart(5)} ${String(r.files).padStart(6)} ${String(r.lines).padStart(6)}`,
    )
  const internal = graph.edges.filter((e) => e.to).length
  out.push(
    '',
    `${graph.files.length} files, ${internal} imports between them, ${arrows.size} arrows between rooms:`,
  )
  for (const [k, n] of [...arrows].sort()) out.push(`  ${k} (${n})`)
  return out.join('\n')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const graph = importGraph()
  console.log(describe(graph))
  const breaks = ruleBreaks(graph)
  console.log(
    breaks.length === 0
      ? '\nNo circles, and every arrow goes down.'
      : `\n${breaks.length} rule breaks:\n${breaks.join('\n')}`,
  )
  process.exitCode = breaks.length === 0 ? 0 : 1
}
