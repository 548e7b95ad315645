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

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, 'man', 'man1')

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

function commandPage(cmd: Command.Loadable, bin: string): string {
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
  lines.push('## SEE ALSO', '', `lineage(1)`, '')
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
    writeFileSync(join(outDir, `${name}.1`), toRoff(commandPage(cmd, config.bin), name, pkg.version))
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
