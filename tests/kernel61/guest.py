#!/usr/bin/python3
# guest: vc-mount on Debian 12's own kernel. Boots a guest with the kernel of
# Debian's linux-image-amd64 (6.1) under qemu-system-x86 (TCG: KVM guests
# hang on machines without real nested virtualization; VCM_KERNEL61_ACCEL=kvm
# where it works), systemd as PID 1, the root file system this machine's
# own tree shared read-only over 9p under a tmpfs overlay (the initramfs is
# made here from busybox-static, the kernel's own 9p and overlay modules and
# init.sh). Inside, guest-suite.py runs the install checks, the cases that
# tell most about the kernel against the build tree's vcmountd (in one
# Python process: the spine, the signals of foreign changes, which watch
# path the daemon takes, and a mount's identity without statx's unique
# mount ID), and the booted suite's cases with the Debian package built
# from this source tree installed by dpkg (no network, no apt: the tree has
# every dependency). Their TAP comes back over a second 9p share and is
# reported here, one subtest per guest case with the seconds it took, after
# one naming the guest's kernel and bus as seen from inside.
#
# Where the guest cannot be started (not root, no qemu, no 6.1 kernel, no
# busybox-static or cpio), says why on one line and skips ("1..0 # SKIP").
#
# Usage: guest.py --source-root DIR --build-root DIR [--deb-cache DIR]
#                 [--cases TEST_FILE.py PATTERN... ...] [--install-test ARGS...]
# The environment of the spine and signal runs (VCM_DAEMON, ...) is taken
# from this process's VCM_* variables, as meson sets them.

import argparse
import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'systemd'))

from debpkg import Package  # noqa: E402

QEMU = 'qemu-system-x86_64'
BUSYBOX = '/bin/busybox'
MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay']
# Units of the host image that have nothing to do with the tests, and would
# only cost minutes under emulation.
MASKED_UNITS = [
    'postgresql.service', 'apt-daily.timer', 'apt-daily-upgrade.timer', 'man-db.timer',
    'dpkg-db-backup.timer', 'e2scrub_all.timer', 'e2scrub_reap.service', 'fstrim.timer',
    'systemd-timesyncd.service', 'systemd-pstore.service', 'getty@tty1.service',
    'serial-getty@ttyS0.service', 'console-getty.service', 'remote-fs.target',
    'systemd-tmpfiles-clean.timer', 'systemd-binfmt.service', 'proc-sys-fs-binfmt_misc.automount',
    'systemd-update-utmp.service', 'systemd-update-utmp-runlevel.service',
    'systemd-random-seed.service', 'systemd-firstboot.service', 'keyboard-setup.service',
    'console-setup.service', 'cron.service', 'rsyslog.service', 'ssh.service',
    'systemd-hwdb-update.service', 'ldconfig.service', 'systemd-journal-catalog-update.service',
    'systemd-networkd.service', 'networking.service', 'ifupdown-pre.service',
    # Kernel modules and file systems the tests do not use (seconds each
    # under emulation), and udev: no test waits for a device.
    'modprobe@configfs.service', 'modprobe@dm_mod.service', 'modprobe@drm.service',
    'modprobe@fuse.service', 'modprobe@loop.service', 'systemd-repart.service',
    'sys-fs-fuse-connections.mount', 'sys-kernel-config.mount', 'sys-kernel-debug.mount',
    'sys-kernel-tracing.mount', 'systemd-udev-trigger.service', 'systemd-udevd.service',
    'systemd-udevd-control.socket', 'systemd-udevd-kernel.socket',
]
# Generators run at boot and again on every daemon-reload (the package's
# scripts and the booted cases make a dozen): all but systemd-debug-generator,
# which reads the systemd.mask= settings of the command line, are turned off
# (a link to /dev/null in /etc) for the guest; none makes a unit the tests use.
KEPT_GENERATORS = ['systemd-debug-generator']
SHARE = '/run/vcm-kernel61'
# The guest boots to a target of its own: what basic.target brings (the
# journal, tmpfiles, the bus's socket) and the test's service, not
# multi-user.target's login manager and gettys, which no test uses (the
# system bus activates logind and polkitd if asked).
GUEST_TARGET = '''[Unit]
Description=vc-mount tests on this kernel
Requires=basic.target
After=basic.target
Wants=vcm-kernel61.service
AllowIsolate=yes
'''
GUEST_UNIT = '''[Unit]
Description=vc-mount tests on this kernel
After=basic.target dbus.service
Wants=dbus.service

[Service]
Type=exec
ExecStart=/usr/bin/python3 %s
StandardOutput=journal+console
StandardError=journal+console
'''


