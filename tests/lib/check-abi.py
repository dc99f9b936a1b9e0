#!/usr/bin/python3
# check-abi: the shared library exports exactly the symbols of its version
# script, each with the version node the script gives it, and the script
# names every function the public headers declare (TAP output).
# Usage: check-abi.py LIBRARY VERSION_SCRIPT [PUBLIC_HEADER...]
import re
import subprocess
import sys

library, version_script = sys.argv[1:3]
headers = sys.argv[3:]

expected = {}
node = None
with open(version_script) as f:
    text = re.sub(r'/\*.*?\*/', '', f.read(), flags=re.S)
for token in re.findall(r'[A-Za-z0-9_.*]+\s*\{|\}|[A-Za-z0-9_*]+\s*;|global:|local:', text):
    token = token.strip()
    if token.endswith('{'):
        node = token[:-1].strip()
    elif token in ('global:', 'local:', '}'):
        scope = token
    elif token.endswith(';') and node and scope == 'global:':
        expected[token[:-1].strip()] = node

out = subprocess.run(['nm', '--dynamic', '--defined-only', library],
                     check=True, capture_output=True, text=True).stdout
exported = {}
for line in out.splitlines():
    parts = line.split()
    if len(parts) < 3:
        continue
    name = parts[2]
    if '@' not in name:
        if name not in set(expected.values()):   # a version node's own symbol
            exported[name] = None
        continue
    sym, _, ver = name.partition('@')
    ver = ver.lstrip('@')
    if sym == ver:          # the version node's own symbol
        continue
    exported[sym] = ver

# What the public headers declare: each vcm_* function (a name before its
# parameter list, outside comments and macro bodies) and the _get_type of each
# G_DECLARE_*_TYPE.
declared = set()
for header in headers:
    with open(header) as f:
        text = re.sub(r'/\*.*?\*/', '', f.read(), flags=re.S)
    text = re.sub(r'(?m)^#.*(\\\n.*)*$', '', text)
    declared.update(re.findall(r'\b(vcm_[a-z0-9_]+)\s*\(', text))
    declared.update(n + '_get_type' for n in
                    re.findall(r'G_DECLARE_[A-Z_]+_TYPE\s*\(\s*\w+\s*,\s*(vcm_[a-z0-9_]+)', text))

checks = [
    ('the headers declare functions', not headers or len(declared) > 0, f'{len(declared)} functions'),
    ('every function of the public headers in the map', declared <= set(expected),
     sorted(declared - set(expected))),
    ('the map lists symbols', len(expected) > 0, f'{len(expected)} symbols'),
    ('nothing exported beyond the map', set(exported) <= set(expected),
     sorted(set(exported) - set(expected))),
    ('everything in the map exported', set(expected) <= set(exported),
     sorted(set(expected) - set(exported))),
    ('every symbol in its version node',
     all(exported.get(s) == v for s, v in expected.items() if s in exported),
     sorted(s for s, v in expected.items() if s in exported and exported[s] != v)),
    ('no wildcard in the global part', not any('*' in s for s in expected), ''),
]
print(f'1..{len(checks)}')
failed = 0
for i, (what, ok, detail) in enumerate(checks, 1):
    print(f'{"ok" if ok else "not ok"} {i} - {what}')
    if not ok:
        print(f'# {detail}')
        failed += 1
sys.exit(1 if failed else 0)
