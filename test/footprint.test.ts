import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/config/config.js'
import { hostEmbodied } from '../src/footprint/embodied.js'
import { computeFootprint } from '../src/footprint/footprint.js'
import { readHostHardware } from '../src/footprint/hardware.js'
import type { FootprintConfig } from '../src/footprint/options.js'
import { findInstanceEmbodied } from '../src/footprint/tables.js'
import { readCsvWithPython } from './helpers/csv.js'
import { NO_FOOTPRINT_OPTIONS, TWO_HOURS } from './helpers/footprint.js'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-footprint-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const NONE = NO_FOOTPRINT_OPTIONS

const facts = {
  embodied: null,
  cloudProvider: null,
  instanceType: null,
  onCloud: false,
  sockets: 2,
  cpuCount: 128,
  ramTotalGiB: 512,
  gpuCount: 8,
  gpuModel: 'NVIDIA H100',
  // Bare metal: no hypervisor, no container's limits.
  guest: null,
}

describe('embodied emissions and SCI', () => {
  it('charges a 2 h run one GPU of eight of a 2500 kg, 4-year server, and counts SCI per epoch', () => {
    // By hand: EL = 4 y × 365.25 d × 86,400 s = 126,230,400 s; TR / EL = 7,200 / 126,230,400 = 1 / 17,532.
    // M = TE × TR/EL × RR/ToR = 2,500 kg / 17,532 / 8 = 0.0178245 kg.
    // SCI = (E × I + M) / R = (4 kg + 0.0178245 kg) / 10 epochs = 0.40178245 kg per epoch.
    const config: FootprintConfig = {
      ...NONE,
      embodied: { emissionsKg: 2500, lifetimeYears: 4, share: 1 / 8 },
      functionalUnit: { name: 'epoch', count: 10 },
    }
    const host = hostEmbodied({ ...facts, embodied: config.embodied })
    const { fields, notes } = computeFootprint(config, host, TWO_HOURS)
    expect(fields.embodiedEmissionsKg).toBeCloseTo(0.0178245, 7)
    expect(fields.sci).toBeCloseTo(0.40178245, 7)
    expect(fields.functionalUnit).toBe('epoch')
    expect(fields.functionalUnitCount).toBe(10)
    expect(fields.embodiedSource).toBe('option; 2500 kg as given; share 0.125; life 4 y')
    expect(notes).toEqual([])
  })

  it('takes the lifetime into account and defaults it to 4 years: 8 years halve the charge', () => {
    const host = hostEmbodied({ ...facts, embodied: { emissionsKg: 2500 } })
    const four = computeFootprint({ ...NONE, embodied: { emissionsKg: 2500 } }, host, TWO_HOURS).fields
    const eight = computeFootprint(
      { ...NONE, embodied: { emissionsKg: 2500, lifetimeYears: 8 } },
      host,
      TWO_HOURS,
    )
    // 2,500 kg / 17,532 = 0.1425964 kg for the whole server over 2 h of a 4-year life.
    expect(four.embodiedEmissionsKg).toBeCloseTo(0.1425964, 6)
    expect(eight.fields.embodiedEmissionsKg).toBeCloseTo(0.1425964 / 2, 6)
  })

  it('looks an instance type up in the table: p3.2xlarge is one V100 of its host’s eight', () => {
    const row = findInstanceEmbodied('aws', 'p3.2xlarge')
    expect(row).toMatchObject({
      vcpus: 8,
      platformVcpus: 72,
      gpus: 1,
      platformGpus: 8,
      platformEmbodiedKg: 3543.79,
    })
    const host = hostEmbodied({ ...facts, onCloud: true, cloudProvider: 'aws', instanceType: 'p3.2xlarge' })
    const { fields } = computeFootprint(NONE, host, { ...TWO_HOURS, cloudProvider: 'aws' })
    // 3,543.79 kg / 17,532 / 8 = 0.0252666 kg.
    expect(fields.embodiedEmissionsKg).toBeCloseTo(0.0252666, 6)
    expect(fields.embodiedSource).toMatch(
      /^ccf-embodied:aws\/p3\.2xlarge; host 3543\.79 kg .*share 1\/8 GPUs/,
    )
  })

  it('finds Azure sizes as the metadata service spells them, and a type without its provider', () => {
    expect(findInstanceEmbodied('azure', 'Standard_D2s_v3')?.instanceType).toBe('D2s v3')
    const host = hostEmbodied({ ...facts, instanceType: 'n2-standard-8' })
    expect(host).toMatchObject({ source: 'ccf-embodied:gcp/n2-standard-8' })
  })

  it('gives no figure, and says why, for an unknown instance type or an unknown type on a cloud', () => {
    const unknown = hostEmbodied({
      ...facts,
      onCloud: true,
      cloudProvider: 'aws',
      instanceType: 'zz9.plural',
    })
    const run = computeFootprint(
      { ...NONE, functionalUnit: { name: 'request', count: 5 } },
      unknown,
      TWO_HOURS,
    )
    expect(run.fields.embodiedEmissionsKg).toBeNull()
    expect(run.fields.embodiedSource).toBeNull()
    expect(run.fields.sci).toBeNull()
    expect(run.notes.join(' ')).toMatch(
      /instance type zz9\.plural is not in Cloud Carbon Footprint's table for aws/,
    )
    expect(run.notes.join(' ')).toMatch(/sci unknown: it needs the embodied emissions/)
    const typeless = hostEmbodied({ ...facts, onCloud: true, cloudProvider: 'gcp' })
    expect(computeFootprint(NONE, typeless, TWO_HOURS).notes[0]).toMatch(
      /gcp instance type is unknown; set cloudInstanceType/,
    )
  })

  it('scales the host share by the job’s energy share under attribution', () => {
    const host = hostEmbodied({ ...facts, onCloud: true, cloudProvider: 'aws', instanceType: 'p3.2xlarge' })
    const job = { ...TWO_HOURS, trackingMode: 'process' as const, energyKWh: 2.5 }
    // The job drew 2.5 of the instance's 10 kWh: 1/8 × 1/4 of 3,543.79 kg / 17,532.
    expect(computeFootprint(NONE, host, job).fields.embodiedEmissionsKg).toBeCloseTo(3543.79 / 17532 / 32, 7)
  })
})

