#!/usr/bin/python3
# taprunner: runs the unittest tests of one module file and reports them as TAP
# (one "ok"/"not ok" line per test, diagnostics as "# " lines, the plan at the
# end). Exit status 0 iff every test passed. Anything else written to stdout
# while the tests run (by the tests or their child processes) goes to stderr,
# so stdout holds TAP only.
#
# Usage: taprunner.py [--class CLASS] TEST_FILE.py [TEST_NAME_PATTERN...]
#        taprunner.py TEST_FILE.py [PATTERN...] TEST_FILE.py [PATTERN...] ...
#        taprunner.py --list-classes TEST_FILE.py
# Several files run in this one process, in the order given, each with the
# patterns that follow it (the kernel61 guest, where starting Python is slow).
# --class runs the tests of one test class only (meson registers one test per
# class, so that a failure names its class); --list-classes prints the classes
# that have tests, one a line (read by meson.build at configure time).

import importlib.util
import os
import sys
import traceback
import unittest


class TapResult(unittest.TestResult):
    def __init__(self, out):
        super().__init__()
        self.out = out
        self.n = 0
        self.failed = 0
        self._problems = []
        self._skip = None
        self._todo = None

    def _emit(self, ok, name, directive='', diag=''):
        self.n += 1
        if not ok:
            self.failed += 1
        name = name.replace('#', '\\#').replace('\n', ' ')
        line = f'{"ok" if ok else "not ok"} {self.n} - {name}'
        if directive:
            line += f' # {directive}'
        self.out.write(line + '\n')
        for d in diag.splitlines():
            self.out.write(f'# {d}\n')
        self.out.flush()

    @staticmethod
    def _name(test):
        return test.id().split('.', 1)[-1] if '.' in test.id() else test.id()

    def _diagnostics(self):
        try:
            import vcmtest
            return vcmtest.failure_diagnostics()
        except Exception as e:  # the harness itself may be what is broken
            return f'(no harness logs: {e})\n'

    def startTest(self, test):
        super().startTest(test)
        self._problems = []
        self._skip = None
        self._todo = None
        try:
            import vcmtest
            vcmtest.test_started()
        except Exception:
            pass

    def stopTest(self, test):
        super().stopTest(test)
        if self._problems:
            diag = '\n'.join(self._problems) + '\n' + self._diagnostics()
            self._emit(False, self._name(test), diag=diag)
        elif self._skip is not None:
            self._emit(True, self._name(test), directive=f'SKIP {self._skip}')
        elif self._todo is not None:
            self._emit(True, self._name(test), directive=f'TODO {self._todo}')
        else:
            self._emit(True, self._name(test))

    def _fmt(self, kind, err):
        return f'{kind}:\n' + ''.join(traceback.format_exception(*err))

    def addError(self, test, err):
        super().addError(test, err)
        if isinstance(test, unittest.TestCase):
            self._problems.append(self._fmt('ERROR', err))
        else:
            # setUpClass/setUpModule/tearDown*: not a test of its own in unittest.
            self._emit(False, str(test), diag=self._fmt('ERROR', err) + self._diagnostics())

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._problems.append(self._fmt('FAIL', err))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = 'FAIL' if issubclass(err[0], test.failureException) else 'ERROR'
            self._problems.append(self._fmt(f'{kind} in {subtest._subDescription()}', err))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        if isinstance(test, unittest.TestCase):
            self._skip = reason
        else:
            self._emit(True, str(test), directive=f'SKIP {reason}')

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._todo = 'expected failure'

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._problems.append('unexpected success of a test marked expectedFailure')


def load_module(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_classes(suite):
    """The test classes of @suite that have tests, in the order they run."""
    classes = []
    for t in suite:
        for c in (test_classes(t) if isinstance(t, unittest.TestSuite) else [type(t)]):
            if c not in classes:
                classes.append(c)
    return classes


def main(argv):
    args = argv[1:]
    only_class = None
    list_classes = False
    if args[:1] == ['--list-classes']:
        list_classes = True
        args = args[1:]
    elif args[:1] == ['--class'] and len(args) >= 2:
        only_class = args[1]
        args = args[2:]
    if not args:
        sys.stderr.write('usage: taprunner.py [--class CLASS | --list-classes] '
                         'TEST_FILE.py [PATTERN...] [TEST_FILE.py [PATTERN...]...]\n')
        return 2
    # TEST_FILE.py [PATTERN...] groups: a pattern never ends in .py.
    groups = []
    for a in args:
        if a.endswith('.py') or not groups:
            groups.append((os.path.abspath(a), []))
        else:
            groups[-1][1].append(a)
    if list_classes:
        path = groups[0][0]
        sys.path.insert(0, os.path.dirname(path))
        suite = unittest.TestLoader().loadTestsFromModule(load_module(path))
        for c in test_classes(suite):
            print(c.__name__)
        return 0
    # A checkout others cannot enter is made reachable for the tests' users
    # (in this private mount namespace only): see reachable.py.
    from reachable import make_reachable
    relocate = make_reachable([p for p, _ in groups] + [os.getcwd()])
    groups = [(relocate(p), patterns) for p, patterns in groups]
    os.chdir(relocate(os.getcwd()))
    # TAP goes to the real stdout; everything else written to fd 1 goes to stderr.
    tap = os.fdopen(os.dup(1), 'w', buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)

    suite = unittest.TestSuite()
    for path, patterns in groups:
        if os.path.dirname(path) not in sys.path:
            sys.path.insert(0, os.path.dirname(path))
        try:
            module = load_module(path)
            loader = unittest.TestLoader()
            if patterns:
                loader.testNamePatterns = [p if '*' in p else f'*{p}*' for p in patterns]
            if only_class is not None:
                suite.addTests(loader.loadTestsFromTestCase(getattr(module, only_class)))
            else:
                suite.addTests(loader.loadTestsFromModule(module))
        except Exception:
            tap.write('1..1\nnot ok 1 - load ' + os.path.basename(path) + '\n')
            for line in traceback.format_exc().splitlines():
                tap.write(f'# {line}\n')
            tap.flush()
            return 1

    result = TapResult(tap)
    suite.run(result)
    if result.n == 0:
        tap.write('1..0 # SKIP no tests\n')
    else:
        tap.write(f'1..{result.n}\n')
    tap.flush()
    return 0 if result.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
