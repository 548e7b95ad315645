/**
 * Generates the man pages from the commands' own metadata: one page per command
 * (`man/man1/lineage-<topic>-<verb>.1`) and `man/man1/lineage.1` as the index. Each page is written as
 * ronn-style markdown and converted to roff with marked-man. Run it with SOURCE_DATE_EPOCH fixed so
 * the output is stable; CI regenerates the pages and fails when they differ from what is committed.
 *
 * Usage: tsx scripts/gen-man.ts [--check]   (reads the built commands in dist/, so build first)
 */
import {mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {type Command, Config} from '@oclif/core'
import {Marked} from 'marked'
import markedMan from 'marked-man'

import {ERRORS} from '../src/core/errors.js'
import {EXIT_CODE_TABLE} from '../src/core/exit-codes.js'
import {SETTINGS} from '../src/core/ops/settings.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, 'man', 'man1')

/** Variables that are not settings of the service but steer the commands. */
const COMMAND_ENV: [string, string][] = [
  [
    'LINEAGE_HOME',
    'the folder of the service registry (LINEAGE_HOME/run); set it for the service and its operators alike',
  ],
  ['LINEAGE_CONFIG', 'the JSON settings file, as --config'],
  ['LINEAGE_SERVICE', 'the registered service to act on, as --service'],
  ['LINEAGE_SERVICE_NAME', 'the name a running watch registers under, as watch --name'],
  ['LINEAGE_ACTOR', 'who is named in the audit log (default: $SUDO_USER, $USER)'],
  ['RUNTIME_DIRECTORY, XDG_RUNTIME_DIR, XDG_STATE_HOME', 'where the registry is without LINEAGE_HOME'],
]

/** The files every page lists (defaults; each is a setting). */
const FILES: [string, string][] = [
  [
    '$LINEAGE_HOME/run/*.json',
    'the service registry: one file per running watch (pid, state folder, config, metrics address); without LINEAGE_HOME in the $RUNTIME_DIRECTORY systemd gives (the shipped unit: /run/lineage), else $XDG_RUNTIME_DIR/lineage, else $XDG_STATE_HOME/lineage/run, else /run/lineage for root, else ~/.local/state/lineage/run; without LINEAGE_HOME readers also look in /run/lineage. A file whose process is gone is ignored and removed',
  ],
  ['data/state/overrides.json', 'operator overrides and the active rollback (LINEAGE_STATE_DIR)'],
  ['data/state/audit.jsonl', 'the audit log: who changed which flag, when, why, and the values before'],
  ['data/state/service.json', "the running service's heartbeat: applied flag revision, metrics address"],
  ['data/state/ledger.sqlite', 'the ingest ledger: which files are done'],
  ['data/cache/parse-cache.sqlite', 'the parse cache (LINEAGE_CACHE_FILE)'],
  ['data/failed_ingestion.jsonl', 'graph writes that failed, for retry-failed (LINEAGE_FAILED_FILE)'],
  ['logs/ingestion.log', "the service's JSON log (LINEAGE_LOG_FILE)"],
]

function environmentSection(flags: [string, Command.Flag.Any][]): string[] {
  const lines = ['## ENVIRONMENT', '']
  const own = flags.flatMap(([, f]) => (f.env === undefined ? [] : [f.env]))
  for (const name of [...new Set(own)].sort()) lines.push(`* \`${name}\`:`, '  as its option above.', '')
  for (const [name, text] of COMMAND_ENV.filter(([n]) => !own.includes(n))) {
    lines.push(`* \`${name}\`:`, `  ${escapeMd(text)}.`, '')
  }
  lines.push('Every setting of the service (FEATURE_*, INGEST_WORKERS, paths, Neo4j) is listed in lineage(1).', '')
  return lines
}

function filesSection(): string[] {
  const lines = ['## FILES', '', 'Relative paths are the defaults, under the working directory of the service.', '']
  for (const [file, text] of FILES) lines.push(`* \`${file}\`:`, `  ${escapeMd(text)}.`, '')
  return lines
}

function seeAlso(id: string, ids: readonly string[]): string[] {
  const topic = id.split(':')[0]
  const related = ids.filter((other) => other !== id && other.split(':')[0] === topic).map((o) => `${pageName(o)}(1)`)
  const ops = ['flags:status', 'verify'].filter((o) => o !== id && ids.includes(o)).map((o) => `${pageName(o)}(1)`)
  return ['## SEE ALSO', '', [...new Set(['lineage(1)', ...related, ...ops])].join(', '), '']
}

interface Pkg {
  version: string
  description: string
  man?: string[]
}

function escapeMd(text: string): string {
  return text.replace(/([\\`*_[\]<>|])/g, '\\$1')
}

function render(text: string, bin: string, id: string): string {
  return text.replaceAll('<%= config.bin %>', bin).replaceAll('<%= command.id %>', id)
}

function pageName(id: string): string {
  return `lineage-${id.split(':').join('-')}`
}

function flagLine(name: string, flag: Command.Flag.Any): string {
  const short = flag.char ? `-${flag.char}, ` : ''
  const value = flag.type === 'option' ? `=${(flag.helpValue as string | undefined) ?? name.toUpperCase()}` : ''
  return `${short}--${name}${value}`
}

function flagDetails(flag: Command.Flag.Any): string {
  const text = flag.description ?? flag.summary ?? ''
  const parts: string[] = [text === '' || /[.!?]$/.test(text) ? text : `${text}.`]
  if (flag.type === 'option' && flag.options) parts.push(`One of: ${flag.options.join(', ')}.`)
  if (flag.type === 'option' && flag.multiple) parts.push('May be given more than once.')
  const def = flag.default as unknown
  if (typeof def === 'string' || typeof def === 'number' || def === true) parts.push(`Default: ${String(def)}.`)
  if (flag.env) parts.push(`Environment: ${flag.env}.`)
  return parts.filter((p) => p !== '').join(' ')
}

function exampleText(example: Command.Example, bin: string, id: string): {command: string; description?: string} {
  if (typeof example === 'string') return {command: render(example, bin, id)}
  return {command: render(example.command, bin, id), description: render(example.description, bin, id)}
}

function commandPage(cmd: Command.Loadable, bin: string, ids: readonly string[]): string {
  const id = cmd.id.split(':').join(' ')
  const args = Object.values(cmd.args)
  const flags = Object.entries(cmd.flags).filter(([, f]) => !f.hidden)
  const synopsisArgs = args.map((a) => (a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`)).join(' ')
  const lines: string[] = [
    `# ${pageName(cmd.id)}(1) -- ${escapeMd(cmd.summary ?? '')}`,
    '',
    '## SYNOPSIS',
    '',
    `\`${bin} ${id}\` ${synopsisArgs ? `${escapeMd(synopsisArgs)} ` : ''}[OPTIONS]`,
    '',
    '## DESCRIPTION',
    '',
    escapeMd(render(cmd.description ?? cmd.summary ?? '', bin, id)),
    '',
  ]
  if (args.length > 0) {
    lines.push('## ARGUMENTS', '')
    for (const a of args) {
      const def = a.default === undefined || typeof a.default === 'function' ? '' : ` Default: ${String(a.default)}.`
      lines.push(`* \`${a.name.toUpperCase()}\`:`, `  ${escapeMd(a.description ?? '')}${def}`, '')
    }
  }
  lines.push('## OPTIONS', '')
  for (const [name, flag] of flags.sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`* \`${flagLine(name, flag)}\`:`, `  ${escapeMd(flagDetails(flag))}`, '')
  }
  lines.push('## EXAMPLES', '')
  for (const example of cmd.examples ?? []) {
    const {command, description} = exampleText(example, bin, id)
    if (description) lines.push(escapeMd(description), '')
    lines.push('```', command, '```', '')
  }
  lines.push('## EXIT STATUS', '')
  for (const {code, meaning} of EXIT_CODE_TABLE) lines.push(`* \`${code}\`:`, `  ${escapeMd(meaning)}`, '')
  lines.push(...environmentSection(flags), ...filesSection(), ...seeAlso(cmd.id, ids))
  return lines.join('\n')
}

function indexPage(commands: Command.Loadable[], pkg: Pkg, bin: string): string {
  const lines = [
    `# lineage(1) -- ${escapeMd(pkg.description)}`,
    '',
    '## SYNOPSIS',
    '',
    `\`${bin}\` COMMAND [OPTIONS]`,
    '',
    '## DESCRIPTION',
    '',
    'lineage watches a folder of SQL files, extracts table and column lineage from each, and writes the lineage graph to Neo4j. ' +
      'Its other commands operate the service: roll optimizations back, inspect flags and the parse cache, replay failed graph writes, check health and measure throughput.',
    '',
    'Every command accepts `--json` (data on stdout, logs on stderr) and `--help`.',
    '',
    '## COMMANDS',
    '',
  ]
  for (const cmd of commands) {
    lines.push(
      `* \`${bin} ${cmd.id.split(':').join(' ')}\`:`,
      `  ${escapeMd(cmd.summary ?? '')}. See ${pageName(cmd.id)}(1).`,
      '',
    )
  }
  lines.push('## EXIT STATUS', '')
  for (const {code, meaning} of EXIT_CODE_TABLE) lines.push(`* \`${code}\`:`, `  ${escapeMd(meaning)}`, '')
  lines.push(
    '## ERROR CODES',
    '',
    'A failed command prints its error code with the message; with `--json` the code is in `error.code`.',
    '',
  )
  for (const [code, entry] of Object.entries(ERRORS)) {
    lines.push(`* \`${code}\` (exit ${entry.exit}):`, `  ${escapeMd(entry.meaning)}.`, '')
  }
  lines.push(
    '## ENVIRONMENT',
    '',
    'Settings (also keys of the --config file); an operator override wins over them.',
    '',
  )
  for (const spec of SETTINGS) {
    const def = spec.default === undefined ? '' : ` Default: ${String(spec.default)}.`
    lines.push(`* \`${spec.key}\`:`, `  ${escapeMd(spec.description)}.${escapeMd(def)}`, '')
  }
  for (const [name, text] of COMMAND_ENV) lines.push(`* \`${name}\`:`, `  ${escapeMd(text)}.`, '')
  lines.push(...filesSection(), '## SEE ALSO', '', commands.map((c) => `${pageName(c.id)}(1)`).join(', '), '')
  return lines.join('\n')
}

function toRoff(markdown: string, name: string, version: string): string {
  const marked = new Marked()
  marked.use(markedMan)
  const options = {name, section: '1', manual: 'lineage manual', manVersion: version} as Record<string, unknown>
  return marked.parse(markdown, options) as string
}

async function main(): Promise<void> {
  const config = await Config.load(root)
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Pkg
  const commands = config.commands
    .filter((c) => !c.hidden && c.pluginName === config.name)
    .sort((a, b) => a.id.localeCompare(b.id))
  rmSync(outDir, {recursive: true, force: true})
  mkdirSync(outDir, {recursive: true})
  const pages: string[] = []
  for (const cmd of commands) {
    const name = pageName(cmd.id)
    writeFileSync(
      join(outDir, `${name}.1`),
      toRoff(
        commandPage(
          cmd,
          config.bin,
          commands.map((c) => c.id),
        ),
        name,
        pkg.version,
      ),
    )
    pages.push(`./man/man1/${name}.1`)
  }
  writeFileSync(join(outDir, 'lineage.1'), toRoff(indexPage(commands, pkg, config.bin), 'lineage', pkg.version))
  pages.unshift('./man/man1/lineage.1')
  const written = readdirSync(outDir).length
  // The package ships every page through its `man` field.
  const pkgText = readFileSync(join(root, 'package.json'), 'utf8')
  const pkgJson = JSON.parse(pkgText) as Record<string, unknown>
  pkgJson.man = pages
  writeFileSync(join(root, 'package.json'), `${JSON.stringify(pkgJson, null, 2)}\n`)
  process.stdout.write(`wrote ${written} man pages to man/man1\n`)
}

await main()
