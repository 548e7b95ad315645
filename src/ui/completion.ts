/**
 * Argument completion on top of @oclif/plugin-autocomplete, which completes commands and flags only. The
 * script "lineage completion" prints is the plugin's own completion function followed by a wrapper: at the
 * first argument of the commands below the wrapper offers the feature names or tunable keys, taken from the
 * core's lists; everywhere else it calls the plugin's function unchanged.
 */
import {FEATURES, TUNABLES} from '../core/index.js'

export const SHELLS = ['bash', 'zsh'] as const
export type Shell = (typeof SHELLS)[number]

/** A command whose first argument takes one of a fixed list of words. */
export interface ArgCompletion {
  /** The command id, words joined by ':' as oclif has it (e.g. "flags:set"). */
  id: string
  values: readonly string[]
  /** The command's flags that take a value (e.g. --reason), so the word after them is not the argument. */
  valueFlags: readonly string[]
}

/** The commands taking a feature name or a tunable key, and the values they accept. */
export function argCompletionValues(): {id: string; values: readonly string[]}[] {
  const keys = TUNABLES.map((t) => t.key)
  return [
    {id: 'rollback:gradual', values: FEATURES},
    {id: 'flags:enable', values: FEATURES},
    {id: 'flags:disable', values: FEATURES},
    {id: 'flags:set', values: keys},
    {id: 'flags:unset', values: keys},
  ]
}

const WORD = /^[A-Za-z0-9_.:=-]+$/

function words(list: readonly string[]): string {
  for (const w of list) {
    if (!WORD.test(w)) throw new Error(`cannot put "${w}" in a completion script`)
  }
  return list.join(' ')
}

/** The case arms matching "topic command" on the line, each setting the values and the value-taking flags. */
function caseArms(specs: readonly ArgCompletion[], indent: string): string {
  return specs
    .map(
      (s) =>
        `${indent}("${s.id.split(':').join(' ')}") values=(${words(s.values)}); valueFlags=(${words(s.valueFlags)}) ;;`,
    )
    .join('\n')
}

function checkDepth(specs: readonly ArgCompletion[]): void {
  // The wrapper reads the command from words 1 and 2: every command it handles is "topic command".
  for (const s of specs) {
    if (s.id.split(':').length !== 2) throw new Error(`completion handles "topic command" ids only, not "${s.id}"`)
  }
}

/**
 * The bash script: the plugin's function (`_<bin>_autocomplete`), then `_<bin>_completion`, registered in its
 * place. A word after a value-taking flag (also after `--flag =`, as bash splits `--flag=x`) is that flag's
 * value, not the argument.
 */
export function bashScript(bin: string, pluginScript: string, specs: readonly ArgCompletion[]): string {
  checkDepth(specs)
  return `${pluginScript.trimEnd()}

# lineage: complete feature names and tunable keys, then fall back to the plugin's function above.
_${bin}_completion()
{
  local cur="\${COMP_WORDS[COMP_CWORD]}" i n=0 skip=0
  local -a values=() valueFlags=()
  if [[ "$cur" != -* && $COMP_CWORD -ge 3 ]]; then
    case "\${COMP_WORDS[1]} \${COMP_WORDS[2]}" in
${caseArms(specs, '      ')}
    esac
    if [[ \${#values[@]} -gt 0 ]]; then
      for (( i = 3; i < COMP_CWORD; i++ )); do
        local word="\${COMP_WORDS[i]}"
        if (( skip )); then
          [[ "$word" == "=" ]] || skip=0
          continue
        fi
        local f
        for f in "\${valueFlags[@]}"; do
          [[ "$word" == "$f" ]] && skip=1
        done
        (( skip )) && continue
        [[ "$word" == -* ]] || n=$((n + 1))
      done
      if (( n == 0 && ! skip )); then
        COMPREPLY=($(compgen -W "\${values[*]}" -- "$cur"))
        return 0
      fi
    fi
  fi
  _${bin}_autocomplete "$@"
}

complete -F _${bin}_completion ${bin}
`
}

/**
 * The zsh script, to source after compinit: the plugin's functions (without the call its autoload file ends
 * with), then `_<bin>_completion`, registered with compdef in the plugin's place.
 */
export function zshScript(bin: string, pluginScript: string, specs: readonly ArgCompletion[]): string {
  checkDepth(specs)
  const lines = pluginScript.trimEnd().split('\n')
  if (lines.at(-1)?.trim() === `_${bin}`) lines.pop()
  return `${lines.join('\n').trimEnd()}

# lineage: complete feature names and tunable keys, then fall back to the plugin's function above.
_${bin}_completion() {
  local -a values valueFlags
  local i n=0 skip=0
  if (( CURRENT >= 4 )) && [[ \${words[CURRENT]} != -* ]]; then
    case "\${words[2]} \${words[3]}" in
${caseArms(specs, '      ')}
    esac
    if (( \${#values} )); then
      for (( i = 4; i < CURRENT; i++ )); do
        if (( skip )); then
          skip=0
          continue
        fi
        if (( \${valueFlags[(Ie)\${words[i]}]} )); then
          skip=1
          continue
        fi
        [[ \${words[i]} == -* ]] || n=$((n + 1))
      done
      if (( n == 0 && ! skip )); then
        _wanted values expl 'value' compadd -a values
        return
      fi
    fi
  fi
  _${bin} "$@"
}

compdef _${bin}_completion ${bin}
`
}
