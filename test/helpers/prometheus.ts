/**
 * A real Prometheus for the metrics integration test, started through scripts/prometheus-test-server.sh (the
 * way the Neo4j test server is): on loopback, a free port, temporary storage, a 1 s scrape of one target.
 * Without prometheus installed the caller skips, loudly, except under CI=true, where it fails.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'

import * as v from 'valibot'

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'prometheus-test-server.sh')

const QueryResponse = v.object({
  status: v.literal('success'),
  data: v.object({
    resultType: v.literal('vector'),
    result: v.array(v.object({metric: v.record(v.string(), v.string()), value: v.tuple([v.number(), v.string()])})),
  }),
})

export interface Sample {
  labels: Record<string, string>
  value: number
}

export interface PrometheusServer {
  readonly url: string
  /** An instant query at `time` (seconds since the epoch; default now): the vector's samples. */
  query(expr: string, time?: number): Promise<Sample[]>
  close(): Promise<void>
}

/** Thrown when prometheus is not installed and CI is not set: the caller skips. */
export class PrometheusMissing extends Error {}

export async function startPrometheus(target: string, rules: string[] = []): Promise<PrometheusServer> {
  const child = spawn('bash', [SCRIPT, 'run', target, ...rules], {stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      const m = /^PROMETHEUS_URL=(\S+)$/m.exec(stdout)
      if (m) resolve(m[1]!)
    })
    child.once('exit', (code) => {
      if (code === 127 && process.env.CI !== 'true') reject(new PrometheusMissing(stderr.trim()))
      else reject(new Error(`prometheus-test-server.sh exited ${code}: ${stderr.trim()}`))
    })
  })
  return {
    url,
    query: async (expr, time) => {
      const params = new URLSearchParams({query: expr, ...(time === undefined ? {} : {time: String(time)})})
      const response = await fetch(`${url}/api/v1/query?${params.toString()}`)
      const body = v.parse(QueryResponse, await response.json())
      return body.data.result.map((r) => ({labels: r.metric, value: Number(r.value[1])}))
    },
    close: () => stop(child),
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve()
    })
  })
  child.kill('SIGTERM')
  await exited
}