describe('the server component model', () => {
  /** A /sys tree with a chassis type and drives. */
  function sysTree(chassis: string | null, drives: Record<string, string>): { sysRoot: string } {
    const sysRoot = tempDir()
    const dmiRoot = join(sysRoot, 'class/dmi/id')
    const blockRoot = join(sysRoot, 'block')
    mkdirSync(dmiRoot, { recursive: true })
    mkdirSync(blockRoot)
    if (chassis !== null) writeFileSync(join(dmiRoot, 'chassis_type'), `${chassis}\n`)
    for (const [name, rotational] of Object.entries(drives)) {
      mkdirSync(join(blockRoot, name, 'queue'), { recursive: true })
      writeFileSync(join(blockRoot, name, 'size'), name.startsWith('loop') ? '0\n' : '1953525168\n')
      writeFileSync(join(blockRoot, name, 'queue', 'rotational'), `${rotational}\n`)
    }
    return { sysRoot }
  }

  it("adds up Cloud Carbon Footprint's components: sockets, RAM over 16 GB, GPUs, drives", () => {
    const roots = sysTree('23', { nvme0n1: '0', nvme1n1: '0', sda: '1', loop0: '0', 'dm-0': '0' })
    expect(readHostHardware(roots)).toEqual({
      server: true,
      chassisType: 23,
      drives: { ssd: 2, hdd: 1 },
      virtualDisks: [],
    })
    const host = hostEmbodied(facts, roots)
    // 1,000 base + 100 (second socket) + (512 − 16) GB × 533/384 kg + 8 × 150 + 2 × 100 + 1 × 50
    // = 1,000 + 100 + 688.458 + 1,200 + 200 + 50 = 3,238.458 kg.
    expect(host).toMatchObject({ source: 'ccf-components', share: 1 })
    expect(host.kg).toBeCloseTo(3238.458, 2)
  })

  it('refuses to treat a laptop as a server: no figure, a note', () => {
    const host = hostEmbodied(facts, sysTree('10', {}))
    expect(host.kg).toBeNull()
    expect(computeFootprint(NONE, host, TWO_HOURS).notes[0]).toMatch(
      /SMBIOS type 10\) is not one; set embodied/,
    )
  })
})

describe('water', () => {
  it('counts on-site water from the provider’s WUE per IT kWh and off-site water per grid kWh', () => {
    // 1.2 kWh from the grid at PUE 1.2 is 1 kWh of IT: 1 × 0.12 L (AWS 2025) on site; 1.2 × 3 L off site.
    const input = { ...TWO_HOURS, energyKWh: 1.2, pue: 1.2, cloudProvider: 'aws', cloudRegion: 'us-east-1' }
    const host = hostEmbodied({ ...facts, embodied: { emissionsKg: 1000 } })
    const { fields } = computeFootprint({ ...NONE, waterIntensityLPerKWh: 3 }, host, input)
    expect(fields.wueLPerKWh).toBe(0.12)
    expect(fields.waterConsumedL).toBeCloseTo(0.12 + 3.6, 10)
    expect(fields.waterSource).toBe(
      'on-site: aws-2025 0.12 L/kWh × IT kWh; off-site: option waterIntensityLPerKWh 3 L/kWh × grid kWh',
    )
  })

  it('takes the wueLPerKWh option over the table, and leaves water empty with a reason when nothing is known', () => {
    const host = hostEmbodied({ ...facts, embodied: { emissionsKg: 1000 } })
    const given = computeFootprint({ ...NONE, wueLPerKWh: 0.5 }, host, {
      ...TWO_HOURS,
      cloudProvider: 'azure',
    }).fields
    expect(given).toMatchObject({ wueLPerKWh: 0.5, waterConsumedL: 5 })
    expect(given.waterSource).toMatch(/^on-site: option wueLPerKWh 0.5 L\/kWh/)
    const gcp = computeFootprint(NONE, host, { ...TWO_HOURS, cloudProvider: 'gcp' }).fields
    expect(gcp).toMatchObject({ wueLPerKWh: null, waterConsumedL: null })
    expect(gcp.waterSource).toBe(
      'on-site: not counted (no published WUE for gcp; set wueLPerKWh); off-site: not counted (the country is unknown; set waterIntensityLPerKWh)',
    )
  })
})

