/**
 * GraphHealth: the one place that decides whether Neo4j is down. Connection attempts and writes report to it
 * (a connectivity failure marks it down, any success marks it up); the service's /healthz and heartbeat, the
 * ingestor and the writer read it. While down, writes fail fast for a short while after each failure
 * instead of waiting out the driver's timeouts for every batch (what a circuit breaker did before).
 *
 * Pure state: no I/O, no timers. Throws nothing itself; a recovery listener's throw reaches whoever marked it up,
 * so listeners catch their own.
 */
export type GraphState = {up: true; since: number} | {up: false; reason: string; since: number; lastFailure: number}

export class GraphHealth {
  private current: GraphState
  private readonly recovered: (() => void)[] = []

  constructor(private readonly now: () => number = () => Date.now()) {
    this.current = {up: true, since: now()}
  }

  get state(): Readonly<GraphState> {
    return this.current
  }

  /** The reason Neo4j is down, or undefined while it is up. */
  get downReason(): string | undefined {
    return this.current.up ? undefined : this.current.reason
  }

  /** A write or a connection succeeded. True when this ends an outage. */
  markUp(): boolean {
    if (this.current.up) return false
    this.current = {up: true, since: this.now()}
    for (const fn of this.recovered) fn()
    return true
  }

  /** Call fn each time an outage ends: what was written to the failed-ingestion file meanwhile is due again. */
  onRecovered(fn: () => void): void {
    this.recovered.push(fn)
  }

  /** Neo4j could not be reached. True when this starts an outage or changes its reason (worth a log line). */
  markDown(reason: string): boolean {
    const at = this.now()
    if (!this.current.up) {
      const changed = this.current.reason !== reason
      this.current = {...this.current, reason, lastFailure: at}
      return changed
    }
    this.current = {up: false, reason, since: at, lastFailure: at}
    return true
  }

  /** While down and within `windowMs` of the last failure: the reason to fail a write at once, else undefined. */
  failFast(windowMs: number): string | undefined {
    if (this.current.up) return undefined
    return this.now() - this.current.lastFailure < windowMs ? this.current.reason : undefined
  }
}
