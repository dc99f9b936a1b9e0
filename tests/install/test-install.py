#!/usr/bin/python3
# tests/install: installs the built tree into a temporary DESTDIR with
# `meson install --no-rebuild` and checks the result: every file where the
# build says it goes, with the right mode, nothing else installed; the unit
# passes `systemd-analyze verify` and keeps the host's mount namespace; the
# polkit policy is valid and matches the contract; the bus policy loads into
# a real dbus-daemon and lets through exactly what it should. TAP output.
#
# Why `meson install --no-rebuild` from inside `meson test` is safe: meson
# test has finished building (ninja is no longer running, so there is no
# lock to fight over) before it starts any test, and --no-rebuild makes
# meson install only copy files, writing nothing in the build dir but its
# install log. Everything goes to a fresh DESTDIR that is removed afterwards.

import argparse
import configparser
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ET

# Settings that give a service a mount namespace of its own (systemd's
# exec_needs_mount_namespace() and friends), or a user namespace that would
# make CAP_SYS_ADMIN useless against the host's mounts. vcmountd's mounts
# must land in the host's namespace, so its unit must use none of them.
MOUNT_NAMESPACE_DIRECTIVES = [
    'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices',
    'PrivateIPC', 'PrivateUsers',
    'PrivatePIDs', 'PrivateBPF',
    'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs',
    'ProtectControlGroups', 'ProtectProc', 'ProcSubset',
    'ReadOnlyPaths', 'ReadWritePaths', 'InaccessiblePaths', 'ExecPaths',
    'NoExecPaths', 'TemporaryFileSystem', 'BindPaths', 'BindReadOnlyPaths',
    'RootDirectory', 'RootImage', 'MountImages', 'ExtensionImages',
    'ExtensionDirectories', 'MountFlags', 'DynamicUser',
    'NetworkNamespacePath', 'IPCNamespacePath', 'LogNamespace',
    # Deprecated spellings of the above.
    'ReadOnlyDirectories', 'ReadWriteDirectories', 'InaccessibleDirectories',
]
# PrivateNetwork= implies PrivateMounts=yes unless PrivateMounts=no is set
# explicitly; PrivateMounts= may only ever be "no".

# The name the activation file hands to systemd: the unit's alias, which
# exists only while the unit is enabled (so `systemctl disable` stops
# activation, as for hostnamed and timedated).
UNIT_ALIAS = 'dbus-org.vc.Mount.service'

# systemd-analyze security's rating of the unit as it is (systemd 252): 3.5
# for what a mount service must keep, 0.3 more for the user namespaces that
# ID-mapped mounts need (RestrictNamespaces=user), 0.2 more for CAP_SETFCAP,
# which the kernel asks for to write their maps, 0.2 more for
# CAP_SYS_PTRACE and CAP_SYS_CHROOT, with which a helper joins a caller's
# mount namespace to clone its source, 0.1 more for the mount namespaces
# such helpers join or make (RestrictNamespaces=user mnt).
MAX_EXPOSURE = 4.3

# The contract's Authorization table.
POLKIT_DEFAULTS = {
    'org.vc.mount.manage-rootfs': ('auth_admin', 'auth_admin', 'auth_admin_keep'),
    'org.vc.mount.bind': ('auth_admin', 'auth_admin', 'auth_admin_keep'),
    'org.vc.mount.open': ('auth_admin', 'auth_admin', 'auth_admin_keep'),
    'org.vc.mount.query': ('yes', 'yes', 'yes'),
    'org.vc.mount.write-foreign': ('auth_admin', 'auth_admin', 'auth_admin'),
}

POLKIT_DTD = '/usr/share/polkit-1/policyconfig-1.dtd'


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def diag(self, text):
        for line in str(text).rstrip('\n').splitlines():
            print('# ' + line)

    def ok(self, cond, name, detail=None):
        self.n += 1
        print('%s %d - %s' % ('ok' if cond else 'not ok', self.n, name))
        if not cond:
            self.failed += 1
            if detail:
                self.diag(detail)
        sys.stdout.flush()
        return cond

    def skip(self, name, why):
        self.n += 1
        print('ok %d - %s # SKIP %s' % (self.n, name, why))
        sys.stdout.flush()

    def done(self):
        print('1..%d' % self.n)
        return 1 if self.failed else 0


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


def under(destdir, path):
    return os.path.join(destdir, path.lstrip('/'))


def read_unit(path):
    # systemd unit files allow repeated keys; keep the last like systemd
    # does for single-value settings, and keep all keys for the checks.
    cp = configparser.ConfigParser(strict=False, interpolation=None,
                                   delimiters=('=',), comment_prefixes=('#', ';'))
    cp.optionxform = str
    cp.read(path)
    return cp


