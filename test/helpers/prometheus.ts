import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const PROMETHEUS = '/usr/bin/prometheus'
export const PUSHGATEWAY = '/usr/bin/prometheus-pushgateway'

/** Whether the Debian packages prometheus and prometheus-pushgateway are installed. */
export const havePrometheus = (): boolean => existsSync(PROMETHEUS) && existsSync(PUSHGATEWAY)

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if ((await fetch(url)).ok) return
    } catch {}
    if (Date.now() > deadline) throw new Error(`${url} did not become ready`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * A real Pushgateway and a real Prometheus scraping it (and `extraTargets`) every second, on loopback, or
 * on `host` (an address of a network the test made, such as a test cluster's bridge).
 */
export interface PrometheusStack {
  readonly pushgatewayUrl: string
  readonly prometheusUrl: string
  /** Runs a PromQL instant query and returns its vector. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>
  stop(): Promise<void>
}

export async function startPrometheusStack(
  extraTargets: readonly string[] = [],
  host = '127.0.0.1',
): Promise<PrometheusStack> {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-prometheus-'))
  const [gatewayPort, promPort] = [await freePort(), await freePort()]
  const children: ChildProcess[] = []
  const launch = (command: string, args: string[]) => {
    const child = spawn(command, args, { stdio: 'ignore' })
    children.push(child)
    return child
  }
  // Debian's build persists to /var/lib/prometheus by default: keep everything in the temporary folder.
  launch(PUSHGATEWAY, [
    `--web.listen-address=${host}:${gatewayPort}`,
    `--persistence.file=${join(dir, 'pushgateway.data')}`,
  ])
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ['${host}:${gatewayPort}']
${
  extraTargets.length > 0
    ? `  - job_name: direct
    static_configs:
      - targets: [${extraTargets.map((t) => `'${t}'`).join(', ')}]
`
    : ''
}`,
  )
  launch(PROMETHEUS, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=${host}:${promPort}`,
  ])
  const pushgatewayUrl = `http://${host}:${gatewayPort}`
  const prometheusUrl = `http://${host}:${promPort}`
  const stop = async () => {
    for (const child of children) child.kill('SIGTERM')
    await Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitReady(`${pushgatewayUrl}/-/ready`)
    await waitReady(`${prometheusUrl}/-/ready`)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    pushgatewayUrl,
    prometheusUrl,
    async query(promql) {
      const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`)
      const body = (await response.json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] }
      }
      return body.data.result
    },
    stop,
  }
}
