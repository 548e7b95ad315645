/**
 * The public surface of the core library. Commands import from here. Nothing in the core imports
 * @oclif/core, writes to stdout or calls process.exit; heavy modules (neo4j-driver, node-sql-parser)
 * load lazily inside the functions that need them, so importing this file stays cheap.
 */
export * from './errors.js'
export * from './exit-codes.js'
export * from './flag-state.js'
export * from './lineage-types.js'
export * from './logger.js'
export * from './settings.js'
