import {Errors, type Hook} from '@oclif/core'

/**
 * An unknown command (or an extra word after a known one) is a usage error, exit 64, with a pointer to
 * the list of commands, rather than oclif's generic exit 2, which `verify` uses for CRITICAL.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- oclif's hook type is async; this one only throws
const hook: Hook.CommandNotFound = async function (opts) {
  const words = opts.id.split(':').join(' ')
  const known = opts.config.commandIDs
    .filter((id) => opts.id.startsWith(`${id}:`))
    .sort((a, b) => b.length - a.length)[0]
  const detail = known
    ? `"${known.split(':').join(' ')}" takes no further word "${words.slice(known.length + 1)}"`
    : `"${words}" is not a lineage command`
  throw new Errors.CLIError(`${detail}.`, {
    exit: 64,
    code: 'E_USAGE',
    suggestions: ['Run "lineage --help" for the list of commands.'],
  })
}

export default hook
