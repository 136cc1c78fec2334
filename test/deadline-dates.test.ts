import { afterEach, describe, expect, it } from 'vitest'
import { parseBy } from '../src/cli/schedule-flags.js'
import { deadlineMsOf } from '../src/scheduling/best-window.js'
import { wattprintAsync as wattprint } from './helpers/forecast-server.js'
import { startServer, type TestServer } from './helpers/http-server.js'

// Deadlines as people write them: a date that does not exist is named as such (never rolled over into the
// next month and then called "already past"), and `when` writes every time the same way. The tests run
// with TZ=UTC, so local time is UTC here.

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

const NOW = Date.UTC(2026, 11, 4, 16, 0)

describe('--by', () => {
  it.each([
    ['2026-11-31T06:00', /not a date: November 2026 has 30 days/],
    ['2027-02-29T06:00', /not a date: February 2027 has 28 days/],
    ['2027-13-01T06:00', /not a date: there is no month 13/],
    ['2027-01-00T06:00', /not a date: there is no day 0/],
    ['2027-01-05T24:00', /not a time of day: the hour is 0 to 23/],
    ['2027-01-05T06:60', /not a time of day: the minute is 0 to 59/],
    ['2027-01-05T06:00+25:00', /not a time zone offset/],
  ])('refuses %s as a date or time that does not exist, not as a past one', (text, why) => {
    expect(() => parseBy(text, NOW)).toThrow(why)
    expect(() => parseBy(text, NOW)).not.toThrow(/already past/)
    expect(() => parseBy(text, NOW)).toThrow(/write it like 2026-12-02T06:00/)
  })

  it('takes real dates: local time, Z, an offset, a leap day, a date alone as its local midnight', () => {
    expect(parseBy('2026-12-31T06:00', NOW)).toBe(Date.UTC(2026, 11, 31, 6))
    expect(parseBy('2026-12-31 06:00', NOW)).toBe(Date.UTC(2026, 11, 31, 6))
    expect(parseBy('2026-12-31T06:00:30Z', NOW)).toBe(Date.UTC(2026, 11, 31, 6, 0, 30))
    expect(parseBy('2026-12-31T06:00+02:00', NOW)).toBe(Date.UTC(2026, 11, 31, 4))
    expect(parseBy('2028-02-29T06:00', NOW)).toBe(Date.UTC(2028, 1, 29, 6))
    expect(parseBy('2026-12-31', NOW)).toBe(Date.UTC(2026, 11, 31))
    expect(() => parseBy('2026-12-01T06:00', NOW)).toThrow(/already past/)
  })

  it("is refused the same way by the library's bestWindow deadline", () => {
    expect(() => deadlineMsOf({ deadline: '2026-11-31T06:00' }, NOW)).toThrow(
      /deadline "2026-11-31T06:00" is not a date: November 2026 has 30 days/,
    )
    expect(deadlineMsOf({ deadline: '2026-12-31T06:00Z' }, NOW)).toBe(Date.UTC(2026, 11, 31, 6))
  })
})

describe('wattprint when --region', () => {
  it('writes the deadline as it writes every other time (YYYY-MM-DD HH:MM, local), not in a locale', async () => {
    const H = 3_600_000
    const em: TestServer = await startServer({
      '/v3/carbon-intensity/forecast': (_r, url) => ({
        body: {
          zone: url.searchParams.get('zone'),
          forecast: Array.from({ length: 8 }, (_, k) => ({
            carbonIntensity: 100 + k,
            datetime: new Date(Math.floor(Date.now() / H) * H + k * H).toISOString(),
          })),
        },
      }),
    })
    cleanups.push(() => em.close())
    const run = await wattprint(['when', '--duration', '1h', '--within', '6h', '--region', 'DE,FR'], {
      WATTPRINT_ELECTRICITYMAPS_TOKEN: 'em-t',
      WATTPRINT_ELECTRICITYMAPS_URL: em.url,
    })
    expect(run.stderr).toBe('')
    const first = run.stdout.split('\n')[0] ?? ''
    expect(first).toMatch(/^1\.00 h job, done by \d{4}-\d\d-\d\d \d\d:\d\d; best first \(local times\):$/)
    expect(run.stdout).toMatch(/^1\s+(DE|FR)\s+\d{4}-\d\d-\d\d \d\d:\d\d\s/m)
  })
})
