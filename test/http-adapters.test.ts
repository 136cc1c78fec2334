import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { EmissionsTracker, prometheusSink } from '../src/index.js'
import { wattprintExpress } from '../src/integrations/express.js'
import { wattprintFastify } from '../src/integrations/fastify.js'
import type { RequestRecord } from '../src/model/requests.js'
import { constantWatts } from './helpers/constant-watts.js'

// Real Fastify and Express servers on 127.0.0.1 under a bounded load of fetch calls, with a tracker on a
// powercap tree advancing at 30 W: every request gets a span and an energy, the Prometheus histogram holds
// exactly the spans' energies, and the optional header carries a number.

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function tracked() {
  const { raplRoot, dir } = await constantWatts(30, cleanups, 'wattprint-http-')
  const registry = new Registry()
  const tracker = new EmissionsTracker({
    outputDir: dir,
    raplRoot,
    intervalMs: 50,
    logLevel: 'silent',
    carbonIntensityGPerKWh: 300,
    gpuIds: [],
    sinks: [prometheusSink({ registry })],
  })
  const requests: RequestRecord[] = []
  tracker.on('request', (r) => requests.push(r))
  await tracker.start()
  return { tracker, registry, requests }
}

/** `total` GETs of `paths` in turn, `concurrency` at a time; the responses' X-Energy-Joules headers. */
async function load(base: string, paths: readonly string[], total: number, concurrency: number) {
  const headers: (string | null)[] = []
  let next = 0
  const worker = async () => {
    while (next < total) {
      const path = paths[next++ % paths.length] ?? '/'
      const response = await fetch(`${base}${path}`)
      await response.text()
      headers.push(response.headers.get('x-energy-joules'))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return headers
}

/** The histogram's sums and counts by route, from the registry's text. */
async function histogram(registry: Registry) {
  const text = await registry.metrics()
  const by = (suffix: string) =>
    Object.fromEntries(
      [
        ...text.matchAll(new RegExp(`^wattprint_request_energy_joules_${suffix}\\{([^}]*)\\} (\\S+)$`, 'gm')),
      ].map((m) => [/route="([^"]*)"/.exec(m[1] ?? '')?.[1], Number(m[2])]),
    )
  const tokens = [...text.matchAll(/^wattprint_tokens_total\{([^}]*)\} (\S+)$/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ])
  return { sum: by('sum'), count: by('count'), tokens }
}

const sumOf = (records: readonly RequestRecord[], name: string) =>
  records.filter((r) => r.name === name).reduce((a, r) => a + r.energyJ, 0)

/** Polls until `check` holds, or fails after `ms`: for what a server does after its client is gone. */
async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * GETs /ok, /teapot (418), /broken (the handler throws: 500) and /hang, whose client goes away once the
 * handler holds the request; returns when the server has ended all four spans.
 */
async function failures(base: string, entered: Promise<void>, requests: readonly RequestRecord[]) {
  for (const path of ['/ok', '/teapot', '/broken']) await (await fetch(`${base}${path}`)).text()
  const client = new AbortController()
  const hanging = fetch(`${base}/hang`, { signal: client.signal }).catch((error: Error) => error)
  await entered
  client.abort()
  expect(await hanging).toBeInstanceOf(Error)
  await until(() => requests.length === 4)
}

const failedByName = (requests: readonly RequestRecord[]) =>
  Object.fromEntries(requests.map((r) => [r.name, r.failed]))

describe('HTTP adapters', () => {
  it('Fastify: a span per request, labelled by route; the histogram sums exactly the spans', async () => {
    const { tracker, registry, requests } = await tracked()
    const app = Fastify()
    await app.register(wattprintFastify(tracker, { energyHeader: true }))
    app.get('/users/:id', async (request) => {
      ;(request as unknown as { wattprintCounts: object }).wattprintCounts = {
        inputTokens: 2,
        outputTokens: 3,
      }
      return { id: (request.params as { id: string }).id }
    })
    app.get('/slow', async () => {
      await new Promise((r) => setTimeout(r, 20))
      return 'ok'
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    cleanups.push(() => app.close())
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const headers = await load(base, ['/users/1', '/users/2', '/slow', '/nowhere'], 200, 8)
    const record = await tracker.stop()

    expect(requests).toHaveLength(200)
    expect(new Set(requests.map((r) => r.name))).toEqual(
      new Set(['GET /users/:id', 'GET /slow', 'GET unmatched']),
    )
    expect(requests.every((r) => r.energyJ > 0)).toBe(true)
    expect(record.requests).toBe(200)
    expect(record.inputTokens).toBe(200)
    expect(record.outputTokens).toBe(300)
    const { sum, count, tokens } = await histogram(registry)
    for (const route of ['GET /users/:id', 'GET /slow', 'GET unmatched']) {
      expect(sum[route]).toBeCloseTo(sumOf(requests, route), 9)
    }
    expect(count).toEqual({ 'GET /users/:id': 100, 'GET /slow': 50, 'GET unmatched': 50 })
    expect(tokens.map(([labels, n]) => [/direction="(\w+)"/.exec(String(labels))?.[1], n])).toEqual([
      ['input', 200],
      ['output', 300],
    ])
    // A slow request spans more time than a quick one beside the same others: it costs more.
    expect(sumOf(requests, 'GET /slow') / 50).toBeGreaterThan(sumOf(requests, 'GET /users/:id') / 100)
    expect(headers.every((h) => h !== null && Number.isFinite(Number(h)) && Number(h) >= 0)).toBe(true)
  })

  it('Express: a span per request, named by the route once routed; no header unless asked', async () => {
    const { tracker, registry, requests } = await tracked()
    const app = express()
    app.use(wattprintExpress(tracker))
    const router = express.Router()
    router.get('/items/:id', (_req, res) => {
      res.locals.wattprintSpan?.firstToken()
      res.locals.wattprintCounts = { items: 4 }
      res.json({ ok: true })
    })
    app.use('/api', router)
    const server = app.listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const headers = await load(base, ['/api/items/7', '/missing'], 100, 5)
    const record = await tracker.stop()

    expect(requests).toHaveLength(100)
    expect(requests.filter((r) => r.name === 'GET /api/items/:id')).toHaveLength(50)
    expect(requests.filter((r) => r.name === 'GET unmatched')).toHaveLength(50)
    const routed = requests.filter((r) => r.name === 'GET /api/items/:id')
    expect(routed.every((r) => r.items === 4 && r.prefillEnergyJ !== null && r.energyJ > 0)).toBe(true)
    expect(record.requests).toBe(100)
    const { sum } = await histogram(registry)
    expect(sum['GET /api/items/:id']).toBeCloseTo(sumOf(requests, 'GET /api/items/:id'), 9)
    expect(headers.every((h) => h === null)).toBe(true)
  })

  it('Express: a 5xx, or a response the client never got, is a failed request; a 4xx is a request', async () => {
    const { tracker, registry, requests } = await tracked()
    const app = express()
    app.use(wattprintExpress(tracker))
    let enter = () => {}
    const entered = new Promise<void>((r) => {
      enter = r
    })
    app.get('/ok', (_req, res) => res.send('ok'))
    app.get('/teapot', (_req, res) => res.status(418).send('short and stout'))
    app.get('/broken', () => {
      throw new Error('handler broke')
    })
    app.get('/hang', () => enter())
    // Express's own handler prints the error; this one answers the 500 quietly.
    app.use((_error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send('broken')
    })
    const server = app.listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
    await failures(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, entered, requests)
    const record = await tracker.stop()
    expect(failedByName(requests)).toEqual({
      'GET /ok': false,
      'GET /teapot': false,
      'GET /broken': true,
      'GET /hang': true,
    })
    expect(record.requests).toBe(2)
    expect(record.failedRequests).toBe(2)
    const { count } = await histogram(registry)
    expect(count).toEqual({ 'GET /ok': 1, 'GET /teapot': 1 })
    expect(await registry.metrics()).toMatch(
      /^wattprint_failed_request_energy_joules_count\{[^}]*route="GET \/broken"[^}]*\} 1$/m,
    )
  })

  it('Fastify: a 5xx, or a response the client never got, is a failed request; a 4xx is a request', async () => {
    const { tracker, requests } = await tracked()
    // Without it, close() waits for the connection whose client went away, with or without wattprint.
    const app = Fastify({ forceCloseConnections: true })
    await app.register(wattprintFastify(tracker))
    let enter = () => {}
    const entered = new Promise<void>((r) => {
      enter = r
    })
    app.get('/ok', async () => 'ok')
    app.get('/teapot', async (_request, reply) => reply.code(418).send('short and stout'))
    app.get('/broken', async () => {
      throw new Error('handler broke')
    })
    app.get('/hang', async (_request, reply) => {
      // The response closes when the client goes away (the request's own 'close' came once it was read).
      const gone = new Promise((r) => reply.raw.once('close', r))
      enter()
      await gone
      return 'too late'
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    cleanups.push(() => app.close())
    await failures(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, entered, requests)
    const record = await tracker.stop()
    expect(failedByName(requests)).toEqual({
      'GET /ok': false,
      'GET /teapot': false,
      'GET /broken': true,
      'GET /hang': true,
    })
    expect(record.requests).toBe(2)
    expect(record.failedRequests).toBe(2)
  })

  it('Express: names each request by its route pattern, mounts and sub-apps included, never by its URL', async () => {
    const { tracker, registry, requests } = await tracked()
    const app = express()
    app.use(wattprintExpress(tracker))
    const posts = express.Router()
    posts.get('/:postId', (_req, res) => res.send('post'))
    app.use('/users/:id/posts', posts)
    const outer = express.Router()
    const inner = express.Router()
    inner.get('/:leaf', (_req, res) => res.send('leaf'))
    outer.use('/b/:y', inner)
    app.use('/a/:x', outer)
    app.get(/^\/files\/.+$/, (_req, res) => res.send('file'))
    app.get(['/one', '/two/:n'], (_req, res) => res.send('either'))
    const admin = express()
    admin.get('/stats/:day', (_req, res) => res.send('stats'))
    app.use('/admin', admin)
    const shop = express()
    const cart = express.Router()
    cart.get('/:item', (_req, res) => res.send('cart'))
    shop.use('/cart', cart)
    app.use('/shop/:shopId', shop)
    const server = app.listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    // 50 users, each their own URL: one route, one name.
    const users = Array.from({ length: 50 }, (_, i) => `/users/${i}/posts/${i * 7}`)
    const others = [
      '/USERS/1/Posts/2',
      '/a/1/b/2/c',
      '/a/x/b/y/z',
      '/files/x/y.txt',
      '/one',
      '/two/3',
      '/admin/stats/mon',
      '/shop/9/cart/apple',
      '/shop/10/cart/pear',
      '/nowhere',
    ]
    await load(base, [...users, ...others], users.length + others.length, 4)
    await tracker.stop()

    const byName = new Map<string, number>()
    for (const r of requests) byName.set(r.name, (byName.get(r.name) ?? 0) + 1)
    expect(Object.fromEntries(byName)).toEqual({
      'GET /users/:id/posts/:postId': 51,
      'GET /a/:x/b/:y/:leaf': 2,
      [`GET ${String(/^\/files\/.+$/)}`]: 1,
      'GET /one': 1,
      'GET /two/:n': 1,
      'GET /admin/stats/:day': 1,
      'GET /shop/:shopId/cart/:item': 2,
      'GET unmatched': 1,
    })
    // One histogram series per route, whatever the URLs.
    const { count } = await histogram(registry)
    const labels = Object.keys(count).map((label) => label.replace(/\\(.)/g, '$1'))
    expect(labels.sort()).toEqual([...byName.keys()].sort())
  })

  it('Express: a mount whose pattern the router does not keep (Express 4, router before 2.3) is …, never the URL', async () => {
    const { tracker, requests } = await tracked()
    const app = express()
    app.use(wattprintExpress(tracker))
    const posts = express.Router()
    posts.get('/:postId', (_req, res) => res.send('post'))
    app.use('/users/:id/posts', posts)
    // The layer as older routers make it: no rawPath.
    const stack = (app as unknown as { router: { stack: { handle: unknown; rawPath?: unknown }[] } }).router
      .stack
    const layer = stack.find((l) => l.handle === posts)
    expect(layer?.rawPath).toBe('/users/:id/posts')
    delete layer?.rawPath
    const server = app.listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await load(base, ['/users/1/posts/2', '/users/3/posts/4'], 2, 1)
    await tracker.stop()
    expect(requests.map((r) => r.name)).toEqual(['GET …/:postId', 'GET …/:postId'])
  })
})
