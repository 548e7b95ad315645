/** One start-up reconcile over test folders, with the defaults the reconcile tests share. */
import {silentLogger} from '../../src/core/index.js'
import {reconcile, type ReconcileInput} from '../../src/core/ingest/reconciler.js'

/** What a reconcile queued (`<op> <path>`, in order), the reasons it held retractions back, and its count. */
export function runReconcile(input: Pick<ReconcileInput, 'rawDir' | 'outDir' | 'ledger'> & Partial<ReconcileInput>): {
  queued: string[]
  held: string[]
  count: number
} {
  const queued: string[] = []
  const held: string[] = []
  const count = reconcile(
    {
      extensions: ['.sql'],
      neo4j: {},
      reingest: false,
      logger: silentLogger,
      onHeld: (reason) => held.push(reason),
      ...input,
    },
    (op, rel) => queued.push(`${op} ${rel}`),
  )
  return {queued, held, count}
}
