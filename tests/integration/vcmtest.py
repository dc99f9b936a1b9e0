#!/usr/bin/python3
# vcmtest: the integration-test harness. A World is one private system bus, the
# real polkitd with the project's actions and the test's rules, a second
# unprivileged user, and the built vcmountd on a temporary shared dir, all set
# up inside the mount namespace the test runner was started in (meson wraps it
# in `unshare -m --propagation private`) and torn down again on exit.
#
# Environment (set by meson): VCM_SOURCE_ROOT (the source tree, for the policy
# and introspection files), VCM_DAEMON (the built vcmountd).

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from gi.repository import Gio, GLib

BUS_NAME = 'org.vc.Mount'
OBJECT_PATH = '/org/vc/Mount'
INTERFACE = 'org.vc.Mount'
ERROR_PREFIX = 'org.vc.Mount.Error.'
# polkit would allow the call after authentication, and the call did not allow
# interactive authorization (the bus's name, not an org.vc.Mount.Error)
INTERACTIVE_AUTHORIZATION_REQUIRED = 'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired'
POLKIT_NAME = 'org.freedesktop.PolicyKit1'
POLKITD = '/usr/lib/polkit-1/polkitd'
PYTHON = '/usr/bin/python3'
# a FUSE server that never answers (see there)
FUSE_HANG = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fuse_hang.py')

TEST_USER = 'vcmtest'
TEST_UID = 4242
# A group the test user is a member of in the user database (the attack
# tests check that a caller that dropped it does not get its access).
TEST_GROUP = 'vcmgroup'
TEST_GROUP_GID = 4343
NOBODY_UID = 65534
# Eight more accounts with no rule of their own (the attacks of many users)
ACCOUNTS = [(f'vcmtest-a{i}', 4300 + i) for i in range(1, 9)]
# The test user's subordinate uid and gid range (/etc/subuid, /etc/subgid of
# the world), for newuidmap/newgidmap and the ID-mapped mounts' checks.
SUBID_START = 100000
SUBID_COUNT = 131072

# Every wait of the tests is for an event, bounded by a generous timeout; the
# sanitizer build (slower, and on a loaded machine slower still) sets
# VCM_TEST_TIMEOUT_MULTIPLIER to stretch all of those bounds at once.
TIMEOUT_SCALE = max(1.0, float(os.environ.get('VCM_TEST_TIMEOUT_MULTIPLIER') or 1))


def scaled(seconds):
    """@seconds, a bound on a wait, stretched by TIMEOUT_SCALE."""
    return seconds * TIMEOUT_SCALE


START_TIMEOUT = scaled(30.0)             # seconds for a name to appear on the bus
STOP_TIMEOUT = scaled(30.0)              # seconds for a process to exit after SIGTERM
CALL_TIMEOUT_MS = int(scaled(60) * 1000)  # per D-Bus call (the daemon gives polkit 25 s)
WAIT_TIMEOUT = 30.0                      # for wait_until() and signals, before scaling

# Device numbers the fake sysfs tree knows: (major, minor) -> is device-mapper.
FAKE_BLOCK_DEVICES = {
    (253, 0): True,
    (253, 1): False,
    (8, 0): False,
    (4096, 1048576): True,   # beyond the 12/20-bit split of the old encoding
}

_libc = ctypes.CDLL(None, use_errno=True)
MNT_DETACH = 2
UMOUNT_NOFOLLOW = 8
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RDONLY = 1
MS_REMOUNT = 32
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
SYS_mount_setattr = 442      # the same number on every architecture
# per-mount flags as mountinfo shows them, kept when remounting read-only
_MOUNT_FLAG_OPTIONS = {'nosuid': 2, 'nodev': 4, 'noexec': 8, 'noatime': 1024,
                       'nodiratime': 2048, 'relatime': 1 << 21}


class _MountAttr(ctypes.Structure):
    _fields_ = [('attr_set', ctypes.c_uint64), ('attr_clr', ctypes.c_uint64),
                ('propagation', ctypes.c_uint64), ('userns_fd', ctypes.c_uint64)]

# Worlds alive in this process, and the logs of worlds that closed since the
# runner last asked (see failure_diagnostics()).
_live_worlds = []
_closed_logs = []


class HarnessError(RuntimeError):
    """Setting up or tearing down the world failed."""


class DBusCallError(Exception):
    """A D-Bus call returned an error: @name is the D-Bus error name."""

    def __init__(self, name, message):
        super().__init__(f'{name}: {message}')
        self.name = name
        self.message = message


# -- helpers --------------------------------------------------------------

def source_root():
    root = os.environ.get('VCM_SOURCE_ROOT')
    if not root:
        root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    return root


def daemon_path():
    path = os.environ.get('VCM_DAEMON')
    if not path:
        raise HarnessError('VCM_DAEMON is not set (the path of the built vcmountd)')
    if not os.access(path, os.X_OK):
        raise HarnessError(f'VCM_DAEMON={path} is not an executable')
    return path


def daemon_has_asan():
    """Whether the vcmountd under test is built with AddressSanitizer (its
    shadow memory is then no measure of the daemon's own, and valgrind cannot
    run it)."""
    try:
        with open(daemon_path(), 'rb') as f:
            return b'__asan_init' in f.read()
    except (OSError, HarnessError):
        return False


def mount(source, target, fstype=None, flags=0, data=None):
    """mount(2); raises OSError."""
    r = _libc.mount(source.encode() if source else None, target.encode(),
                    fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                    data.encode() if data else None)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, f'mount {source} on {target}: {os.strerror(e)}')


def umount(target, flags=MNT_DETACH):
    """umount2(2); raises OSError."""
    if _libc.umount2(target.encode(), ctypes.c_int(flags)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f'umount {target}: {os.strerror(e)}')


def _unescape(s):
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), s)


def mountinfo():
    """This mount namespace's mounts, in table order, as dicts decoded from
    /proc/self/mountinfo."""
    mounts = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split()
            sep = fields.index('-')
            major, minor = fields[2].split(':')
            optional = fields[6:sep]
            propagation = 'private'
            for opt in optional:
                if opt.startswith('shared:'):
                    propagation = 'shared'
                    break
                if opt.startswith('master:'):
                    propagation = 'slave'
                if opt == 'unbindable':
                    propagation = 'unbindable'
            mounts.append({
                'id': int(fields[0]),
                'parent_id': int(fields[1]),
                'major': int(major),
                'minor': int(minor),
                'root': _unescape(fields[3]),
                'mount_point': _unescape(fields[4]),
                'options': fields[5].split(','),
                'optional': optional,
                'propagation': propagation,
                'fs_type': fields[sep + 1],
                'source': _unescape(fields[sep + 2]),
                'super_options': fields[sep + 3].split(',') if len(fields) > sep + 3 else [],
                'line': line.rstrip('\n'),
            })
    return mounts


