// The time zone is read from TZ or /etc/localtime where they settle it, without Intl's 20 ms: these tests
// hold it to what Intl says, zone by zone, and check the tables that moved to data/.
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { findCountry } from '../src/intensity/countries.js'
import { iso3166Rows } from '../src/intensity/iso3166.js'
import { guessCountryFromTimeZone, systemTimeZone, timeZoneWithoutIntl } from '../src/intensity/timezone.js'
import { timezoneCountries, timezoneCountry } from '../src/intensity/timezones.js'

const before = process.env.TZ
afterEach(() => {
  if (before === undefined) delete process.env.TZ
  else process.env.TZ = before
})

/** What the engine says, after Node has told it that TZ changed. */
const intl = () => Intl.DateTimeFormat().resolvedOptions().timeZone ?? null

describe('systemTimeZone', () => {
  it('says what Intl says, for every zone of the table, the names of UTC and odd values of TZ', () => {
    const names = [
      ...timezoneCountries().keys(),
      ...['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Zulu', 'UCT', 'GMT0', 'Etc/GMT-0', 'Etc/GMT+5', 'Etc/GMT-14'],
      ...[':Europe/Paris', 'posix/Europe/Paris', 'right/Asia/Tokyo', 'CET-1CEST', 'Foo/Bar', 'EST5EDT', ''],
      ...['Asia/Kolkata', 'America/Argentina/Buenos_Aires', 'GMT+3', 'Factory', 'localtime'],
    ]
    const differ: string[] = []
    for (const name of names) {
      process.env.TZ = name
      const mine = systemTimeZone()
      const theirs = intl()
      if (mine !== theirs) differ.push(`TZ=${name}: ${mine} vs ${theirs}`)
    }
    expect(differ).toEqual([])
  })

  it('says what Intl says without TZ (from /etc/localtime, or Intl where that does not settle it)', () => {
    delete process.env.TZ
    expect(systemTimeZone()).toBe(intl())
  })

  it('does without Intl for UTC and the zones the engine reports as they are named', () => {
    for (const [tz, name] of [
      ['UTC', 'UTC'],
      ['Etc/UTC', 'UTC'],
      [':Europe/Berlin', 'Europe/Berlin'],
      ['America/New_York', 'America/New_York'],
    ]) {
      process.env.TZ = tz
      expect(timeZoneWithoutIntl(), tz).toBe(name)
    }
    // Intl answers where the engine renames the zone, or TZ is not a zone's name.
    for (const tz of ['Asia/Kolkata', 'CET-1CEST', 'Foo/Bar', '']) {
      process.env.TZ = tz
      expect(timeZoneWithoutIntl(), tz).toBeUndefined()
    }
  })
})

describe('the tables moved to data/', () => {
  it('maps 542 zones to their country, old names included, and says nothing of UTC', async () => {
    expect(timezoneCountries().size).toBe(542)
    // The guess answers null for these without reading the table: it must have none of them.
    expect(
      [...timezoneCountries().keys()].filter((z) =>
        /^(?:Etc\/|UTC$|GMT|UCT$|Zulu$|Universal$|Greenwich$)/.test(z),
      ),
    ).toEqual([])
    expect(timezoneCountry('Europe/Berlin')).toBe('DE')
    expect(timezoneCountry('Asia/Calcutta')).toBe('IN')
    expect(timezoneCountry('US/Pacific')).toBe('US')
    expect(timezoneCountry('UTC')).toBeNull()
    expect(await guessCountryFromTimeZone('Europe/Kiev')).toMatchObject({ country: { alpha2: 'UA' } })
    expect(await guessCountryFromTimeZone('Etc/GMT+5')).toBeNull()
  })

  it('reads the 250 ISO 3166-1 countries, their names in UTF-8', () => {
    const rows = iso3166Rows()
    expect(rows).toHaveLength(250)
    expect(rows).toContainEqual(['AX', 'ALA', 'Åland Islands'])
    expect(findCountry('cuw')?.name).toBe('Curaçao')
    expect(new Set(rows.map((r) => r[0])).size).toBe(250)
    expect(readFileSync('data/iso3166.csv', 'utf8').split('\n')[0]).toBe('alpha2,alpha3,name')
  })
})