def check_layout(tap, args, destdir, planned):
    expected = {}
    for label, path, mode in args.file:
        expected[path] = (label, int(mode, 8), True)
    for label, path, mode in args.maybe:
        expected[path] = (label, int(mode, 8), path in planned)

    for path, (label, mode, required) in sorted(expected.items(), key=lambda x: x[1][0]):
        name = '%s installed at %s, mode %04o' % (label, path, mode)
        if not required:
            tap.skip(name, 'not part of this build yet')
            continue
        real = under(destdir, path)
        try:
            st = os.lstat(real)
        except FileNotFoundError:
            tap.ok(False, name, 'missing: %s' % path)
            continue
        got = stat.S_IMODE(st.st_mode)
        tap.ok(stat.S_ISREG(st.st_mode) and got == mode, name,
               'is %s with mode %04o' % ('a regular file' if stat.S_ISREG(st.st_mode)
                                         else 'not a regular file', got))

    # Symbolic links (the library's soname and development links).
    for label, path, target in args.link:
        real = under(destdir, path)
        name = '%s installed at %s -> %s' % (label, path, target)
        tap.ok(os.path.islink(real) and os.readlink(real) == target, name,
               'missing or pointing elsewhere: %s' % path)
        expected[path] = (label, 0, True)

    # Directories installed as a whole (generated documentation): each must
    # hold its INDEX file, and every file in it is expected.
    for label, directory, index in args.tree:
        tap.ok(os.path.isfile(under(destdir, os.path.join(directory, index))),
               '%s installed in %s' % (label, directory), 'no %s in %s' % (index, directory))

    def in_tree(rel):
        return any(rel.startswith(d.rstrip('/') + '/') for _l, d, _i in args.tree)

    # Nothing but the expected files (no static libraries, ...).
    stray = []
    for root, _dirs, files in os.walk(destdir):
        for f in files:
            rel = '/' + os.path.relpath(os.path.join(root, f), destdir)
            if rel not in expected and not in_tree(rel):
                stray.append(rel)
    tap.ok(not stray, 'nothing else is installed',
           'unexpected files:\n' + '\n'.join(sorted(stray)))


def check_library_use(tap, args, destdir):
    """The installed library is usable as installed: the C example builds
    with nothing but the installed pkg-config file and headers, links to the
    installed library and runs."""
    pcdir = os.path.dirname(under(destdir, args.pkgconfig))
    # The sysroot puts vcmount-1's own directories under DESTDIR; those of
    # the packages it requires (GLib) are the host's, asked for as usual.
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir, PKG_CONFIG_SYSROOT_DIR=destdir)
    r = run(['pkg-config', '--cflags', '--libs', 'vcmount-1'], env=env)
    if not tap.ok(r.returncode == 0, 'pkg-config knows vcmount-1', r.stderr):
        return
    flags = [f for f in r.stdout.split() if destdir in f or f == '-lvcmount-1']
    requires = run(['pkg-config', '--print-requires', 'vcmount-1'], env=env).stdout.split()
    r = run(['pkg-config', '--cflags', '--libs'] + requires)
    if not tap.ok(r.returncode == 0 and requires, 'the packages vcmount-1 requires are known',
                  r.stderr):
        return
    flags += r.stdout.split()
    out = os.path.join(destdir, 'vcmount-list')
    r = run(['cc', '-o', out, args.example] + flags)
    if not tap.ok(r.returncode == 0, 'the C example builds against the installed library',
                  r.stdout[-4000:] + r.stderr[-4000:]):
        return
    r = run([out, '--help'], env=dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(pcdir)))
    tap.ok(r.returncode == 0 and 'follow the rootfs mounts' in r.stdout,
           'the C example runs with the installed library', r.stdout + r.stderr)


