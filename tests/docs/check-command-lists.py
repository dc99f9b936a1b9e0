#!/usr/bin/python3
"""check-command-lists: vcmountctl's commands, held against the one list,
the program's own table as its --help prints it. vcmountctl(1)'s COMMANDS
section must describe exactly those commands, and the bash completion must
offer exactly those (it asks the program; this runs it with a stand-in for
bash-completion's _init_completion). Prints each difference; exit 1 on any.

Usage: check-command-lists.py VCMOUNTCTL SOURCE_ROOT
"""
import os
import re
import subprocess
import sys
from pathlib import Path


def help_commands(vcmountctl):
    out = subprocess.run([vcmountctl, '--help'], check=True, capture_output=True, text=True,
                         env=dict(os.environ, LC_ALL='C.UTF-8')).stdout
    section = out.split('Commands:\n', 1)[1].split('\n\n', 1)[0]
    return re.findall(r'(?m)^  ([a-z][a-z-]*)', section)


def manpage_commands(root):
    text = (root / 'docs' / 'vcmountctl.1.scd').read_text()
    section = text.split('# COMMANDS', 1)[1].split('\n# ', 1)[0]
    return re.findall(r'(?m)^\*([a-z][a-z-]*)\*', section)


STUB = r'''
_init_completion() {
    words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
    cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
}
_filedir() { :; }
source "$1"
COMP_WORDS=("$2" ''); COMP_CWORD=1
_vcmountctl
printf '%s\n' "${COMPREPLY[@]}"
'''


def completion_commands(vcmountctl, root):
    out = subprocess.run(['bash', '-c', STUB, 'bash', str(root / 'client' / 'vcmountctl.bash-completion'),
                          vcmountctl], check=True, capture_output=True, text=True).stdout
    return [w for w in out.split('\n') if w]


def main():
    vcmountctl, root = os.path.abspath(sys.argv[1]), Path(sys.argv[2])
    commands = help_commands(vcmountctl)
    failed = False
    if len(commands) < 2 or 'help' not in commands:
        print(f'vcmountctl --help lists no commands: {commands}')
        failed = True
    for where, got in (('vcmountctl(1) COMMANDS', manpage_commands(root)),
                       ('the bash completion', completion_commands(vcmountctl, root))):
        for name in sorted(set(commands) - set(got)):
            print(f'{where} lacks {name}')
            failed = True
        for name in sorted(set(got) - set(commands)):
            print(f'{where} names {name}, which vcmountctl does not have')
            failed = True
    if not failed:
        print(f'{len(commands)} commands, the same in --help, vcmountctl(1) and the completion')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
