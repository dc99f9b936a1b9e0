#!/usr/bin/python3
# debpkg: builds the Debian package from a copy of the source tree with
# `dpkg-buildpackage -us -uc -b` (the tree itself is left untouched: the
# build writes into debian/ and next to the tree) and checks it with lintian.
# With a cache dir, what one build made is kept there under a digest of the
# sources it was made from, so the booted suites (one per system bus) and
# the kernel61 guest build the package once per source tree.

import fcntl
import glob
import hashlib
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
    def __init__(self, source_root, workdir, cache=None):
        self.source_root = source_root
        self.workdir = workdir
        self.cache = cache
        self.cached = False
        self.src = os.path.join(workdir, 'vc-mount')
        self.returncode = None
        self.log = ''
        self.seconds = None
        self.deb = None        # the service's package, vc-mount
        self.runtime = []      # what a host installs: vc-mount and the library it links
        self.changes = None

    @classmethod
    def prebuilt(cls, directory):
        """The packages another run built, from @directory."""
        pkg = cls(None, directory)
        pkg.cached = True
        pkg.returncode, pkg.seconds, pkg.log = 0, 0.0, '(built before, in %s)' % directory
        pkg._collect()
        return pkg

    def _ignore(self, directory, names):
        rel = os.path.relpath(directory, self.source_root)
        if rel == '.':
            return [n for n in names if n in _SKIP_TOP or n.startswith(_SKIP_PREFIX)]
        if rel == 'debian':
            return [n for n in names if n in _SKIP_DEBIAN or n.endswith(('.substvars', '.log'))]
        return [n for n in names if n == '__pycache__']

    def _digest(self):
        """A digest of every file the copy would hold (names, modes, contents)."""
        h = hashlib.sha256()
        for dirpath, dirnames, files in os.walk(self.source_root):
            skip = set(self._ignore(dirpath, dirnames + files))
            dirnames[:] = sorted(d for d in dirnames if d not in skip)
            for n in sorted(f for f in files if f not in skip):
                path = os.path.join(dirpath, n)
                st = os.lstat(path)
                h.update(('%s\0%o\0' % (os.path.relpath(path, self.source_root),
                                         st.st_mode)).encode())
                if os.path.islink(path):
                    h.update(os.readlink(path).encode())
                else:
                    with open(path, 'rb') as f:
                        h.update(f.read())
        return h.hexdigest()[:32]

    def _outputs(self, directory):
        return [f for f in glob.glob(os.path.join(directory, '*'))
                if f.endswith(('.deb', '.ddeb', '.changes', '.buildinfo'))]

    def build(self, timeout=1200):
        """Builds the packages (or takes them from the cache); True on success."""
        os.makedirs(self.workdir, exist_ok=True)
        if not self.cache:
            return self._build(timeout)
        os.makedirs(self.cache, exist_ok=True)
        with open(os.path.join(self.cache, '.lock'), 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entry = os.path.join(self.cache, self._digest())
            if os.path.isdir(entry):
                for f in self._outputs(entry):
                    shutil.copy(f, self.workdir)
                self.cached = True
                self.returncode, self.seconds, self.log = 0, 0.0, '(from the cache)'
                return self._collect()
            ok = self._build(timeout)
            if ok:
                for old in glob.glob(os.path.join(self.cache, '*')):
                    shutil.rmtree(old, ignore_errors=True)
                os.mkdir(entry + '.new')
                for f in self._outputs(self.workdir):
                    shutil.copy(f, entry + '.new')
                os.rename(entry + '.new', entry)
            return ok

    def _build(self, timeout):
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
        return self.returncode == 0 and self._collect()

    def _collect(self):
        debs = [d for d in glob.glob(os.path.join(self.workdir, 'vc-mount_*.deb'))]
        libs = glob.glob(os.path.join(self.workdir, 'libvcmount-1-0_*.deb'))
        changes = glob.glob(os.path.join(self.workdir, 'vc-mount_*.changes'))
        self.deb = debs[0] if len(debs) == 1 else None
        self.runtime = debs + libs if len(debs) == 1 and len(libs) == 1 else []
        self.changes = changes[0] if len(changes) == 1 else None
        return self.deb is not None and bool(self.runtime)

    def lintian(self, timeout=600):
        """Runs lintian on the .changes (the binary packages and the
        .buildinfo); returns (exit status, output, [error and warning lines])."""
        r = subprocess.run(['lintian', '--pedantic', '--display-info',
                            '--fail-on', 'error,warning', self.changes],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
        lines = [l for l in r.stdout.splitlines() if l.startswith(('E:', 'W:'))]
        return r.returncode, r.stdout, lines