def check_unit(tap, args, destdir):
    unit = under(destdir, args.unit)
    if not tap.ok(os.path.isfile(unit), 'unit file installed'):
        return
    cp = read_unit(unit)
    svc = dict(cp['Service']) if cp.has_section('Service') else {}

    daemon = args.daemon
    tap.ok(svc.get('ExecStart') == daemon, 'unit ExecStart is the installed daemon',
           'ExecStart=%s, expected %s' % (svc.get('ExecStart'), daemon))
    tap.ok(svc.get('Type') == 'dbus' and svc.get('BusName') == 'org.vc.Mount',
           'unit is Type=dbus with BusName=org.vc.Mount')

    # Read the raw lines too: configparser would fold repeated keys.
    keys = set()
    with open(unit) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(('#', ';', '[')) and '=' in line:
                keys.add(line.split('=', 1)[0].strip())
    bad = sorted(keys & set(MOUNT_NAMESPACE_DIRECTIVES))
    private_mounts = svc.get('PrivateMounts')
    if private_mounts is not None and private_mounts != 'no':
        bad.append('PrivateMounts=' + private_mounts)
    if 'PrivateNetwork' in keys and private_mounts != 'no':
        bad.append('PrivateNetwork= without PrivateMounts=no')
    tap.ok(not bad, 'unit uses no setting that gives the service its own mount namespace',
           'found: ' + ', '.join(bad))

    inst = dict(cp['Install']) if cp.has_section('Install') else {}
    tap.ok(inst == {'Alias': UNIT_ALIAS},
           'unit [Install] has only Alias=%s (activation, no start at boot)' % UNIT_ALIAS,
           'got %r' % inst)
    tap.ok(svc.get('WatchdogSec', '') not in ('', '0', 'infinity') and
           svc.get('Restart') == 'on-failure',
           'unit has WatchdogSec= and Restart=on-failure',
           'WatchdogSec=%r Restart=%r' % (svc.get('WatchdogSec'), svc.get('Restart')))

    caps = set(svc.get('CapabilityBoundingSet', '').split())
    want_caps = {'CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH',
                 'CAP_FOWNER', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SETFCAP', 'CAP_SYS_PTRACE',
                 'CAP_SYS_CHROOT'}
    tap.ok(caps == want_caps, 'unit bounds capabilities to what mounting and queries need',
           'CapabilityBoundingSet=%s' % ' '.join(sorted(caps)))

    analyze = shutil.which('systemd-analyze')
    if not tap.ok(analyze is not None, 'systemd-analyze is available',
                  'install the Debian package systemd'):
        return

    # verify: the unit as installed, its ExecStart pointed at the daemon in
    # DESTDIR (it must exist on disk). Unknown or misspelt settings are only
    # warnings with exit status 0, so any stderr output is a failure.
    with tempfile.TemporaryDirectory(prefix='vcm-unit-') as d:
        copy = os.path.join(d, os.path.basename(args.unit))
        with open(unit) as f:
            text = f.read()
        text = text.replace('ExecStart=' + daemon, 'ExecStart=' + under(destdir, daemon))
        with open(copy, 'w') as f:
            f.write(text)
        env = dict(os.environ)
        mandir = under(destdir, args.mandir)
        man_args = ['--man=no']
        if os.path.isdir(mandir) and shutil.which('man'):
            # Check Documentation=man:... against the man pages we install.
            env['MANPATH'] = mandir
            man_args = ['--man=yes']
        else:
            tap.diag('no man pages installed: Documentation= not checked')
        r = run([analyze, 'verify'] + man_args + [copy], env=env)
        tap.ok(r.returncode == 0 and r.stderr.strip() == '',
               'systemd-analyze verify %s is clean' % ' '.join(man_args),
               'exit %d\n%s%s' % (r.returncode, r.stdout, r.stderr))

        r = run([analyze, 'security', '--offline=yes', '--no-pager', copy])
        score = None
        for line in r.stdout.splitlines():
            if 'Overall exposure level' in line:
                score = line.split('level for', 1)[-1].strip()
                tap.diag(line.strip())
        # The exposure is bounded by what a mount service must keep (root,
        # CAP_SYS_ADMIN, the host's mount namespace, user namespaces for
        # ID-mapped mounts, joining a caller's mount namespace): 4.3 with
        # systemd 252, every remaining item
        # explained in the unit. Anything above means
        # a setting was lost.
        level = None
        if score:
            try:
                level = float(score.split(':', 1)[1].split()[0])
            except (IndexError, ValueError):
                level = None
        tap.ok(level is not None and level <= MAX_EXPOSURE,
               'systemd-analyze security --offline=yes exposure is at most %.1f' % MAX_EXPOSURE,
               'exit %d\n%s%s' % (r.returncode, r.stdout[-3000:], r.stderr))


def check_activation(tap, args, destdir):
    path = under(destdir, args.activation)
    if not tap.ok(os.path.isfile(path), 'D-Bus activation file installed'):
        return
    cp = read_unit(path)
    sec = dict(cp['D-BUS Service']) if cp.has_section('D-BUS Service') else {}
    want = {'Name': 'org.vc.Mount', 'Exec': args.daemon, 'User': 'root',
            'SystemdService': UNIT_ALIAS}
    tap.ok(sec == want, 'activation file names the service, daemon, root and the unit',
           'got %r, expected %r' % (sec, want))


