/**
 * Whether a process still exists, from its pid: the one check behind breaking a lock whose holder died
 * (util/lock.ts) and telling a running service from a stale heartbeat (ops/service-state.ts). Throws nothing.
 * A pid says nothing about another host: callers compare the host first.
 */

/** True when a process with this pid exists on this host, ours included (even if it belongs to another user). */
export function processAlive(pid: number): boolean {
  // 0 and negative pids address process groups, and kill(0, 0) always succeeds: never a holder's pid.
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to another user; ESRCH: there is no such process.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
