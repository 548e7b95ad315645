import {expect} from 'chai'

import type {FileState} from '../../../src/core/graph/writer.js'
import {entryFor} from '../../../src/core/ingest/dead-letter.js'
import {classify, markedByPath, newestByPath} from '../../../src/core/ops/replay-plan.js'
import {stmt, upsert} from '../../helpers/neo4j.js'

const T = (n: number): string => `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z`
const entry = (namespace: string, n: number, hash = `hash-${n}`) =>
  entryFor(
    {op: upsert('etl/daily.sql', [stmt(0)], hash, T(n)), namespace, code: 'E_NEO4J_UNAVAILABLE', error: 'down'},
    T(9),
  )

describe('replay plan: namespaces', () => {
  it('reads each entry against its own namespace; the same path in two namespaces is two files', async () => {
    // Namespace a holds the file with the same content; b holds nothing.
    const reads: string[] = []
    const writer = {
      fileStates: (paths: string[], namespace: string) => {
        reads.push(`${namespace}: ${paths.join(',')}`)
        const held = namespace === 'a'
        return Promise.resolve(
          new Map<string, FileState>(
            paths.map((path) => [
              path,
              {path, exists: held, contentHash: held ? 'hash-1' : null, ingestedAt: held ? T(1) : null, statements: 1},
            ]),
          ),
        )
      },
    }
    const a = entry('a', 1)
    const b = entry('b', 2)
    const entries = [a, b]
    const plan = await classify(writer, entries, {newest: newestByPath(entries), marked: markedByPath([])})
    expect(reads.sort()).to.deep.equal(['a: etl/daily.sql', 'b: etl/daily.sql'])
    // b's newer entry of the same path does not supersede a's: they are different files.
    expect([plan.get(a), plan.get(b)]).to.deep.equal(['sameContent', 'replay'])
  })
})
