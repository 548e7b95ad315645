/**
 * Starting the ingestion service: what must hold before it runs (the watched folder exists, the output folder
 * can be made), then the log, the metrics registry and the OpenLineage emitter it writes to, then the Service
 * (service.ts) itself. A failed start closes what it opened, last the log, and throws.
 */
import {existsSync, mkdirSync, statSync} from 'node:fs'

import {LineageError} from '../errors.js'
import {openLogger} from '../logger.js'
import {FlagWatcher} from './flag-watcher.js'
import {Metrics} from './metrics.js'
import type {OpenLineageEmitter} from './openlineage-observer.js'
import {Service} from './service.js'
import type {ServiceHandle, ServiceOptions} from './service-types.js'
import {openLineageFor} from './startup.js'

export async function startService(options: ServiceOptions): Promise<ServiceHandle> {
  const flags = FlagWatcher.load(options.settings)
  const {rawDir, outDir, logFile} = flags.settings
  if (!existsSync(rawDir) || !statSync(rawDir).isDirectory()) {
    throw new LineageError(
      'E_CONFIG',
      `the watched folder ${rawDir} does not exist`,
      'Create it, or pass the folder to watch: lineage watch RAW OUT',
    )
  }
  mkdirSync(outDir, {recursive: true})
  const logger = await openLogger({
    level: options.logLevel,
    file: logFile,
    ...(options.stream ? {stream: options.stream} : {}),
  })
  const metrics = await Metrics.create()
  let openLineage: OpenLineageEmitter | undefined
  try {
    openLineage = await openLineageFor(flags.settings, logger, metrics.signals)
  } catch (error) {
    await logger.close()
    throw error
  }
  const service = new Service(options, flags, logger, metrics, openLineage)
  try {
    return await service.start()
  } catch (error) {
    await service.abort()
    throw error
  }
}
