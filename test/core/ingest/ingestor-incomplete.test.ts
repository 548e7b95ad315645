import {join} from 'node:path'

import {expect} from 'chai'

import {failedFileSink} from '../../../src/core/ingest/dead-letter.js'
import type {FileTask, FileTaskResult} from '../../../src/core/ingest/file-task.js'
import {type IngestConfig, Ingestor} from '../../../src/core/ingest/ingestor.js'
import {Ledger} from '../../../src/core/ingest/ledger.js'
import {inlineParser, type Parser} from '../../../src/core/ingest/parsers.js'
import {silentLogger} from '../../../src/core/logger.js'
import type {FileLineage} from '../../../src/core/types.js'
import {useTmpDir} from '../../helpers/tmp.js'

/** A pool whose first `cut` parses of the file run out of time; the file's content never changes. */
function slowThenFine(cut: number, seen: FileTask[]): Parser {
  return {
    thread: 'worker',
    run: (task: FileTask): Promise<FileTaskResult> => {
      seen.push(task)
      const base = {relPath: task.relPath, contentHash: 'h1', size: 10, mtimeMs: 5}
      if (task.knownHash === 'h1') return Promise.resolve({kind: 'unchanged', ...base})
      const lineage: FileLineage = {
        path: task.relPath,
        dialect: 'ansi',
        status: 'ok',
        sources: [],
        targets: ['t'],
        statements: [],
        errors: [],
        parserVersion: 't',
      }
      if (cut-- > 0) lineage.incomplete = true
      return Promise.resolve({kind: 'parsed', ...base, lineage, cacheHit: false, parseMs: 0})
    },
  }
}

describe('Ingestor: a parse that ran out of time', () => {
  let ledger: Ledger
  const tmp = useTmpDir({
    cleanup: () => {
      ledger.close()
    },
  })
  beforeEach(() => {
    ledger = Ledger.open(join(tmp.dir, 'ledger.sqlite'), silentLogger)
  })

  it('is counted in the ledger, never taken as unchanged, and parsed with double the limit until complete', async () => {
    const config: IngestConfig = {
      features: {'parse-cache': true, batching: true, 'neo4j-batch': true, parallel: true, metrics: false},
      rawDir: join(tmp.dir, 'raw'),
      outDir: join(tmp.dir, 'out'),
      failedFile: join(tmp.dir, 'failed.jsonl'),
      dialect: 'ansi',
      maxFileBytes: 1e6,
      parseTimeoutMs: 1000,
    }
    const seen: FileTask[] = []
    const pool = slowThenFine(2, seen)
    const ingestor = new Ingestor(config, {
      logger: silentLogger,
      ledger,
      inline: inlineParser(() => undefined),
      pool: () => pool,
      graph: undefined,
      failures: failedFileSink(join(tmp.dir, 'failed.jsonl')),
    })
    const counts: (number | undefined)[] = []
    for (let i = 0; i < 4; i++) {
      await ingestor.process([{op: 'upsert', relPath: 'a.sql', at: performance.now()}])
      await ingestor.drain()
      counts.push(ledger.get('a.sql')?.incomplete)
    }
    expect(counts).to.deep.equal([1, 2, undefined, undefined])
    expect(seen.map((t) => [t.knownHash, t.timeoutMs, t.deadlineMs])).to.deep.equal([
      [undefined, 1000, 800],
      // incomplete: the ledger's hash must not let it pass as unchanged, and its limit doubles
      [undefined, 2000, 1600],
      [undefined, 4000, 3200],
      // complete: unchanged from now on, with the normal limit
      ['h1', 1000, 800],
    ])
    expect(ingestor.stats).to.include({files: 3, unchanged: 1})
    expect(ledger.incomplete()).to.deep.equal([])
  })
})