def set_read_only(path, read_only, recursive=False):
    """Makes the mount at @path (and, with @recursive, every mount below it)
    read-only or writable, in this mount namespace only: mount_setattr(2), or
    a bind remount on kernels without it (then never recursive). Raises OSError."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY if read_only else 0, 0 if read_only else MOUNT_ATTR_RDONLY, 0, 0)
    r = _libc.syscall(ctypes.c_long(SYS_mount_setattr), ctypes.c_int(AT_FDCWD), path.encode(),
                      ctypes.c_uint(AT_RECURSIVE if recursive else 0), ctypes.byref(attr),
                      ctypes.c_size_t(ctypes.sizeof(attr)))
    if r == 0:
        return
    e = ctypes.get_errno()
    if e != errno.ENOSYS:
        raise OSError(e, f'mount_setattr {path}: {os.strerror(e)}')
    if recursive:
        raise OSError(e, f'mount_setattr {path}: {os.strerror(e)} (no recursive fallback)')
    mine = [m for m in mountinfo() if m['mount_point'] == path]
    flags = MS_BIND | MS_REMOUNT | (MS_RDONLY if read_only else 0)
    for opt in (mine[-1]['options'] if mine else []):
        flags |= _MOUNT_FLAG_OPTIONS.get(opt, 0)
    mount(None, path, flags=flags)


def is_beneath(path, directory, inclusive=True):
    directory = directory.rstrip('/') or '/'
    if path == directory:
        return inclusive
    return path.startswith(directory + '/') or directory == '/'


def mounts_beneath(path, inclusive=True):
    """The mounts whose mount point is @path (when @inclusive) or below it."""
    return [m for m in mountinfo() if is_beneath(m['mount_point'], path, inclusive)]


def mount_with_freed_id(source, target, freed, spare_dir, tries=4096):
    """Binds @source at @target as the mount of the 32-bit ID @freed (one
    just freed): the kernel gives a new mount the lowest free ID, so binds
    of @source in directories made in @spare_dir take the free IDs below it
    until one gets @freed, which is then moved to @target. The binds below
    stay (in @spare_dir: the caller unmounts them). False when another
    mount took @freed first."""
    os.makedirs(spare_dir, exist_ok=True)
    for k in range(tries):
        spare = os.path.join(spare_dir, str(k))
        os.mkdir(spare)
        mount(source, spare, flags=MS_BIND)
        fd = os.open(spare, os.O_PATH)
        try:
            with open(f'/proc/self/fdinfo/{fd}') as f:
                got = int(re.search(r'^mnt_id:\s*(\d+)', f.read(), re.M).group(1))
        finally:
            os.close(fd)
        if got == freed:
            mount(spare, target, flags=MS_MOVE)
            return True
        if got > freed:
            umount(spare)
            return False
    return False


def top_mount(path):
    """The top mount whose mount point is exactly @path, or None."""
    found = None
    for m in mountinfo():
        if m['mount_point'] == path:
            found = m
    return found


def mount_table():
    """The raw lines of /proc/self/mountinfo: to check that nothing changed."""
    with open('/proc/self/mountinfo') as f:
        return f.read().splitlines()


def _in_private_mount_namespace():
    """Whether this process runs in a mount namespace of its own, with no mount
    propagating to or from another namespace. /proc/1/ns/mnt may be unreadable
    (in a container); then an ancestor process in another namespace proves it."""
    mine = os.readlink('/proc/self/ns/mnt')
    other = False
    pid = os.getpid()
    while pid > 1:
        try:
            with open(f'/proc/{pid}/status') as f:
                pid = int(re.search(r'^PPid:\s*(\d+)', f.read(), re.M).group(1))
        except (OSError, AttributeError):
            break
        try:
            if os.readlink(f'/proc/{pid}/ns/mnt') != mine:
                other = True
                break
        except OSError:
            continue
    if not other:
        return False
    return not any(m['propagation'] in ('shared', 'slave') for m in mountinfo())


def _interface_xml():
    path = os.path.join(source_root(), 'introspection', 'org.vc.Mount.xml')
    return ET.parse(path).getroot().find(f"interface[@name='{INTERFACE}']")


_SIGNATURES = None


def method_signatures():
    """{method: (in_signature, out_signature)} from the project's introspection XML."""
    global _SIGNATURES
    if _SIGNATURES is None:
        sigs = {}
        for m in _interface_xml().findall('method'):
            ins = ''.join(a.get('type') for a in m.findall('arg') if a.get('direction', 'in') == 'in')
            outs = ''.join(a.get('type') for a in m.findall('arg') if a.get('direction') == 'out')
            sigs[m.get('name')] = (ins, outs)
        _SIGNATURES = sigs
    return _SIGNATURES


def in_signature(method):
    try:
        return method_signatures()[method][0]
    except KeyError:
        raise HarnessError(f'{method} is not a method of {INTERFACE} in the introspection XML')


# Looked up once here: PyGObject resolves a GI attribute on first use, and
# threads making that first use at once (test_load, test_faults) can find it
# missing.
_get_remote_error = Gio.DBusError.get_remote_error


def _remote_error(err):
    """(name, message) of a GLib.Error from a D-Bus call."""
    name = _get_remote_error(err)
    message = err.message
    if name:
        prefix = f'GDBus.Error:{name}: '
        if message.startswith(prefix):
            message = message[len(prefix):]
    else:
        name = f'local.{err.domain}.{err.code}'
    return name, message


def unit_environment():
    """The environment vcmountd's systemd unit gives it (its Environment=
    lines), so that tests and benchmarks run the daemon as installed."""
    env = {}
    with open(os.path.join(source_root(), 'policy', 'vcmountd.service.in')) as f:
        for line in f:
            line = line.strip()
            if line.startswith('Environment='):
                for assignment in shlex.split(line[len('Environment='):]):
                    key, _, value = assignment.partition('=')
                    env[key] = value
    return env


