import {expect} from 'chai'

import {FileOutcomes} from '../../../src/core/ingest/file-outcomes.js'
import type {ParsedResult} from '../../../src/core/ingest/file-task.js'
import {emptyStats, type IngestConfig} from '../../../src/core/ingest/ingestor.js'
import {extractLineage} from '../../../src/core/sql/index.js'

function outcomes() {
  const stats = emptyStats()
  const errors: string[] = []
  const failedEvents: string[] = []
  const ignore = (): void => undefined
  const logger = {debug: ignore, info: ignore, warn: ignore, error: (m: string) => errors.push(m)}
  const features = {'parse-cache': false, batching: true, 'neo4j-batch': true, parallel: true, metrics: true}
  const config: IngestConfig = {
    features,
    rawDir: '/srv/raw',
    outDir: '/srv/out',
    failedFile: '/srv/failed.jsonl',
    dialect: 'ansi',
    maxFileBytes: 1_000_000,
    parseTimeoutMs: 10_000,
  }
  const o = new FileOutcomes(stats, logger, {fileFailed: (e) => failedEvents.push(e.relPath)}, () => config)
  return {o, stats, errors, failedEvents}
}

function parsed(relPath: string, outputError?: {code: string; message: string}): ParsedResult {
  const lineage = extractLineage('INSERT INTO mart.t SELECT a FROM stg.s;', {path: relPath, dialect: 'ansi'})
  return {
    kind: 'parsed',
    relPath,
    contentHash: 'h',
    size: 10,
    mtimeMs: 1,
    lineage,
    cacheHit: false,
    parseMs: 1,
    ...(outputError ? {outputError} : {}),
  }
}

describe('FileOutcomes: outputs a full disk refused', () => {
  const enospc = {code: 'ENOSPC', message: 'cannot write /srv/out/a.sql.lineage.json: no space left on device'}

  it('counts and logs a refused output once while it is retried, says so in `problem`, and clears when written', () => {
    const {o, stats, errors, failedEvents} = outcomes()
    expect(o.problem).to.equal(undefined)
    for (let retry = 0; retry < 3; retry++) {
      o.parsed(parsed('a.sql', enospc))
      o.endBatch()
    }
    expect(stats.failed, 'one failure, not one per retry').to.equal(1)
    expect(failedEvents).to.deep.equal(['a.sql'])
    expect(errors).to.have.length(1)
    expect(errors[0]).to.include('1 output file(s) could not be written')
    expect(o.dueOutputs()).to.deep.equal(['a.sql'])
    expect(o.problem).to.equal(`output folder /srv/out: 1 output file(s) not written (ENOSPC: ${enospc.message})`)

    o.parsed(parsed('a.sql'))
    expect(o.dueOutputs()).to.deep.equal([])
    expect(o.problem).to.equal(undefined)
    // Refused again later: a new failure, counted again.
    o.parsed(parsed('a.sql', enospc))
    expect(stats.failed).to.equal(2)
  })
})