class Skip(Exception):
    pass


def say(text):
    print('# ' + text, flush=True)


def tap_skip(reason):
    print('1..0 # SKIP ' + reason, flush=True)
    sys.exit(0)


def static_elf(path):
    """Whether @path is an ELF executable without a program interpreter."""
    with open(path, 'rb') as f:
        head = f.read(64)
        if head[:4] != b'\x7fELF' or head[4] != 2:
            return False
        phoff, = struct.unpack_from('<Q', head, 32)
        phentsize, phnum = struct.unpack_from('<HH', head, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if struct.unpack('<I', f.read(4))[0] == 3:   # PT_INTERP
                return False
    return True


def find_kernel():
    """The newest 6.1 kernel of linux-image-amd64 and its modules dir."""
    def key(path):
        return [int(x) if x.isdigit() else x for x in re.split(r'[.-]', path)]
    for image in sorted(glob.glob('/boot/vmlinuz-6.1.*-amd64'), key=key, reverse=True):
        release = os.path.basename(image)[len('vmlinuz-'):]
        if os.path.isdir('/lib/modules/%s/kernel' % release) and os.access(image, os.R_OK):
            return image, release
    raise Skip('no Debian 6.1 kernel in /boot (apt-get install linux-image-amd64)')


def preflight():
    if os.geteuid() != 0:
        raise Skip('needs root (qemu shares the whole tree, the guest installs as root)')
    if not shutil.which(QEMU):
        raise Skip('%s is missing (apt-get install qemu-system-x86)' % QEMU)
    for tool in ('cpio', 'modprobe'):
        if not shutil.which(tool):
            raise Skip('%s is missing (apt-get install %s)' % (tool, {'modprobe': 'kmod'}.get(tool, tool)))
    if not os.path.exists(BUSYBOX) or not static_elf(BUSYBOX):
        raise Skip('%s is not a static busybox (apt-get install busybox-static)' % BUSYBOX)
    return find_kernel()


def module_files(release):
    """The .ko files of MODULES with their dependencies, in load order."""
    files = []
    for m in MODULES:
        r = subprocess.run(['modprobe', '-S', release, '--show-depends', m],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise Skip('module %s of %s: %s' % (m, release, r.stderr.strip()))
        for line in r.stdout.splitlines():
            parts = line.split()
            if parts[:1] == ['insmod'] and parts[1] not in files:
                files.append(parts[1])
    return files


def make_initramfs(tmp, release, keep, bus):
    root = os.path.join(tmp, 'initramfs')
    for d in ('bin', 'modules', 'proc', 'sys', 'dev', 'seed/etc/systemd/system'):
        os.makedirs(os.path.join(root, d), mode=0o755, exist_ok=True)
    for d in ('seed', 'seed/etc', 'seed/etc/systemd', 'seed/etc/systemd/system'):
        os.chmod(os.path.join(root, d), 0o755)
    shutil.copy(BUSYBOX, os.path.join(root, 'bin/busybox'))
    shutil.copy(os.path.join(HERE, 'init.sh'), os.path.join(root, 'init'))
    os.chmod(os.path.join(root, 'init'), 0o755)
    order = []
    for ko in module_files(release):
        name = os.path.basename(ko)
        if name.endswith('.xz'):
            with open(os.path.join(root, 'modules', name[:-3]), 'wb') as out:
                subprocess.run(['xz', '-dc', ko], stdout=out, check=True)
            name = name[:-3]
        else:
            shutil.copy(ko, os.path.join(root, 'modules', name))
        order.append(name)
    with open(os.path.join(root, 'modules.order'), 'w') as f:
        f.write(''.join(n + '\n' for n in order))
    with open(os.path.join(root, 'config'), 'w') as f:
        f.write('KEEP="%s"\nBUS=%s\n' % (' '.join(keep), bus))
    # The test's unit, and an empty machine ID (systemd makes a new one).
    unit = os.path.join(root, 'seed/etc/systemd/system/vcm-kernel61.service')
    with open(unit, 'w') as f:
        f.write(GUEST_UNIT % os.path.join(HERE, 'guest-suite.py'))
    with open(os.path.join(root, 'seed/etc/systemd/system/vcm-kernel61.target'), 'w') as f:
        f.write(GUEST_TARGET)
    with open(os.path.join(root, 'seed/etc/machine-id'), 'w'):
        pass
    generators = os.path.join(root, 'seed/etc/systemd/system-generators')
    os.makedirs(generators, mode=0o755)
    for g in sorted(set(os.listdir('/lib/systemd/system-generators')) - set(KEPT_GENERATORS)):
        os.symlink('/dev/null', os.path.join(generators, g))
    image = os.path.join(tmp, 'initrd.img')
    files = subprocess.run(['find', '.'], cwd=root, stdout=subprocess.PIPE, check=True).stdout
    with open(image, 'wb') as out:
        subprocess.run(['cpio', '-o', '-H', 'newc', '--quiet', '-R', '0:0'], cwd=root,
                       input=files, stdout=out, check=True)
    return image


def read_info(share):
    """What the guest wrote of itself (info.json), or {}."""
    try:
        with open(os.path.join(share, 'info.json')) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def under_tmp(path):
    return any(path == p or path.startswith(p + '/') for p in ('/tmp', '/var/tmp'))


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, directive=''):
        self.n += 1
        self.failed += 0 if cond else 1
        line = '%s %d - %s' % ('ok' if cond else 'not ok', self.n, name)
        print(line + (' # ' + directive if directive else ''), flush=True)

    def relay(self, suite, path, seconds=()):
        """The subtests of a guest suite's TAP, renamed SUITE: NAME (N s),
        N from @seconds, the time each took in the guest; returns (passed,
        failed, skipped)."""
        counts = [0, 0, 0]
        if not os.path.exists(path):
            return counts
        with open(path) as f:
            for line in f:
                m = re.match(r'(not ok|ok)\s+\d+\s*-?\s*([^#]*?)\s*(#\s*(.*))?$', line.rstrip('\n'))
                if m:
                    directive = m.group(4) or ''
                    good = m.group(1) == 'ok' or directive.upper().startswith('TODO')
                    i = sum(counts)
                    counts[2 if directive.upper().startswith('SKIP') else 0 if good else 1] += 1
                    took = ' (%.1f s)' % seconds[i] if i < len(seconds) else ''
                    self.ok(good, '%s: %s%s' % (suite, m.group(2), took), directive)
                elif line.startswith('#'):
                    print(line.rstrip('\n'))
        return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--source-root', required=True)
    ap.add_argument('--build-root', required=True)
    ap.add_argument('--deb-cache')
    ap.add_argument('--bus', default=os.environ.get('VCM_KERNEL61_BUS', 'dbus-daemon'))
    ap.add_argument('--cases', nargs='*', default=[])
    ap.add_argument('--timeout', type=float, default=1500)
    ap.add_argument('--install-test', nargs=argparse.REMAINDER, default=[])
    args = ap.parse_args()
    source_root = os.path.realpath(args.source_root)
    build_root = os.path.realpath(args.build_root)
    try:
        kernel, release = preflight()
        if args.bus == 'dbus-broker' and not os.path.exists('/lib/systemd/system/dbus-broker.service'):
            raise Skip('dbus-broker is not installed (apt-get install dbus-broker)')
    except Skip as e:
        tap_skip(str(e))

    tap = Tap()
    tmp = tempfile.mkdtemp(prefix='vcm-kernel61-')
    share = os.path.join(tmp, 'share')
    os.makedirs(os.path.join(share, 'debs'))
    qemu = None
    try:
        # The packages: built once per source tree (cached for the booted suites).
        t0 = time.monotonic()
        pkg = Package(source_root, os.path.join(tmp, 'pkg'), cache=args.deb_cache)
        built = pkg.build()
        package_seconds = time.monotonic() - t0
        tap.ok(built, 'the Debian packages build (%.0f s%s)'
               % (package_seconds, ', cached' if pkg.cached else ''))
        if not built:
            say(pkg.log[-4000:])
            return 1
        for d in pkg.runtime:
            shutil.copy(d, os.path.join(share, 'debs'))

        # What runs inside, in order: the install checks first (they use
        # only the build tree), the cases against the build tree's vcmountd,
        # then the booted cases, which end by purging the package.
        env = {k: v for k, v in os.environ.items() if k.startswith('VCM_')}
        env['VCM_TEST_TIMEOUT_MULTIPLIER'] = os.environ.get('VCM_KERNEL61_TIMEOUT_MULTIPLIER', '10')
        taprunner = os.path.join(source_root, 'tests', 'integration', 'taprunner.py')
        suites = []
        if args.install_test:
            suites.append({'name': 'install', 'argv': ['/usr/bin/python3'] + args.install_test,
                           'env': env, 'timeout': 600})
        # One interpreter for every file (each followed by its name
        # patterns): under emulation, starting Python and its modules takes
        # seconds.
        if args.cases:
            suites.append({'name': 'cases',
                           'argv': ['unshare', '-m', '--propagation', 'private',
                                    '/usr/bin/python3', taprunner]
                           + [os.path.join(source_root, 'tests', 'integration', a)
                              if a.endswith('.py') else a for a in args.cases],
                           'env': env, 'timeout': 900})
        booted_env = {'VCM_SOURCE_ROOT': source_root, 'VCM_BOOTED_LOCAL': '1',
                      'VCM_BOOTED_DEBS': SHARE + '/debs', 'VCM_BOOTED_BUS': args.bus,
                      'VCM_BOOTED_UPPER': '/run/vcm-overlay/upper',
                      'VCM_TEST_TIMEOUT_MULTIPLIER': env['VCM_TEST_TIMEOUT_MULTIPLIER']}
        suites.append({'name': 'booted',
                       'argv': ['/usr/bin/python3', taprunner,
                                os.path.join(source_root, 'tests', 'systemd', 'test_booted.py')],
                       'env': booted_env, 'timeout': 900})
        with open(os.path.join(share, 'suites.json'), 'w') as f:
            json.dump(suites, f, indent=1)

        keep = sorted({p for p in (source_root, build_root, HERE) if under_tmp(p)})
        initrd = make_initramfs(tmp, release, keep, args.bus)
        accel = os.environ.get('VCM_KERNEL61_ACCEL', 'tcg')
        # quiet: every console line costs the emulated serial port's time;
        # mitigations=off: the kernel's defences against speculation cost
        # much under emulation and change no system call the tests make.
        cmdline = ['console=ttyS0', 'quiet', 'mitigations=off', 'panic=-1', 'fstab=no',
                   'systemd.show_status=0',
                   'systemd.machine_id=' + uuid.uuid4().hex, 'systemd.unit=vcm-kernel61.target']
        cmdline += ['systemd.mask=' + u for u in MASKED_UNITS]
        console = os.path.join(tmp, 'console.log')
        cmd = [QEMU, '-accel', accel, '-machine', 'q35', '-cpu', 'max', '-smp', '2', '-m', '3072',
               '-nographic', '-nodefaults', '-no-reboot', '-monitor', 'none', '-nic', 'none',
               '-kernel', kernel, '-initrd', initrd, '-append', ' '.join(cmdline),
               '-serial', 'file:' + console,
               '-fsdev', 'local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap',
               '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
               '-fsdev', 'local,id=results,path=%s,security_model=passthrough' % share,
               '-device', 'virtio-9p-pci,fsdev=results,mount_tag=results']
        say('guest: %s (%s), %s, system bus %s' % (kernel, release, accel, args.bus))
        t0 = time.monotonic()
        qemu_log = os.path.join(tmp, 'qemu.log')
        with open(qemu_log, 'wb') as out:
            qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT)
        # Seen from here (the guest's own clock may lag under load): when
        # the guest's service wrote info.json first (booted), when it said
        # it was done, when qemu exited.
        marks = {}
        while True:
            try:
                qemu.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                pass
            elapsed = time.monotonic() - t0
            if 'done' not in marks:
                got = read_info(share)
                if got and 'up' not in marks:
                    marks['up'] = elapsed
                if got.get('done'):
                    marks['done'] = elapsed
            if elapsed > args.timeout:
                qemu.kill()
                qemu.wait()
                marks['killed'] = elapsed
                break
        seconds = time.monotonic() - t0
        with open(qemu_log, errors='replace') as f:
            qemu_out = f.read() + ('\n(killed: timeout)' if 'killed' in marks else '')
        info = read_info(share)
        bus = info.get('bus', {})
        tap.ok(bool(info) and info.get('kernel') == release,
               'the guest boots its own kernel: %s (%s), system bus %s (%s), %s, booted in %.0f s'
               % (info.get('kernel', '?'), info.get('kernel_version', '?'), bus.get('unit', '?'),
                  bus.get('exe', '?'), info.get('system_state', '?'),
                  info.get('boot_seconds', 0)))
        for line in info.get('boot', []):
            say('boot: ' + line)
        if not info or not info.get('done'):
            with open(console, errors='replace') as f:
                say('the end of the guest\'s console:')
                for line in f.read()[-6000:].splitlines():
                    say(line)
            say(qemu_out[-2000:])
        if not info:
            return 1
        tap.ok(os.path.basename(bus.get('exe', '')).replace('-launch', '') == args.bus,
               'the system bus inside is %s' % args.bus)
        for suite in suites:
            name = suite['name']
            s = info['suites'].get(name)
            passed, failed, skipped = tap.relay(name, os.path.join(share, name + '.tap'),
                                                (s or {}).get('cases', []))
            say('%s: %d passed, %d failed, %d skipped in %s s (exit %s)'
                % (name, passed, failed, skipped, s and s['seconds'], s and s['returncode']))
            if s is None or s['returncode'] != 0 or passed + failed == 0:
                tap.ok(False, '%s: ran to its end in the guest (exit %s)'
                       % (name, s and s['returncode']))
                log = os.path.join(share, name + '.log')
                if os.path.exists(log):
                    with open(log, errors='replace') as f:
                        for line in f.read()[-4000:].splitlines():
                            say(line)
        tap.ok(info.get('done', False), 'the guest ran every suite and powered off (%.0f s)'
               % seconds)
        say('times: packages %.0f s; guest %.0f s: up (its tests start) at %.0f s, done at '
            '%.0f s, off at %.0f s; inside, by its clock: booted in %.0f s, %s'
            % (package_seconds, seconds, marks.get('up', 0), marks.get('done', 0), seconds,
               info.get('boot_seconds', 0),
               ', '.join('%s %s s' % (n, s['seconds']) for n, s in info['suites'].items())))
    finally:
        if qemu is not None and qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        print('1..%d' % tap.n, flush=True)
        if os.environ.get('VCM_KERNEL61_KEEP'):
            say('kept ' + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
