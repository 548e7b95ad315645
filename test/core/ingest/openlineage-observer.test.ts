import {join} from 'node:path'

import {expect} from 'chai'
import {Registry} from 'prom-client'

import {outputFileFor, writeOutputRecord} from '../../../src/core/ingest/file-task.js'
import type {IngestObserver} from '../../../src/core/ingest/observer.js'
import {OpenLineageEmitter} from '../../../src/core/ingest/openlineage-observer.js'
import type {Logger} from '../../../src/core/logger.js'
import type {RunEvent} from '../../../src/core/openlineage/event.js'
import {extractLineage} from '../../../src/core/sql/index.js'
import {sha256} from '../../../src/core/util/fs.js'
import {startSink, type Sink} from '../../helpers/openlineage-sink.js'
import {waitFor, writeSql} from '../../helpers/service.js'
import {useTmpDir} from '../../helpers/tmp.js'

const FAST = {attempts: 3, baseDelayMs: 10, maxDelayMs: 20, timeoutMs: 2000}

describe('OpenLineage emitter of watch', function () {
  this.timeout(30_000)
  let sink: Sink | undefined
  let emitter: OpenLineageEmitter | undefined
  const tmp = useTmpDir({
    prefix: 'lineage-ol-emitter-',
    cleanup: async () => {
      await emitter?.close()
      await sink?.close()
    },
  })
  const logged: {level: string; message: string}[] = []
  const logger: Logger = {
    debug: (message) => logged.push({level: 'debug', message}),
    info: (message) => logged.push({level: 'info', message}),
    warn: (message) => logged.push({level: 'warn', message}),
    error: (message) => logged.push({level: 'error', message}),
  }

  /** Ingest one file as the ingestor would report it: output record written, parsed, then recorded. */
  function ingest(observer: IngestObserver, rel: string, sql: string): void {
    const raw = join(tmp.dir, 'raw')
    writeSql(raw, rel, sql)
    const lineage = extractLineage(sql, {path: rel, dialect: 'ansi'})
    const contentHash = sha256(sql)
    writeOutputRecord(outputFileFor(join(tmp.dir, 'out'), rel), {contentHash, size: sql.length, lineage})
    observer.fileParsed?.({
      relPath: rel,
      statements: 1,
      status: lineage.status,
      cacheHit: false,
      cacheUsed: true,
      lineage,
    })
    const row = {path: rel, size: sql.length, mtimeMs: 0, contentHash, graph: 'off' as const, updatedAt: ''}
    observer.fileRecorded?.({relPath: rel, row, latencyMs: 1})
  }

  async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name)
    const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l))
    return v?.value ?? NaN
  }

  /** An emitter whose endpoint is down: the port of a sink just closed (startSink(port) brings it back). */
  async function emitterToClosedPort(
    registry: Registry,
    options: Partial<Parameters<typeof OpenLineageEmitter.create>[0]>,
  ): Promise<{port: number; emitter: OpenLineageEmitter}> {
    logged.length = 0
    const closed = await startSink()
    await closed.close()
    emitter = await OpenLineageEmitter.create({
      url: `http://127.0.0.1:${closed.port}`,
      namespace: 'ns',
      rawDir: join(tmp.dir, 'raw'),
      outDir: join(tmp.dir, 'out'),
      logger,
      registry,
      retry: FAST,
      ...options,
    })
    return {port: closed.port, emitter}
  }

  it('drops and counts events while the endpoint is down, logs the outage once, and sends again once it is back', async () => {
    const registry = new Registry()
    const {port, emitter: e} = await emitterToClosedPort(registry, {})
    const observer = e.observer()
    for (const n of [1, 2, 3]) ingest(observer, `down/${n}.sql`, `INSERT INTO mart.t${n} SELECT a FROM stg.s${n};\n`)
    await waitFor('3 events dropped', () => e.stats.dropped === 3)
    expect(await metric(registry, 'openlineage_events_dropped_total', {reason: 'unreachable'})).to.equal(3)
    // Only the first event was retried: once the endpoint is known down, each is tried once.
    expect(await metric(registry, 'openlineage_send_retries_total')).to.equal(FAST.attempts - 1)
    expect(logged.filter((l) => l.message.includes('is unreachable'))).to.have.length(1)

    sink = await startSink(port)
    // An unchanged file (recorded, never parsed) and a removed one send nothing.
    observer.fileRecorded?.({relPath: 'down/1.sql', row: null, latencyMs: 1})
    ingest(observer, 'up.sql', 'INSERT INTO mart.up SELECT b FROM stg.up;\n')
    observer.fileRecorded?.({
      relPath: 'up.sql',
      row: {path: 'up.sql', size: 1, mtimeMs: 0, contentHash: 'x', graph: 'off', updatedAt: ''},
      latencyMs: 1,
    })
    const s = sink
    await waitFor('1 event sent', () => e.stats.sent === 1)
    expect((s.events as RunEvent[]).map((ev) => ev.job.name)).to.deep.equal(['up.sql'])
    expect(await metric(registry, 'openlineage_events_sent_total')).to.equal(1)
    expect(logged.find((l) => l.message.includes('reachable again'))?.message).to.include(
      '3 event(s) dropped meanwhile',
    )

    s.status = 400
    ingest(observer, 'r1.sql', 'INSERT INTO mart.r SELECT c FROM stg.r;\n')
    ingest(observer, 'r2.sql', 'INSERT INTO mart.r SELECT c FROM stg.r;\n')
    await waitFor('2 events refused', () => e.stats.dropped === 5)
    expect(await metric(registry, 'openlineage_events_dropped_total', {reason: 'refused'})).to.equal(2)
    expect(logged.filter((l) => l.message.includes('refused the event'))).to.have.length(1) // once per status

    await e.close()
    expect(logged.at(-1)).to.deep.equal({
      level: 'warn',
      message: `OpenLineage: 1 event(s) sent to ${s.url}/api/v1/lineage, 5 dropped (0 at stop); "lineage export --to URL" sends them again`,
    })
    emitter = undefined
  })

  it('names the outage for /healthz while the endpoint is down and clears it when it answers, with no new event', async () => {
    const {port, emitter: e} = await emitterToClosedPort(new Registry(), {probeMs: 50})
    expect(e.problem).to.equal(undefined)
    ingest(e.observer(), 'gone.sql', 'INSERT INTO mart.g SELECT a FROM stg.g;\n')
    await waitFor('the event dropped', () => e.stats.dropped === 1)
    expect(e.problem).to.match(
      new RegExp(
        `^OpenLineage endpoint http://127\\.0\\.0\\.1:${port}/api/v1/lineage unreachable since \\d{4}-.*: 1 event\\(s\\) dropped`,
      ),
    )
    // Still down a few probes later.
    await new Promise((r) => setTimeout(r, 200))
    expect(e.problem).to.not.equal(undefined)

    sink = await startSink(port)
    await waitFor('the outage cleared by a probe', () => e.problem === undefined)
    expect(logged.filter((l) => l.message.includes('reachable again'))).to.have.length(1)
    expect(sink.events, 'a probe sends no event').to.deep.equal([])
    expect(sink.requests.map((r) => r.method)).to.include('HEAD')
  })

  it('gives up what is still queued at stop after the close timeout, counted as dropped at shutdown', async () => {
    const registry = new Registry()
    const {emitter: e} = await emitterToClosedPort(registry, {
      retry: {...FAST, attempts: 50, baseDelayMs: 1000, maxDelayMs: 1000},
      closeTimeoutMs: 100,
    })
    const observer = e.observer()
    for (const n of [1, 2]) ingest(observer, `q/${n}.sql`, `INSERT INTO mart.q${n} SELECT a FROM stg.q;\n`)
    await e.close()
    expect(await metric(registry, 'openlineage_events_dropped_total', {reason: 'shutdown'})).to.equal(2)
    expect(await metric(registry, 'openlineage_queue_size')).to.equal(0)
    expect(logged.at(-1)?.message).to.include('0 event(s) sent').and.include('2 dropped (2 at stop)')
    emitter = undefined
  })
})
