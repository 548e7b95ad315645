/**
 * A worker thread running a module that sits next to the caller's, from the built JavaScript or, under tsx
 * (tests, bin/dev.js), from the TypeScript sources. Workers do not inherit tsx's loader on Node 20, so from
 * sources a small bootstrap registers it inside the worker before importing the module.
 */
import {Worker, type WorkerOptions} from 'node:worker_threads'

/** Start `<name>.js` (or `<name>.ts` from sources) of the folder of `callerUrl` (the caller's import.meta.url). */
export function siblingWorker(callerUrl: string, name: string, options: WorkerOptions): Worker {
  const fromSource = callerUrl.endsWith('.ts')
  const url = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl)
  if (!fromSource) return new Worker(url, options)
  const bootstrap = `import('tsx/esm/api').then(({register}) => { register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(bootstrap, {...options, eval: true})
}
