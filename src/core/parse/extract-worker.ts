/**
 * The thread `lineage parse` extracts in (isolated.ts): it takes one file's text at a time and posts its
 * lineage back as JSON text, marking each statement it starts in the memory its supervisor watches
 * (util/statement-watch.ts). It owns nothing else: no files, no cache.
 */
import {parentPort, workerData} from 'node:worker_threads'

import {extractLineage, type ExtractOptions, type StatementSpan} from '../sql/index.js'
import {StatementBeacon} from '../util/statement-watch.js'

export interface ExtractWorkerInit {
  /** What every file of the run shares (dialect, vars, schema, defaults, limits). */
  options: Omit<ExtractOptions, 'path' | 'onStatement' | 'overBudget'>
  /** The supervisor's StatementWatch memory. */
  beacon: SharedArrayBuffer
}

export interface ExtractRequest {
  id: number
  path: string
  text: string
  /** The file's session defaults (its folders' `.lineage.json` over the run's), over `options`. */
  defaults: {defaultDatabase?: string | undefined; defaultSchema?: string | undefined}
  overBudget?: {spans: StatementSpan[]; budgetMs: number}
}

export type ExtractMessage = {type: 'ready'} | {type: 'result'; id: number; json: string}

const init = workerData as ExtractWorkerInit
const port = parentPort
const beacon = new StatementBeacon(init.beacon)

// Load the dialect's first grammar before reporting ready, so the first statement's budget does not pay for it.
extractLineage('SELECT 1 FROM warm_up', {path: 'warm-up.sql', dialect: init.options.dialect})
port?.postMessage({type: 'ready'} satisfies ExtractMessage)

port?.on('message', (request: ExtractRequest) => {
  const lineage = extractLineage(request.text, {
    ...init.options,
    ...definedOnly(request.defaults),
    path: request.path,
    onStatement: beacon.mark,
    ...(request.overBudget ? {overBudget: request.overBudget} : {}),
  })
  port.postMessage({type: 'result', id: request.id, json: JSON.stringify(lineage)} satisfies ExtractMessage)
})

/** The keys that hold a value (ExtractOptions takes no explicit undefined). */
function definedOnly(d: ExtractRequest['defaults']): {defaultDatabase?: string; defaultSchema?: string} {
  return {
    ...(d.defaultDatabase ? {defaultDatabase: d.defaultDatabase} : {}),
    ...(d.defaultSchema ? {defaultSchema: d.defaultSchema} : {}),
  }
}
