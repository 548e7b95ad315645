import {expect} from 'chai'

import {Batcher} from '../../../src/core/ingest/batcher.js'

function clock(): {now: () => number; advance: (ms: number) => void} {
  let t = 0
  return {now: () => t, advance: (ms) => (t += ms)}
}

describe('Batcher', () => {
  it('with batching off passes every event through at once, one at a time, in order, without dedup', async () => {
    const b = new Batcher({enabled: false, batchSize: 50, debounceMs: 5000})
    b.push('upsert', 'a.sql')
    b.push('upsert', 'a.sql')
    b.push('remove', 'b.sql')
    const batches = [await b.next(), await b.next(), await b.next()]
    expect(batches.map((x) => x.map((e) => `${e.op}:${e.relPath}`))).to.deep.equal([
      ['upsert:a.sql'],
      ['upsert:a.sql'],
      ['remove:b.sql'],
    ])
  })

  it('deduplicates by path: the last event wins, and an unlink then add is one upsert', async () => {
    const c = clock()
    const b = new Batcher({enabled: true, batchSize: 50, debounceMs: 1000, now: c.now})
    b.push('upsert', 'a.sql')
    b.push('remove', 'a.sql')
    b.push('upsert', 'a.sql')
    b.push('remove', 'gone.sql')
    expect(b.size).to.equal(2)
    c.advance(1000)
    const batch = await b.next()
    expect(batch.map((e) => `${e.op}:${e.relPath}`).sort()).to.deep.equal(['remove:gone.sql', 'upsert:a.sql'])
  })

  it('flushes as soon as BATCH_SIZE_THRESHOLD paths are pending, before the window ends', async () => {
    const c = clock()
    const b = new Batcher({enabled: true, batchSize: 3, debounceMs: 60_000, now: c.now})
    for (const p of ['1', '2', '3', '4']) b.push('upsert', `${p}.sql`)
    const batch = await b.next()
    expect(batch.map((e) => e.relPath)).to.deep.equal(['1.sql', '2.sql', '3.sql'])
    expect(b.size).to.equal(1)
  })

  it('holds a partial batch until the debounce window has passed', async () => {
    const b = new Batcher({enabled: true, batchSize: 50, debounceMs: 80})
    const started = performance.now()
    b.push('upsert', 'a.sql')
    const batch = await b.next()
    expect(batch).to.have.length(1)
    expect(performance.now() - started).to.be.at.least(70)
  })

  it('keeps the first sighting time of a path so latency counts from when it first changed', async () => {
    const c = clock()
    const b = new Batcher({enabled: true, batchSize: 50, debounceMs: 100, now: c.now})
    b.push('upsert', 'a.sql')
    c.advance(60)
    b.push('upsert', 'a.sql')
    c.advance(40)
    const [event] = await b.next()
    expect(event?.at).to.equal(0)
  })

  it('turning batching off flushes what is pending into the one-by-one queue', async () => {
    const c = clock()
    const b = new Batcher({enabled: true, batchSize: 50, debounceMs: 60_000, now: c.now})
    b.push('upsert', 'a.sql')
    b.push('upsert', 'b.sql')
    b.configure({enabled: false, batchSize: 1, debounceMs: 0})
    expect((await b.next()).map((e) => e.relPath)).to.deep.equal(['a.sql'])
    expect((await b.next()).map((e) => e.relPath)).to.deep.equal(['b.sql'])
  })

  it('close() releases a waiting consumer with what is left, then an empty batch', async () => {
    const c = clock()
    const b = new Batcher({enabled: true, batchSize: 50, debounceMs: 60_000, now: c.now})
    b.push('upsert', 'a.sql')
    const pending = b.next()
    b.close()
    expect(await pending).to.have.length(1)
    expect(await b.next()).to.deep.equal([])
  })

  it('drain() hands back everything pending (shutdown leaves it to the next reconcile)', () => {
    const b = new Batcher({enabled: true, batchSize: 50, debounceMs: 60_000})
    b.push('upsert', 'a.sql')
    b.push('remove', 'b.sql')
    expect(b.drain()).to.have.length(2)
    expect(b.size).to.equal(0)
  })
})
