import {createServer, type IncomingHttpHeaders} from 'node:http'

/** A local OpenLineage HTTP endpoint for the tests: keeps every event POSTed, answers `status` (other methods 405). */
export interface Sink {
  /** http://127.0.0.1:PORT (no path: the client adds /api/v1/lineage). */
  readonly url: string
  readonly port: number
  readonly events: unknown[]
  readonly requests: {method: string; path: string; headers: IncomingHttpHeaders}[]
  /** What the sink answers; 200 by default. */
  status: number
  close(): Promise<void>
}

export async function startSink(port = 0): Promise<Sink> {
  const events: unknown[] = []
  const requests: Sink['requests'] = []
  const sink = {status: 200}
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      requests.push({method: req.method ?? '', path: req.url ?? '', headers: req.headers})
      // Events come by POST; anything else gets what a POST-only route answers (Marquez's does the same).
      if (req.method !== 'POST') {
        res.writeHead(405).end()
        return
      }
      if (sink.status < 300) events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      res.writeHead(sink.status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const bound = (server.address() as {port: number}).port
  return Object.assign(sink, {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    events,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  })
}
