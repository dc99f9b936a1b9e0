#!/usr/bin/python3
"""tally: the verdict of scripts/test, from meson's test logs and the steps
that are no meson test (a build, a check).

Each TAP subtest counts once ("ok" passed, "ok # SKIP" skipped, "not ok # TODO"
passed, "not ok" failed); a test that is no TAP counts once by its result. A
TAP test that timed out, crashed or failed without any "not ok" line counts
one failure more. Every failure is shown with its reason: its "not ok" lines
and their diagnostics, or the end of its output. The last line is
"N passed, N failed"; the exit status is 1 if anything failed.

Usage: tally.py [BUILD_DIR | --passed STEP | --failed STEP LOG]...
  BUILD_DIR          reads BUILD_DIR/meson-logs/testlog.json
  --passed STEP      a step outside meson that passed
  --failed STEP LOG  a step that failed; the end of LOG says why
"""

import json
import os
import re
import sys

SHOWN_LINES = 30


def tap_counts(out):
    """(passed, failed, skipped) from the TAP lines of @out."""
    passed = failed = skipped = 0
    for line in out.splitlines():
        if re.match(r'ok\b', line):
            if re.search(r'#\s*SKIP', line, re.I):
                skipped += 1
            else:
                passed += 1
        elif re.match(r'not ok\b', line):
            if re.search(r'#\s*TODO', line, re.I):
                passed += 1
            else:
                failed += 1
    return passed, failed, skipped


def reason(out, err):
    """The "not ok" lines of @out with their "#" diagnostics; without any, the
    last lines of the output."""
    shown = []
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if re.match(r'not ok\b', line) and not re.search(r'#\s*TODO', line, re.I):
            shown.append(line)
            diag = []
            for d in lines[i + 1:]:
                if not d.startswith('#'):
                    break
                diag.append(d)
            # The end of a traceback says the most; the logs after it are long.
            shown += diag[:SHOWN_LINES]
    return shown or (lines + err.splitlines())[-SHOWN_LINES:]


def tail(path, n=SHOWN_LINES):
    try:
        with open(path, errors='replace') as f:
            return f.read().splitlines()[-n:]
    except OSError as e:
        return [f'(no log: {e})']


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def failure(self, what, lines, count=1):
        self.failed += count
        print(f'FAILED: {what}')
        for line in lines:
            print(f'    {line[:300]}')

    def build_dir(self, build):
        path = os.path.join(build, 'meson-logs', 'testlog.json')
        if not os.path.exists(path):
            self.failure(f'{build}: no test log', [])
            return
        with open(path) as f:
            for line in f:
                if line.strip():
                    self.meson_test(build, json.loads(line))

    def meson_test(self, build, t):
        result = t.get('result', 'ERROR')
        rc = t.get('returncode')
        out = t.get('stdout') or ''
        err = t.get('stderr') or ''
        bad = result not in ('OK', 'SKIP', 'EXPECTEDFAIL')
        passed, failed, skipped = tap_counts(out)
        if passed + failed + skipped == 0:        # not TAP (or TAP that said nothing)
            if result == 'SKIP':
                skipped = 1
            elif bad:
                failed = 1
            else:
                passed = 1
        elif result == 'TIMEOUT' or (isinstance(rc, int) and rc < 0) or (bad and failed == 0):
            failed += 1
        self.passed += passed
        self.skipped += skipped
        if failed:
            self.failure(f'{build}: {t.get("name")}: {result}, {failed} failed', reason(out, err), failed)


def main(argv):
    tally = Tally()
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == '--passed' and args:
            args.pop(0)
            tally.passed += 1
        elif a == '--failed' and len(args) >= 2:
            step, log = args.pop(0), args.pop(0)
            tally.failure(step, tail(log))
        elif a.startswith('--'):
            sys.stderr.write(__doc__)
            return 2
        else:
            tally.build_dir(a)
    if tally.skipped:
        print(f'({tally.skipped} skipped)')
    print(f'{tally.passed} passed, {tally.failed} failed')
    return 1 if tally.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
