import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { type Route, startServer, type TestServer } from './http-server.js'

/** A UK Carbon Intensity period as the API writes it, with seconds (the tests' slots last seconds). */
export const ukSlot = (fromMs: number, toMs: number, forecast: number) => ({
  from: new Date(fromMs).toISOString(),
  to: new Date(toMs).toISOString(),
  intensity: { forecast, actual: null, index: 'moderate' },
})

/**
 * A UK Carbon Intensity API on 127.0.0.1 whose national forecast (`/intensity/{from}/fw48h`) is made by
 * `slots` at each request, from the time asked; its live `/intensity` answers the current slot's figure.
 */
export async function ukForecastServer(
  slots: (nowMs: number) => { fromMs: number; toMs: number; g: number }[],
): Promise<TestServer & { forecastRequests: () => number }> {
  const forecast: Route = () => ({
    body: { data: slots(Date.now()).map((s) => ukSlot(s.fromMs, s.toMs, s.g)) },
  })
  const server = await startServer(
    new Proxy({} as Record<string, Route>, {
      get: (_target, key: string) =>
        /^\/intensity\/[^/]+\/fw48h$/.test(key)
          ? forecast
          : key === '/intensity'
            ? () => ({ body: { data: [ukSlot(Date.now() - 60_000, Date.now() + 60_000, 200)] } })
            : undefined,
    }),
  )
  return Object.assign(server, {
    forecastRequests: () => server.requests.filter((r) => r.path.endsWith('/fw48h')).length,
  })
}

const cli = resolve('dist/cli.js')

/** `wattprint <args>` started in the background, its output collected, so that test servers can answer it. */
export function spawnCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { ...process.env, TZ: 'UTC', ...env },
    timeout: 30_000,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status) => resolve({ status, stdout, stderr })),
  )
  return { child, done, out: () => ({ stdout, stderr }) }
}

/** `wattprint <args>`, asynchronously: its exit status and output. */
export const wattprintAsync = (args: string[], env: Record<string, string> = {}) => spawnCli(args, env).done
