#!/usr/bin/python3
# container: boots a real systemd in a container made from this machine's own
# OS tree, for the tests that run vc-mount as it runs in production. Owns the
# container's root (an overlay of / with a tmpfs upper layer), starting
# systemd-nspawn from a cgroup of its own, finding the container's PID 1,
# running commands inside (nsenter), and halting and cleaning up again; the
# container's system bus (dbus-daemon or dbus-broker). LocalSystem gives
# the same interface for the booted system the caller runs in (the kernel61
# guest).
#
# Must run in a private mount namespace (meson wraps the test in
# `unshare -m --propagation private`): the overlay, the tmpfs and everything
# the container changes vanish with it; nothing is installed on the host.

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from waiting import SCALE, wait_until

NSPAWN = '/usr/bin/systemd-nspawn'
CGROUP_V1 = '/sys/fs/cgroup/systemd'
CGROUP_V2 = '/sys/fs/cgroup/unified'
PR_SET_PDEATHSIG = 1
INNER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# Units of the host image that have nothing to do with the tests and would
# only slow the boot down or touch shared state.
MASKED_UNITS = [
    'postgresql.service', 'apt-daily.timer', 'apt-daily-upgrade.timer', 'man-db.timer',
    'dpkg-db-backup.timer', 'e2scrub_all.timer', 'e2scrub_reap.service', 'fstrim.timer',
    'systemd-timesyncd.service', 'systemd-pstore.service', 'getty@tty1.service',
    'console-getty.service', 'remote-fs.target',
]


class ContainerError(RuntimeError):
    pass


def _run(cmd, **kw):
    kw.setdefault('stdout', subprocess.PIPE)
    kw.setdefault('stderr', subprocess.PIPE)
    return subprocess.run(cmd, text=True, **kw)


def _mount(*args):
    r = _run(['mount'] + list(args))
    if r.returncode != 0:
        raise ContainerError('mount %s: %s' % (' '.join(args), r.stderr.strip()))


def _in_private_mount_namespace():
    """Whether an ancestor runs in another mount namespace (PID 1's may be
    unreadable) and no mount here propagates to or from another one."""
    mine = os.readlink('/proc/self/ns/mnt')
    pid, other = os.getpid(), False
    while pid > 1 and not other:
        try:
            with open('/proc/%d/status' % pid) as f:
                pid = int([l for l in f if l.startswith('PPid:')][0].split()[1])
            other = os.readlink('/proc/%d/ns/mnt' % pid) != mine
        except (OSError, IndexError, ValueError):
            break
    if not other:
        return False
    with open('/proc/self/mountinfo') as f:
        return not any(' shared:' in l.split(' - ')[0] or ' master:' in l.split(' - ')[0]
                       for l in f)


def _ns(pid, kind):
    try:
        return os.readlink('/proc/%d/ns/%s' % (pid, kind))
    except OSError:
        return None


