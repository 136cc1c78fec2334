import { describe, expect, it } from 'vitest'
import { circles, importGraph, readRooms, ruleBreaks } from '../scripts/import-graph.mjs'

describe('the architecture (docs/architecture.md)', () => {
  it('has no import circle, no arrow up, nothing importing the CLI, types only in model/', () => {
    expect(ruleBreaks()).toEqual([])
  })

  it('reads every room of src/ from the document, with its floor', () => {
    const rooms: Map<string, number> = readRooms()
    expect(rooms.get('core')).toBe(0)
    expect(rooms.get('model')).toBe(1)
    expect(rooms.get('cli')).toBeGreaterThan(rooms.get('tracker') ?? Number.POSITIVE_INFINITY)
    expect(rooms.get('meters')).toBe(rooms.get('attribution'))
  })

  it('would catch a circle, an arrow up, an import of the CLI and code in model/', () => {
    const graph = importGraph()
    const texts = new Map(graph.texts)
    texts.set('model/bad.ts', "import { x } from '../core/units.js'\nexport const y = 1\n")
    const broken = {
      files: [...graph.files, 'model/bad.ts'],
      lines: graph.lines,
      texts,
      edges: [
        ...graph.edges,
        { from: 'core/units.ts', to: 'core/errors.ts', spec: './errors.js' },
        { from: 'core/errors.ts', to: 'core/units.ts', spec: './units.js' },
        { from: 'meters/rapl.ts', to: 'attribution/split.ts', spec: '../attribution/split.js' },
        { from: 'accounting/ledger.ts', to: 'tracker/tracker.ts', spec: '../tracker/tracker.js' },
        { from: 'tracker/tracker.ts', to: 'cli/main.ts', spec: '../cli/main.js' },
        { from: 'accounting/ledger.ts', to: null, spec: 'node:fs' },
      ],
    }
    const breaks: string[] = ruleBreaks(broken)
    expect(breaks).toContainEqual(
      expect.stringContaining('import circle: src/core/errors.ts → src/core/units.ts'),
    )
    expect(breaks).toContainEqual(
      expect.stringContaining('src/meters/rapl.ts imports src/attribution/split.ts'),
    )
    expect(breaks).toContainEqual(
      expect.stringContaining('src/accounting/ledger.ts imports src/tracker/tracker.ts'),
    )
    expect(breaks).toContainEqual(expect.stringContaining('nothing outside cli/ imports it'))
    expect(breaks).toContainEqual(expect.stringContaining('node:fs: accounting/ never reads files'))
    expect(breaks).toContainEqual(expect.stringContaining('src/model/bad.ts:1 is not a type'))
    expect(breaks).toContainEqual(expect.stringContaining('src/model/bad.ts:2 is not a type'))
    expect(
      circles(
        ['a', 'b', 'c'],
        [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'c' },
        ],
      ),
    ).toEqual([])
  })
})
