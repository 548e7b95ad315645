/**
 * What a Neo4j driver error means for lineage: connectivity (Neo4j unreachable: the health goes down, the op
 * is kept for a replay, a batch is not split) or a refused write; the LineageError a failed connect becomes;
 * and the redaction every message passes through so that no password and no `user:password@` URI reaches a
 * log, a failed-ingestion entry or an error. Pure; throws nothing (it builds the errors others throw).
 */
import {errorMessage, LineageError} from '../errors.js'
import type {Neo4jConnection, WriteFailure} from './types.js'

/** The driver's codes for "no server to talk to"; its connection errors (refused, reset, timed out) carry one. */
const CONNECTIVITY_CODES = new Set(['ServiceUnavailable', 'SessionExpired'])
/**
 * The driver's errors that come without a code (code 'N/A'): a pool that could not hand out a connection in
 * time (a server that accepts and never answers), a pool closed under a write, and a socket error surfacing
 * unwrapped.
 */
const CODELESS_CONNECTIVITY = /Connection acquisition timed out|Pool is closed|ECONNREFUSED|ECONNRESET|EPIPE/

/** Thrown instead of trying a write while GraphHealth says Neo4j went away a moment ago. */
export class Neo4jUnavailable extends Error {
  constructor(reason: string) {
    super(`Neo4j unavailable (failing fast after: ${reason})`)
    this.name = 'Neo4jUnavailable'
  }
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined
  return typeof error.code === 'string' && error.code !== 'N/A' ? error.code : undefined
}

export function isConnectivity(error: unknown): boolean {
  if (error instanceof Neo4jUnavailable) return true
  const code = codeOf(error)
  if (code !== undefined) return CONNECTIVITY_CODES.has(code)
  return CODELESS_CONNECTIVITY.test(errorMessage(error))
}

/** A failed write as the failed-ingestion file keeps it: the code, and Neo4j's code and message, redacted. */
export function describeFailure(error: unknown, conn: Neo4jConnection): WriteFailure {
  const connectivity = isConnectivity(error)
  const code = codeOf(error)
  const prefix = code?.startsWith('Neo.') === true ? `${code}: ` : ''
  const text = redact(`${prefix}${errorMessage(error)}`, conn)
  return {
    code: connectivity ? 'E_NEO4J_UNAVAILABLE' : 'E_NEO4J_WRITE',
    error: text.length > 2000 ? `${text.slice(0, 2000)}...` : text,
    connectivity,
  }
}

/** A failed connect: credentials or database rejected is configuration (E_CONFIG), anything else unreachable. */
export function connectError(error: unknown, conn: Neo4jConnection): LineageError {
  const code = codeOf(error)
  const where = `Neo4j at ${safeUri(conn.uri)}`
  const reason = redact(errorMessage(error), conn)
  if (code === 'Neo.ClientError.Security.Unauthorized' || code === 'Neo.ClientError.Security.AuthenticationRateLimit') {
    return new LineageError(
      'E_CONFIG',
      `${where} rejected the credentials of user "${conn.user}"`,
      'Check NEO4J_USER and NEO4J_PASSWORD (or NEO4J_PASSWORD_FILE).',
    )
  }
  if (code === 'Neo.ClientError.Database.DatabaseNotFound') {
    return new LineageError('E_CONFIG', `${where}: ${reason}`, 'Check NEO4J_DATABASE.')
  }
  return new LineageError('E_NEO4J_UNAVAILABLE', `${where} is unreachable: ${reason}`)
}

/** The URI without any user:password@ part. */
export function safeUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//')
}

/** The text with the URI's credentials and the password taken out (a password under 4 characters is left:
 * replacing it would mangle ordinary words). */
export function redact(text: string, conn: Neo4jConnection): string {
  let out = text.split(conn.uri).join(safeUri(conn.uri))
  if (conn.password.length >= 4) out = out.split(conn.password).join('***')
  return out
}
