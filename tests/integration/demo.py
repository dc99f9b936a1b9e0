#!/usr/bin/python3
# demo: shows vc-mount working end to end, in a mount namespace of its own
# (scripts/run starts it under `unshare -m --propagation private`): a private
# system bus, the real polkitd and vcmountd on its defaults (shared dir
# /run/vc/shared, on a tmpfs mounted on /run/vc in this namespace only), then
# introspection, a rootfs mounted and unmounted with the client (or gdbus),
# the signals seen by `gdbus monitor`, ListRootfs and DescribePath.
#
# Environment: VCM_SOURCE_ROOT, VCM_DAEMON, and VCM_CLIENT (optional: the
# built vcmountctl; without it gdbus is used).

import os
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402

RUN_VC = '/run/vc'


def step(title):
    print(f'\n\033[1m== {title}\033[0m' if sys.stdout.isatty() else f'\n== {title}', flush=True)


def show(cmd, env, check=True):
    print('$ ' + ' '.join(shlex.quote(c) for c in cmd), flush=True)
    p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    sys.stdout.write(p.stdout)
    sys.stdout.flush()
    if check and p.returncode != 0:
        raise SystemExit(f'demo: {cmd[0]} failed with exit status {p.returncode}')
    return p.stdout


def gdbus_call(env, method, *args):
    return show(['gdbus', 'call', '--system', '--dest', vcmtest.BUS_NAME, '--object-path',
                 vcmtest.OBJECT_PATH, '--method', f'{vcmtest.INTERFACE}.{method}', *args], env)


def main():
    client = os.environ.get('VCM_CLIENT')
    if client and not os.access(client, os.X_OK):
        client = None
    # The default shared dir lives on a tmpfs of this namespace only.
    os.makedirs(RUN_VC, exist_ok=True)
    vcmtest.mount('vcm-demo', RUN_VC, 'tmpfs', data='mode=0755')
    try:
        with vcmtest.World(defaults=True, verbose=False) as w:
            env = dict(os.environ, **w.env)
            print(f'private system bus: {w.bus_address}')
            print(f'polkitd pid {w.polkitd_pid}, vcmountd pid {w.daemon_pid}, shared dir {w.shared_dir}')

            step('the interface, as busctl sees it')
            show(['busctl', f'--address={w.bus_address}', 'introspect', '--no-pager',
                  vcmtest.BUS_NAME, vcmtest.OBJECT_PATH, vcmtest.INTERFACE], env)

            step('a monitor follows the signals (gdbus monitor, in the background)')
            monitor_log = os.path.join(w.tmp, 'gdbus-monitor.log')
            with open(monitor_log, 'a') as out:
                monitor = subprocess.Popen(['gdbus', 'monitor', '--system', '--dest', vcmtest.BUS_NAME],
                                           env=env, stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=subprocess.STDOUT)

            def monitor_text():
                with open(monitor_log) as f:
                    return f.read()
            rootfs = None
            try:
                # It is subscribed once it has printed its banner.
                vcmtest.wait_until(lambda: monitor_text() or monitor.poll() is not None, 10,
                                   'gdbus monitor to start')

                rootfs = tempfile.mkdtemp(prefix='vcm-demo-rootfs.')
                os.chmod(rootfs, 0o755)
                for rel, text in (('etc/hostname', 'demo\n'), ('etc/os-release', 'NAME=demo\n'),
                                  ('bin/hello', '#!/bin/sh\necho hello\n')):
                    os.makedirs(os.path.join(rootfs, os.path.dirname(rel)), exist_ok=True)
                    with open(os.path.join(rootfs, rel), 'w') as f:
                        f.write(text)

                step(f'mount the demo rootfs {rootfs} read-only')
                if client:
                    mp = show([client, 'mount-rootfs', 'demo-sandbox', 'demo-container', rootfs,
                               '--read-only'], env).strip()
                else:
                    out = gdbus_call(env, 'MountRootfs', 'demo-sandbox', 'demo-container', rootfs, 'true')
                    mp = out.strip().strip("(),'")
                show(['ls', '-la', mp], env)
                show(['findmnt', '-o', 'TARGET,SOURCE,FSTYPE,OPTIONS,PROPAGATION', mp], env)

                step('ListRootfs')
                if client:
                    show([client, 'list'], env)
                else:
                    gdbus_call(env, 'ListRootfs', '')

                listed = [tuple(e) for e in w.call('ListRootfs', 'demo-sandbox')[1]]
                if listed != [('demo-sandbox', 'demo-container', mp, True)]:
                    raise SystemExit(f'demo: ListRootfs answered {listed!r}, not the demo rootfs')

                step('DescribePath on the mount point')
                if client:
                    show([client, 'describe', mp], env)
                else:
                    gdbus_call(env, 'DescribePath', mp)

                step('unmount it')
                if client:
                    show([client, 'unmount-rootfs', 'demo-sandbox', 'demo-container'], env)
                else:
                    gdbus_call(env, 'UnmountRootfs', 'demo-sandbox', 'demo-container')
                left = vcmtest.mounts_beneath(w.shared_dir)
                print(f'mounts left beneath {w.shared_dir}: {len(left)}')

                # Both signals reach the monitor.
                def seen():
                    text = monitor_text()
                    return 'RootfsMounted' in text and 'RootfsUnmounted' in text
                try:
                    vcmtest.wait_until(seen, 10, 'the signals to reach gdbus monitor')
                finally:
                    step('what gdbus monitor saw')
                    sys.stdout.write(monitor_text())
            finally:
                monitor.terminate()
                monitor.wait()
                if rootfs is not None and not vcmtest.mounts_beneath(w.shared_dir):
                    shutil.rmtree(rootfs)
            if left:
                raise SystemExit('demo: the rootfs is still mounted')
            step('stopping vcmountd, polkitd and the bus')
    finally:
        vcmtest.umount(RUN_VC)
    print('demo: done')


if __name__ == '__main__':
    try:
        main()
    except vcmtest.HarnessError as e:
        raise SystemExit(f'demo: {e}')
