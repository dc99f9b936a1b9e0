#!/usr/bin/python3
# reachable: makes the source and build trees reachable by the tests'
# unprivileged users. A checkout in a directory others cannot enter (a clone
# in root's 0700 home) holds the built library, client and helper scripts
# that the tests run as other uids; they could not even load
# libvcmount-1.so.0. In the test's private mount namespace, each tree whose
# path crosses such a directory is bind-mounted into a 0755 directory of
# its own, and the test's environment, arguments and paths are rewritten to
# name it there. Nothing changes on the host: the bind mounts vanish with
# the namespace. Where every path is reachable already, nothing is done.

import os
import subprocess
import tempfile

# The variables meson sets that name files of the trees (a list where ':'
# separates paths).
PATH_VARIABLES = ('VCM_SOURCE_ROOT', 'VCM_DAEMON', 'VCM_CLIENT', 'VCM_LIB_DIR',
                  'VCM_EXAMPLE_LIST', 'VCM_EXAMPLE_AGENT', 'VCM_REFUSE_SYSCALLS_HELPER',
                  'LD_LIBRARY_PATH', 'GI_TYPELIB_PATH')


def _blocking_child(path):
    """The directory just below the deepest ancestor of @path that others
    may not enter (its o+x bit unset), or None when every ancestor may be."""
    path = os.path.realpath(path)
    parts = path.strip('/').split('/')
    found = None
    for i in range(len(parts)):
        ancestor = '/' + '/'.join(parts[:i])
        try:
            mode = os.stat(ancestor).st_mode
        except OSError:
            return None
        if not mode & 0o001:
            found = '/' + '/'.join(parts[:i + 1])
    return found


def _private_mount_namespace():
    try:
        mine = os.readlink('/proc/self/ns/mnt')
        return mine != os.readlink('/proc/%d/ns/mnt' % os.getppid()) or \
            mine != os.readlink('/proc/1/ns/mnt')
    except OSError:
        return False


def make_reachable(paths):
    """Bind-mounts what blocks @paths (and the trees the environment names)
    into a 0755 directory; rewrites os.environ. Returns a function that
    maps an old path to its reachable one (the identity when nothing was
    done)."""
    candidates = list(paths)
    for var in PATH_VARIABLES:
        candidates += [p for p in os.environ.get(var, '').split(':') if p.startswith('/')]
    blocked = sorted({b for b in map(_blocking_child, candidates) if b})
    if not blocked or os.geteuid() != 0 or not _private_mount_namespace():
        return lambda p: p
    top = tempfile.mkdtemp(prefix='vcm-reachable-')
    os.chmod(top, 0o755)
    moved = {}
    for n, src in enumerate(blocked):
        dest = os.path.join(top, str(n), os.path.basename(src))
        os.makedirs(dest)
        os.chmod(os.path.dirname(dest), 0o755)
        subprocess.run(['mount', '--bind', src, dest], check=True)
        moved[src] = dest

    def relocate(path):
        real = os.path.realpath(path) if path.startswith('/') else path
        for src, dest in sorted(moved.items(), key=lambda m: -len(m[0])):
            if real == src or real.startswith(src + '/'):
                return dest + real[len(src):]
        return path

    for var in PATH_VARIABLES:
        if var in os.environ:
            os.environ[var] = ':'.join(relocate(p) for p in os.environ[var].split(':'))
    return relocate
