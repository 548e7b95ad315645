/**
 * The public surface of the core library. Commands import from here. Nothing in the core imports
 * @oclif/core, writes to stdout or calls process.exit; heavy modules (neo4j-driver, node-sql-parser)
 * load lazily inside the functions that need them, so importing this file stays cheap.
 */
export * from './errors.js'
export * from './exit-codes.js'
export * from './ops/flag-state.js'
export * from './types.js'
export * from './logger.js'
export * from './cache/parse-cache.js'
export * from './ops/settings.js'
export * from './graph/model.js'
export * from './ingest/dead-letter.js'
export * from './ops/retry-failed.js'
export * from './graph/writer.js' // cheap: neo4j-driver loads inside GraphWriter.connect
export * from './sql/index.js' // cheap: node-sql-parser grammars load on first parse
