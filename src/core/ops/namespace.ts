/**
 * The namespace lineage writes a watched folder's files in: part of the key of SqlFile (and Statement, and
 * DERIVES_FROM) in Neo4j, so watchers of two folders can share one graph (docs/namespaces.md), and the
 * namespace of OpenLineage jobs (and, for now, datasets). One rule, highest first: an explicit value
 * (`--namespace`), the LINEAGE_NAMESPACE setting, else the watched folder itself as a `file://` URI with the
 * host name: `file://<host>/<absolute path>` (percent-encoded as a URL), so two hosts or two folders never
 * share a namespace by accident, and the same folder always gets the same one.
 *
 * Why the folder and not its git remote: a remote URL may carry credentials, a clone may have several remotes
 * or none, and a watched folder below the repository root would need its sub-path added to stay unique; the
 * folder path needs no process and no parsing. Set LINEAGE_NAMESPACE to a stable name (the repository, the
 * team) when the folder moves between hosts. Pure apart from reading the host name; throws nothing.
 */
import {hostname} from 'node:os'
import {resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

import type {Settings} from './settings.js'

/** `file://<host><absolute folder>` for a folder (resolved against the working directory). */
export function folderNamespace(folder: string, host: string = hostname()): string {
  const url = pathToFileURL(resolve(folder))
  try {
    url.hostname = host
  } catch {
    // a host name a URL cannot hold: leave the host out rather than guess
  }
  return url.href.replace(/\/$/, '')
}

/** The namespace: `explicit`, else `setting`, else the watched folder's `file://` URI. Blank values do not count. */
export function lineageNamespace(input: {
  explicit?: string | undefined
  setting?: string | undefined
  rawDir: string
}): string {
  for (const value of [input.explicit, input.setting]) {
    if (value !== undefined && value.trim() !== '') return value.trim()
  }
  return folderNamespace(input.rawDir)
}

/** The namespace of a run with these settings: LINEAGE_NAMESPACE, else the watched folder's. */
export function settingsNamespace(s: Pick<Settings, 'openLineage' | 'rawDir'>): string {
  return lineageNamespace({setting: s.openLineage.namespace, rawDir: s.rawDir})
}
