/**
 * Summarises the .cpuprofile files that `node --cpu-prof` writes (one per thread: the main thread first,
 * then each worker): per thread, the sampled time by package or source file, and the top functions by
 * self time. Sampled time is wall time on the thread, so on a busy machine a thread that waits for a core
 * still shows the function it was in; compare with the CPU seconds the bench reports.
 *
 *   npx tsx scripts/cpuprofile-summary.ts DIR [--top 12]
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

interface ProfileNode {
  id: number
  callFrame: {functionName: string; url: string; lineNumber: number}
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const {values, positionals} = parseArgs({
  allowPositionals: true,
  options: {top: {type: 'string', default: '12'}},
})
const dir = positionals[0]
if (dir === undefined) throw new Error('usage: cpuprofile-summary DIR [--top N]')
const top = Number(values.top)

/** `node-sql-parser`, `src/core/graph-model.ts`, `(garbage collector)`, ... */
function category(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : `(${fn || 'native'})`
  const path = url.replace(/^file:\/\//, '')
  const nm = path.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const parts = path.slice(nm + 'node_modules/'.length).split('/')
    return (parts[0]?.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')
  }
  const core = /(?:^|\/)((?:src|dist)\/.*)$/.exec(path)
  return core?.[1] ?? path
}

const seconds = (us: number): string => (us / 1e6).toFixed(2).padStart(7)

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort()) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const byCategory = new Map<string, number>()
  const byFunction = new Map<string, number>()
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame
    if (!frame) continue
    const cat = category(frame.url, frame.functionName)
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us)
    const fn = `${frame.functionName || '(anonymous)'}  ${cat}:${frame.lineNumber + 1}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
  }
  const idle = byCategory.get('(idle)') ?? 0
  console.log(`\n${file}: ${seconds(total).trim()} s sampled, ${seconds(total - idle).trim()} s not idle`)
  const rows = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
  for (const [name, us] of rows(byCategory)) {
    console.log(`  ${seconds(us)} s ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`)
  }
  console.log('  top functions (self time):')
  for (const [name, us] of rows(byFunction).filter(([n]) => !n.startsWith('(idle)'))) {
    console.log(`  ${seconds(us)} s  ${name}`)
  }
}
