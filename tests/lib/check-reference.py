#!/usr/bin/python3
# check-reference: the API reference gi-docgen made documents every symbol:
# no page says "No description available" (TAP output, a line per page).
import os
import sys

root = sys.argv[1]
pages = sorted(f for f in os.listdir(root) if f.endswith('.html'))
print(f'1..{len(pages)}')
failed = 0
for i, name in enumerate(pages, 1):
    with open(os.path.join(root, name), encoding='utf-8') as f:
        bare = f.read().count('No description available')
    if bare:
        failed += 1
    print(f'{"not ok" if bare else "ok"} {i} - {name}' + (f' ({bare} undocumented)' if bare else ''))
sys.exit(1 if failed else 0)
