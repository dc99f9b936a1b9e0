#!/usr/bin/python3
# test_fuzz: vcmountd against random and hostile calls over the bus, from root
# (threads in this process) and from an unprivileged user (one child process
# under setpriv that runs its own loop). Arguments are empty, huge (64 KiB),
# full of "..", "//", trailing slashes, control characters and odd Unicode,
# symlinks that lead out of the shared dir, binary junk where the type allows;
# signatures are wrong, methods, interfaces and object paths unknown. Strings
# that are not valid UTF-8 cannot be sent through GDBus, so a raw socket client
# writes such messages itself: the bus drops them, and the daemon must not care.
#
# Checked: the daemon stays up; every call gets a valid answer or a D-Bus error
# of an expected family, never a timeout; its RSS stays flat after warm-up;
# nothing is ever mounted or unmounted outside the shared dir, and nothing
# created in the host directories it binds into the shared dir (/, /etc, /dev:
# read-only in the test's mount namespace, see World(read_only_host=True)).
#
# Size: 100,000 calls by default, about a minute (VCM_FUZZ_CALLS overrides;
# VCM_LONG_TESTS=1 runs 300,000). The RSS bound is not checked when the
# daemon is built with AddressSanitizer (its quarantine grows by design). The seed is printed; VCM_FUZZ_SEED replays a run.
#
# Also run as `test_fuzz.py --child ADDRESS SEED COUNT CONFIG_JSON` (by the
# test, as the unprivileged user): fuzzes on its own connection and prints a
# JSON summary.

import collections
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

from gi.repository import Gio, GLib

BUS_NAME = 'org.vc.Mount'
OBJECT_PATH = '/org/vc/Mount'
INTERFACE = 'org.vc.Mount'
# the daemon's own polkit timeout is 25 s; stretched like vcmtest's bounds
# (the unprivileged child runs this part without vcmtest)
CALL_TIMEOUT_MS = int(60000 * max(1.0, float(os.environ.get('VCM_TEST_TIMEOUT_MULTIPLIER') or 1)))

# Error names a call may get: the service's own and the standard ones the bus
# and GDBus answer with (unknown member, wrong arguments, refused by policy).
ALLOWED_ERROR_PREFIXES = ('org.vc.Mount.Error.',)
ALLOWED_ERRORS = {
    'org.freedesktop.DBus.Error.UnknownMethod',
    'org.freedesktop.DBus.Error.UnknownInterface',
    'org.freedesktop.DBus.Error.UnknownObject',
    'org.freedesktop.DBus.Error.UnknownProperty',
    'org.freedesktop.DBus.Error.PropertyReadOnly',
    'org.freedesktop.DBus.Error.InvalidArgs',
    'org.freedesktop.DBus.Error.InvalidSignature',
    'org.freedesktop.DBus.Error.AccessDenied',
    'org.freedesktop.DBus.Error.NotSupported',
    'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired',   # polkit's default wants a password
}

FRAGMENTS = ['', '.', '..', '...', '.hidden', 'a', 'sbx', 'c0', 'rootfs', 'proc', 'sys', 'dev',
             'etc', 'null', 'block', 'self', 'mountinfo', ' ', ' a ', '-x', '_', 'caf\u00e9',
             '\u202e', '\U0001f600', '\ufffd', '\uffff', '\n', '\t', '\x01', '\x7f', '*', '?',
             '%s%n%x', '$(sandbox_id)', '\\040', '\\', ':', ';', '"', "'", '`', 'x' * 128,
             'x' * 129, 'y' * 255, 'z' * 256, 'escape', 'escape-etc', 'src', 'file', 'loop',
             'link-out', 'missing']

PREFIXES = ['', '/', '//', '///', '/./', '/../', '/proc', '/proc/self', '/sys/', '/dev', '/dev/',
            '/etc', '/tmp', '/run', '~', './', '../']

SIMPLE_TYPES = 'sbuitxynqdog'
TYPES = list(SIMPLE_TYPES) + ['as', 'ay', 'a{sv}', 'v', '(ss)', 'a(sssb)', 'aas', '(sssb)']

