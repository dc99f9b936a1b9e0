#!/usr/bin/python3
# test_booted: vc-mount as it runs in production. Builds the Debian package,
# checks it with lintian, boots a real systemd in a container made from this
# machine's OS tree, installs the package there with `apt install ./DEB` (with
# `dpkg -i` in the kernel61 guest), and checks the service that systemd
# starts under the shipped unit: activation, every method (so a hardening
# setting that breaks one fails here), signals, visibility of its mounts to
# other units, restart, kill and watchdog recovery, polkit, the journal,
# mount propagation, a descriptor from a caller's own mount namespace,
# disable, stop and purge.
#
# The cases run in order and share one container (numbered names): each
# leaves the service as the next expects it. Run by meson under
# `unshare -m --propagation private` and reported as TAP by taprunner.py.
#
# Environment: VCM_BOOTED_BUS (dbus-daemon, the default, or dbus-broker) is
# the container's system bus; VCM_DEB_CACHE keeps the built packages for the
# next run. With VCM_BOOTED_LOCAL=1 the cases run on the booted system this
# process runs in (the kernel61 guest), with the packages of VCM_BOOTED_DEBS
# and the overlay's upper layer VCM_BOOTED_UPPER.

import json
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
import unittest

from gi.repository import GLib

from container import Container, LocalSystem
from debpkg import Package
from waiting import wait_until

UNIT = 'vcmountd.service'
ALIAS = 'dbus-org.vc.Mount.service'
SHARED = '/run/vc/shared'
SRC = '/srv/vcm'
ERR = 'org.vc.Mount.Error.'
# polkit's default (auth_admin) for a call that may not ask: gdbus call does not
AUTH_REQUIRED = 'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired'
NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
MSGID = {
    'mounted': '8c1e4b7f0a3d4c52b1f9e2a6d7c30511',
    'unmounted': '8c1e4b7f0a3d4c52b1f9e2a6d7c30512',
    'refused': '8c1e4b7f0a3d4c52b1f9e2a6d7c30513',
}
# systemd's own catalog IDs: unit deactivated successfully, unit failed,
# a unit's process exited.
SD_UNIT_SUCCESS = '7ad2d189f7e94e70a38c781354912448'
SD_UNIT_FAILURE = 'd9b373ed55a64feb8242e02dbe79a49c'
SD_UNIT_PROCESS_EXIT = '98e322203f7a4ed290d09fe03c09fe15'
RULE_FILE = '/etc/polkit-1/rules.d/50-vcm-booted-test.rules'
RULE = '''// booted test: nobody may manage the rootfs mounts of sandbox sbn.
polkit.addRule(function(action, subject) {
    if (action.id == "org.vc.mount.manage-rootfs" && subject.user == "nobody" &&
        action.lookup("sandbox_id") == "sbn")
        return polkit.Result.YES;
});
'''
BUS = os.environ.get('VCM_BOOTED_BUS', 'dbus-daemon')
LOCAL = os.environ.get('VCM_BOOTED_LOCAL') == '1'
# What a call for a disabled (alias-less) unit gets: dbus-daemon passes on
# systemd's answer to its activation request; dbus-broker answers itself.
DISABLED_ACTIVATION_ERROR = {
    'dbus-daemon': 'org.freedesktop.systemd1.NoSuchUnit',
    'dbus-broker': 'org.freedesktop.DBus.Error.NameHasNoOwner',
}
WATCHDOG_DROPIN = '/run/systemd/system/vcmountd.service.d/50-vcm-test-watchdog.conf'

pkg = None
box = None
_tmp = None