def check_configured_comments(tap, args, destdir):
    """meson substitutes @VAR@ anywhere in a configured file: the comments of
    the unit and the activation file must not name a substituted path nor
    keep an @VAR@ of their own."""
    for label, path in (('unit', args.unit), ('activation file', args.activation)):
        real = under(destdir, path)
        if not os.path.isfile(real):
            continue
        bad = []
        with open(real) as f:
            for n, line in enumerate(f, 1):
                if line.lstrip().startswith(('#', ';')) and \
                        (os.path.dirname(args.daemon) in line or
                         re.search(r'@[A-Za-z_]+@', line)):
                    bad.append('%d: %s' % (n, line.rstrip()))
        tap.ok(not bad, 'the %s\'s comments read as written (nothing substituted)' % label,
               '\n'.join(bad))


def check_polkit(tap, args, destdir):
    path = under(destdir, args.policy)
    if not tap.ok(os.path.isfile(path), 'polkit policy installed'):
        return
    xmllint = shutil.which('xmllint')
    if tap.ok(xmllint is not None and os.path.isfile(POLKIT_DTD),
              'xmllint and the polkit DTD are available',
              'install the Debian packages libxml2-utils and polkitd'):
        r = run([xmllint, '--noout', '--dtdvalid', POLKIT_DTD, path])
        tap.ok(r.returncode == 0 and r.stderr.strip() == '',
               'polkit policy is valid against policyconfig-1.dtd', r.stderr)

    got = {}
    try:
        for action in ET.parse(path).getroot().iter('action'):
            d = action.find('defaults')
            got[action.get('id')] = tuple(
                (d.findtext(k) or '').strip() if d is not None else ''
                for k in ('allow_any', 'allow_inactive', 'allow_active'))
            tap.ok((action.findtext('description') or '').strip() != '' and
                   (action.findtext('message') or '').strip() != '',
                   'polkit action %s has a description and a message' % action.get('id'))
    except ET.ParseError as e:
        got = {'parse error': str(e)}
    tap.ok(got == POLKIT_DEFAULTS, 'polkit actions and defaults are the contract\'s',
           'got %r' % got)


OWNER_SCRIPT = textwrap.dedent('''\
    import sys
    from gi.repository import Gio, GLib
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    r = bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                      'org.freedesktop.DBus', 'RequestName',
                      GLib.Variant('(su)', ('org.vc.Mount', 4)),
                      GLib.VariantType('(u)'), 0, -1, None)
    print(r.unpack()[0], flush=True)
    GLib.MainLoop().run()
    ''')


