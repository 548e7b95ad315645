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

  it('drains a backlog of 1,000,000 events in full batches, oldest first, each path once', async () => {
    // A first scan of a big monorepo queues every file at once; a spread of the backlog into a call used to
    // throw "Maximum call stack size exceeded" from about 125k pending events.
    const c = clock()
    const b = new Batcher({enabled: true, batchSize: 500, debounceMs: 1000, now: c.now})
    const total = 1_000_000
    for (let i = 0; i < total; i++) {
      b.push('upsert', `f${String(i)}.sql`)
      if (i % 1000 === 0) c.advance(1)
    }
    b.push('remove', 'f0.sql') // a repeat keeps its first place in line and its first sighting time
    expect(b.size).to.equal(total)
    c.advance(1000)
    let seen = 0
    let batches = 0
    let lastAt = -1
    for (;;) {
      if (b.size === 0) break
      const batch = await b.next()
      if (batches === 0) expect(batch[0]).to.deep.equal({op: 'remove', relPath: 'f0.sql', at: 0})
      for (const e of batch) {
        if (e.at < lastAt) expect.fail(`${e.relPath} (seen at ${String(e.at)}) came after a later event`)
        lastAt = e.at
      }
      expect(batch.length).to.equal(500)
      seen += batch.length
      batches++
    }
    expect(seen).to.equal(total)
    expect(batches).to.equal(total / 500)
  })

  it('with batching off passes a backlog of 1,000,000 events through one at a time, in order', async () => {
    const b = new Batcher({enabled: false, batchSize: 1, debounceMs: 0})
    const total = 1_000_000
    for (let i = 0; i < total; i++) b.push('upsert', String(i))
    for (let i = 0; i < total; i++) {
      const batch = await b.next()
      if (batch.length !== 1 || batch[0]?.relPath !== String(i))
        expect(batch.map((e) => e.relPath)).to.deep.equal([String(i)])
    }
    expect(b.size).to.equal(0)
  })

  it('turning batching off with 200,000 pending keeps them in order ahead of later events', async () => {
    const c = clock()
    const b = new Batcher({enabled: true, batchSize: 50, debounceMs: 60_000, now: c.now})
    for (let i = 0; i < 200_000; i++) b.push('upsert', String(i))
    b.configure({enabled: false, batchSize: 1, debounceMs: 0})
    b.push('remove', 'late')
    expect((await b.next())[0]?.relPath).to.equal('0')
    const rest = b.drain()
    expect(rest).to.have.length(200_000)
    expect(rest[199_998]?.relPath).to.equal('199999')
    expect(rest[199_999]?.relPath).to.equal('late')
  })
})