def setUpModule():
    global pkg, box, _tmp
    src = os.environ.get('VCM_SOURCE_ROOT') or os.path.normpath(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    if LOCAL:
        pkg = Package.prebuilt(os.environ['VCM_BOOTED_DEBS'])
        if pkg.runtime:
            box = LocalSystem(upper=os.environ.get('VCM_BOOTED_UPPER'))
        return
    if BUS == 'dbus-broker' and not os.path.exists('/lib/systemd/system/dbus-broker.service'):
        raise unittest.SkipTest('dbus-broker is not installed (apt-get install dbus-broker)')
    _tmp = tempfile.mkdtemp(prefix='vcm-booted-')
    pkg = Package(src, _tmp, cache=os.environ.get('VCM_DEB_CACHE'))
    if pkg.build():
        box = Container(bus=BUS)
        box.__enter__()


def tearDownModule():
    if box is not None:
        box.__exit__(None, None, None)
    if _tmp is not None:
        shutil.rmtree(_tmp, ignore_errors=True)


class CallError(Exception):
    def __init__(self, name, message):
        super().__init__('%s: %s' % (name, message))
        self.name = name


def sh(cmd, **kw):
    """Runs @cmd in the container; fails the test when it fails."""
    r = box.run(cmd, **kw)
    if r.returncode != 0:
        raise AssertionError('%s: exit %d\n%s%s' % (' '.join(cmd), r.returncode,
                                                    r.stdout, r.stderr))
    return r.stdout


def call(method, *args, user=None, iface='org.vc.Mount'):
    """Calls @method of org.vc.Mount in the container with gdbus (as root,
    or as nobody); returns the unpacked reply tuple or raises CallError."""
    texts = [a.print_(True) if isinstance(a, GLib.Variant) else
             GLib.Variant('b' if isinstance(a, bool) else 's', a).print_(True)
             for a in args]
    cmd = ['gdbus', 'call', '--system', '--dest', 'org.vc.Mount', '--object-path',
           '/org/vc/Mount', '--timeout', '30', '--method', '%s.%s' % (iface, method)] + texts
    r = box.run((NOBODY if user == 'nobody' else []) + cmd, timeout=60)
    if r.returncode != 0:
        m = re.search(r'GDBus\.Error:([\w.]+):\s*(.*)', r.stderr, re.S)
        if m:
            raise CallError(m.group(1), m.group(2).strip())
        raise AssertionError('gdbus %s: exit %d: %s' % (method, r.returncode, r.stderr))
    return GLib.Variant.parse(None, r.stdout.strip(), None, None).unpack()


def prop(name):
    return call('Get', 'org.vc.Mount', name, iface='org.freedesktop.DBus.Properties')[0]


def show(*props):
    out = sh(['systemctl', 'show', UNIT, '-p', ','.join(props)])
    return dict(l.split('=', 1) for l in out.splitlines() if '=' in l)


def main_pid():
    return int(show('MainPID')['MainPID'])


def wait_active(old_pid=None, timeout=60):
    """Waits until the unit is active with a main PID other than @old_pid."""
    def ready():
        s = show('ActiveState', 'SubState', 'MainPID')
        pid = int(s['MainPID'])
        return pid if s['ActiveState'] == 'active' and pid not in (0, old_pid) else None
    return wait_until(ready, timeout=timeout, what='%s to be active again' % UNIT)


def wait_inactive(timeout=60):
    wait_until(lambda: show('ActiveState')['ActiveState'] in ('inactive', 'failed'),
               timeout=timeout, what='%s to stop' % UNIT)


def listed(sandbox=''):
    return {(s, c): (mp, ro) for s, c, mp, ro in call('ListRootfs', sandbox)[1]}


def mountinfo_of(pid):
    """Mount points in the mount namespace of container process @pid."""
    with open(box.live_path('/proc/%d/mountinfo' % pid)) as f:
        return {l.split()[4] for l in f}


def journal(message_id):
    cmd = ['journalctl', '--no-pager', '-o', 'json', 'MESSAGE_ID=' + message_id]
    return [json.loads(l) for l in sh(cmd).splitlines() if l.strip()]


class SignalMonitor:
    """`gdbus monitor` of org.vc.Mount in the container; lines on a queue."""

    def __init__(self):
        self.p = box.popen(['gdbus', 'monitor', '--system', '--dest', 'org.vc.Mount',
                            '--object-path', '/org/vc/Mount'])
        self.q = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        # gdbus subscribes, then watches the name: once it says who owns the
        # name, the bus has the subscription.
        self.next(lambda l: 'is owned by' in l, 'gdbus monitor to subscribe')

    def _read(self):
        for line in self.p.stdout:
            self.q.put(line.rstrip('\n'))

    def next(self, pred, what, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('timed out waiting for ' + what)
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if pred(line):
                return line

    def signal(self, member, timeout=60):
        line = self.next(lambda l: re.match(r'/org/vc/Mount: org\.vc\.Mount\.%s ' % member, l),
                         'signal ' + member, timeout)
        return GLib.Variant.parse(None, line.split(' ', 2)[2], None, None).unpack()

    def close(self):
        self.p.terminate()
        self.p.wait(timeout=10)


class Booted(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        if box is None and not self._testMethodName.startswith('test_00'):
            self.skipTest('no package, no container: see the package build case')

    def tearDown(self):
        # After a failure, what the container logged about the service (to
        # stderr, which meson keeps next to the TAP output).
        outcome = getattr(self, '_outcome', None)
        if box is not None and outcome is not None and not outcome.success:
            r = box.run(['journalctl', '--no-pager', '-n', '60', '-u', UNIT, '-u', 'polkit.service'])
            sys.stderr.write('--- %s failed; the journal of %s and polkit:\n%s\n'
                             % (self._testMethodName, UNIT, r.stdout))

    def assertError(self, name, method, *args, user=None):
        with self.assertRaises(CallError, msg='%s%r' % (method, args)) as cm:
            call(method, *args, user=user)
        self.assertEqual(cm.exception.name, name, str(cm.exception))

    # -- the package ---------------------------------------------------------------

    def test_00_package_builds(self):
        self.assertTrue(pkg is not None and pkg.returncode == 0 and pkg.deb,
                        'dpkg-buildpackage -us -uc -b failed:\n' + (pkg.log[-6000:] if pkg else ''))
        print('# dpkg-buildpackage took %.1f s: %s%s' % (pkg.seconds, os.path.basename(pkg.deb),
                                                         ' (built before)' if pkg.cached else ''))

    def test_00b_system_bus(self):
        # The bus is the one asked for, as systemd inside sees it.
        out = sh(['systemctl', 'show', '-p', 'Id,MainPID,ActiveState', 'dbus.service'])
        s = dict(l.split('=', 1) for l in out.splitlines() if '=' in l)
        exe = os.readlink(box.live_path('/proc/%s/exe' % s['MainPID']))
        print('# system bus: %s (%s), kernel %s' % (s['Id'], exe, sh(['uname', '-r']).strip()))
        # dbus-daemon's unit is dbus.service itself; dbus-broker's is
        # dbus-broker.service (dbus.service its alias), run by its launcher.
        want = {'dbus-daemon': ('dbus.service', '/usr/bin/dbus-daemon'),
                'dbus-broker': ('dbus-broker.service', '/usr/bin/dbus-broker-launch')}[BUS]
        self.assertEqual((s['Id'], exe, s['ActiveState']), want + ('active',))

    def test_01_lintian_clean(self):
        if LOCAL:
            self.skipTest('lintian checked these packages where they were built')
        rc, out, bad = pkg.lintian()
        for line in out.splitlines():
            if line.startswith(('E:', 'W:', 'I:', 'P:')):
                print('# lintian: ' + line)
        self.assertEqual(bad, [], out)
        self.assertEqual(rc, 0, out)

    def test_02_apt_install(self):
        for src in ('r1', 'r1/sub', 'r2', 'b1', 'rn'):
            sh(['mkdir', '-p', '%s/%s' % (SRC, src)])
        sh(['sh', '-c', 'echo vcm > %s/r1/marker' % SRC])
        # A build machine's image may forbid maintainer scripts to start
        # services (policy-rc.d exit 101); a host the package is made for
        # does not.
        if os.path.lexists(box.path('/usr/sbin/policy-rc.d')):
            os.unlink(box.path('/usr/sbin/policy-rc.d'))
        debs = []
        for d in pkg.runtime:   # vc-mount and libvcmount-1-0, which vcmountctl links
            shutil.copy(d, box.path('/var/tmp/'))
            debs.append('/var/tmp/' + os.path.basename(d))
        # In the kernel61 guest, dpkg itself: it has no network and its
        # tree has every dependency already (apt adds only the reading of
        # the archive's package lists, minutes under emulation).
        cmd = ['dpkg', '-i'] if LOCAL else ['apt', 'install', '-y', '--no-install-recommends']
        r = box.run(cmd + debs, timeout=300, env={'DEBIAN_FRONTEND': 'noninteractive'})
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        self.assertEqual(sh(['dpkg-query', '-W', '-f=${Status}', 'vc-mount']),
                         'install ok installed')
        # Enabled: the alias that the activation file names exists.
        self.assertEqual(box.run(['systemctl', 'is-enabled', UNIT]).stdout.strip(), 'enabled')
        self.assertEqual(sh(['readlink', '/etc/systemd/system/' + ALIAS]).strip(),
                         '/lib/systemd/system/' + UNIT)
        # Nothing pulls it in at boot. The postinst started it once, at the
        # first attempt (the bus already had the package's policy).
        self.assertEqual(show('WantedBy')['WantedBy'], '')
        self.assertEqual(show('ActiveState', 'NRestarts'),
                         {'ActiveState': 'active', 'NRestarts': '0'},
                         r.stdout[-2000:] + box.run(['journalctl', '--no-pager', '-u', UNIT]).stdout)

    # -- activation and the service as shipped --------------------------------------

    def test_03_activated_by_first_call(self):
        sh(['systemctl', 'stop', UNIT])
        wait_inactive()
        self.assertEqual(main_pid(), 0)
        self.assertEqual(prop('SharedDir'), SHARED)
        pid = wait_active()
        s = show('ActiveState', 'FragmentPath', 'Names')
        self.assertEqual(s['FragmentPath'], '/lib/systemd/system/' + UNIT)
        self.assertIn(ALIAS, s['Names'].split())
        self.assertEqual(sh(['readlink', '/proc/%d/exe' % pid]).strip(), '/usr/libexec/vcmountd')

    def test_04_confined_in_the_hosts_mount_namespace(self):
        pid = main_pid()
        with open(box.live_path('/proc/%d/status' % pid)) as f:
            status = dict(l.split(':', 1) for l in f if ':' in l)
        self.assertEqual(status['NoNewPrivs'].strip(), '1')
        self.assertEqual(status['Seccomp'].strip(), '2')
        caps = int(status['CapBnd'].strip(), 16)
        # DAC_OVERRIDE DAC_READ_SEARCH FOWNER SETGID SETUID SYS_CHROOT
        # SYS_PTRACE SYS_ADMIN SETFCAP
        want = sum(1 << n for n in (1, 2, 3, 6, 7, 18, 19, 21, 31))
        self.assertEqual(caps, want, 'CapBnd %x' % caps)
        ns = lambda p, k: os.readlink(box.live_path('/proc/%d/ns/%s' % (p, k)))
        self.assertEqual(ns(pid, 'mnt'), ns(1, 'mnt'), 'vcmountd has a mount namespace of its own')
        self.assertNotEqual(ns(pid, 'net'), ns(1, 'net'), 'PrivateNetwork= not in effect')
        # The rating of the loaded unit, as systemd runs it (the install
        # test rates the file offline).
        r = box.run(['systemd-analyze', 'security', '--no-pager', UNIT])
        levels = [float(m.group(1)) for m in
                  re.finditer(r'Overall exposure level for \S+: ([0-9.]+)', r.stdout)]
        print('# systemd-analyze security %s: %s' % (UNIT, levels))
        self.assertTrue(levels and levels[0] <= 4.3, r.stdout[-3000:] + r.stderr)

    # -- every method: a success and a failure --------------------------------------

    def test_05_methods(self):
        mp = '%s/sbm/c1/rootfs' % SHARED
        with self.subTest('MountRootfs'):
            self.assertEqual(call('MountRootfs', 'sbm', 'c1', SRC + '/r1', True), (mp,))
            self.assertError(ERR + 'NotFound', 'MountRootfs', 'sbm', 'c2', SRC + '/missing', False)
            self.assertError(ERR + 'AlreadyMounted', 'MountRootfs', 'sbm', 'c1', SRC + '/r1', True)
        with self.subTest('ListRootfs'):
            gen, rootfs = call('ListRootfs', 'sbm')
            self.assertEqual(rootfs, [('sbm', 'c1', mp, True)])
            self.assertEqual(gen, prop('Generation'))
            self.assertError(ERR + 'InvalidArgument', 'ListRootfs', '../x')
        with self.subTest('GetDeviceForPath'):
            dev = int(sh(['stat', '-c', '%d', mp + '/marker']))
            self.assertEqual(call('GetDeviceForPath', mp + '/marker'),
                             (os.major(dev), os.minor(dev), mp))
            self.assertError(ERR + 'NotFound', 'GetDeviceForPath', '/nonexistent/vcm')
        with self.subTest('GetDevicePathAndFsType'):
            self.assertEqual(call('GetDevicePathAndFsType', mp)[1], 'overlay')
            self.assertError(ERR + 'NotMounted', 'GetDevicePathAndFsType', SRC + '/r1')
        with self.subTest('DescribePath'):
            d = call('DescribePath', mp)[0]
            self.assertEqual((d['mount-point'], d['read-only'], d['fs-type']), (mp, True, 'overlay'))
            self.assertError(ERR + 'InvalidArgument', 'DescribePath', 'relative')
        with self.subTest('IsDeviceMapper'):
            self.assertEqual(call('IsDeviceMapper', GLib.Variant('u', 1), GLib.Variant('u', 3)),
                             (False,))
            r = box.run(['dbus-send', '--system', '--print-reply', '--dest=org.vc.Mount',
                         '/org/vc/Mount', 'org.vc.Mount.IsDeviceMapper', 'string:1'])
            self.assertIn('org.freedesktop.DBus.Error.InvalidArgs', r.stderr + r.stdout)
        with self.subTest('IsSystemMount'):
            self.assertEqual(call('IsSystemMount', '/proc/self'), (True,))
            self.assertEqual(call('IsSystemMount', '/procfoo'), (False,))
            self.assertError(ERR + 'InvalidArgument', 'IsSystemMount', 'proc')
        with self.subTest('IsHostDevice'):
            self.assertEqual(call('IsHostDevice', '/dev/null'), (True,))
            self.assertError(ERR + 'InvalidArgument', 'IsHostDevice', '')
        bind = '%s/sbm/bind1' % SHARED
        with self.subTest('BindMount'):
            self.assertEqual(call('BindMount', SRC + '/b1', bind, False), (bind,))
            self.assertError(ERR + 'InvalidArgument', 'BindMount', SRC + '/b1', '/var/tmp/x', False)
            sh(['touch', bind + '/written'])   # writable, as asked
            self.assertTrue(os.path.exists(box.path(SRC + '/b1/written')))
        with self.subTest('BindMount of a file'):
            sh(['sh', '-c', 'echo file > %s/f1' % SRC])
            dest = '%s/sbm/files/f1' % SHARED
            self.assertEqual(call('BindMount', SRC + '/f1', dest, True), (dest,))
            self.assertEqual(sh(['cat', dest]), 'file\n')
            self.assertEqual(call('Unmount', dest), ([dest],))
        with self.subTest('Unmount'):
            self.assertEqual(call('Unmount', bind), ([bind],))
            self.assertError(ERR + 'NotMounted', 'Unmount', bind)
        with self.subTest('UnmountRootfs'):
            self.assertEqual(call('UnmountRootfs', 'sbm', 'c1'), ([mp],))
            self.assertError(ERR + 'NotMounted', 'UnmountRootfs', 'sbm', 'c1')
        with self.subTest('UnmountSandbox'):
            call('MountRootfs', 'sbm', 'c1', SRC + '/r1', False)
            call('MountRootfs', 'sbm', 'c2', SRC + '/r2', True)
            self.assertEqual(sorted(call('UnmountSandbox', 'sbm')[0]), ['c1', 'c2'])
            self.assertError(ERR + 'InvalidArgument', 'UnmountSandbox', 'a/b')
            self.assertEqual(listed('sbm'), {})
        self.assertNotIn(mp, mountinfo_of(1))

    def test_06_signals(self):
        mon = SignalMonitor()
        try:
            gen = prop('Generation')
            mp = call('MountRootfs', 'sbs', 'c1', SRC + '/r1', True)[0]
            self.assertEqual(mon.signal('RootfsMounted'), (gen + 1, 'sbs', 'c1', mp, True))
            # A change behind the service's back: it watches the mount table.
            sh(['mount', '-t', 'tmpfs', 'vcm-sub', mp + '/sub'])
            self.assertEqual(mon.signal('RootfsChanged'),
                             (gen + 2, 'sbs', 'c1', mp, 'submount-added'))
            call('UnmountRootfs', 'sbs', 'c1')
            self.assertEqual(mon.signal('RootfsUnmounted'),
                             (gen + 3, 'sbs', 'c1', mp, [mp, mp + '/sub']))
        finally:
            mon.close()

    def test_07_visible_and_read_only_from_another_unit(self):
        mp = call('MountRootfs', 'sbv', 'c1', SRC + '/r1', True)[0]
        r = box.run(['systemd-run', '--wait', '--pipe', '--quiet', '--unit=vcm-reader',
                     '/bin/sh', '-c',
                     'readlink /proc/self/ns/mnt; findmnt -n -o OPTIONS --mountpoint "$0"; '
                     'cat "$0/marker"; touch "$0/new" 2>&1; echo "touch=$?"', mp], timeout=60)
        out = r.stdout.splitlines()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(out[0], os.readlink(box.live_path('/proc/1/ns/mnt')))
        self.assertIn('ro', out[1].split(','), out)
        self.assertEqual(out[2], 'vcm')
        self.assertIn('Read-only file system', '\n'.join(out[3:]))
        self.assertEqual(out[-1], 'touch=1')

    # -- restarts -------------------------------------------------------------------------

    def test_08_restart_keeps_it_listed(self):
        pid = main_pid()
        sh(['systemctl', 'restart', UNIT])
        wait_active(pid)
        self.assertEqual(listed('sbv'), {('sbv', 'c1'): ('%s/sbv/c1/rootfs' % SHARED, True)})

    def test_09_kill_is_recovered_by_restart(self):
        pid = main_pid()
        n = int(show('NRestarts')['NRestarts'])
        sh(['systemctl', 'kill', '-s', 'KILL', UNIT])
        wait_active(pid)
        self.assertEqual(int(show('NRestarts')['NRestarts']), n + 1)
        self.assertIn(('sbv', 'c1'), listed())

    def test_10_watchdog_restarts_a_stopped_main_loop(self):
        self.assertNotEqual(show('WatchdogUSec')['WatchdogUSec'], '0')
        # The shipped interval (30 s) shortened, so the case stays short.
        os.makedirs(os.path.dirname(box.live_path(WATCHDOG_DROPIN)), exist_ok=True)
        with open(box.live_path(WATCHDOG_DROPIN), 'w') as f:
            f.write('[Service]\nWatchdogSec=3s\n')
        try:
            sh(['systemctl', 'daemon-reload'])
            pid = main_pid()
            sh(['systemctl', 'restart', UNIT])
            pid = wait_active(pid)
            self.assertEqual(show('WatchdogUSec')['WatchdogUSec'], '3s')
            # The pings arrive: systemd's record of the last one moves on.
            stamps = set()
            wait_until(lambda: stamps.add(show('WatchdogTimestampMonotonic')
                                          ['WatchdogTimestampMonotonic']) or len(stamps) >= 3,
                       timeout=30, what='three watchdog pings')
            self.assertEqual(main_pid(), pid)
            n = int(show('NRestarts')['NRestarts'])
            sh(['kill', '-STOP', str(pid)])
            wait_active(pid, timeout=30)
            self.assertEqual(int(show('NRestarts')['NRestarts']), n + 1)
            self.assertIn('Watchdog timeout', sh(['journalctl', '--no-pager', '-u', UNIT]))
            self.assertIn(('sbv', 'c1'), listed())
        finally:
            os.unlink(box.live_path(WATCHDOG_DROPIN))
            sh(['systemctl', 'daemon-reload'])
            pid = main_pid()
            sh(['systemctl', 'restart', UNIT])
            wait_active(pid)
        call('UnmountRootfs', 'sbv', 'c1')

    # -- polkit, the journal, propagation ----------------------------------------------

    def test_11_unprivileged_refused_then_allowed_by_rule(self):
        # Queries are allowed to anyone; paths resolve with the caller's
        # credentials (setfsuid and friends, under the unit's filter).
        self.assertEqual(call('IsHostDevice', SRC + '/rn', user='nobody'), (False,))
        self.assertEqual(call('DescribePath', SRC + '/rn', user='nobody')[0]['fs-type'],
                         'overlay')
        self.assertError(AUTH_REQUIRED, 'MountRootfs', 'sbn', 'c1', SRC + '/rn', True,
                         user='nobody')
        self.assertEqual(listed('sbn'), {})
        with open(box.live_path(RULE_FILE), 'w') as f:
            f.write(RULE)
        try:
            def allowed():
                try:
                    return call('MountRootfs', 'sbn', 'c1', SRC + '/rn', True, user='nobody')
                except CallError as e:
                    if e.name != AUTH_REQUIRED:
                        raise
                    return None
            wait_until(allowed, timeout=30, interval=0.1, what='polkitd to apply the rule')
            self.assertIn(('sbn', 'c1'), listed('sbn'))
            self.assertError(AUTH_REQUIRED, 'MountRootfs', 'sbx', 'c1', SRC + '/rn', True,
                             user='nobody')
            call('UnmountRootfs', 'sbn', 'c1', user='nobody')
        finally:
            os.unlink(box.live_path(RULE_FILE))

    def test_12_journal_message_ids(self):
        for what in ('mounted', 'unmounted', 'refused'):
            with self.subTest(what):
                recs = wait_until(lambda: [j for j in journal(MSGID[what])
                                           if j.get('_SYSTEMD_UNIT') == UNIT],
                                  timeout=20, what='a %s record in the journal' % what)
                self.assertEqual((recs[0].get('GLIB_DOMAIN'), recs[0].get('_COMM')),
                                 ('vcmountd', 'vcmountd'))
        refused = [j['MESSAGE'] for j in journal(MSGID['refused'])]
        self.assertTrue(any('MountRootfs' in m and 'uid 65534' in m for m in refused), refused)

    def test_13_unmount_leaves_no_copy_in_another_namespace(self):
        # A service with a mount namespace of its own (a slave of the host's,
        # as systemd makes them) gets a copy of every mount the service makes.
        sh(['systemd-run', '--quiet', '--unit=vcm-witness', '-p', 'PrivateMounts=yes',
            '-p', 'PrivateTmp=yes', 'sleep', 'infinity'])
        try:
            witness = int(sh(['systemctl', 'show', '-p', 'MainPID', '--value',
                              'vcm-witness.service']))
            self.assertNotEqual(os.readlink(box.live_path('/proc/%d/ns/mnt' % witness)),
                                os.readlink(box.live_path('/proc/1/ns/mnt')))
            mp = call('MountRootfs', 'sbp', 'c1', SRC + '/r1', True)[0]
            wait_until(lambda: mp in mountinfo_of(witness), timeout=30,
                       what='the rootfs to propagate to the witness')
            call('UnmountRootfs', 'sbp', 'c1')
            self.assertNotIn(mp, mountinfo_of(1))
            wait_until(lambda: mp not in mountinfo_of(witness), timeout=30,
                       what='the unmount to reach the witness\'s namespace')
        finally:
            box.run(['systemctl', 'stop', 'vcm-witness.service'])

    def test_13b_rootfs_template_unit(self):
        # A container's unit that needs its rootfs Requires= and After= an
        # instance of vc-rootfs@.service; IDs with '-' and '.' in the name,
        # as they are (systemd would unescape a '-' in %I).
        inst = 'sb-u:c.1'
        unit = 'vc-rootfs@%s.service' % inst
        mp = '%s/sb-u/c.1/rootfs' % SHARED
        with open(box.live_path('/etc/vc-mount/rootfs/%s.conf' % inst), 'w') as f:
            f.write('ROOTFS=%s/r1\nREAD_ONLY=yes\n' % SRC)
        with open(box.live_path('/run/systemd/system/vcm-ctr.service'), 'w') as f:
            f.write('[Unit]\nRequires=%s\nAfter=%s\n[Service]\nType=oneshot\n'
                    'RemainAfterExit=yes\nExecStart=/bin/sh -c "cat %s/marker > /run/vcm-ctr.out"\n'
                    % (unit, unit, mp))
        state = lambda u: sh(['systemctl', 'show', '-p', 'ActiveState', '--value', u]).strip()
        try:
            sh(['systemctl', 'daemon-reload'])
            sh(['systemctl', 'start', 'vcm-ctr.service'])
            self.assertEqual((state(unit), state('vcm-ctr.service')), ('active', 'active'))
            # The container's unit read its rootfs, mounted read-only.
            with open(box.live_path('/run/vcm-ctr.out')) as f:
                self.assertEqual(f.read(), 'vcm\n')
            self.assertEqual(listed('sb-u'), {('sb-u', 'c.1'): (mp, True)})
            # Stopping the container's unit leaves the rootfs; stopping the
            # rootfs stops the container's unit first, then unmounts.
            sh(['systemctl', 'stop', 'vcm-ctr.service'])
            self.assertIn(('sb-u', 'c.1'), listed('sb-u'))
            sh(['systemctl', 'start', 'vcm-ctr.service'])
            sh(['systemctl', 'stop', unit])
            self.assertEqual((state(unit), state('vcm-ctr.service')), ('inactive', 'inactive'))
            self.assertEqual(listed('sb-u'), {})
            self.assertNotIn(mp, mountinfo_of(1))
            # A rootfs unmounted behind the unit's back still stops cleanly.
            sh(['systemctl', 'start', unit])
            call('UnmountRootfs', 'sb-u', 'c.1')
            sh(['systemctl', 'stop', unit])
            self.assertEqual(state(unit), 'inactive')
            # An instance that is not SANDBOX:CONTAINER fails, saying so.
            with open(box.live_path('/etc/vc-mount/rootfs/nocolon.conf'), 'w') as f:
                f.write('ROOTFS=%s/r1\n' % SRC)
            r = box.run(['systemctl', 'start', 'vc-rootfs@nocolon.service'])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn('is not SANDBOX:CONTAINER',
                          sh(['journalctl', '--no-pager', '-u', 'vc-rootfs@nocolon.service']))
            self.assertEqual(listed('nocolon'), {})
        finally:
            box.run(['systemctl', 'stop', 'vcm-ctr.service', unit])
            box.run(['systemctl', 'reset-failed', 'vc-rootfs@nocolon.service'])
            for f in ('/run/systemd/system/vcm-ctr.service', '/run/vcm-ctr.out',
                      '/etc/vc-mount/rootfs/%s.conf' % inst, '/etc/vc-mount/rootfs/nocolon.conf'):
                if os.path.exists(box.live_path(f)):
                    os.unlink(box.live_path(f))
            sh(['systemctl', 'daemon-reload'])

    # -- disable, stop, purge ------------------------------------------------------------

    def test_13c_fd_from_the_callers_own_mount_namespace(self):
        # A runtime in a mount namespace of its own passes a descriptor of a
        # tmpfs that exists only there. The service, in the host's
        # namespace, cannot clone it from there: a short-lived helper joins
        # the caller's namespace through its pidfd and clones it there,
        # which needs what the shipped unit grants (RestrictNamespaces=user
        # mnt, CAP_SYS_PTRACE and CAP_SYS_CHROOT in its bounding set). The
        # mount appears in the host's namespace, its source marked as the
        # caller's namespace's.
        mp = SHARED + '/sbf/c1/rootfs'
        script = ('mkdir -p /tmp/vcm-own && mount -t tmpfs -o mode=0755 vcm-own /tmp/vcm-own && '
                  'echo only-there > /tmp/vcm-own/marker && '
                  'exec vcmountctl mount-rootfs-fd sbf c1 /tmp/vcm-own --read-only')
        sh(['unshare', '-m', '--propagation', 'private', 'sh', '-ec', script])
        try:
            self.assertIn(('sbf', 'c1'), listed('sbf'))
            self.assertEqual(sh(['cat', mp + '/marker']), 'only-there\n')
            self.assertEqual(sh(['ls', '-A', '/tmp/vcm-own']), '', 'the tmpfs leaked to the host')
            self.assertEqual(sh(['findmnt', '-n', '-o', 'FSTYPE,SOURCE', mp]).split(),
                             ['tmpfs', 'vcm-own'])
            mounts = call('ListMounts', GLib.Variant('a{sv}', {}))[1]
            m, = [m for m in mounts if m.get('mount-point') == mp]
            self.assertTrue(m['source'].startswith('caller-mntns:'), m['source'])
            self.assertTrue(m['source'].endswith('/vcm-own'), m['source'])
            self.assertTrue(m['options']['read-only'])
        finally:
            call('UnmountRootfs', 'sbf', 'c1')
        self.assertNotIn(mp, mountinfo_of(1))

    def test_14_disable_stops_activation(self):
        sh(['systemctl', 'disable', '--quiet', UNIT])
        try:
            self.assertFalse(os.path.lexists(box.path('/etc/systemd/system/' + ALIAS)))
            sh(['systemctl', 'stop', UNIT])
            wait_inactive()
            with self.assertRaises(CallError) as cm:
                prop('Version')
            # The bus asked systemd for the alias, which is gone.
            self.assertEqual(cm.exception.name, DISABLED_ACTIVATION_ERROR[BUS],
                             str(cm.exception))
            # vcmountctl tells what each bus says apart from other failures.
            r = box.run(['vcmountctl', 'list'])
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn('its unit is not enabled (systemctl enable vcmountd)', r.stderr)
            self.assertEqual(show('ActiveState')['ActiveState'], 'inactive')
        finally:
            sh(['systemctl', 'enable', '--quiet', UNIT])
        self.assertEqual(prop('Version'), sh(['dpkg-query', '-W', '-f=${Version}',
                                              'vc-mount']).split('-')[0])
        wait_active()

    def test_15_stop_is_clean(self):
        s = show('MainPID', 'InvocationID')
        pid = int(s['MainPID'])
        self.assertNotEqual(pid, 0)
        sh(['systemctl', 'stop', UNIT])
        wait_inactive()
        self.assertEqual(show('ActiveState', 'Result'),
                         {'ActiveState': 'inactive', 'Result': 'success'})
        self.assertFalse(os.path.exists(box.live_path('/proc/%d' % pid)))
        # What systemd logged about this run: deactivated successfully, and
        # the main process exited on its own with status 0 (not killed).
        def records():
            out = sh(['journalctl', '--no-pager', '-o', 'json', '_PID=1', 'UNIT=' + UNIT,
                      'INVOCATION_ID=' + s['InvocationID']])
            recs = [json.loads(l) for l in out.splitlines() if l.strip()]
            return recs if any(r.get('MESSAGE_ID') == SD_UNIT_SUCCESS for r in recs) else None
        recs = wait_until(records, timeout=20, what='systemd to log the stop')
        exits = [r for r in recs if r.get('MESSAGE_ID') == SD_UNIT_PROCESS_EXIT]
        self.assertTrue(all(r.get('EXIT_CODE') == 'exited' and r.get('EXIT_STATUS') == '0'
                            for r in exits), exits)
        self.assertFalse(any(r.get('MESSAGE_ID') == SD_UNIT_FAILURE for r in recs), recs)
        self.assertIn('Terminating on signal', sh(['journalctl', '--no-pager', '-u', UNIT,
                                                   '_PID=%d' % pid]))

    def test_16_purge_leaves_nothing(self):
        cmd = ['dpkg', '--purge'] if LOCAL else ['apt-get', 'purge', '-y']
        r = box.run(cmd + ['vc-mount', 'libvcmount-1-0'], timeout=300,
                    env={'DEBIAN_FRONTEND': 'noninteractive'})
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        self.assertNotEqual(box.run(['dpkg-query', '-W', '-f=${Status}', 'vc-mount'])
                            .stdout, 'install ok installed')
        # Everything the container changed is in the overlay's upper layer.
        # Logs may name the package; nothing else may be left of it.
        logs = ('var/log/', 'var/lib/dpkg/status', 'var/lib/dpkg/status-old',
                'var/cache/debconf/', 'var/lib/apt/extended_states', 'var/cache/apt/') + \
            tuple('var/tmp/' + os.path.basename(d) for d in pkg.runtime)
        left = []
        for dirpath, dirnames, files in os.walk(box.upper):
            for n in dirnames + files:
                rel = os.path.relpath(os.path.join(dirpath, n), box.upper)
                if re.search(r'vc-mount|vcmount|org\.vc\.Mount', n) and not rel.startswith(logs):
                    left.append(rel)
        for f in ('var/lib/dpkg/status',):
            path = os.path.join(box.upper, f)
            if os.path.exists(path):
                with open(path) as fh:
                    text = fh.read()
                    self.assertNotIn('Package: vc-mount\n', text)
                    self.assertNotIn('Package: libvcmount-1-0\n', text)
        self.assertEqual(left, [])
        self.assertIn(show('LoadState')['LoadState'], ('not-found',))


if __name__ == '__main__':
    unittest.main()
