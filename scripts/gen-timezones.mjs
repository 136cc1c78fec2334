// Regenerates data/timezones.csv from the IANA time zone database (public domain):
//   node scripts/gen-timezones.mjs /usr/share/zoneinfo [output, data/timezones.csv by default]
// zone.tab gives each zone's country; tzdata.zi's links ("L target alias") give the old names ICU still
// reports (Asia/Calcutta, Europe/Kiev, US/Pacific …), mapped to their target's country. Zones with no
// country (UTC, Etc/GMT+5 …) are absent on purpose: they say nothing about location. The database's
// version goes into data/README.md by hand.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = process.argv[2] ?? '/usr/share/zoneinfo'
const output = process.argv[3] ?? fileURLToPath(new URL('../data/timezones.csv', import.meta.url))
const version = readFileSync(join(root, 'tzdata.zi'), 'utf8').match(/^# version (\S+)/)?.[1] ?? 'unknown'
const byZone = new Map()
for (const line of readFileSync(join(root, 'zone.tab'), 'utf8').split('\n')) {
  if (!line || line.startsWith('#')) continue
  const [country, , zone] = line.split('\t')
  byZone.set(zone, country)
}
for (const line of readFileSync(join(root, 'tzdata.zi'), 'utf8').split('\n')) {
  const [kind, target, alias] = line.split(' ')
  if (kind !== 'L' || byZone.has(alias)) continue
  const country = byZone.get(target)
  if (country) byZone.set(alias, country)
}
const rows = [...byZone].sort(([a], [b]) => (a < b ? -1 : 1))
// Zone names and country codes hold no comma or quote: plain CSV.
if (rows.some((row) => row.some((v) => /[",\r\n]/.test(v)))) throw new Error('a name needs quoting')
writeFileSync(output, `zone,country\n${rows.map(([zone, country]) => `${zone},${country}`).join('\n')}\n`)
console.log(`${rows.length} time zones (tzdata ${version}) → ${output}`)
