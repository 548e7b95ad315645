/**
 * A TCP proxy in front of Neo4j that misbehaves on demand, for the faults the database itself cannot be
 * made to show: 'pass' forwards; 'slow' forwards every chunk after a delay; 'reset' accepts a connection and
 * closes it at once; 'stall' accepts and never answers (the driver's pool cannot get a connection);
 * 'refuse' stops listening (connection refused); 'blackhole' keeps the open connections but drops every byte
 * both ways, and accepts new ones that never answer (a network partition without resets: writes hang).
 * Switching to a failing mode other than 'blackhole' cuts the open connections, and so does leaving
 * 'blackhole' (what dropped bytes left of a Bolt stream is unusable, as a partition's end resets it).
 */
import {connect, createServer, type Server, type Socket} from 'node:net'

export type ProxyMode = 'pass' | 'slow' | 'reset' | 'stall' | 'refuse' | 'blackhole'

export interface FaultProxy {
  readonly uri: string
  readonly mode: ProxyMode
  /** Connections accepted so far (all modes but 'refuse'). */
  readonly accepted: number
  set(mode: ProxyMode, delayMs?: number): Promise<void>
  close(): Promise<void>
}

export async function startFaultProxy(targetUri: string): Promise<FaultProxy> {
  const target = new URL(targetUri.replace(/^bolt/, 'http'))
  const sockets = new Set<Socket>()
  let mode: ProxyMode = 'pass'
  let delayMs = 0
  let accepted = 0
  let server: Server | undefined
  let port = 0

  const track = (sock: Socket): void => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.on('error', () => sock.destroy())
  }
  const forward = (from: Socket, to: Socket): void => {
    let queue = Promise.resolve()
    from.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole') return
      if (mode !== 'slow') {
        to.write(chunk)
        return
      }
      // Keep the order: each chunk waits for the one before it.
      from.pause()
      queue = queue
        .then(() => new Promise((r) => setTimeout(r, delayMs)))
        .then(() => {
          if (!to.destroyed) to.write(chunk)
          from.resume()
        })
    })
    from.on('end', () => to.end())
  }
  const onConnection = (client: Socket): void => {
    accepted++
    track(client)
    if (mode === 'reset') {
      client.destroy()
      return
    }
    if (mode === 'stall' || mode === 'blackhole') return
    const upstream = connect(Number(target.port), target.hostname)
    track(upstream)
    for (const s of [client, upstream]) s.setNoDelay(true)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    forward(client, upstream)
    forward(upstream, client)
  }
  const listen = async (): Promise<void> => {
    if (server) return
    const s = createServer(onConnection)
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => {
        resolve()
      })
    })
    port = (s.address() as {port: number}).port
    server = s
  }
  const unlisten = async (): Promise<void> => {
    const s = server
    server = undefined
    if (s)
      await new Promise<void>((resolve) =>
        s.close(() => {
          resolve()
        }),
      )
  }
  const cut = (): void => {
    for (const sock of sockets) sock.destroy()
  }

  await listen()
  return {
    get uri() {
      return `bolt://127.0.0.1:${port}`
    },
    get mode() {
      return mode
    },
    get accepted() {
      return accepted
    },
    set: async (next, delay = 0) => {
      const left = mode === 'blackhole' && next !== 'blackhole'
      mode = next
      delayMs = delay
      if (left || (next !== 'pass' && next !== 'slow' && next !== 'blackhole')) cut()
      if (next === 'refuse') await unlisten()
      else await listen()
    },
    close: async () => {
      mode = 'refuse'
      cut()
      await unlisten()
    },
  }
}
