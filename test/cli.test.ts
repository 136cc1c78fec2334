import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
  bin: Record<string, string>
}
const wattprint = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

describe('the wattprint bin', () => {
  it('is declared in package.json and built', () => {
    expect(pkg.bin.wattprint).toBe('./dist/cli.js')
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true)
  })

  it('prints its version', () => {
    const run = wattprint('--version')
    expect(run.status).toBe(0)
    expect(run.stdout.trim()).toBe(pkg.version)
  })

  it('prints help listing every command', () => {
    const run = wattprint('--help')
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('Usage:')
    for (const command of ['run', 'detect', 'report', 'estimate', 'recover']) {
      expect(run.stdout).toContain(`wattprint ${command}`)
    }
  })

  it('exits 2 with a clear message on an unknown command, suggesting the one meant', () => {
    const run = wattprint('rnu', '--', 'true')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain("unknown command 'rnu' (did you mean 'run'?)")
  })
})