OTHER_CALLS = [
    ('org.freedesktop.DBus.Properties', 'Get', 'ss'),
    ('org.freedesktop.DBus.Properties', 'GetAll', 's'),
    ('org.freedesktop.DBus.Properties', 'Set', 'ssv'),
    ('org.freedesktop.DBus.Introspectable', 'Introspect', ''),
    ('org.freedesktop.DBus.Peer', 'Ping', ''),
    ('org.freedesktop.DBus.Peer', 'GetMachineId', ''),
    ('org.vc.Mount.Nope', 'MountRootfs', 'sssb'),
    ('org.vc.Mount.Error', 'Failed', 's'),
    ('org.freedesktop.DBus.ObjectManager', 'GetManagedObjects', ''),
    (INTERFACE, 'Mount', 'ss'),
    (INTERFACE, 'mountrootfs', 'sssb'),
    (INTERFACE, 'Shutdown', ''),
    (INTERFACE, 'RootfsMounted', 'tsssb'),
    (INTERFACE, 'M' * 255, ''),
]

OBJECT_PATHS = [OBJECT_PATH] * 50 + ['/', '/org', '/org/vc', '/org/vc/Mount/x', '/org/vc/mount',
                                     '/org/freedesktop/DBus']


class Fuzzer:
    """Makes random calls: (object path, interface, method, signature, args)."""

    def __init__(self, rng, methods, shared_dir, scratch, sandbox_prefix='fz'):
        self.rng = rng
        self.methods = methods            # {name: in_signature}
        self.method_names = sorted(methods)
        self.shared_dir = shared_dir
        self.scratch = scratch
        self.sandbox_prefix = sandbox_prefix
        self.known_paths = [shared_dir, shared_dir + '/', scratch, scratch + '/src',
                            scratch + '/file', scratch + '/link-out', scratch + '/loop',
                            scratch + '/missing', shared_dir + '/escape', shared_dir + '/escape-etc',
                            shared_dir + '/escape/tmp', shared_dir + '/escape-etc/passwd',
                            shared_dir + '/..', shared_dir + '/../..', shared_dir + '//x//',
                            '/', '/proc', '/proc/self/mountinfo', '/sys', '/dev', '/dev/null',
                            '/dev/block', '/etc', '/etc/passwd', '/tmp']

    # strings ---------------------------------------------------------------

    def ident(self):
        r = self.rng.random()
        if r < 0.6:
            return f'{self.sandbox_prefix}{self.rng.randrange(4)}'
        if r < 0.8:
            return f'c{self.rng.randrange(3)}'
        return self.rng.choice(FRAGMENTS)

    def path(self):
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            base = rng.choice(self.known_paths)
        elif r < 0.55:
            base = f'{self.shared_dir}/{self.ident()}/{self.ident()}'
            if rng.random() < 0.5:
                base += '/rootfs'
        else:
            base = rng.choice(PREFIXES)
        for _ in range(rng.randrange(4)):
            sep = rng.choice(['/', '/', '//', '/./', '/../', ''])
            base += sep + rng.choice(FRAGMENTS)
        if rng.random() < 0.2:
            base += rng.choice(['/', '//', '/.', '/..', '/../..', '/./'])
        return base

    def huge(self):
        rng = self.rng
        n = rng.choice([4096, 4097, 65536, 65535])
        kind = rng.randrange(6)
        if kind == 0:
            return 'a' * n
        if kind == 1:
            return '/' * n
        if kind == 2:
            return ('/..' * (n // 3 + 1))[:n]
        if kind == 3:
            return (self.shared_dir + '/x' * (n // 2))[:n]
        if kind == 4:
            return '\u00e9' * (n // 2)
        return ''.join(rng.choice('ab/.') for _ in range(n))

    def unicode(self):
        rng = self.rng
        out = []
        for _ in range(rng.randrange(1, 40)):
            c = rng.randrange(1, 0x110000)
            if 0xd800 <= c <= 0xdfff:
                c = 0xfffd
            out.append(chr(c))
        return ''.join(out)

    def string(self):
        r = self.rng.random()
        if r < 0.35:
            return self.path()
        if r < 0.6:
            return self.ident()
        if r < 0.65:
            return ''
        if r < 0.7:
            return self.huge()
        if r < 0.85:
            return self.unicode()
        return self.rng.choice(FRAGMENTS) + self.rng.choice(FRAGMENTS)

    # values ----------------------------------------------------------------

    def value(self, t):
        rng = self.rng
        if t == 's':
            return self.string()
        if t == 'b':
            return rng.random() < 0.5
        if t in ('u', 'q', 'y'):
            bits = {'u': 32, 'q': 16, 'y': 8}[t]
            return rng.choice([0, 1, 8, 253, 4096, (1 << bits) - 1, rng.randrange(1 << bits)]) % (1 << bits)
        if t in ('i', 'n', 'x'):
            bits = {'i': 32, 'n': 16, 'x': 64}[t]
            return rng.choice([0, -1, -(1 << (bits - 1)), (1 << (bits - 1)) - 1,
                               rng.randrange(-(1 << (bits - 1)), 1 << (bits - 1))])
        if t == 't':
            return rng.choice([0, 1, (1 << 64) - 1, rng.randrange(1 << 64)])
        if t == 'h':
            # an index into a descriptor list the message does not carry
            return rng.choice([0, 1, 7, (1 << 31) - 1])
        if t == 'd':
            return rng.choice([0.0, -1.5, 1e308, float('inf'), float('nan')])
        if t == 'o':
            return rng.choice(['/', OBJECT_PATH, '/a/b/c', '/' + 'a' * 1000])
        if t == 'g':
            return rng.choice(['', 's', 'a{sv}', '(sssb)', 'aaaaai'])
        if t == 'as':
            return [self.string() for _ in range(rng.randrange(5))]
        if t == 'aas':
            return [[self.string()] for _ in range(rng.randrange(3))]
        if t == 'ay':
            return bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 16, 4096])))
        if t == 'a{sv}':
            return {self.string()[:100]: GLib.Variant('s', self.string()) for _ in range(rng.randrange(4))}
        if t == 'v':
            inner = rng.choice(['s', 'b', 'u', 'as'])
            return GLib.Variant(inner, self.value(inner))
        if t == '(ss)':
            return (self.string(), self.string())
        if t == '(sssb)':
            return (self.string(), self.string(), self.string(), rng.random() < 0.5)
        if t == 'a(sssb)':
            return [(self.string(), self.string(), self.string(), True) for _ in range(rng.randrange(3))]
        raise ValueError(t)

    def wrong_signature(self, sig):
        rng = self.rng
        parts = _split(sig)
        kind = rng.randrange(5)
        if kind == 0 and parts:                       # drop one
            parts.pop(rng.randrange(len(parts)))
        elif kind == 1:                               # add one
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(TYPES))
        elif kind == 2 and parts:                     # change one
            parts[rng.randrange(len(parts))] = rng.choice(TYPES)
        elif kind == 3:                               # something else altogether
            parts = [rng.choice(TYPES) for _ in range(rng.randrange(6))]
        else:
            parts = []
        return ''.join(parts)

    def source(self):
        rng = self.rng
        if rng.random() < 0.7:
            return rng.choice([self.scratch + '/src', self.scratch + '/src/', self.scratch + '//src',
                               self.scratch + '/file', self.scratch + '/link-out',
                               self.scratch + '/src/../src', '/', '/proc', '/dev/null', '/etc'])
        return self.string()

    def destination(self):
        rng = self.rng
        if rng.random() < 0.6:
            return f'{self.shared_dir}/{rng.choice(["b", "b/c", "escape/x", "escape-etc", "f", "b/../b2", "b//d/"])}'
        if rng.random() < 0.5:
            return f'{self.shared_dir}/{self.ident()}/{self.ident()}/rootfs'
        return self.path()

    def plausible_args(self, method, sig):
        """Arguments that get past the checks now and then, one of them mutated."""
        rng = self.rng
        ro = rng.random() < 0.5
        if method == 'MountRootfs':
            args = [self.ident(), self.ident(), self.source(), ro]
        elif method == 'UnmountRootfs':
            args = [self.ident(), self.ident()]
        elif method in ('UnmountSandbox', 'ListRootfs'):
            args = [self.ident()]
        elif method == 'BindMount':
            args = [self.source(), self.destination(), ro]
        elif method == 'Unmount':
            args = [self.destination()]
        else:
            return [self.value(t) for t in _split(sig)]
        i = rng.randrange(len(args))
        if rng.random() < 0.3 and isinstance(args[i], str):
            args[i] = self.string()
        return args

    def next_call(self):
        rng = self.rng
        r = rng.random()
        path = rng.choice(OBJECT_PATHS)
        if r < 0.4:
            method = rng.choice(self.method_names)
            return path, INTERFACE, method, self.methods[method], \
                self.plausible_args(method, self.methods[method])
        if r < 0.85:
            iface, method = INTERFACE, rng.choice(self.method_names)
            sig = self.methods[method]
            if rng.random() < 0.15:
                sig = self.wrong_signature(sig)
        else:
            iface, method, sig = rng.choice(OTHER_CALLS)
            if rng.random() < 0.3:
                sig = self.wrong_signature(sig)
        args = []
        for t in _split(sig):
            args.append(self.value(t))
        if iface == 'org.freedesktop.DBus.Properties' and sig[:1] == 's' and rng.random() < 0.7:
            args[0] = INTERFACE
            if len(args) > 1 and _split(sig)[1] == 's':
                args[1] = rng.choice(['Version', 'SharedDir', 'DefaultShmSize', 'Generation',
                                      'Nope', args[1]])
        return path, iface, method, sig, args


