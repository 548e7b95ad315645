/**
 * What every statement extractor receives: the dialect, the schema catalogue (the caller's plus the
 * tables defined by earlier statements of the same file), and whether the statement sits inside a
 * procedure body (where `SELECT ... INTO` assigns variables rather than creating tables).
 */
import type {DialectInfo} from './dialects.js'
import type {QueryContext} from './query.js'
import type {SchemaIndex} from './schema.js'

export interface StatementContext {
  dialect: DialectInfo
  schema: SchemaIndex
  query: QueryContext
  inBody: boolean
}

export function statementContext(dialect: DialectInfo, schema: SchemaIndex, inBody = false): StatementContext {
  return {
    dialect,
    schema,
    query: {schema, tsqlAssign: dialect.family === 'tsql', doubleQuotedIdents: dialect.names.doubleQuotedIdents},
    inBody,
  }
}
