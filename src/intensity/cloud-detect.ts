import type { CloudProvider } from './cloud-regions.js'
import { withSlash } from './electricity-maps.js'
import { fetchText } from './http.js'

/** The link-local address every major cloud serves its instance metadata on. */
export const CLOUD_METADATA_URL = 'http://169.254.169.254'
/** Metadata services answer in milliseconds; off the cloud the address may not answer at all. */
export const CLOUD_METADATA_TIMEOUT_MS = 1000

/** Where the machine runs, as its cloud's metadata service says. */
export interface DetectedCloud {
  readonly provider: CloudProvider
  readonly region: string
  /** The instance type (`p4d.24xlarge`, `n2-standard-8`, `Standard_D4s_v5`); null when it was not answered. */
  readonly instanceType?: string | null
}

/** The metadata's answer, or null when it gave none (an instance type is a bonus, never a failure). */
const optional = (answer: Promise<string>): Promise<string | null> =>
  answer.then((body) => body.trim() || null).catch(() => null)

type Probe = (base: string, timeoutMs: number, signal: AbortSignal) => Promise<DetectedCloud>

const text = (body: string): string => body.trim()

/** AWS: IMDSv2 (a session token by PUT, then the region), IMDSv1 when the token is refused. */
const aws: Probe = async (base, timeoutMs, signal) => {
  const regionUrl = new URL('latest/meta-data/placement/region', base)
  let headers: Record<string, string> = {}
  try {
    const token = await fetchText(new URL('latest/api/token', base), {
      method: 'PUT',
      timeoutMs,
      signal,
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' },
    })
    headers = { 'X-aws-ec2-metadata-token': text(token) }
  } catch {
    // IMDSv1-only instances answer the region without a token.
  }
  const type = optional(
    fetchText(new URL('latest/meta-data/instance-type', base), { timeoutMs, headers, signal }),
  )
  const region = text(await fetchText(regionUrl, { timeoutMs, headers, signal }))
  if (!/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$/.test(region)) throw new Error(`not an AWS region: ${region}`)
  return { provider: 'aws', region, instanceType: await type }
}

/** GCP: the instance's zone (`projects/123/zones/europe-west4-a`); the region is the zone less its letter. */
const gcp: Probe = async (base, timeoutMs, signal) => {
  // `projects/123/machineTypes/n2-standard-8`: the type is the last part.
  const type = optional(
    fetchText(new URL('computeMetadata/v1/instance/machine-type', base), {
      timeoutMs,
      signal,
      headers: { 'Metadata-Flavor': 'Google' },
    }),
  ).then((path) => path?.split('/').pop() || null)
  const zone = text(
    await fetchText(new URL('computeMetadata/v1/instance/zone', base), {
      timeoutMs,
      signal,
      headers: { 'Metadata-Flavor': 'Google' },
    }),
  )
  const region = /(?:^|\/)([a-z]+-[a-z]+\d+)-[a-z]$/.exec(zone)?.[1]
  if (!region) throw new Error(`not a GCP zone: ${zone}`)
  return { provider: 'gcp', region, instanceType: await type }
}

/** Azure: the compute location (`westeurope`). */
const azure: Probe = async (base, timeoutMs, signal) => {
  const compute = (field: string) => {
    const url = new URL(`metadata/instance/compute/${field}`, base)
    url.searchParams.set('api-version', '2021-02-01')
    url.searchParams.set('format', 'text')
    return fetchText(url, { timeoutMs, signal, headers: { Metadata: 'true' } })
  }
  const type = optional(compute('vmSize'))
  const region = text(await compute('location')).toLowerCase()
  if (!/^[a-z][a-z0-9]+$/.test(region)) throw new Error(`not an Azure location: ${region}`)
  return { provider: 'azure', region, instanceType: await type }
}

/**
 * Asks the three clouds' metadata services at once and returns the first that names a region; null
 * when none does within the timeout, all three together (not on a cloud, or metadata blocked). Never
 * rejects.
 */
export async function detectCloud(
  baseUrl: string = CLOUD_METADATA_URL,
  timeoutMs: number = CLOUD_METADATA_TIMEOUT_MS,
): Promise<DetectedCloud | null> {
  const base = withSlash(baseUrl)
  // One deadline for everything, the two steps of AWS's exchange included; the losers are abandoned.
  const done = new AbortController()
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), done.signal])
  try {
    const probes = [aws, gcp, azure].map((probe) => probe(base, timeoutMs, signal))
    return await Promise.any(probes)
  } catch {
    return null
  } finally {
    done.abort()
  }
}
