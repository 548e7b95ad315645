/**
 * A worker thread running a module that sits next to the caller's, from the built JavaScript or, under tsx
 * (tests, bin/dev.js), from the TypeScript sources. Workers do not inherit tsx's loader on Node 20, so from
 * sources a small bootstrap registers it inside the worker before importing the module.
 */
import {Worker, type WorkerOptions} from 'node:worker_threads'

import {errorMessage} from '../errors.js'

/** Start `<name>.js` (or `<name>.ts` from sources) of the folder of `callerUrl` (the caller's import.meta.url). */
export function siblingWorker(callerUrl: string, name: string, options: WorkerOptions): Worker {
  const fromSource = callerUrl.endsWith('.ts')
  const url = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl)
  if (!fromSource) return new Worker(url, options)
  const bootstrap = `import('tsx/esm/api').then(({register}) => { register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(bootstrap, {...options, eval: true})
}

/** Why a worker died, from its 'error' event: its heap limit (resourceLimits) named when that was the cause. */
export function workerErrorReason(error: Error & {code?: string}, maxOldGenerationSizeMb: number): string {
  return error.code === 'ERR_WORKER_OUT_OF_MEMORY'
    ? `worker ran out of memory (limit ${maxOldGenerationSizeMb} MB)`
    : errorMessage(error)
}
