# Completes a command line in a real interactive zsh (compinit, then the script), through zsh/zpty.
# Usage: zsh -f zsh-complete.zsh SCRIPT LINE. Prints each batch of candidates offered as <<<a b c>>>.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=''; RPROMPT=''; unsetopt zle_bracketed_paste 2>/dev/null"
zpty -w z "autoload -Uz compinit; compinit -u -D"
zpty -w z "source ${(q)1}"
zpty -w z 'compadd () { local -a __hits; builtin compadd -O __hits "$@"; (( ${#__hits} )) && print -r -- "<<<${(j: :)__hits}>>>"; builtin compadd "$@" }'
zpty -w z "zstyle ':completion:*' list-prompt ''; zstyle ':completion:*' menu no; bindkey '^I' complete-word; bindkey '^X' send-break"
zpty -w z "print -r -- __READY__"
zpty -r z line '*__READY__*'
zpty -r z line '*__READY__*'
zpty -n -w z "$2"$'\t'
sleep 0.5
zpty -w z $'\x18'
zpty -w z "print -r -- __END__"
local out=''
while zpty -r -t z chunk; do out+=$chunk; [[ $out == *__END__*__END__* ]] && break; sleep 0.05; done
zpty -d z
print -r -- $out | grep -ao '<<<[^>]*>>>' 
