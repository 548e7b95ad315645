import {Errors, type Hook} from '@oclif/core'
import {closest} from 'fastest-levenshtein'

/**
 * An unknown command (or an extra word after a known one) is a usage error, exit 64, on one line with the
 * nearest command as a hint, rather than oclif's generic exit 2 (which `verify` uses for CRITICAL).
 * @oclif/plugin-not-found is not used: it prompts on a terminal (lineage never prompts) and exits 127; its
 * distance library is.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- oclif's hook type is async; this one only throws
const hook: Hook.CommandNotFound = async function (opts) {
  const words = opts.id.split(':').join(' ')
  const ids = [...opts.config.commandIDs, ...opts.config.topics.map((t) => t.name)]
  const known = ids.filter((id) => opts.id.startsWith(`${id}:`)).sort((a, b) => b.length - a.length)[0]
  const detail = known
    ? `"${known.split(':').join(' ')}" takes no further word "${words.slice(known.length + 1)}"`
    : `"${words}" is not a lineage command`
  const hint = known
    ? `Run "lineage ${known.split(':').join(' ')} --help".`
    : `Did you mean "lineage ${closest(opts.id, ids).split(':').join(' ')}"? "lineage --help" lists every command.`
  process.stderr.write(`lineage: ${detail}\nhint: ${hint}\n`)
  throw Object.assign(new Errors.CLIError(`${detail}.`, {exit: 64, code: 'E_USAGE', suggestions: [hint]}), {
    skipOclifErrorHandling: true,
  })
}

export default hook
