/** One thread of the parse ceiling (ceiling.ts): load the grammars, then extract files until none is left. */
import {parentPort, workerData} from 'node:worker_threads'

import type {CeilingMessage, CeilingWorkerData} from './ceiling.js'
import {extractLineageFromBuffer} from '../core/index.js'

const data = workerData as CeilingWorkerData
const counter = new Int32Array(data.next)
const options = {
  dialect: data.options.dialect,
  ...(data.options.defaultDatabase ? {defaultDatabase: data.options.defaultDatabase} : {}),
  ...(data.options.defaultSchema ? {defaultSchema: data.options.defaultSchema} : {}),
}
const post = (m: CeilingMessage): void => {
  parentPort?.postMessage(m)
}

// Load the dialect's grammar before the clock starts, as a service worker does before it reports ready.
extractLineageFromBuffer(Buffer.from('SELECT 1 FROM warm_up'), {...options, path: 'warm-up.sql'})
post({type: 'ready'})
parentPort?.once('message', () => {
  let files = 0
  let statements = 0
  for (let i = Atomics.add(counter, 0, 1); i < data.files.length; i = Atomics.add(counter, 0, 1)) {
    const f = data.files[i]
    if (!f) break
    const content = Buffer.from(f.content.buffer, f.content.byteOffset, f.content.byteLength)
    const lineage = extractLineageFromBuffer(content, {...options, path: f.relPath})
    files++
    statements += lineage.statements.length
  }
  post({type: 'done', files, statements})
})
