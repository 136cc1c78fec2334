import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'
import * as express from '../src/integrations/express.js'
import * as fastify from '../src/integrations/fastify.js'
import * as llama from '../src/integrations/node-llama-cpp.js'
import * as onnxruntime from '../src/integrations/onnxruntime.js'
import * as tfjs from '../src/integrations/tfjs.js'
import * as transformers from '../src/integrations/transformers.js'

// The README is short and links docs/; the guides and explanations there are written by hand. These tests
// keep the two honest: an export added to the code without a word in them, a link to a page that moved, or
// a fresh start that no longer says what CI runs fails here. The options, warnings, CSV columns and CLI help
// are generated into docs/reference/, which its own test compares with the code.

const readme = readFileSync('README.md', 'utf8')

/** Every Markdown file under a folder, as paths relative to the repository root. */
function markdownUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return markdownUnder(path)
    return entry.name.endsWith('.md') ? [path] : []
  })
}

/** The hand-written documentation: docs/ without the generated reference. */
const handWritten = markdownUnder('docs').filter((path) => !path.startsWith(join('docs', 'reference')))

/** The text outside fenced code blocks: code shows links and headings, it does not make them. */
function prose(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '')
}

/** The text from a heading to the next heading of the same or a higher level. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n${heading}\n`)
  expect(start, heading).toBeGreaterThanOrEqual(0)
  const level = heading.split(' ')[0] ?? '##'
  const rest = text.slice(start + heading.length + 2)
  const end = rest.search(new RegExp(`^#{1,${level.length}} `, 'm'))
  return end < 0 ? rest : rest.slice(0, end)
}

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  for (const [, heading = ''] of prose(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const plain = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*_]/g, '')
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\- ]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    result.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return result
}

/** The relative links of a Markdown file: [text](target), outside code blocks and code spans. */
function relativeLinks(text: string): string[] {
  const withoutCode = prose(text).replace(/`[^`\n]*`/g, '')
  return [...withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
}

/** Where a page's links lead that lead nowhere: a missing file, or an anchor its page does not have. */
function brokenLinks(file: string): string[] {
  const broken: string[] = []
  for (const link of relativeLinks(readFileSync(file, 'utf8'))) {
    const [path = '', anchor] = link.split('#')
    const target = path === '' ? file : relative('.', resolve(dirname(file), decodeURI(path)))
    if (!existsSync(target)) {
      broken.push(`${file}: ${link} (no ${target})`)
      continue
    }
    // The generated reference is another test's; every other page's anchors are checked here.
    if (anchor === undefined || !target.endsWith('.md') || target.startsWith(join('docs', 'reference')))
      continue
    if (!anchors(readFileSync(target, 'utf8')).has(anchor)) broken.push(`${file}: ${link} (no #${anchor})`)
  }
  return broken
}

describe('the README and docs/', () => {
  it('name every value the package exports, its subpaths included', () => {
    const text = [readme, ...handWritten.map((path) => readFileSync(path, 'utf8'))].join('\n')
    const exported = [api, express, fastify, llama, onnxruntime, tfjs, transformers].flatMap((m) =>
      Object.keys(m),
    )
    expect(exported.length).toBeGreaterThan(30)
    const undocumented = exported.filter((name) => !new RegExp(`\\b${name}\\b`).test(text))
    expect(undocumented).toEqual([])
  })

  it('link only to files and headings that exist', () => {
    const files = ['README.md', 'CONTRIBUTING.md', ...handWritten]
    expect(files.length).toBeGreaterThan(20)
    expect(relativeLinks(readme).length).toBeGreaterThan(20)
    expect(files.flatMap(brokenLinks)).toEqual([])
  })

  it('keep the fresh start that CI and users run: install and the example, then the tests', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(section(readme, '## A fresh start'))?.[1] ?? ''
    expect(block.split('\n').map((line) => line.split('#')[0]?.trim())).toEqual([
      'npm install && npm run example',
      'npm test',
      '',
    ])
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8'))
    expect(scripts.example).toContain('examples/train-tfjs.mjs')
    expect(scripts.test).toContain('vitest')
  })

  it('keep the README short, linking every page of docs/ and docs/ indexing each', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(300)
    const index = readFileSync(join('docs', 'README.md'), 'utf8')
    for (const page of handWritten.filter((path) => path !== join('docs', 'README.md'))) {
      expect(index, page).toContain(`](${relative('docs', page)})`)
      if (/^docs\/(guides|explanation)\//.test(page) || page === join('docs', 'getting-started.md')) {
        expect(readme, page).toContain(`](${page})`)
      }
    }
  })

  it('open every page written from the README with its title and a summary', () => {
    const pages = handWritten.filter((path) =>
      /^docs\/(README|getting-started|guides\/|explanation\/)/.test(path),
    )
    expect(pages.length).toBeGreaterThan(15)
    for (const page of ['CONTRIBUTING.md', ...pages]) {
      expect(readFileSync(page, 'utf8'), page).toMatch(/^# [^\n]+\n\n[A-Z`[][^\n]+/)
    }
  })

  it('do not say in the limits that the job cannot be told from the machine', () => {
    const limits = readFileSync(join('docs', 'explanation', 'limits.md'), 'utf8')
    expect(limits).not.toMatch(/attribution is not done/i)
    expect(limits).toContain('(../guides/attribution.md)')
  })
})
