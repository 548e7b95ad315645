import {writeFileSync} from 'node:fs'
import {hostname} from 'node:os'

import {expect} from 'chai'

import {
  readServiceReport,
  serviceAlive,
  serviceFile,
  type ServiceReport,
  writeServiceReport,
} from '../../../src/core/ops/service-state.js'
import {useTmpDir} from '../../helpers/tmp.js'

describe('service report', () => {
  const tmp = useTmpDir()
  const report = (over: Partial<ServiceReport> = {}): ServiceReport => ({
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    heartbeatAt: new Date().toISOString(),
    status: 'ok',
    appliedRevision: 2,
    features: {'parse-cache': true, batching: true, 'neo4j-batch': true, parallel: false, metrics: true},
    workers: 4,
    metricsUrl: null,
    rawDir: '/raw',
    outDir: '/out',
    graph: 'off',
    problems: [],
    queueSize: 0,
    filesProcessed: 7,
    ...over,
  })

  it('reads back what the service wrote; a live pid with a fresh heartbeat is alive', () => {
    const written = report()
    writeServiceReport(tmp.dir, written)
    const read = readServiceReport(tmp.dir)
    expect(read).to.deep.equal(written)
    expect(serviceAlive(read)).to.equal(true)
    expect(serviceAlive(report({heartbeatAt: new Date(Date.now() - 60_000).toISOString()}))).to.equal(false)
  })

  it('takes a report that is not of its shape for no report at all', () => {
    for (const content of [
      '{',
      '[]',
      JSON.stringify({pid: process.pid, heartbeatAt: 'now'}),
      JSON.stringify(report({status: 'busy' as 'ok'})),
    ]) {
      writeFileSync(serviceFile(tmp.dir), content)
      expect(readServiceReport(tmp.dir), content).to.equal(undefined)
    }
  })
})
