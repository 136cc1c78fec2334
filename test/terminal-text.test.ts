import { describe, expect, it } from 'vitest'
import { summary } from '../src/cli/commands/run.js'
import { Logger } from '../src/core/log.js'
import { sampleRecord } from './helpers/records.js'

// Text the user or a metadata service chose (a functional unit, an instance type, a span's name) reaches
// the terminal in log lines and the run's summary: an escape sequence or a carriage return in it must be
// written out, never run by the terminal.
const HOSTILE = 'ep\u001b[2J\roch\u009b\u0007'
const ESCAPED = 'ep\\u001b[2J\\roch\\u009b\\u0007'

describe('text that reaches the terminal', () => {
  it('is written out by the logger, its own lines kept as lines', () => {
    let out = ''
    const logger = new Logger('info', (line) => {
      out += line
    })
    logger.warning(`request '${HOSTILE}' was ended twice\nsecond line`)
    expect(out).toBe(`[wattprint warning] request '${ESCAPED}' was ended twice\n  second line\n`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(out.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
  })

  it("is written out in wattprint run's summary (the functional unit, the embodied source)", () => {
    const text = summary(
      sampleRecord({
        functionalUnit: HOSTILE,
        sci: 0.001,
        embodiedSource: `ccf-embodied:aws/${HOSTILE}; host 1 kg`,
      }),
    )
    expect(text).toContain(`per ${ESCAPED}`)
    expect(text).toContain(`(ccf-embodied:aws/${ESCAPED})`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
  })
})