def _split(sig):
    """Splits a signature into its complete types."""
    out = []
    i = 0
    while i < len(sig):
        j = _end_of_type(sig, i)
        out.append(sig[i:j])
        i = j
    return out


def _end_of_type(sig, i):
    c = sig[i]
    if c == 'a':
        return _end_of_type(sig, i + 1)
    if c in '({':
        close = ')' if c == '(' else '}'
        i += 1
        while sig[i] != close:
            i = _end_of_type(sig, i)
        return i + 1
    return i + 1


# Looked up once, here: PyGObject resolves a GI attribute on first use, and
# threads that first use it at the same moment may see an AttributeError.
_get_remote_error = Gio.DBusError.get_remote_error


def remote_error_name(err):
    name = _get_remote_error(err)
    return name or f'local.{err.domain}.{err.code}'


def error_allowed(name):
    return name in ALLOWED_ERRORS or name.startswith(ALLOWED_ERROR_PREFIXES)


def fuzz_loop(conn, fuzzer, count, stats, on_progress=None):
    """Makes @count calls; counts outcomes into @stats (a dict of Counters and lists)."""
    for i in range(count):
        path, iface, method, sig, args = fuzzer.next_call()
        params = GLib.Variant(f'({sig})', tuple(args)) if sig else None
        t0 = time.monotonic()
        try:
            conn.call_sync(BUS_NAME, path, iface, method, params, None,
                           Gio.DBusCallFlags.NO_AUTO_START, CALL_TIMEOUT_MS, None)
            stats['outcomes']['ok'] += 1
            stats['ok_by_method'][method] += 1
        except GLib.Error as e:
            name = remote_error_name(e)
            stats['outcomes'][name] += 1
            if not error_allowed(name) and len(stats['bad']) < 50:
                stats['bad'].append(f'{iface}.{method}({sig}) on {path}: {name}: {e.message[:300]} '
                                    f'args={repr(args)[:300]}')
        latency = time.monotonic() - t0
        if latency > stats['max_latency']:
            stats['max_latency'] = latency
            stats['slowest'] = f'{iface}.{method}({sig}) on {path} args={repr(args)[:300]}'
        stats['calls'] += 1
        if on_progress is not None and i % 200 == 199:
            on_progress()