describe('the footprint options', () => {
  it('come from the environment, and refuse bad values naming the field', () => {
    const env = {
      WATTPRINT_WUE_L_PER_KWH: '0.3',
      WATTPRINT_WATER_INTENSITY_L_PER_KWH: '2.5',
      WATTPRINT_CLOUD_INSTANCE_TYPE: 'm5.large',
    }
    expect(resolveConfig({}, env)).toMatchObject({
      wueLPerKWh: 0.3,
      waterIntensityLPerKWh: 2.5,
      cloudInstanceType: 'm5.large',
    })
    expect(() => resolveConfig({ embodied: { emissionsKg: -1 } })).toThrow(
      /Option embodied.emissionsKg must be a finite number of kg CO2e, 0 or more/,
    )
    expect(() => resolveConfig({ embodied: { share: 2 } })).toThrow(
      /Option embodied.share must be a number above 0, up to 1/,
    )
    expect(() => resolveConfig({ embodied: {} })).toThrow(/at least one of emissionsKg, lifetimeYears, share/)
    expect(() => resolveConfig({ functionalUnit: { name: 'epoch', count: 0 } })).toThrow(
      /functionalUnit.count/,
    )
  })
})

describe('wattprint run with the footprint flags', () => {
  it('refuses bad flag values with the flag and an example', () => {
    const refusal = (...flags: string[]) =>
      spawnSync(process.execPath, [resolve('dist/cli.js'), 'run', ...flags, '--', 'true'], {
        encoding: 'utf8',
      })
    expect(refusal('--share', '2').stderr).toContain(
      '--share "2" must be at most 1: for example --share 0.125.',
    )
    expect(refusal('--wue', '30').stderr).toContain('--wue "30" must be at most 20: for example --wue 0.18.')
    expect(refusal('--functional-unit', ':3').stderr).toContain('must be name or name:count')
    expect(refusal('--embodied', 'lots').status).toBe(2)
  })

  it("writes every figure and its source in the row, read back by Python's csv", () => {
    const dir = tempDir()
    const run = spawnSync(
      process.execPath,
      [
        resolve('dist/cli.js'),
        'run',
        '-o',
        dir,
        '--cloud',
        'aws:us-east-1',
        '--instance-type',
        'p3.2xlarge',
        '--water-intensity',
        '3',
        '--functional-unit',
        'epoch:2',
        '--',
        process.execPath,
        '-e',
        'setTimeout(() => {}, 300)',
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
          WATTPRINT_RAPL_ROOT: join(dir, 'none'),
        },
        timeout: 30_000,
      },
    )
    expect(run.status, run.stderr).toBe(0)
    const [row] = readCsvWithPython(join(dir, 'emissions.csv'))
    if (!row) throw new Error('no row')
    const number = (column: string) => Number(row[column])
    expect(row.embodied_source).toMatch(/^ccf-embodied:aws\/p3\.2xlarge; host 3543\.79 kg/)
    // M = 3,543.79 kg × duration / 4 y × 1/8.
    expect(number('embodied_emissions')).toBeCloseTo(
      (3543.79 * number('duration')) / (4 * 365.25 * 86400) / 8,
      12,
    )
    expect(number('wue')).toBe(0.12)
    // Water and SCI follow the priced figure: the whole machine at the wall (emissionsScope's default).
    expect(number('water_consumed')).toBeCloseTo(number('wall_energy') * (0.12 + 3), 12)
    expect(row.water_source).toMatch(
      /^on-site: aws-2025 0.12 L\/kWh × IT kWh; off-site: option waterIntensityLPerKWh 3 L\/kWh/,
    )
    expect(row.functional_unit).toBe('epoch')
    expect(number('functional_unit_count')).toBe(2)
    expect(number('sci')).toBeCloseTo((number('wall_emissions') + number('embodied_emissions')) / 2, 12)
    expect(row.intensity_source).toBe('fixed')
    // The summary says the same, by name.
    expect(run.stderr).toMatch(
      /embodied \d+\.\d+ mg CO2e \(ccf-embodied:aws\/p3\.2xlarge\), water \d+\.\d+ [mµ]L, SCI [\d.]+ m?g CO2e per epoch/,
    )
  })
})