def _children(pid):
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                stat = f.read()
        except OSError:
            continue
        # The field after the parenthesized comm: state, then ppid.
        fields = stat[stat.rindex(')') + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def _comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def set_system_bus(root, bus):
    """Makes @bus the system bus of the tree at @root: dbus-broker by its
    alias dbus.service (as its package enables it), dbus-daemon by the
    absence of that alias (its own dbus.service then counts)."""
    if bus is None:
        return
    alias = os.path.join(root, 'etc/systemd/system/dbus.service')
    if os.path.lexists(alias):
        os.unlink(alias)
    if bus == 'dbus-broker':
        if not os.path.exists(os.path.join(root, 'lib/systemd/system/dbus-broker.service')):
            raise ContainerError('dbus-broker is not installed (apt-get install dbus-broker)')
        os.symlink('/lib/systemd/system/dbus-broker.service', alias)
    elif bus != 'dbus-daemon':
        raise ContainerError('unknown system bus %r' % bus)


class Container:
    """One booted container (its system bus @bus: 'dbus-daemon', 'dbus-broker',
    or None for whatever the host's tree has enabled). Use as a context manager, or call boot() and
    halt(). run() executes a command inside; root is the container's / as
    seen from here (writes go to the overlay)."""

    def __init__(self, name='vcmtest', boot_timeout=180.0, bus=None):
        self.name = name
        self.bus = bus
        self.boot_timeout = boot_timeout
        self.tmp = None
        self.root = None
        self.upper = None
        self.nspawn = None
        self.leader = None
        self.cgroups = []
        self.console_log = None

    # -- setting up ----------------------------------------------------------

    def _make_root(self):
        if not _in_private_mount_namespace():
            raise ContainerError('not in a private mount namespace: run under unshare -m')
        if not os.access(NSPAWN, os.X_OK):
            raise ContainerError('%s is missing: install systemd-container' % NSPAWN)
        self.tmp = tempfile.mkdtemp(prefix='vcm-container-')
        _mount('-t', 'tmpfs', '-o', 'mode=0755,size=1g', 'vcm-container', self.tmp)
        self.upper = os.path.join(self.tmp, 'upper')
        work = os.path.join(self.tmp, 'work')
        self.root = os.path.join(self.tmp, 'root')
        for d in (self.upper, work, self.root):
            os.mkdir(d)
        _mount('-t', 'overlay', '-o', 'lowerdir=/,upperdir=%s,workdir=%s' % (self.upper, work),
               'vcm-root', self.root)
        # This host's /run is on disk, and nspawn refuses to clean it.
        _mount('-t', 'tmpfs', '-o', 'mode=0755', 'vcm-run-systemd', '/run/systemd')
        # Without the file, man-db's dpkg trigger does not rebuild its caches
        # (seconds of work) when a package is installed in the container.
        try:
            os.unlink(os.path.join(self.root, 'var/lib/man-db/auto-update'))
        except FileNotFoundError:
            pass
        # The machine ID of the container must not be the host's: nspawn
        # gives it a fresh one when /etc/machine-id is empty.
        with open(os.path.join(self.root, 'etc/machine-id'), 'w'):
            pass
        set_system_bus(self.root, self.bus)

    def _make_cgroups(self):
        tag = 'vcm-container-%d' % os.getpid()
        for base in (CGROUP_V1, CGROUP_V2):
            if os.path.isdir(base):
                path = os.path.join(base, tag)
                os.makedirs(path, exist_ok=True)
                self.cgroups.append(path)
        if not self.cgroups:
            raise ContainerError('no cgroup hierarchy at %s or %s' % (CGROUP_V1, CGROUP_V2))

    def _enter_cgroups(self):
        # Runs in the child between fork and exec: nspawn starts in a
        # cgroup of its own, so its /payload and /supervisor land below it;
        # and should the test die (a timeout), nspawn gets SIGTERM and
        # halts the container instead of leaving it running.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        for path in self.cgroups:
            with open(os.path.join(path, 'cgroup.procs'), 'w') as f:
                f.write(str(os.getpid()))

    def boot(self):
        self._make_root()
        self._make_cgroups()
        self.console_log = open(os.path.join(self.tmp, 'console.log'), 'w+')
        cmd = [NSPAWN, '--directory=' + self.root, '--machine=' + self.name, '--boot',
               '--register=no', '--keep-unit', '--link-journal=no', '--console=pipe',
               '--private-network', '--']
        cmd += ['systemd.mask=' + u for u in MASKED_UNITS]
        self.nspawn = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.console_log,
                                       stderr=subprocess.STDOUT, preexec_fn=self._enter_cgroups)
        deadline = time.monotonic() + self.boot_timeout

        def find_leader():
            if self.nspawn.poll() is not None:
                raise ContainerError('systemd-nspawn exited with %d:\n%s'
                                     % (self.nspawn.returncode, self.console()))
            for c in _children(self.nspawn.pid):
                if _comm(c) == 'systemd' and _ns(c, 'pid') != _ns(os.getpid(), 'pid'):
                    return c
            return None

        self.leader = wait_until(find_leader, timeout=self.boot_timeout,
                                 what='the container\'s systemd to start')
        private = '/proc/%d/root/run/systemd/private' % self.leader
        wait_until(lambda: find_leader() and os.path.exists(private),
                   timeout=max(1.0, deadline - time.monotonic()),
                   what='systemd\'s private socket in the container')
        r = self.run(['systemctl', 'is-system-running', '--wait'],
                     timeout=max(5.0, deadline - time.monotonic()))
        state = r.stdout.strip()
        if state not in ('running', 'degraded'):
            raise ContainerError('the container did not boot: %s\n%s' % (state, self.console()))
        return state

    # -- using it ------------------------------------------------------------

    def run(self, cmd, input=None, timeout=60.0, env=None, check=False):
        """Runs @cmd (a list) inside the container, as root with a clean
        environment. Returns the CompletedProcess (text)."""
        inner_env = ['PATH=' + INNER_PATH, 'LANG=C.UTF-8', 'SYSTEMD_PAGER=', 'SYSTEMD_COLORS=0']
        for k, v in (env or {}).items():
            inner_env.append('%s=%s' % (k, v))
        full = ['nsenter', '-t', str(self.leader), '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w',
                '--', 'env', '-i'] + inner_env + list(cmd)
        r = subprocess.run(full, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise ContainerError('%s: exit %d\n%s%s' % (' '.join(cmd), r.returncode,
                                                        r.stdout, r.stderr))
        return r

    def popen(self, cmd, **kw):
        """Starts @cmd inside the container; stdout and stderr are pipes."""
        full = ['nsenter', '-t', str(self.leader), '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w',
                '--', 'env', '-i', 'PATH=' + INNER_PATH, 'LANG=C.UTF-8'] + list(cmd)
        kw.setdefault('stdout', subprocess.PIPE)
        kw.setdefault('stderr', subprocess.PIPE)
        return subprocess.Popen(full, text=True, **kw)

    def path(self, inner):
        """The host-side path of @inner in the container's root file system
        (not of what the container mounted over it: see live_path())."""
        return os.path.join(self.root, inner.lstrip('/'))

    def live_path(self, inner):
        """@inner as the container's PID 1 sees it (its mounts included)."""
        return '/proc/%d/root/%s' % (self.leader, inner.lstrip('/'))

    def console(self, limit=4000):
        if self.console_log is None:
            return ''
        self.console_log.flush()
        self.console_log.seek(0)
        return self.console_log.read()[-limit:]

    # -- tearing down ----------------------------------------------------------

    def halt(self, timeout=30.0):
        if self.nspawn is not None and self.nspawn.poll() is None:
            # nspawn asks the container's systemd to power off.
            self.nspawn.send_signal(signal.SIGTERM)
            try:
                self.nspawn.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait()
        for path in reversed(self.cgroups):
            self._remove_cgroup(path)
        self.cgroups = []
        if self.console_log is not None:
            self.console_log.close()
            self.console_log = None
        if self.root is not None:
            for target in (self.root, '/run/systemd', self.tmp):
                subprocess.run(['umount', '-l', target], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.root = None

    @staticmethod
    def _remove_cgroup(path):
        # Children first (nspawn's /payload and /supervisor); wait for the
        # last processes to be gone from each (a cgroup with processes in it
        # cannot be removed), for 30 s at most in all.
        deadline = time.monotonic() + 30
        for dirpath, dirnames, _files in sorted(os.walk(path), key=lambda w: -w[0].count('/')):
            while True:
                try:
                    os.rmdir(dirpath)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)

    def __enter__(self):
        try:
            self.boot()
        except BaseException:
            self.halt()
            raise
        return self

    def __exit__(self, *exc):
        self.halt()
        return False


class LocalSystem:
    """The booted system this process runs in (the kernel61 guest), with the
    interface of Container: the cases of test_booted.py run unchanged on it.
    @upper is the upper layer of its root overlay (what the system changed)."""

    def __init__(self, upper=None):
        self.root = '/'
        self.upper = upper
        self.leader = 1

    def run(self, cmd, input=None, timeout=60.0, env=None, check=False):
        inner_env = {'PATH': INNER_PATH, 'LANG': 'C.UTF-8', 'SYSTEMD_PAGER': '',
                     'SYSTEMD_COLORS': '0'}
        inner_env.update(env or {})
        r = subprocess.run(list(cmd), input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout * SCALE,
                           env=inner_env)
        # Under emulation PID 1 may take longer than sd-bus's 25 s to answer
        # (systemctl has no setting for it): ask once more, saying so. Every
        # systemctl verb the tests use is idempotent.
        if cmd[:1] == ['systemctl'] and r.returncode != 0 and \
                'Connection timed out' in r.stderr:
            sys.stderr.write('%s: %s; asking once more\n' % (' '.join(cmd), r.stderr.strip()))
            r = subprocess.run(list(cmd), input=input, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=timeout * SCALE,
                               env=inner_env)
        if check and r.returncode != 0:
            raise ContainerError('%s: exit %d\n%s%s' % (' '.join(cmd), r.returncode,
                                                        r.stdout, r.stderr))
        return r

    def popen(self, cmd, **kw):
        kw.setdefault('stdout', subprocess.PIPE)
        kw.setdefault('stderr', subprocess.PIPE)
        return subprocess.Popen(list(cmd), text=True,
                                env={'PATH': INNER_PATH, 'LANG': 'C.UTF-8'}, **kw)

    def path(self, inner):
        return inner

    def live_path(self, inner):
        return inner

    def console(self, limit=4000):
        return ''

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