def new_stats():
    return {'outcomes': collections.Counter(), 'ok_by_method': collections.Counter(), 'bad': [],
            'calls': 0, 'max_latency': 0.0, 'slowest': ''}


def child_main(argv):
    """The unprivileged loop: ADDRESS SEED COUNT CONFIG_JSON; prints a JSON summary."""
    address, seed, count, config = argv[0], int(argv[1]), int(argv[2]), json.loads(argv[3])
    conn = Gio.DBusConnection.new_for_address_sync(
        address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    fuzzer = Fuzzer(random.Random(seed), config['methods'], config['shared_dir'], config['scratch'],
                    sandbox_prefix=config['sandbox_prefix'])
    stats = new_stats()
    fuzz_loop(conn, fuzzer, count, stats)
    json.dump(stats, sys.stdout)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__' and len(sys.argv) > 1 and sys.argv[1] == '--child':
    sys.exit(child_main(sys.argv[2:]))

# -- the test ------------------------------------------------------------------

import shutil  # noqa: E402
import unittest  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import World  # noqa: E402

LONG = os.environ.get('VCM_LONG_TESTS', '') not in ('', '0')
TOTAL_CALLS = int(os.environ.get('VCM_FUZZ_CALLS', '300000' if LONG else '100000'))
ROOT_THREADS = 4
UNPRIVILEGED_SHARE = 0.2      # of the calls, made by the unprivileged child
WARMUP_CALLS = 10000
RSS_SLACK_KIB = 2048


def vm_rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise RuntimeError(f'no VmRSS for {pid}')


HOST_DIRS = ('/', '/etc', '/dev')     # bind sources of the fuzz: never written to


def host_entries():
    """The names in the host directories the fuzz binds into the shared dir."""
    return {d: sorted(os.listdir(d)) for d in HOST_DIRS}


def outside(world):
    """The mount table outside the shared dir, as lines: must never change."""
    return sorted(m['line'] for m in vcmtest.mountinfo()
                  if not vcmtest.is_beneath(m['mount_point'], world.shared_dir))


# -- raw D-Bus messages (for what GDBus will not send) ----------------------------

def _raw_bus_socket(address):
    path = None
    for part in address.split(';')[0].split(':', 1)[1].split(','):
        k, _, v = part.partition('=')
        if k == 'path':
            path = v
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(vcmtest.scaled(30))
    s.connect(path)
    s.sendall(b'\0AUTH EXTERNAL ' + str(os.getuid()).encode().hex().encode() + b'\r\n')
    reply = s.recv(4096)
    if not reply.startswith(b'OK'):
        raise RuntimeError(f'bus auth failed: {reply!r}')
    s.sendall(b'BEGIN\r\n')
    return s


def _message_bytes(method, params, serial, destination=BUS_NAME, path=OBJECT_PATH,
                   interface=INTERFACE):
    msg = Gio.DBusMessage.new_method_call(destination, path, interface, method)
    if params is not None:
        msg.set_body(params)
    msg.set_serial(serial)
    return bytes(msg.to_blob(Gio.DBusCapabilityFlags.NONE))


def send_raw_invalid_strings(address, count=20):
    """Sends calls whose strings are not valid UTF-8 (or hold a NUL) on raw
    connections; returns how many connections the bus dropped."""
    dropped = 0
    junk = [b'\xff\xfe', b'\xc0\xaf', b'\xed\xa0\x80', b'a\x00b', b'\xf8\x88\x80\x80\x80']
    for i in range(count):
        s = _raw_bus_socket(address)
        try:
            s.sendall(_message_bytes('Hello', None, 1, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                                     'org.freedesktop.DBus'))
            bad = junk[i % len(junk)]
            placeholder = b'Q' * len(bad)
            body = GLib.Variant('(sssb)', ('fz0', 'c0', '/tmp/' + placeholder.decode(), False))
            data = _message_bytes('MountRootfs', body, 2)
            data = data.replace(b'/tmp/' + placeholder, b'/tmp/' + bad, 1)
            s.sendall(data)
            # only counted (the daemon's survival is what the test checks):
            # a connection the bus has not dropped in 5 s counts as kept
            s.settimeout(5)
            try:
                while s.recv(65536):
                    pass
                dropped += 1
            except socket.timeout:
                pass
        except (BrokenPipeError, ConnectionResetError):
            dropped += 1
        finally:
            s.close()
    return dropped


class FuzzTest(unittest.TestCase):

    def setUp(self):
        self.seed = int(os.environ.get('VCM_FUZZ_SEED', str(random.SystemRandom().randrange(1 << 32))))
        sys.stderr.write(f'fuzz seed: {self.seed} (VCM_FUZZ_SEED={self.seed} replays it)\n')

    def make_fixtures(self, w):
        scratch = os.path.join(w.tmp, 'fuzz')
        os.makedirs(os.path.join(scratch, 'src', 'etc'))
        os.chmod(scratch, 0o755)
        with open(os.path.join(scratch, 'file'), 'w') as f:
            f.write('file\n')
        os.symlink('/etc', os.path.join(scratch, 'link-out'))
        os.symlink('loop', os.path.join(scratch, 'loop'))
        # symlinks inside the shared dir that lead out of it
        os.symlink('/', os.path.join(w.shared_dir, 'escape'))
        os.symlink('/etc', os.path.join(w.shared_dir, 'escape-etc'))
        return scratch

    def clean_shared(self, w):
        w.unmount_all_beneath(w.shared_dir)

    def check_outside(self, w, before, problems):
        now = outside(w)
        if now != before:
            gone = sorted(set(before) - set(now))
            new = sorted(set(now) - set(before))
            problems.append(f'mount table outside the shared dir changed: gone {gone[:5]}, new {new[:5]}')
            return False
        return True

    def test_fuzz(self):
        # The fuzz binds /, /etc and /dev into the shared dir and creates
        # directories and files beneath its mounts: in this namespace every
        # mount but the world's is read-only, so that those binds are too.
        host_before = host_entries()
        with World(verbose=False, start_daemon=False, read_only_host=True) as w:
            w.add_rule('''polkit.addRule(function(action, subject) {
    if (subject.user == "%s" && action.id == "org.vc.mount.manage-rootfs" &&
        String(action.lookup("sandbox_id")).indexOf("nr") == 0)
        return polkit.Result.YES;
});
''' % vcmtest.TEST_USER)
            w.start_daemon()
            pid = w.daemon_pid
            scratch = self.make_fixtures(w)
            methods = {m: sig for m, (sig, _) in vcmtest.method_signatures().items()}
            before_outside = outside(w)
            problems = []

            n_child = int(TOTAL_CALLS * UNPRIVILEGED_SHARE)
            n_root = TOTAL_CALLS - n_child
            n_warm = min(WARMUP_CALLS, n_root // 4)
            per_thread = (n_root - n_warm) // ROOT_THREADS
            n_root = n_warm + per_thread * ROOT_THREADS

            # the unprivileged child: a copy of this file the user can read
            child_script = os.path.join(w.tmp, 'fuzz-child.py')
            shutil.copy(os.path.abspath(__file__), child_script)
            os.chmod(child_script, 0o644)
            config = json.dumps({'methods': methods, 'shared_dir': w.shared_dir, 'scratch': scratch,
                                 'sandbox_prefix': 'nr'})
            uid = vcmtest.TEST_UID

            def spawn_child(seed, count):
                return subprocess.Popen(
                    ['setpriv', f'--reuid={uid}', f'--regid={uid}', '--clear-groups', vcmtest.PYTHON,
                     child_script, '--child', w.bus_address, str(seed), str(count), config],
                    cwd='/', stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    env=w._child_env(), text=True)

            def child_result(child):
                out, err = child.communicate(timeout=vcmtest.scaled(600))
                self.assertEqual(child.returncode, 0, f'unprivileged fuzz child failed:\n{err[-3000:]}')
                return json.loads(out.strip().splitlines()[-1])

            # warm-up (root and unprivileged), then the RSS baseline
            t0 = time.monotonic()
            stats = [new_stats() for _ in range(ROOT_THREADS)]
            warm = new_stats()
            warm_parts = [new_stats() for _ in range(ROOT_THREADS)]

            def warm_worker(i):
                # concurrent like the run itself, so the allocator's arenas are warm too
                conn = w.new_connection()
                try:
                    fuzz_loop(conn, Fuzzer(random.Random(self.seed - 1 - i), methods, w.shared_dir,
                                           scratch), n_warm // ROOT_THREADS, warm_parts[i])
                finally:
                    conn.close_sync(None)

            n_child_warm = min(2000, n_child // 4)
            n_child -= n_child_warm
            warm_child = spawn_child(self.seed + 999, n_child_warm)
            warmers = [threading.Thread(target=warm_worker, args=(i,)) for i in range(ROOT_THREADS)]
            for t in warmers:
                t.start()
            fuzz_loop(w.connection, Fuzzer(random.Random(self.seed), methods, w.shared_dir, scratch),
                      n_warm - (n_warm // ROOT_THREADS) * ROOT_THREADS, warm)
            for t in warmers:
                t.join()
            for part in warm_parts + [child_result(warm_child)]:
                part['outcomes'] = collections.Counter(part['outcomes'])
                warm['calls'] += part['calls']
                warm['bad'] += part['bad']
                warm['outcomes'].update(part['outcomes'])
                warm['ok_by_method'].update(part['ok_by_method'])
                warm['max_latency'] = max(warm['max_latency'], part['max_latency'])
            self.clean_shared(w)
            w.call('ListRootfs', '')
            rss_before = vm_rss_kib(pid)
            child = spawn_child(self.seed + 1000, n_child)

            # root threads, each with its own connection and stream
            lock = threading.Lock()

            def watch_mounts():
                # Every mount point at any time lies beneath the shared dir or
                # was there before; the main thread checks between samples.
                with lock:
                    self.check_outside(w, before_outside, problems)

            def root_worker(i):
                conn = w.new_connection()
                try:
                    fuzzer = Fuzzer(random.Random(self.seed + 1 + i), methods, w.shared_dir, scratch)
                    fuzz_loop(conn, fuzzer, per_thread, stats[i],
                              on_progress=watch_mounts if i == 0 else None)
                except Exception as e:
                    stats[i]['bad'].append(f'thread {i} raised {e!r}')
                finally:
                    conn.close_sync(None)

            threads = [threading.Thread(target=root_worker, args=(i,), daemon=True)
                       for i in range(ROOT_THREADS)]
            for t in threads:
                t.start()
            cleanups = 0
            while any(t.is_alive() for t in threads):
                time.sleep(0.5)
                self.assertTrue(w.daemon_running(), 'vcmountd died during the fuzz run')
                cleanups += 1
                if cleanups % 10 == 0:      # keep the table from growing without bound
                    self.clean_shared(w)
            for t in threads:
                t.join()
            child_stats = child_result(child)

            # invalid UTF-8 and NUL in strings: the bus drops such senders
            dropped = send_raw_invalid_strings(w.bus_address)
            elapsed = time.monotonic() - t0

            self.assertTrue(w.daemon_running(), 'vcmountd died during the fuzz run')
            self.check_outside(w, before_outside, problems)
            self.clean_shared(w)
            w.call('ListRootfs', '')
            w.call('GetDeviceForPath', '/')
            rss_after = vm_rss_kib(pid)

            total = collections.Counter()
            calls = warm['calls'] + child_stats['calls']
            bad = list(warm['bad']) + list(child_stats['bad'])
            max_latency = max([warm['max_latency'], child_stats['max_latency']] +
                              [s['max_latency'] for s in stats])
            total.update(warm['outcomes'])
            total.update(child_stats['outcomes'])
            ok_methods = collections.Counter(warm['ok_by_method'])
            ok_methods.update(child_stats['ok_by_method'])
            for s in stats:
                calls += s['calls']
                bad += s['bad']
                total.update(s['outcomes'])
                ok_methods.update(s['ok_by_method'])
            sys.stderr.write(
                f'fuzz: seed {self.seed}, {calls} calls ({n_root} root in {ROOT_THREADS + 1} streams, '
                f'{child_stats["calls"]} as uid {uid}) in {elapsed:.1f} s, max latency '
                f'{max_latency:.2f} s; raw invalid-UTF-8 senders dropped by the bus: {dropped}/20; '
                f'RSS {rss_before} -> {rss_after} KiB\n'
                f'outcomes: {dict(total.most_common())}\nsuccessful by method: {dict(ok_methods)}\n'
                f'unprivileged outcomes: {child_stats["outcomes"]}\n')

            for s in [warm, child_stats] + stats:
                if s['max_latency'] > 1.0:
                    sys.stderr.write(f'slow call: {s["max_latency"]:.2f} s: {s["slowest"]}\n')
                    if os.environ.get('VCM_FUZZ_DEBUG'):
                        sys.stderr.write(open(w.polkit_log).read()[-5000:])
            self.assertEqual(calls, n_root + n_child + n_child_warm)
            self.assertEqual(bad, [], 'calls with unexpected errors (or timeouts)')
            self.assertEqual(problems, [])
            self.assertEqual(vcmtest.mounts_beneath(w.shared_dir), [])
            self.assertEqual(host_entries(), host_before, 'the fuzz created or removed host files')
            if not vcmtest.daemon_has_asan():
                self.assertLessEqual(rss_after - rss_before, RSS_SLACK_KIB,
                                     f'RSS grew from {rss_before} to {rss_after} KiB')
            # the fuzz did reach past the argument checks
            self.assertGreater(total['ok'], calls // 50)
            self.assertGreater(ok_methods['MountRootfs'] + ok_methods['BindMount'], 0)
            # (refused by polkit's default, which wants a password)
            self.assertGreater(child_stats['outcomes'].get(vcmtest.INTERACTIVE_AUTHORIZATION_REQUIRED, 0), 0)
            self.assertTrue(w.daemon_running())


if __name__ == '__main__':
    unittest.main()
