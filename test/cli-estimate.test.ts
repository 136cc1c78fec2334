import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { findGpu, gpuModels } from '../src/cli/commands/estimate.js'
import { findCloudRegion } from '../src/intensity/cloud-regions.js'
import { zoneIntensity } from '../src/intensity/tables.js'

const cli = resolve('dist/cli.js')
const wattprint = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })
interface Estimate {
  energyKWh: number
  regions: { provider: string; region: string; gPerKWh: number; emissionsKg: number }[]
}

describe('wattprint estimate', () => {
  it('prices a planned job in every region of a provider, cleanest first', () => {
    const run = wattprint(
      'estimate',
      '--gpu',
      'A100 SXM4 80 GB',
      '--gpus',
      '8',
      '--hours',
      '72',
      '--pue',
      '1.1',
      '--provider',
      'aws',
      '--json',
    )
    expect(run.status).toBe(0)
    const estimate = JSON.parse(run.stdout) as Estimate
    // 8 × 400 W × 72 h × 1.1 = 253.44 kWh.
    expect(estimate.energyKWh).toBeCloseTo(253.44, 9)
    expect(estimate.regions.every((r) => r.provider === 'aws')).toBe(true)
    expect(estimate.regions.length).toBe(39)
    const emissions = estimate.regions.map((r) => r.emissionsKg)
    expect(emissions).toEqual([...emissions].sort((a, b) => a - b))
    const stockholm = estimate.regions.find((r) => r.region === 'eu-north-1')
    const zone = findCloudRegion('aws', 'eu-north-1')?.zone ?? ''
    expect(stockholm?.gPerKWh).toBe(zoneIntensity(zone)?.gPerKWh)
    expect(stockholm?.emissionsKg).toBeCloseTo((253.44 * (stockholm?.gPerKWh ?? 0)) / 1000, 9)
  })

  it('puts embodied emissions and water beside each region: the server model, the provider WUE, --water-intensity', () => {
    const run = wattprint(
      'estimate',
      ...['--gpu', 'H100 SXM5 80GB', '--gpus', '8', '--hours', '72', '--water-intensity', '3', '--json'],
    )
    expect(run.status, run.stderr).toBe(0)
    const estimate = JSON.parse(run.stdout) as {
      energyKWh: number
      embodied: { kg: number; source: string }
      regions: {
        provider: string
        embodiedKg: number | null
        waterL: number | null
        wueLPerKWh: number | null
        wue: number | null
      }[]
    }
    // 8 × 700 W × 72 h = 403.2 kWh. Embodied: (1,000 kg + 8 × 150 kg) × 72 h / (4 × 8,766 h) = 4.5174 kg.
    expect(estimate.energyKWh).toBeCloseTo(403.2, 9)
    expect(estimate.embodied.kg).toBeCloseTo((2200 * 72) / (4 * 8766), 9)
    expect(estimate.embodied.source).toMatch(/^ccf-components: one-socket server with 8 GPU\(s\), 2200 kg/)
    const of = (provider: string) => estimate.regions.find((r) => r.provider === provider)
    // AWS: 403.2 kWh × 0.12 L (its 2025 WUE) + 403.2 kWh × 3 L = 1,257.984 L.
    // `wue`, the former name of wueLPerKWh, is still written, with the same figure.
    expect(of('aws')).toMatchObject({ wueLPerKWh: 0.12, wue: 0.12, embodiedKg: estimate.embodied.kg })
    expect(of('aws')?.waterL).toBeCloseTo(1257.984, 9)
    // Google publishes no WUE: only the off-site part.
    expect(of('gcp')).toMatchObject({ wueLPerKWh: null, wue: null })
    expect(of('gcp')?.waterL).toBeCloseTo(1209.6, 9)
    const p4d = wattprint(
      'estimate',
      '--gpu',
      'A100 SXM4 80 GB',
      '--gpus',
      '8',
      '--hours',
      '2',
      '--instance-type',
      'p4d.24xlarge',
      '--json',
    )
    // The whole p4d host (8 of 8 GPUs): 4,676.79 kg × 2 h / (4 × 8,766 h).
    expect((JSON.parse(p4d.stdout) as typeof estimate).embodied.kg).toBeCloseTo((4676.79 * 2) / (4 * 8766), 9)
    expect(wattprint('estimate', '--from', 'x.csv', '--embodied', '1t').stderr).toContain(
      '--embodied describes a planned job',
    )
    expect(wattprint('estimate', '--gpu', 'L4', '--hours', '1', '--instance-type', 'zz.9').stderr).toContain(
      `--instance-type "zz.9" is not in Cloud Carbon Footprint's table`,
    )
  })

  it('covers all three clouds by default, as a table', () => {
    const run = wattprint('estimate', '--gpu', 'h100 sxm5 80gb', '--hours', '2h', '--cpu-power', '200W')
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('1 × H100 SXM5 80GB (700 W TDP')
    expect(run.stdout).toContain('+ 200 W CPU')
    for (const provider of ['aws', 'gcp', 'azure'])
      expect(run.stdout).toMatch(new RegExp(`^${provider}\\s`, 'm'))
  })

  it('re-prices measured runs from a CSV', () => {
    const run = wattprint(
      'estimate',
      '--from',
      resolve('test/fixtures/codecarbon-emissions.csv'),
      '--provider',
      'gcp',
      '--json',
    )
    const estimate = JSON.parse(run.stdout) as Estimate
    expect(estimate.energyKWh).toBeCloseTo(0.3043 + 0.15215, 9)
  })

  it('finds GPUs by name loosely, and lists candidates for an ambiguous or unknown one', () => {
    expect(findGpu('a10g').tdpW).toBe(150)
    expect(findGpu('Tesla V100-SXM2-16GB').tdpW).toBe(250)
    expect(gpuModels().find((g) => g.name === 'B200')?.tdpW).toBe(1000)
    const ambiguous = wattprint('estimate', '--gpu', 'H100', '--hours', '1')
    expect(ambiguous.status).toBe(2)
    // Twice the power between them: the choice is the user's, with each one's TDP to make it.
    expect(ambiguous.stderr).toContain(
      'matches 2 GPUs of the table: "H100 SXM5 80GB" (700 W), "H100 PCIe 80GB" (350 W). Name one, for example --gpu "H100 SXM5 80GB".',
    )
    // Every word of the name, in any order and spacing, picks the one GPU that has them all.
    expect(findGpu('h100 sxm').name).toBe('H100 SXM5 80GB')
    expect(findGpu('PCIe H100').name).toBe('H100 PCIe 80GB')
    expect(() => findGpu('a100 80gb')).toThrow(/matches 2 GPUs/)
    expect(wattprint('estimate', '--gpu', 'Voodoo 3', '--hours', '1').stderr).toContain(
      'is not in the GPU table',
    )
    expect(wattprint('estimate', '--gpu', 'L4').stderr).toContain('needs --gpu and --hours')
    expect(wattprint('estimate', '--gpu', 'L4', '--hours', '1', '--provider', 'oracle').stderr).toContain(
      'must be one of aws, gcp, azure',
    )
  })
})

