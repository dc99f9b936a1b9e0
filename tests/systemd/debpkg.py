#!/usr/bin/python3
# debpkg: builds the Debian package from a copy of the source tree with
# `dpkg-buildpackage -us -uc -b` (the tree itself is left untouched: the
# build writes into debian/ and next to the tree) and checks it with lintian.

import glob
import os
import shutil
import subprocess
import time

# Left out of the copy: build directories, git, and what an earlier
# dpkg-buildpackage in the tree may have left behind.
_SKIP_TOP = ('.git', '__pycache__')
_SKIP_PREFIX = ('build', 'obj-')
_SKIP_DEBIAN = ('.debhelper', 'files', 'debhelper-build-stamp', 'tmp', 'vc-mount',
                'vc-mount-dbgsym', 'libvcmount-1-0', 'libvcmount-1-0-dbgsym', 'libvcmount-1-dev',
                'gir1.2-vcmount-1', 'libvcmount-1-doc')


class Package:
    def __init__(self, source_root, workdir):
        self.source_root = source_root
        self.workdir = workdir
        self.src = os.path.join(workdir, 'vc-mount')
        self.returncode = None
        self.log = ''
        self.seconds = None
        self.deb = None        # the service's package, vc-mount
        self.runtime = []      # what a host installs: vc-mount and the library it links
        self.changes = None

    def _ignore(self, directory, names):
        rel = os.path.relpath(directory, self.source_root)
        if rel == '.':
            return [n for n in names if n in _SKIP_TOP or n.startswith(_SKIP_PREFIX)]
        if rel == 'debian':
            return [n for n in names if n in _SKIP_DEBIAN or n.endswith(('.substvars', '.log'))]
        return [n for n in names if n == '__pycache__']

    def build(self, timeout=1200):
        shutil.copytree(self.source_root, self.src, symlinks=True, ignore=self._ignore)
        env = dict(os.environ)
        for k in ('MESON_TESTTHREADS', 'DESTDIR', 'CFLAGS', 'CPPFLAGS', 'LDFLAGS'):
            env.pop(k, None)
        # nocheck: the test suites need what a package build has not (see
        # debian/rules); they are what runs this very build.
        env['DEB_BUILD_OPTIONS'] = 'nocheck parallel=%d' % max(1, min(2, os.cpu_count() or 1))
        t0 = time.monotonic()
        r = subprocess.run(['dpkg-buildpackage', '-us', '-uc', '-b'], cwd=self.src, env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        self.seconds = time.monotonic() - t0
        self.returncode = r.returncode
        self.log = r.stdout
        debs = [d for d in glob.glob(os.path.join(self.workdir, 'vc-mount_*.deb'))]
        libs = glob.glob(os.path.join(self.workdir, 'libvcmount-1-0_*.deb'))
        changes = glob.glob(os.path.join(self.workdir, 'vc-mount_*.changes'))
        self.deb = debs[0] if len(debs) == 1 else None
        self.runtime = debs + libs if len(debs) == 1 and len(libs) == 1 else []
        self.changes = changes[0] if len(changes) == 1 else None
        return self.returncode == 0 and self.deb is not None and bool(self.runtime)

    def lintian(self, timeout=600):
        """Runs lintian on the .changes (the binary packages and the
        .buildinfo); returns (exit status, output, [error and warning lines])."""
        r = subprocess.run(['lintian', '--pedantic', '--display-info',
                            '--fail-on', 'error,warning', self.changes],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
        lines = [l for l in r.stdout.splitlines() if l.startswith(('E:', 'W:'))]
        return r.returncode, r.stdout, lines
