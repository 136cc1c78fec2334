import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What a route answers: a status and a body (an object is sent as JSON, a string as is), maybe late. */
export interface Answer {
  readonly status?: number
  readonly body?: unknown
  readonly delayMs?: number
  readonly headers?: Readonly<Record<string, string>>
}

export type Route = (request: IncomingMessage, url: URL) => Answer | Promise<Answer>

/** A request the server received. */
export interface Received {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly headers: IncomingMessage['headers']
}

/** A real HTTP server on 127.0.0.1 standing in for a provider's API, answering in its response shapes. */
export interface TestServer {
  readonly url: string
  readonly requests: Received[]
  /** Requests to one path. */
  hits(path: string): number
  close(): Promise<void>
}

/** Starts a server whose routes are keyed by `METHOD /path` or `/path` (any method); others get 404. */
export async function startServer(routes: Readonly<Record<string, Route>>): Promise<TestServer> {
  const requests: Received[] = []
  const pending = new Set<ServerResponse>()
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    requests.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      headers: request.headers,
    })
    const route = routes[`${request.method} ${url.pathname}`] ?? routes[url.pathname]
    const answer: Answer = route ? await route(request, url) : { status: 404, body: { message: 'Not found' } }
    pending.add(response)
    const send = () => {
      pending.delete(response)
      if (response.destroyed) return
      const body = answer.body
      const text = typeof body === 'string' ? body : JSON.stringify(body ?? {})
      response.writeHead(answer.status ?? 200, {
        'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
        ...answer.headers,
      })
      response.end(text)
    }
    if (answer.delayMs) setTimeout(send, answer.delayMs).unref()
    else send()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hits: (path) => requests.filter((r) => r.path === path).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of pending) response.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
