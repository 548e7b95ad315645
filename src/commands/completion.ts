import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {argCompletionValues, type ArgCompletion, bashScript, SHELLS, type Shell, zshScript} from '../ui/completion.js'

export default class Completion extends BaseCommand<typeof Completion> {
  static override summary = 'Print a bash or zsh completion script that also completes feature names and tunables'
  static override description = `Prints a completion script for bash or zsh. It completes commands and flags as \
"lineage autocomplete" does (it is that plugin's script, regenerated), and also the feature names of "lineage \
rollback gradual", "lineage flags enable" and "lineage flags disable" and the setting names of "lineage flags set" \
and "lineage flags unset". Load it from your shell's startup file, or save it to a file and source that (faster, \
and run the command again after upgrading lineage). For zsh, load it after compinit.`

  static override examples = [
    {description: 'bash: add to ~/.bashrc', command: 'eval "$(<%= config.bin %> <%= command.id %> bash)"'},
    {
      description: 'bash with bash-completion: save it where it is loaded on first use',
      command:
        '<%= config.bin %> <%= command.id %> bash > ~/.local/share/bash-completion/completions/<%= config.bin %>',
    },
    {description: 'zsh: add to ~/.zshrc, after compinit', command: 'eval "$(<%= config.bin %> <%= command.id %> zsh)"'},
  ]

  static override args = {
    shell: Args.string({description: 'the shell the script is for', options: [...SHELLS], required: true}),
  }

  public async run(): Promise<{shell: Shell; script: string}> {
    const shell = this.args.shell as Shell
    // The plugin writes its functions to its cache (as "lineage autocomplete" does); we print them with ours.
    await this.config.runCommand('autocomplete:create')
    const {bin} = this.config
    const dir = join(this.config.cacheDir, 'autocomplete', 'functions', shell)
    const plugin = await readFile(join(dir, shell === 'bash' ? `${bin}.bash` : `_${bin}`), 'utf8')
    const specs: ArgCompletion[] = argCompletionValues().map(({id, values}) => ({
      id,
      values,
      valueFlags: valueFlags(this.config.findCommand(id)?.flags ?? {}),
    }))
    const script = shell === 'bash' ? bashScript(bin, plugin, specs) : zshScript(bin, plugin, specs)
    this.log(script.trimEnd())
    return {shell, script}
  }
}

/** The spellings of the flags that take a value (--reason, -c), whose next word is not an argument. */
function valueFlags(flags: Record<string, {type: string; char?: string; hidden?: boolean}>): string[] {
  return Object.entries(flags)
    .filter(([, f]) => f.type === 'option')
    .flatMap(([name, f]) => (f.char ? [`--${name}`, `-${f.char}`] : [`--${name}`]))
}
