/**
 * Sending OpenLineage events over HTTP, as the OpenLineage HTTP transport does: one JSON event per POST
 * (Marquez's /api/v1/lineage takes one event per request), with Node's fetch.
 *
 * The endpoint URL may carry credentials: `https://user:secret@host/...` becomes an `Authorization: Basic`
 * header (fetch refuses URLs with credentials), and a query string (`?api_key=...`) is sent as given. Neither
 * ever appears in a message: `displayUrl` drops both. A URL with no path gets the transport's default endpoint,
 * `/api/v1/lineage`.
 *
 * A send is retried with exponential backoff (with jitter) on what may pass: a network error, a timeout, 408,
 * 429 and 5xx. Any other status is a refusal of the event itself and is not retried. Throws only in
 * `parseEndpoint`, for a URL that is not http(s).
 */
import {setTimeout as delay} from 'node:timers/promises'

import {errorMessage, LineageError} from '../errors.js'

export const DEFAULT_ENDPOINT_PATH = '/api/v1/lineage'

export interface Endpoint {
  /** Where to POST, without credentials. */
  url: string
  headers: Record<string, string>
  /** The URL as it may be logged: no user, password or query. */
  display: string
}

export function isHttpUrl(text: string): boolean {
  return /^https?:\/\//i.test(text)
}

/** The URL with any user:password@ and query string taken out, for messages. Not a URL: `<invalid URL>`. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw)
    url.username = ''
    url.password = ''
    const query = url.search !== ''
    url.search = ''
    url.hash = ''
    return `${url.href}${query ? '?…' : ''}`
  } catch {
    return '<invalid URL>'
  }
}

/** Throws LineageError `code` (E_USAGE for a flag, E_CONFIG for a setting) when `raw` is not an http(s) URL. */
export function parseEndpoint(
  raw: string,
  setting = 'the OpenLineage URL',
  code: 'E_USAGE' | 'E_CONFIG' = 'E_USAGE',
): Endpoint {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new LineageError(code, `${setting} is not a URL`, 'Give an http:// or https:// URL.')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LineageError(code, `${setting} ${displayUrl(raw)} is not http(s)`, 'Give an http:// or https:// URL.')
  }
  const headers: Record<string, string> = {'content-type': 'application/json'}
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username)
    const password = decodeURIComponent(url.password)
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
    url.username = ''
    url.password = ''
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = DEFAULT_ENDPOINT_PATH
  return {url: url.href, headers, display: displayUrl(url.href)}
}

export interface RetryPolicy {
  /** Tries per event, the first included. */
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
  /** Per request. */
  timeoutMs: number
}

export const DEFAULT_RETRY: RetryPolicy = {attempts: 5, baseDelayMs: 500, maxDelayMs: 8000, timeoutMs: 10_000}

export type SendResult =
  | {ok: true; attempts: number}
  /** `refused`: the endpoint answered and rejected the event (not retried); else it could not be reached. */
  | {ok: false; attempts: number; refused: boolean; reason: string}

/** POST once; `stop` aborts it (a service shutting down). */
export async function postOnce(
  endpoint: Endpoint,
  body: string,
  timeoutMs: number,
  stop?: AbortSignal,
): Promise<SendResult> {
  try {
    const timeout = AbortSignal.timeout(timeoutMs)
    const res = await fetch(endpoint.url, {
      method: 'POST',
      headers: endpoint.headers,
      body,
      signal: stop ? AbortSignal.any([timeout, stop]) : timeout,
    })
    // Read (and drop) the body, so the connection goes back to the pool.
    await res.arrayBuffer().catch(() => undefined)
    if (res.ok) return {ok: true, attempts: 1}
    const passing = res.status === 408 || res.status === 429 || res.status >= 500
    return {ok: false, attempts: 1, refused: !passing, reason: `HTTP ${res.status}`}
  } catch (error) {
    return {ok: false, attempts: 1, refused: false, reason: networkReason(error, endpoint)}
  }
}

/**
 * POST with retries per `policy`; `onFailedAttempt` hears of each failure that will be retried. `stop` ends the
 * retries (and the request in flight) at once, with the last failure.
 */
export async function send(
  endpoint: Endpoint,
  body: string,
  policy: RetryPolicy,
  options: {onFailedAttempt?: (reason: string) => void; stop?: AbortSignal} = {},
): Promise<SendResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await postOnce(endpoint, body, policy.timeoutMs, options.stop)
    if (result.ok) return {ok: true, attempts: attempt}
    if (result.refused || attempt >= policy.attempts || options.stop?.aborted) return {...result, attempts: attempt}
    options.onFailedAttempt?.(result.reason)
    try {
      await delay(backoff(attempt, policy), undefined, options.stop ? {signal: options.stop} : {})
    } catch {
      return {...result, attempts: attempt}
    }
  }
}

/** The delay before try `attempt + 1`: base * 2^(attempt-1), capped, the upper half jittered. */
export function backoff(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  return full / 2 + Math.random() * (full / 2)
}

/** fetch's "fetch failed" with the cause that says why (ECONNREFUSED, a timeout), never the URL's secrets. */
function networkReason(error: unknown, endpoint: Endpoint): string {
  let reason = errorMessage(error)
  if (error instanceof Error && error.name === 'TimeoutError') reason = 'timed out'
  const cause = error instanceof Error ? (error.cause as {code?: unknown; message?: unknown} | undefined) : undefined
  if (typeof cause?.code === 'string') reason = cause.code
  else if (typeof cause?.message === 'string') reason = `${reason}: ${cause.message}`
  return reason.split(endpoint.url).join(endpoint.display)
}
