import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { OPTION_NAMES } from '../src/config/schema.js'
import * as api from '../src/index.js'

// The README is the reference: what the code offers, it documents. These read both and compare, so that
// an option, a warning code or an export added to the code without a word in the README fails here.

const readme = readFileSync('README.md', 'utf8')

/** The README's text from a heading to the next heading of the same or a higher level. */
function section(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`)
  expect(start, heading).toBeGreaterThanOrEqual(0)
  const level = heading.split(' ')[0] ?? '##'
  const rest = readme.slice(start + heading.length + 2)
  const end = rest.search(new RegExp(`^#{1,${level.length}} `, 'm'))
  return end < 0 ? rest : rest.slice(0, end)
}

describe('the README', () => {
  it('documents every option in the options table, with its environment variable', async () => {
    const { envName } = await import('../src/config/config.js')
    const rows = section('### Options')
      .split('\n')
      .filter((l) => l.startsWith('| `'))
    const documented = new Map<string, string>()
    for (const row of rows) {
      const [, names = '', env = ''] = row.split('|')
      for (const m of names.matchAll(/`(\w+)`/g)) documented.set(m[1] ?? '', env)
    }
    const missing = OPTION_NAMES.filter((name) => !documented.has(name))
    expect(missing).toEqual([])
    for (const name of OPTION_NAMES) {
      const env = documented.get(name) ?? ''
      // Objects cannot come from the environment; the rest name their variable (a shared row abbreviates it).
      if (/none: an? object/.test(env) || /objects/.test(env)) continue
      const variable = envName(name)
      expect(
        env.includes(variable) || env.includes(`_${variable.split('_').at(-1)}`),
        `${name}: ${env}`,
      ).toBe(true)
    }
  })

  it('lists every warning code under Warnings', () => {
    const codes = [...readFileSync('src/core/warnings.ts', 'utf8').matchAll(/\| '([A-Z_]+)'/g)].map(
      (m) => m[1],
    )
    expect(codes.length).toBeGreaterThan(20)
    const warnings = section('## Warnings')
    expect(codes.filter((code) => !warnings.includes(`\`${code}\``))).toEqual([])
  })

  it('names every value the package exports', () => {
    const undocumented = Object.keys(api).filter((name) => !new RegExp(`\\b${name}\\b`).test(readme))
    expect(undocumented).toEqual([])
  })

  it('does not say in its limits that the job cannot be told from the machine', () => {
    const limits = section('## Limits')
    expect(limits).not.toMatch(/attribution is not done/i)
    expect(limits).toContain('(#the-jobs-share-attribution)')
  })
})
