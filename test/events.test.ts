import { describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import { TrackerEmitter } from '../src/tracker/events.js'

const warning: TrackerWarning = { code: 'NOT_RUNNING', message: 'x' }

describe('TrackerEmitter', () => {
  it('calls a once() listener a single time', () => {
    const events = new TrackerEmitter(() => {})
    let calls = 0
    events.once('warning', () => calls++)
    events.emit('warning', warning)
    events.emit('warning', warning)
    expect(calls).toBe(1)
    expect(events.has('warning')).toBe(false)
  })

  it('removes a once() listener with off() and the original function, as node:events does', () => {
    const events = new TrackerEmitter(() => {})
    let calls = 0
    const listener = () => calls++
    events.once('warning', listener)
    events.off('warning', listener)
    events.emit('warning', warning)
    expect(calls).toBe(0)
    expect(events.has('warning')).toBe(false)
  })

  it('reports a listener that throws and still calls the others', () => {
    const failures: string[] = []
    const events = new TrackerEmitter((event, error) =>
      failures.push(`${event}: ${(error as Error).message}`),
    )
    let reached = false
    events.on('warning', () => {
      throw new Error('bug')
    })
    events.on('warning', () => {
      reached = true
    })
    expect(() => events.emit('warning', warning)).not.toThrow()
    expect(reached).toBe(true)
    expect(failures).toEqual(['warning: bug'])
  })

  it('has no special error event: emitting error with no listener does not throw', () => {
    expect(() => new TrackerEmitter(() => {}).emit('error', warning)).not.toThrow()
  })
})
