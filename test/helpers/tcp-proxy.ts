import {createServer, connect, type Server, type Socket} from 'node:net'

/**
 * A TCP proxy in front of the Neo4j test server, so a test can take "Neo4j" away and bring it back on the
 * same address without disturbing the server other tests share: `cut()` drops every connection and stops
 * listening (clients see a dead server), `restore()` listens again, `refuse()` accepts then closes at once,
 * and `delayMs` makes it slow.
 */
export class TcpProxy {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  port = 0
  delayMs = 0
  mode: 'pass' | 'refuse' = 'pass'

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUri(uri: string): TcpProxy {
    const url = new URL(uri)
    return new TcpProxy(url.hostname, Number(url.port || 7687))
  }

  get uri(): string {
    return `bolt://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      this.sockets.add(client)
      client.on('close', () => this.sockets.delete(client))
      client.on('error', () => client.destroy())
      if (this.mode === 'refuse') {
        client.destroy()
        return
      }
      const open = (): void => {
        const upstream = connect(this.targetPort, this.targetHost)
        this.sockets.add(upstream)
        upstream.on('close', () => {
          this.sockets.delete(upstream)
          client.destroy()
        })
        upstream.on('error', () => upstream.destroy())
        client.on('close', () => upstream.destroy())
        client.pipe(upstream)
        upstream.pipe(client)
      }
      if (this.delayMs > 0) setTimeout(open, this.delayMs)
      else open()
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => {
        resolve()
      })
    })
    const address = server.address()
    if (typeof address === 'object' && address) this.port = address.port
  }

  /** Neo4j "goes down": every open connection drops and new ones are refused. */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    const server = this.server
    this.server = undefined
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Neo4j "comes back" on the same port. */
  async restore(): Promise<void> {
    if (!this.server) await this.start()
  }

  async close(): Promise<void> {
    await this.cut()
  }
}
