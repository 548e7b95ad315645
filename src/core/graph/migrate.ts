/**
 * The migration of a graph written before namespaces (docs/namespaces.md): every SqlFile, Statement and
 * DERIVES_FROM without a namespace is given `namespace` (the namespace of the watcher that connects first
 * after the upgrade), then the old single-property constraints (SqlFile.path, Statement.id) are dropped. Run
 * by GraphWriter.connect after it creates the composite constraints (graph/cypher SCHEMA), so before any
 * write. Idempotent and resumable: each step touches only what has no namespace yet, in transactions of its
 * own (an interrupted run keeps what it did), and the old constraints go last, so while one exists the next
 * connect finishes the job; once they are gone and every SqlFile has a namespace, it costs two small reads.
 * Throws what the driver throws.
 */
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   neo4j-driver declares its option bags (SessionConfig) as classes, yet documents and accepts plain objects. */
import type {Driver} from 'neo4j-driver'

import {MIGRATE} from './cypher.js'

/** What one migration run changed; all zero (and `droppedConstraints` empty) when there was nothing to do. */
export interface MigrationResult {
  files: number
  statements: number
  derives: number
  droppedConstraints: string[]
}

export async function migrateNamespaces(
  driver: Driver,
  db: {database?: string},
  namespace: string,
): Promise<MigrationResult> {
  const result: MigrationResult = {files: 0, statements: 0, derives: 0, droppedConstraints: []}
  // Auto-commit queries: CALL ... IN TRANSACTIONS cannot run inside a managed transaction.
  const session = driver.session({...db, defaultAccessMode: 'WRITE'})
  try {
    const run = async (cypher: string): Promise<Record<string, unknown>[]> =>
      (await session.run(cypher, {namespace})).records.map((r) => r.toObject())
    const count = async (cypher: string): Promise<number> => Number((await run(cypher))[0]?.n ?? 0)
    const old = (await run(MIGRATE.oldConstraints)).map((r) => String(r.name))
    if (old.length === 0 && (await count(MIGRATE.unmigratedFiles)) === 0) return result
    result.derives = await count(MIGRATE.derives)
    result.statements = await count(MIGRATE.statements)
    result.files = await count(MIGRATE.files)
    for (const statement of MIGRATE.dropOld) await run(statement)
    result.droppedConstraints = old.sort()
    return result
  } finally {
    await session.close()
  }
}