def polkit_rule(action, user, result='YES', **details):
    """The text of a polkit rule that answers @result (a polkit.Result name)
    when @user asks for @action with each detail of @details (name=value) as
    given, and leaves every other question to the next rule."""
    conds = [f'action.id == {json.dumps(action)}', f'subject.user == {json.dumps(user)}']
    conds += [f'action.lookup({json.dumps(k)}) == {json.dumps(v)}' for k, v in details.items()]
    return ('polkit.addRule(function(action, subject) {\n'
            '    if (' + ' &&\n        '.join(conds) + ')\n'
            f'        return polkit.Result.{result};\n'
            '});\n')


def wait_until(predicate, timeout, what, interval=0.01):
    """Poll @predicate until it is true; raises HarnessError after @timeout s
    (stretched by TIMEOUT_SCALE)."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise HarnessError(f'timed out after {timeout:.0f} s waiting for {what}')
        time.sleep(interval)


def _tail(path, offset=0, max_lines=200):
    try:
        with open(path, errors='replace') as f:
            f.seek(offset)
            lines = f.read().splitlines()
    except OSError as e:
        return [f'(cannot read {path}: {e})']
    if len(lines) > max_lines:
        lines = [f'... ({len(lines) - max_lines} lines left out)'] + lines[-max_lines:]
    return lines


# The program run as another uid by World.call_as(): one D-Bus call, its
# result printed in GVariant text form, its error as name and message.
_CALL_AS_PROGRAM = r'''
import sys
from gi.repository import Gio, GLib
address, dest, path, iface, method, sig, args, timeout, interactive = sys.argv[1:10]
try:
    conn = Gio.DBusConnection.new_for_address_sync(
        address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    params = GLib.Variant.parse(GLib.VariantType.new('(' + sig + ')'), args, None, None) if sig else None
    flags = Gio.DBusCallFlags.NO_AUTO_START
    if interactive == 'interactive':
        flags |= Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION
    res = conn.call_sync(dest, path, iface, method, params, None, flags, int(timeout), None)
    print('ok')
    print(res.print_(True))
except GLib.Error as e:
    name = Gio.DBusError.get_remote_error(e)
    message = e.message
    if name and message.startswith('GDBus.Error:%s: ' % name):
        message = message[len('GDBus.Error:%s: ' % name):]
    print('error')
    print(name or 'local.%s.%d' % (e.domain, e.code))
    print(message)
'''


# -- the world ------------------------------------------------------------

class World:
    """One private system bus + polkitd + vcmountd. Use as a context manager.

    Attributes once entered: tmp (the world's temp dir), shared_dir (real
    path), sysfs_root, bus_address, env (a dict to add to a child's
    environment: DBUS_SYSTEM_BUS_ADDRESS), daemon_log, polkit_log, bus_log,
    rules_dir, test_uid (the extra user, gid = uid)."""

    # How many times slower than usual the daemon starts and stops (a
    # subclass that runs it under valgrind says so).
    daemon_slowdown = 1

    def __init__(self, start_daemon=True, daemon_args=(), verbose=True, defaults=False,
                 read_only_host=False, root_bus_policy='', shared_dir_link=False):
        """@defaults: start vcmountd with its built-in defaults (no --shared-dir,
        --sysfs-root or --config): its shared dir is then the default one, which
        the caller has made safe (e.g. a tmpfs on /run/vc in this namespace).
        @read_only_host: in this mount namespace, every mount but the world's
        tmp dir is read-only while the world lives, and so is every bind of it
        the daemon makes: a test that binds host directories (/, /etc, /dev)
        into the shared dir and then has directories or files created beneath
        them cannot write to the host's files (as it would, on the same
        filesystems, through a writable bind).
        @root_bus_policy: bus policy rules for root (the daemon's user), e.g.
        a deny that makes one of polkit's methods fail for the daemon.
        @shared_dir_link: the daemon is given its shared dir through a
        symlink of a directory above it (as /var/run -> /run): the path
        configured is shared_dir_configured; shared_dir stays the real one."""
        self.read_only_host = read_only_host
        self.root_bus_policy = root_bus_policy
        self._host_writable = []    # mount points made read-only, made writable at teardown
        self.start_daemon_on_enter = start_daemon
        self.daemon_args = list(daemon_args)
        self.verbose = verbose
        self.defaults = defaults
        self.shared_dir_link = shared_dir_link
        self.tmp = None
        self.shared_dir = None
        self.sysfs_root = None
        self.bus_address = None
        self.env = {}
        self.test_uid = TEST_UID
        self._bind_mounts = []      # targets, in the order mounted
        self._saved_env = None
        self._dbus = None
        self._polkitd = None
        self._daemon = None
        self._conn = None
        self._rule_count = 0
        self._log_offsets = {}

    # context manager -----------------------------------------------------

    def __enter__(self):
        if os.geteuid() != 0:
            raise HarnessError('the integration tests need root (they mount and start polkitd)')
        if not _in_private_mount_namespace():
            raise HarnessError('not in a private mount namespace: run under '
                               '`unshare -m --propagation private` (meson test does)')
        try:
            self._setup()
        except BaseException:
            self._teardown()
            raise
        _live_worlds.append(self)
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            sys.stderr.write(self.logs_text())
        self._teardown()
        return False

    # setup -----------------------------------------------------------------

    def _setup(self):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix='vcmtest.'))
        os.chmod(self.tmp, 0o755)        # the bus socket must be reachable by every uid
        self.shared_dir = os.path.join(self.tmp, 'shared')
        os.mkdir(self.shared_dir, 0o755)
        if self.shared_dir_link:
            os.symlink(self.tmp, os.path.join(self.tmp, 'var-run'))
        self.sysfs_root = os.path.join(self.tmp, 'sysfs')
        self._make_fake_sysfs()
        self.daemon_log = os.path.join(self.tmp, 'vcmountd.log')
        self.polkit_log = os.path.join(self.tmp, 'polkitd.log')
        self.bus_log = os.path.join(self.tmp, 'dbus-daemon.log')
        self.config_file = os.path.join(self.tmp, 'vcmountd.conf')   # never created: defaults
        if self.read_only_host:
            self._make_host_read_only()

        self._setup_users()
        self._start_bus()
        self._setup_polkit()
        self._start_polkitd()
        if self.start_daemon_on_enter:
            self.start_daemon()

    def _make_fake_sysfs(self):
        for (major, minor), dm in FAKE_BLOCK_DEVICES.items():
            d = os.path.join(self.sysfs_root, 'dev', 'block', f'{major}:{minor}')
            os.makedirs(d)
            with open(os.path.join(d, 'dev'), 'w') as f:
                f.write(f'{major}:{minor}\n')
            if dm:
                os.mkdir(os.path.join(d, 'dm'))
                with open(os.path.join(d, 'dm', 'name'), 'w') as f:
                    f.write(f'vcmtest-{major}-{minor}\n')

    def _make_host_read_only(self):
        writable = [m['mount_point'] for m in mountinfo() if 'rw' in m['options']]
        self._bind(self.tmp, self.tmp)        # a mount of its own, to stay writable
        self._host_writable = writable
        try:
            set_read_only('/', True, recursive=True)
        except OSError as e:
            if e.errno != errno.ENOSYS:
                raise
            for path in writable:
                set_read_only(path, True)
        set_read_only(self.tmp, False, recursive=True)
        probe = os.path.join(os.path.dirname(self.tmp), f'.vcmtest-probe-{os.getpid()}')
        try:
            os.mkdir(probe)
        except OSError as e:
            if e.errno != errno.EROFS:
                raise
        else:
            os.rmdir(probe)
            raise HarnessError(f'{os.path.dirname(self.tmp)} is still writable')

    def _restore_host_writable(self, problems):
        for path in self._host_writable:
            try:
                set_read_only(path, False)
            except OSError as e:
                problems.append(str(e))
        self._host_writable = []

    def _bind(self, source, target):
        mount(source, target, flags=MS_BIND)
        self._bind_mounts.append(target)
        mount(None, target, flags=MS_PRIVATE)

    def _setup_users(self):
        etc = os.path.join(self.tmp, 'etc')
        os.mkdir(etc, 0o755)
        subids = {'subuid': f'{TEST_USER}:{SUBID_START}:{SUBID_COUNT}\n',
                  'subgid': f'{TEST_USER}:{SUBID_START}:{SUBID_COUNT}\n'}
        # Where the host has no /etc/subuid or /etc/subgid to bind over, an
        # overlay of /etc (in this mount namespace only, first, under the
        # binds) holds empty ones.
        if not all(os.path.exists(f'/etc/{name}') for name in subids):
            upper, work = os.path.join(self.tmp, 'etc-upper'), os.path.join(self.tmp, 'etc-work')
            os.mkdir(upper, 0o755)
            os.mkdir(work, 0o755)
            mount('overlay', '/etc', 'overlay', data=f'lowerdir=/etc,upperdir={upper},workdir={work}')
            self._bind_mounts.append('/etc')
            for name in subids:
                if not os.path.exists(f'/etc/{name}'):
                    open(f'/etc/{name}', 'w').close()
        accounts = {'passwd': ''.join(f'{n}:x:{u}:{u}:vc-mount test account:/nonexistent:/usr/sbin/nologin\n'
                                      for n, u in ACCOUNTS),
                    'group': ''.join(f'{n}:x:{u}:\n' for n, u in ACCOUNTS)}
        for name, line in (('passwd', f'{TEST_USER}:x:{TEST_UID}:{TEST_UID}:vc-mount test user:/nonexistent:/usr/sbin/nologin\n'),
                           ('group', f'{TEST_USER}:x:{TEST_UID}:\n'
                                     f'{TEST_GROUP}:x:{TEST_GROUP_GID}:{TEST_USER}\n')):
            line += accounts[name]
            copy = os.path.join(etc, name)
            with open(f'/etc/{name}') as f:
                text = f.read()
            if not re.search(rf'^{TEST_USER}:', text, re.M):
                if text and not text.endswith('\n'):
                    text += '\n'
                text += line
            with open(copy, 'w') as f:
                f.write(text)
            os.chmod(copy, 0o644)
            self._bind(copy, f'/etc/{name}')
        # Its subordinate ranges, and nobody else's.
        for name, text in subids.items():
            copy = os.path.join(etc, name)
            with open(copy, 'w') as f:
                f.write(text)
            os.chmod(copy, 0o644)
            self._bind(copy, f'/etc/{name}')

    def _write_bus_config(self):
        policy_conf = os.path.join(source_root(), 'policy', 'org.vc.Mount.conf')
        if os.path.exists(policy_conf):
            include = f'<include>{policy_conf}</include>'
        else:
            placeholder = os.path.join(self.tmp, 'org.vc.Mount.conf')
            with open(placeholder, 'w') as f:
                f.write('''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root"><allow own="org.vc.Mount"/></policy>
  <policy context="default">
    <allow send_destination="org.vc.Mount"/>
  </policy>
</busconfig>
''')
            include = f'<include>{placeholder}</include>'
        self.bus_socket = os.path.join(self.tmp, 'system_bus_socket')
        conf = os.path.join(self.tmp, 'bus.conf')
        with open(conf, 'w') as f:
            f.write(f'''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={self.bus_socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <allow send_destination="{POLKIT_NAME}"/>
  </policy>
  <policy user="polkitd">
    <allow own="{POLKIT_NAME}"/>
    <!-- As the distribution's polkit bus config does: polkitd may call the
         authentication agents (pkttyagent) it asks for a password. -->
    <allow send_interface="org.freedesktop.PolicyKit1.AuthenticationAgent"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
    {self.root_bus_policy}
  </policy>
  {include}
</busconfig>
''')
        return conf

    def _start_bus(self):
        conf = self._write_bus_config()
        rfd, wfd = os.pipe()
        log = open(self.bus_log, 'ab')
        try:
            self._dbus = subprocess.Popen(
                ['dbus-daemon', f'--config-file={conf}', '--nofork', f'--print-address={wfd}'],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, pass_fds=(wfd,))
        finally:
            log.close()
            os.close(wfd)
        with os.fdopen(rfd) as r:
            address = r.readline().strip()
        if not address:
            self._dbus.wait(timeout=STOP_TIMEOUT)
            raise HarnessError('dbus-daemon did not start:\n' + '\n'.join(_tail(self.bus_log)))
        self.bus_address = address
        self.env = {'DBUS_SYSTEM_BUS_ADDRESS': address}
        self._saved_env = os.environ.get('DBUS_SYSTEM_BUS_ADDRESS')
        os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = address
        self._conn = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self._conn.set_exit_on_close(False)

    def _setup_polkit(self):
        actions = os.path.join(self.tmp, 'polkit-actions')
        self.rules_dir = os.path.join(self.tmp, 'polkit-rules')
        empty = os.path.join(self.tmp, 'polkit-empty')
        for d in (actions, self.rules_dir, empty):
            os.mkdir(d, 0o755)
        policy = os.path.join(source_root(), 'policy', 'org.vc.Mount.policy')
        if os.path.exists(policy):
            shutil.copy(policy, actions)
            os.chmod(os.path.join(actions, os.path.basename(policy)), 0o644)
        self._bind(actions, '/usr/share/polkit-1/actions')
        self._bind(self.rules_dir, '/etc/polkit-1/rules.d')
        self._bind(empty, '/usr/share/polkit-1/rules.d')

    def _start_polkitd(self):
        log = open(self.polkit_log, 'ab')
        try:
            self._polkitd = subprocess.Popen([POLKITD], stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, env=self._child_env())
        finally:
            log.close()
        self._wait_for_name(POLKIT_NAME, self._polkitd, self.polkit_log, 'polkitd')

    @property
    def polkitd_pid(self):
        return self._polkitd.pid if self._polkitd is not None else None

    def stop_polkitd(self):
        """Stops polkitd (SIGTERM) and waits until its name has left the bus."""
        if self._polkitd is not None:
            _stop(self._polkitd, signal.SIGTERM)
            self._polkitd = None
        wait_until(lambda: not self.name_has_owner(POLKIT_NAME), WAIT_TIMEOUT,
                   f'{POLKIT_NAME} to leave the bus')

    def start_polkitd(self):
        if self._polkitd is not None and self._polkitd.poll() is None:
            raise HarnessError('polkitd is running already')
        self._start_polkitd()

    def _child_env(self, extra=None):
        env = dict(os.environ)
        env.update(self.env)
        if extra:
            env.update(extra)
        return env

    def name_has_owner(self, name):
        res = self._conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                   'org.freedesktop.DBus', 'NameHasOwner',
                                   GLib.Variant('(s)', (name,)), GLib.VariantType('(b)'),
                                   Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None)
        return res.unpack()[0]

    def bus_connections(self):
        """The unique names on the bus: one per connection (never reused,
        so the names not in an earlier list are the connections made since)."""
        res = self._conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                   'org.freedesktop.DBus', 'ListNames', None, GLib.VariantType('(as)'),
                                   Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None)
        return [n for n in res.unpack()[0] if n.startswith(':')]

    def name_owner_pid(self, name):
        res = self._conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                   'org.freedesktop.DBus', 'GetConnectionUnixProcessID',
                                   GLib.Variant('(s)', (name,)), GLib.VariantType('(u)'),
                                   Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None)
        return res.unpack()[0]

    def _wait_for_name(self, name, proc, log, what, timeout=None):
        timeout = timeout or START_TIMEOUT * self.daemon_slowdown
        deadline = time.monotonic() + timeout
        while not self.name_has_owner(name):
            if proc.poll() is not None:
                raise HarnessError(f'{what} exited with status {proc.returncode} before owning '
                                   f'{name}; its log:\n' + '\n'.join(_tail(log)))
            if time.monotonic() > deadline:
                raise HarnessError(f'{what} did not own {name} within {timeout:.0f} s; its log:\n'
                                   + '\n'.join(_tail(log)))
            time.sleep(0.005)

    # the daemon ------------------------------------------------------------

    @property
    def shared_dir_configured(self):
        """The path of the shared dir the daemon is given (see @shared_dir_link)."""
        if self.shared_dir_link:
            return os.path.join(self.tmp, 'var-run', os.path.relpath(self.shared_dir, self.tmp))
        return self.shared_dir

    def daemon_command(self):
        cmd = [daemon_path()]
        refuse = os.environ.get('VCM_TEST_REFUSE_SYSCALLS')
        if refuse:
            # under a seccomp filter, as a unit's SystemCallFilter= and
            # RestrictSUIDSGID= confine it (the helper execs vcmountd)
            cmd = [os.environ['VCM_REFUSE_SYSCALLS_HELPER'], refuse] + cmd
        if not self.defaults:
            cmd += ['--shared-dir', self.shared_dir_configured, '--sysfs-root', self.sysfs_root,
                    '--config', self.config_file]
        if self.verbose:
            cmd.append('--verbose')
        return cmd + self.daemon_args

    def start_daemon(self):
        if self._daemon is not None and self._daemon.poll() is None:
            raise HarnessError('vcmountd is running already')
        log = open(self.daemon_log, 'ab')
        try:
            log.write(f'--- starting {" ".join(self.daemon_command())}\n'.encode())
            log.flush()
            self._daemon = subprocess.Popen(self.daemon_command(), stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            env=self._child_env({**unit_environment(),
                                                                 'G_DEBUG': 'fatal-criticals'}))
        finally:
            log.close()
        self._wait_for_name(BUS_NAME, self._daemon, self.daemon_log, 'vcmountd')
        if self.defaults:
            self.shared_dir = self.get_property('SharedDir')

    @property
    def daemon_pid(self):
        return self._daemon.pid if self._daemon is not None else None

    def daemon_running(self):
        return self._daemon is not None and self._daemon.poll() is None

    def stop_daemon(self, kill9=False, check=True):
        """Stops vcmountd (SIGTERM, or SIGKILL when @kill9); returns its exit status
        (negative: the signal that killed it). With @check, a daemon that had
        died already, or that does not exit 0 on SIGTERM (a crash, a sanitizer
        report), raises HarnessError."""
        if self._daemon is None:
            return None
        died = self._daemon.poll() is not None
        status = _stop(self._daemon, signal.SIGKILL if kill9 else signal.SIGTERM,
                       STOP_TIMEOUT * self.daemon_slowdown)
        self._daemon = None
        wait_until(lambda: not self.name_has_owner(BUS_NAME), WAIT_TIMEOUT,
                   f'{BUS_NAME} to leave the bus')
        if check and (died or (not kill9 and status != 0)):
            raise HarnessError(f'vcmountd {"had died" if died else "stopped"} with exit status '
                               f'{status}; its log:\n' + '\n'.join(_tail(self.daemon_log)))
        return status

    def wait_daemon_exit(self):
        """Waits for vcmountd to exit by itself (after a signal the test sent
        it; a second SIGTERM while it finishes would kill it); returns its exit
        status."""
        if self._daemon is not None:
            self._daemon.wait(timeout=STOP_TIMEOUT * self.daemon_slowdown)
        return self.stop_daemon(check=False)

    def restart_daemon(self, kill9=False):
        """Stops vcmountd (SIGKILL when @kill9) and starts it again; returns the
        old one's exit status."""
        status = self.stop_daemon(kill9=kill9)
        self.start_daemon()
        return status

    # polkit rules ------------------------------------------------------------

    def add_rule(self, js_text, name=None):
        """Writes a polkit rules file (JavaScript) into the rules dir polkitd
        reads; returns its path. polkitd notices the new file by itself (inotify)
        within milliseconds; a test that depends on the rule should poll for its
        effect (see wait_for_rule) rather than sleep."""
        self._rule_count += 1
        name = name or f'{50 + self._rule_count:02d}-vcmtest-{self._rule_count}.rules'
        path = os.path.join(self.rules_dir, name)
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(js_text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
        return path

    def remove_rule(self, path):
        os.unlink(path)

    def set_root_bus_policy(self, rules):
        """Replaces the bus policy rules for root (see root_bus_policy) and
        has the bus read its configuration again before this returns."""
        self.root_bus_policy = rules
        self._write_bus_config()
        self._conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                             'ReloadConfig', None, None, Gio.DBusCallFlags.NONE, -1, None)

    def pkcheck(self, uid, action, details=None, subject_pid=None):
        """Asks polkit (pkcheck, run as root so that it may pass @details) whether
        a process of @uid may do @action; returns (authorized, output)."""
        subject = None
        if subject_pid is None:
            subject = self._subject(uid)
            subject_pid = subject.pid
        try:
            cmd = ['pkcheck', '--action-id', action, '--process', str(subject_pid)]
            for k, v in (details or {}).items():
                cmd += ['--detail', k, v]
            p = subprocess.run(cmd, env=self._child_env(), stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=scaled(30))
            return p.returncode == 0, p.stdout + p.stderr
        finally:
            if subject is not None:
                _stop(subject, signal.SIGKILL)

    def _subject(self, uid):
        """A process of @uid for polkit to judge (it sleeps until killed)."""
        gid = self.gid_of(uid)
        subject = subprocess.Popen(['setpriv', f'--reuid={uid}', f'--regid={gid}', '--clear-groups',
                                    'sh', '-c', 'echo; exec sleep 600'],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        subject.stdout.readline()   # it runs as @uid now
        return subject

    def wait_for_rule(self, uid, action, details=None, authorized=True, timeout=WAIT_TIMEOUT):
        """Polls pkcheck until @uid is (not) authorized for @action: the rule is live."""
        subject = self._subject(uid)
        try:
            wait_until(lambda: self.pkcheck(uid, action, details, subject.pid)[0] == authorized,
                       timeout, f'polkit to {"allow" if authorized else "refuse"} {action} for uid {uid}',
                       interval=0.02)
        finally:
            _stop(subject, signal.SIGKILL)

    def wait_for_refusal(self, uid, action, timeout=WAIT_TIMEOUT):
        """Polls pkcheck until polkit refuses @action to @uid outright ("Not
        authorized", not the challenge that is also polkit's default): a rule
        that says NO is live."""
        wait_until(lambda: 'Not authorized' in self.pkcheck(uid, action)[1],
                   timeout, f'polkit to say no to uid {uid} for {action}')

    # calls -------------------------------------------------------------------

    @property
    def connection(self):
        """The harness's own (root) Gio.DBusConnection to the bus."""
        return self._conn

    def new_connection(self):
        conn = Gio.DBusConnection.new_for_address_sync(
            self.bus_address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        conn.set_exit_on_close(False)
        return conn

    def proxy(self):
        """A Gio.DBusProxy for org.vc.Mount (root calls; dynamic methods such as
        proxy.MountRootfs('(sssb)', ...) work, and so do call_sync())."""
        return Gio.DBusProxy.new_sync(self._conn, Gio.DBusProxyFlags.DO_NOT_AUTO_START, None,
                                      BUS_NAME, OBJECT_PATH, INTERFACE, None)

    def call_raw(self, method, *args, signature=None, interface=INTERFACE, timeout_ms=CALL_TIMEOUT_MS,
                 connection=None):
        """Calls @method as root; returns the reply's GLib.Variant (a tuple);
        raises DBusCallError."""
        if signature is None:
            signature = in_signature(method) if interface == INTERFACE else ''
        params = GLib.Variant(f'({signature})', tuple(args)) if signature else None
        try:
            return (connection or self._conn).call_sync(
                BUS_NAME, OBJECT_PATH, interface, method, params, None,
                Gio.DBusCallFlags.NO_AUTO_START, timeout_ms, None)
        except GLib.Error as e:
            raise DBusCallError(*_remote_error(e)) from None

    def call(self, method, *args, **kw):
        """Calls @method as root; returns the unpacked out value (a tuple when
        the method has several out arguments, None when it has none); raises
        DBusCallError."""
        res = self.call_raw(method, *args, **kw).unpack()
        if len(res) == 0:
            return None
        return res[0] if len(res) == 1 else res

    def get_property(self, name):
        res = self.call_raw('Get', INTERFACE, name, signature='ss',
                            interface='org.freedesktop.DBus.Properties')
        return res.unpack()[0]

    def get_all_properties(self):
        res = self.call_raw('GetAll', INTERFACE, signature='s',
                            interface='org.freedesktop.DBus.Properties')
        return res.unpack()[0]

    @staticmethod
    def gid_of(uid):
        return {0: 0, NOBODY_UID: 65534, TEST_UID: TEST_UID}.get(uid, uid)

    def setpriv(self, uid, gid=None, groups=None):
        """The setpriv command line to run as @uid (and @gid) with the
        supplementary @groups (none by default)."""
        gid = self.gid_of(uid) if gid is None else gid
        grp = [f'--groups={",".join(str(g) for g in groups)}'] if groups else ['--clear-groups']
        return ['setpriv', f'--reuid={uid}', f'--regid={gid}'] + grp

    def call_as(self, uid, method, *args, signature=None, destination=BUS_NAME,
                object_path=OBJECT_PATH, interface=INTERFACE, gid=None, groups=None,
                timeout_ms=CALL_TIMEOUT_MS, interactive=False):
        """Makes one D-Bus call from a process running as @uid (setpriv, with
        the supplementary @groups, none by default), with the
        allow-interactive-authorization flag if @interactive. Returns (ok,
        result_or_error_name, message): on success (True, unpacked out tuple,
        ''), on error (False, error name, error message)."""
        if signature is None:
            signature = in_signature(method) if interface == INTERFACE else ''
        args_text = GLib.Variant(f'({signature})', tuple(args)).print_(True) if signature else ''
        cmd = self.setpriv(uid, gid, groups) + [
               PYTHON, '-c', _CALL_AS_PROGRAM, self.bus_address, destination, object_path,
               interface, method, signature, args_text, str(timeout_ms),
               'interactive' if interactive else 'plain']
        p = subprocess.run(cmd, env=self._child_env(), stdin=subprocess.DEVNULL, cwd='/',
                           capture_output=True, text=True, timeout=timeout_ms / 1000 + 30)
        lines = p.stdout.split('\n', 2)
        if p.returncode != 0 or len(lines) < 2 or lines[0] not in ('ok', 'error'):
            raise HarnessError(f'call_as({uid}, {method}) failed: exit {p.returncode}\n'
                               f'stdout: {p.stdout}\nstderr: {p.stderr}')
        if lines[0] == 'ok':
            return True, GLib.Variant.parse(None, lines[1], None, None).unpack(), ''
        message = lines[2].rstrip('\n') if len(lines) > 2 else ''
        return False, lines[1], message

    # signals -----------------------------------------------------------------

    def subscribe(self, member=None):
        """Starts collecting org.vc.Mount signals (the rootfs signals, or only
        @member: MountAdded and MountRemoved, which every mount the service
        makes also emits, only when named) on a new connection; returns a
        SignalCollector."""
        return SignalCollector(self, member)

    # mounts ------------------------------------------------------------------

    def mounts_beneath(self, path, inclusive=True):
        return mounts_beneath(path, inclusive)

    def rootfs_mount_point(self, sandbox_id, container_id):
        return os.path.join(self.shared_dir, sandbox_id, container_id, 'rootfs')

    def unmount_all_beneath(self, path):
        """Lazily unmounts every mount at or below @path, deepest first, in
        rounds (others may mount and unmount meanwhile); raises HarnessError
        when a round could unmount nothing of a set that did not change."""
        last_ids = None
        for _ in range(100):
            ms = mounts_beneath(path)
            if not ms:
                return
            ms.sort(key=lambda m: (-m['mount_point'].count('/'), -m['id']))
            done = 0
            failures = []
            for m in ms:
                try:
                    umount(m['mount_point'], MNT_DETACH)
                    done += 1
                except OSError as e:
                    # EINVAL, ENOENT: gone with a mount detached before it.
                    # ENOTDIR, ENOENT, ELOOP: its path leads elsewhere while a
                    # mount stacked on one of its parents covers it; reachable
                    # again once that one is gone (this round or the next).
                    if e.errno not in (errno.EINVAL, errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                        raise
                    failures.append(str(e))
            ids = {m['id'] for m in ms}
            if done == 0 and ids == last_ids:
                raise HarnessError(f'could not unmount what is left beneath {path}: '
                                   + '; '.join(failures[:5]))
            last_ids = ids
        raise HarnessError(f'could not unmount everything beneath {path}')

    # logs --------------------------------------------------------------------

    def _logs(self):
        return [('vcmountd', self.daemon_log), ('polkitd', self.polkit_log),
                ('dbus-daemon', self.bus_log)]

    def polkit_log_offset(self):
        """Where polkitd's log ends now: polkit_log_since() shows what comes after."""
        return os.path.getsize(self.polkit_log)

    def polkit_log_since(self, offset):
        """What polkitd (and the rules' polkit.log()) wrote after @offset."""
        with open(self.polkit_log, errors='replace') as f:
            f.seek(offset)
            return f.read()

    def polkit_stalls_since(self, offset):
        """The seconds polkitd spent, after @offset in its log, waiting for a
        rules evaluation that had ended: polkit 122 (Debian 12's) loses the
        wake-up of its runaway-script timer when the evaluation ends as the
        timer starts waiting (fixed upstream in 123), and then answers nobody
        until the timer runs out and it logs that it "terminated" the script.
        Any caller that asks polkit about itself hits it now and then, also
        without this service; a test of many checks may meet it."""
        return sum(int(m.group(1)) for m in re.finditer(
            r'Terminating runaway script after (\d+) seconds', self.polkit_log_since(offset)))

    def mark_logs(self):
        """Remembers the logs' sizes: logs_text(since_mark=True) shows what came after."""
        for _, path in self._logs():
            try:
                self._log_offsets[path] = os.path.getsize(path)
            except OSError:
                self._log_offsets[path] = 0

    def logs_text(self, since_mark=False):
        if self.tmp is None:
            return ''
        out = []
        for what, path in self._logs():
            if not os.path.exists(path):
                continue
            lines = _tail(path, self._log_offsets.get(path, 0) if since_mark else 0)
            if lines:
                out.append(f'--- {what} log ({path}) ---')
                out.extend(lines)
        return '\n'.join(out) + ('\n' if out else '')

    # teardown ------------------------------------------------------------------

    def _teardown(self):
        problems = []
        if self in _live_worlds:
            _live_worlds.remove(self)
        if self.tmp is not None:
            _closed_logs.append(self.logs_text(since_mark=True))
        if self.shared_dir is not None and os.path.isdir(self.shared_dir):
            try:
                self.unmount_all_beneath(self.shared_dir)
            except Exception as e:  # keep tearing down
                problems.append(str(e))
        if self._daemon is not None:
            try:
                self.stop_daemon()
            except Exception as e:  # keep tearing down
                problems.append(str(e))
            self._daemon = None
        if self._conn is not None:
            try:
                self._conn.close_sync(None)
            except GLib.Error:
                pass
            self._conn = None
        for proc in (self._polkitd, self._dbus):
            if proc is not None:
                _stop(proc, signal.SIGTERM)
        self._polkitd = self._dbus = None
        if self._saved_env is None:
            os.environ.pop('DBUS_SYSTEM_BUS_ADDRESS', None)
        else:
            os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = self._saved_env
        for target in reversed(self._bind_mounts):
            try:
                umount(target, MNT_DETACH)
            except OSError as e:
                problems.append(str(e))
        self._bind_mounts = []
        self._restore_host_writable(problems)
        if self.tmp is not None:
            # Never delete through a mount that is still there.
            left = mounts_beneath(self.tmp)
            if left:
                problems.append('mounts left beneath ' + self.tmp + ': ' +
                                ', '.join(m['mount_point'] for m in left))
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        if problems:
            raise HarnessError('teardown: ' + '; '.join(problems))


def _stop(proc, sig, timeout=STOP_TIMEOUT):
    """Signals @proc and waits for it (SIGKILL after @timeout s)."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# The signals that carry a mount's identity, beside the rootfs signals.
IDENTITY_SIGNALS = ('MountAdded', 'MountRemoved')


class SignalCollector:
    """Collects org.vc.Mount signals on its own connection. wait_for() runs that
    connection's main context until a matching signal arrives."""

    def __init__(self, world, member=None):
        self.world = world
        self.member = member
        self.signals = []          # (member, unpacked args tuple)
        self._ctx = GLib.MainContext.new()
        self._ctx.push_thread_default()
        try:
            self.conn = world.new_connection()
            self._id = self.conn.signal_subscribe(BUS_NAME, INTERFACE, member, OBJECT_PATH, None,
                                                  Gio.DBusSignalFlags.NONE, self._on_signal)
        finally:
            self._ctx.pop_thread_default()
        # A round trip to the bus makes sure the match rule is in place.
        self.conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                            'GetId', None, None, Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None)

    def _on_signal(self, conn, sender, path, iface, member, params):
        if self.member is None and member in IDENTITY_SIGNALS:
            return
        self.signals.append((member, params.unpack()))

    def pump(self, seconds=0.0):
        """Dispatches what has arrived, and keeps doing so for @seconds. To
        wait for a signal use wait_for(); to make sure none is still on its
        way, sync()."""
        deadline = time.monotonic() + seconds
        while True:
            while self._ctx.iteration(False):
                pass
            if time.monotonic() >= deadline:
                return
            time.sleep(0.005)

    def sync(self):
        """Returns once every signal of a change made before the call has been
        collected: a ListRootfs on this collector's own connection makes the
        daemon report the changes the kernel told it of first (see
        org.vc.Mount.md), and its reply comes after those signals on this
        connection. Mind that it is a query like any other (with no mount
        notifications it may read the mount table)."""
        self.conn.call_sync(BUS_NAME, OBJECT_PATH, INTERFACE, 'ListRootfs', GLib.Variant('(s)', ('',)),
                            None, Gio.DBusCallFlags.NO_AUTO_START, CALL_TIMEOUT_MS, None)
        self.pump()

    def wait_for(self, predicate=None, count=1, timeout=WAIT_TIMEOUT):
        """Waits until @count collected signals satisfy @predicate(member, args);
        returns them. Raises AssertionError after @timeout s (stretched by
        TIMEOUT_SCALE)."""
        predicate = predicate or (lambda member, args: True)
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        while True:
            while self._ctx.iteration(False):
                pass
            found = [s for s in self.signals if predicate(*s)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f'timed out after {timeout:.0f} s waiting for signals; '
                                     f'got {self.signals!r}')
            time.sleep(0.005)

    def close(self):
        self.conn.signal_unsubscribe(self._id)
        try:
            self.conn.close_sync(None)
        except GLib.Error:
            pass
        self.pump()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# -- for the TAP runner --------------------------------------------------------

def test_started():
    """Called by the runner before each test: logs printed on failure start here."""
    _closed_logs.clear()
    for w in _live_worlds:
        w.mark_logs()


def failure_diagnostics():
    """The logs of the worlds (alive, or closed during the test) since the test began."""
    texts = list(_closed_logs)
    _closed_logs.clear()
    for w in _live_worlds:
        texts.append(w.logs_text(since_mark=True))
    return ''.join(texts)


class WorldCase(unittest.TestCase):
    """A test class sharing one World among its tests (cls.w, cls.shared), with
    a scratch directory per test (self.scratch) and self._clean() run after
    each test; subclasses say in _clean() how they leave the world clean, and
    in world_args how their World differs from the default one."""

    world_args = {}

    @classmethod
    def setUpClass(cls):
        cls._stack = contextlib.ExitStack()
        cls.addClassCleanup(cls._stack.close)
        cls.w = cls._stack.enter_context(World(**cls.world_args))
        cls.shared = cls.w.shared_dir

    def setUp(self):
        self.scratch = tempfile.mkdtemp(prefix='case.', dir=self.w.tmp)
        os.chmod(self.scratch, 0o755)
        self.addCleanup(self._clean)

    def _clean(self):
        raise NotImplementedError('a WorldCase says how it cleans up')

    def path(self, *parts):
        """A path in this test's scratch directory."""
        return os.path.join(self.scratch, *parts)

    def hung_filesystem(self, name):
        """A FUSE server that never answers, mounted at a new directory @name
        of the scratch directory; returns (the mount point, the server
        process). It goes, and its mount, when the test ends."""
        mnt = self.path(name)
        os.makedirs(mnt)
        server = subprocess.Popen([PYTHON, FUSE_HANG, mnt], stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: umount(mnt))
        self.addCleanup(server.wait)
        self.addCleanup(server.kill)
        self.assertEqual(server.stdout.readline().strip(), 'ready')
        return mnt, server

    def clean_world(self, empty_dirs=()):
        """Leaves nothing mounted beneath the shared dir and the scratch dir,
        empties the shared dir (the directories @empty_dirs in it are kept,
        emptied) and removes the scratch dir; fails the test if vcmountd died
        meanwhile (and starts it again). Rootfs mounts go through the service:
        a foreign unmount would make it emit RootfsChanged into the next test."""
        if self.w.daemon_running():
            try:
                for sandbox_id, container_id, _, _ in self.w.call('ListRootfs', '')[1]:
                    try:
                        self.w.call('UnmountRootfs', sandbox_id, container_id)
                    except DBusCallError:
                        pass
            except DBusCallError:
                pass
        self.w.unmount_all_beneath(self.shared)
        self.w.unmount_all_beneath(self.scratch)
        for d in empty_dirs:
            os.makedirs(os.path.join(self.shared, d), exist_ok=True)
        for top in [self.shared] + [os.path.join(self.shared, d) for d in empty_dirs]:
            for name in os.listdir(top):
                p = os.path.join(top, name)
                if top == self.shared and name in empty_dirs:
                    continue
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                else:
                    os.unlink(p)
        shutil.rmtree(self.scratch)
        if not self.w.daemon_running():
            log = self.w.logs_text(since_mark=True)
            self.w.stop_daemon(check=False)
            self.w.start_daemon()
            self.fail('vcmountd died during the test:\n' + log)