describe('everyday equivalents', () => {
  it('uses EPA factors, reads best in the unit that gives a count of one or more, in metres below a km', async () => {
    const { bestEquivalent, describeEquivalent, equivalents } = await import(
      '../src/accounting/equivalents.js'
    )
    const [car, phone, tree] = equivalents(1)
    expect(car?.amount).toBeCloseTo(1 / (0.393 / 1.609344), 9)
    expect(phone?.amount).toBeCloseTo(1 / 0.0124, 9)
    expect(tree?.amount).toBeCloseTo(1 / 60, 9)
    expect(describeEquivalent(bestEquivalent(1))).toBe('≈ 80.6 smartphone charges')
    expect(describeEquivalent(bestEquivalent(120))).toBe('≈ 2.0 tree seedlings grown for 10 years')
    expect(describeEquivalent(bestEquivalent(0.002))).toBe(
      '≈ 8.2 m driven by an average gasoline passenger car',
    )
    expect(equivalents(Number.NaN).every((e) => e.amount === 0)).toBe(true)
  })
})

describe('wattprint estimate refusals', () => {
  it('says an infinite --hours is not finite, and wants a whole number of GPUs', () => {
    const infinite = wattprint('estimate', '--gpu', 'L4', '--hours=1e400')
    expect(infinite.status).toBe(2)
    expect(infinite.stderr).toBe(
      'wattprint estimate: --hours "1e400" must be a finite number: for example --hours 72.\n',
    )
    const fraction = wattprint('estimate', '--gpu', 'L4', '--hours', '1', '--gpus', '2.5')
    expect(fraction.status).toBe(2)
    expect(fraction.stderr).toContain('--gpus "2.5" must be a whole number')
  })

  it('refuses planned-job flags beside --from instead of ignoring them', () => {
    const run = wattprint(
      'estimate',
      '--from',
      resolve('test/fixtures/codecarbon-emissions.csv'),
      '--pue',
      '1.5',
      '--gpus',
      '2',
    )
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('--gpus, --pue describe a planned job and cannot be combined with it')
  })
})