def check_bus_conf(tap, args, destdir):
    path = under(destdir, args.bus_conf)
    if not tap.ok(os.path.isfile(path), 'D-Bus bus policy installed'):
        return
    daemon = shutil.which('dbus-daemon')
    if not tap.ok(daemon is not None, 'dbus-daemon is available',
                  'install the Debian package dbus-daemon'):
        return

    d = tempfile.mkdtemp(prefix='vcm-bus-')
    os.chmod(d, 0o755)  # nobody must reach the socket
    sock = os.path.join(d, 'system_bus_socket')
    conf = os.path.join(d, 'system.conf')
    with open(conf, 'w') as f:
        f.write(textwrap.dedent('''\
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>system</type>
              <listen>unix:path=%s</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/>
                <deny own="*"/>
                <deny send_type="method_call"/>
                <allow send_destination="org.freedesktop.DBus"
                       send_interface="org.freedesktop.DBus"/>
                <allow send_destination="org.freedesktop.DBus"
                       send_interface="org.freedesktop.DBus.Introspectable"/>
                <allow send_type="signal"/>
                <allow send_requested_reply="true" send_type="method_return"/>
                <allow send_requested_reply="true" send_type="error"/>
                <allow receive_type="method_call"/>
                <allow receive_type="method_return"/>
                <allow receive_type="error"/>
                <allow receive_type="signal"/>
              </policy>
              <include>%s</include>
            </busconfig>
            ''' % (sock, path)))

    bus = subprocess.Popen([daemon, '--config-file=' + conf, '--nofork', '--print-address=1'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    owner = None
    try:
        addr = bus.stdout.readline().strip()
        if addr == '':
            try:
                bus.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if not tap.ok(addr != '', 'dbus-daemon starts with the bus policy included',
                      bus.stderr.read() if bus.poll() is not None else 'no address'):
            return
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=addr)
        env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        as_nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']

        def own_as_nobody():
            return run(as_nobody + ['/usr/bin/python3', '-c', OWNER_SCRIPT.replace(
                'GLib.MainLoop().run()', 'pass')], env=env, timeout=30)

        r = own_as_nobody()
        tap.ok(r.returncode != 0 and 'AccessDenied' in r.stderr,
               'an unprivileged user may not own org.vc.Mount',
               'exit %d\n%s%s' % (r.returncode, r.stdout, r.stderr))

        owner = subprocess.Popen(['/usr/bin/python3', '-c', OWNER_SCRIPT], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = owner.stdout.readline().strip()
        if not tap.ok(line == '1', 'root may own org.vc.Mount',
                      'RequestName said %r\n%s' % (line, owner.stderr.read()
                                                   if owner.poll() is not None else '')):
            return

        def call_as_nobody(iface_method, *margs):
            return run(as_nobody + ['gdbus', 'call', '--system', '--dest', 'org.vc.Mount',
                                    '--object-path', '/org/vc/Mount',
                                    '--method', iface_method] + list(margs),
                       env=env, timeout=30)

        # Delivered calls reach the owner, which answers (or errs with
        # UnknownMethod); calls the bus refuses come back AccessDenied.
        for method, margs in [
                ('org.freedesktop.DBus.Peer.Ping', []),
                ('org.freedesktop.DBus.Introspectable.Introspect', []),
                ('org.freedesktop.DBus.Properties.GetAll', ['org.vc.Mount']),
                ('org.vc.Mount.ListRootfs', ['']),
        ]:
            r = call_as_nobody(method, *margs)
            delivered = r.returncode == 0 or (
                'AccessDenied' not in r.stderr and
                ('UnknownMethod' in r.stderr or 'UnknownObject' in r.stderr or
                 'UnknownInterface' in r.stderr))
            tap.ok(delivered, 'the bus lets an unprivileged user call %s' % method,
                   'exit %d\n%s%s' % (r.returncode, r.stdout, r.stderr))

        r = call_as_nobody('org.example.NotOurs.Frob')
        tap.ok('AccessDenied' in r.stderr,
               'the bus refuses an unprivileged user other interfaces of org.vc.Mount',
               'exit %d\n%s%s' % (r.returncode, r.stdout, r.stderr))
    finally:
        for p in (owner, bus):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--meson', required=True)
    ap.add_argument('--build-root', required=True)
    ap.add_argument('--file', nargs=3, action='append', default=[],
                    metavar=('LABEL', 'PATH', 'MODE'), help='a file that must be installed')
    ap.add_argument('--maybe', nargs=3, action='append', default=[],
                    metavar=('LABEL', 'PATH', 'MODE'),
                    help='a file that must be installed if the build installs it')
    ap.add_argument('--link', nargs=3, action='append', default=[],
                    metavar=('LABEL', 'PATH', 'TARGET'), help='a symbolic link that must be installed')
    ap.add_argument('--tree', nargs=3, action='append', default=[],
                    metavar=('LABEL', 'DIR', 'INDEX'), help='a directory installed as a whole')
    ap.add_argument('--daemon', required=True, help='installed path of vcmountd')
    ap.add_argument('--unit', required=True)
    ap.add_argument('--activation', required=True)
    ap.add_argument('--bus-conf', required=True)
    ap.add_argument('--policy', required=True)
    ap.add_argument('--mandir', required=True)
    ap.add_argument('--pkgconfig', help='installed path of vcmount-1.pc')
    ap.add_argument('--example', help='a C program to build against the installed library')
    args = ap.parse_args()

    tap = Tap()
    with open(os.path.join(args.build_root, 'meson-info', 'intro-installed.json')) as f:
        planned = set(json.load(f).values())

    destdir = tempfile.mkdtemp(prefix='vcm-destdir-')
    try:
        t0 = time.monotonic()
        r = run([args.meson, 'install', '-C', args.build_root, '--no-rebuild',
                 '--destdir', destdir])
        tap.diag('meson install took %.1f s' % (time.monotonic() - t0))
        if not tap.ok(r.returncode == 0, 'meson install --destdir succeeds',
                      r.stdout[-4000:] + r.stderr[-4000:]):
            return tap.done()
        check_layout(tap, args, destdir, planned)
        check_unit(tap, args, destdir)
        check_activation(tap, args, destdir)
        check_configured_comments(tap, args, destdir)
        check_polkit(tap, args, destdir)
        check_bus_conf(tap, args, destdir)
        if args.pkgconfig and args.example:
            check_library_use(tap, args, destdir)
    finally:
        shutil.rmtree(destdir, ignore_errors=True)
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
