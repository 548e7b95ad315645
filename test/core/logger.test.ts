import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, renameSync, truncateSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {createLogger, openLogger, REDACTED_KEYS, type ServiceLogger} from '../../src/core/logger.js'
import {useTmpDir} from '../helpers/tmp.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const NOON = new Date('2026-01-01T12:00:00.000Z')

/** A stream that keeps what is written to it. */
function capture(): {stream: PassThrough; text: () => string} {
  const stream = new PassThrough()
  const chunks: string[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()))
  return {stream, text: () => chunks.join('')}
}

async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 5000) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function jsonLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('logger', () => {
  let logger: ServiceLogger | undefined
  const tmp = useTmpDir({cleanup: () => logger?.close()})

  async function fileLogger(file: string, err = capture()): Promise<ServiceLogger> {
    logger = await openLogger({level: 'info', file, stream: err.stream, clock: () => NOON})
    return logger
  }

  it('writes one JSON line per call with time, level, msg and the fields, from the level up', async () => {
    const file = join(tmp.dir, 'logs', 'ingestion.log')
    const log = await fileLogger(file)
    log.debug('not at info')
    log.info('reconcile: 3 file(s)', {queued: 3})
    log.error('a.sql: bad', {path: 'a.sql', code: 'E_PARSE', line: 7})
    await log.close()
    expect(jsonLines(file)).to.deep.equal([
      {level: 'info', time: NOON.toISOString(), msg: 'reconcile: 3 file(s)', queued: 3},
      {level: 'error', time: NOON.toISOString(), msg: 'a.sql: bad', path: 'a.sql', code: 'E_PARSE', line: 7},
    ])
  })

  it('writes the readable line to the stream as before: level tag, message, key=value', () => {
    const err = capture()
    const log = createLogger({level: 'debug', stream: err.stream})
    log.info('plain')
    log.warn('a.sql: 1 statement(s) failed', {path: 'a.sql', line: 3, reason: 'no FROM'})
    log.debug('retry', {error: 'timeout', detail: {attempt: 2}})
    expect(err.text()).to.equal(
      'plain\nwarn: a.sql: 1 statement(s) failed path=a.sql line=3 reason=no FROM\n' +
        'debug: retry error=timeout detail={"attempt":2}\n',
    )
  })

  it('redacts secret fields, top level and one object down, in the file and on the stream', async () => {
    const file = join(tmp.dir, 'ingestion.log')
    const err = capture()
    const log = await fileLogger(file, err)
    const secrets = Object.fromEntries(REDACTED_KEYS.map((key) => [key, `s3cr3t-${key}`]))
    log.warn('connecting', {...secrets, conn: {uri: 'bolt://db:7687', user: 'neo4j', password: 's3cr3t-nested'}})
    // What the code logs today must stay readable.
    const kept = {stack: 'Error: x', path: 'a.sql', code: 'E_PARSE', line: 1, reason: 'r', error: 'e'}
    log.error('failed', kept)
    await log.close()
    const [first, second] = jsonLines(file)
    for (const key of REDACTED_KEYS) expect(first, key).to.have.property(key, '[redacted]')
    expect(first).to.have.deep.property('conn', {uri: 'bolt://db:7687', user: 'neo4j', password: '[redacted]'})
    expect(second).to.include(kept)
    expect(readFileSync(file, 'utf8')).not.to.include('s3cr3t')
    expect(err.text()).not.to.include('s3cr3t')
    expect(err.text()).to.include('password=[redacted]').and.include('path=a.sql')
  })

  it('after logrotate renames the file, reopen() writes on at the old path and no line is lost', async () => {
    const file = join(tmp.dir, 'ingestion.log')
    const log = await fileLogger(file)
    for (let i = 0; i < 500; i++) log.info('before', {i})
    await until(() => existsSync(file) && jsonLines(file).length === 500)
    renameSync(file, `${file}.1`)
    log.reopen()
    for (let i = 0; i < 500; i++) log.info('after', {i})
    await log.close()
    const numbers = (lines: Record<string, unknown>[], msg: string): unknown[] =>
      lines.filter((l) => l.msg === msg).map((l) => l.i)
    const all = [...Array(500).keys()]
    expect(numbers(jsonLines(`${file}.1`), 'before')).to.deep.equal(all)
    expect(numbers(jsonLines(`${file}.1`), 'after')).to.deep.equal([])
    expect(numbers(jsonLines(file), 'after')).to.deep.equal(all)
  })

  it('appends, so a copytruncate rotation leaves no hole of zero bytes before the next line', async () => {
    const file = join(tmp.dir, 'ingestion.log')
    const log = await fileLogger(file)
    log.info('x'.repeat(4000))
    await until(() => existsSync(file) && readFileSync(file).length > 4000)
    writeFileSync(`${file}.1`, readFileSync(file))
    truncateSync(file, 0)
    log.info('after the copy')
    await log.close()
    const text = readFileSync(file, 'utf8')
    expect(text.startsWith('{')).to.equal(true)
    expect(jsonLines(file).map((l) => l.msg)).to.deep.equal(['after the copy'])
  })

  it('close() resolves only when every line logged before it is in the file', async () => {
    const file = join(tmp.dir, 'ingestion.log')
    const log = await fileLogger(file)
    const payload = 'p'.repeat(200)
    for (let i = 0; i < 20_000; i++) log.info('line', {i, payload})
    await log.close()
    const lines = jsonLines(file)
    expect(lines).to.have.length(20_000)
    expect(lines.at(-1)).to.include({i: 19_999})
    log.info('after close') // dropped, and no throw
  })

  it('a log file that cannot be written is said once on the stream; logging goes on and reopen() retries', async () => {
    const blocker = join(tmp.dir, 'not-a-folder')
    writeFileSync(blocker, '')
    const file = join(blocker, 'ingestion.log')
    const err = capture()
    const log = await fileLogger(file, err)
    log.info('still on stderr')
    log.reopen()
    expect(err.text().match(/log file .* cannot be written/g)).to.have.length(2)
    expect(err.text()).to.include('still on stderr\n')
    await log.close()
    expect(existsSync(file)).to.equal(false)
  })

  it('a logger without a file loads no pino (every command creates one at start-up); a log file does', () => {
    const log = join(tmp.dir, 'x.log')
    const script = `const {createRequire} = await import('node:module')
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => /[/]pino[/]/.test(k))
      const {createLogger} = await import('./src/core/index.ts')
      const {openLogger} = await import('./src/core/logger.ts')
      createLogger({level: 'info', stream: process.stderr}).info('x', {a: 1})
      await (await openLogger({level: 'info'})).close()
      const before = loaded()
      await (await openLogger({level: 'info', file: ${JSON.stringify(log)}})).close()
      console.log(JSON.stringify({before, after: loaded()}))`
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    const {before, after} = JSON.parse(out) as {before: string[]; after: string[]}
    expect(before).to.deep.equal([])
    expect(after).not.to.deep.equal([])
  })
})
