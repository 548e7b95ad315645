/**
 * One size of `lineage bench --scale`, in a process of its own so its peak RSS and CPU are its own: what
 * `watch --once` does (startService, once) over the folder the parent generated, with the built-in defaults
 * (the embedded default: no graph, every other feature as shipped), then the run's summary and
 * process.resourceUsage() back to the parent over IPC. Any failure is reported the same way, never thrown.
 */
import {type ScaleChildRequest, type ScaleChildResult} from './scale.js'
import {errorMessage, startService} from '../core/index.js'

async function run(request: ScaleChildRequest): Promise<ScaleChildResult> {
  const t0 = performance.now()
  try {
    const service = await startService({
      // No environment and no config file: the built-in defaults, whatever the shell running the bench has set.
      settings: {env: {}, flags: request.flags},
      once: true,
      poll: false,
      settleMs: 0,
      reingest: false,
      logLevel: 'error',
      serveMetrics: false,
    })
    const summary = await service.done
    const seconds = (performance.now() - t0) / 1000
    const usage = process.resourceUsage()
    return {
      ok: true,
      seconds,
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
      peakRssBytes: usage.maxRSS * 1024,
      files: summary.files,
      failed: summary.failed,
      batchErrors: summary.batchErrors,
    }
  } catch (error) {
    return {ok: false, error: errorMessage(error)}
  }
}

process.once('message', (request: ScaleChildRequest) => {
  void run(request).then((result) => {
    process.send?.(result, () => process.exit(0))
  })
})
