#!/usr/bin/python3
# guest-suite: runs inside the kernel61 guest as a systemd service. Reads
# the suites to run from the results share (/run/vcm-kernel61/suites.json,
# written by guest.py on the host), writes what the guest is (its kernel,
# its system bus, as seen from inside) to info.json, runs each suite with
# its TAP output in SUITE.tap and its stderr in SUITE.log, records how long
# each suite and each of its cases took, and powers the guest off.

import json
import os
import platform
import re
import subprocess
import threading
import time

SHARE = '/run/vcm-kernel61'


def system_bus():
    """The unit that is the system bus and the program it runs."""
    r = subprocess.run(['systemctl', 'show', '-p', 'Id,MainPID', 'dbus.service'],
                       stdout=subprocess.PIPE, text=True)
    props = dict(l.split('=', 1) for l in r.stdout.splitlines() if '=' in l)
    exe = ''
    try:
        exe = os.readlink('/proc/%s/exe' % props.get('MainPID', '0'))
    except OSError:
        pass
    return {'unit': props.get('Id', ''), 'exe': exe}


def write_json(name, value):
    tmp = os.path.join(SHARE, name + '.tmp')
    with open(tmp, 'w') as f:
        json.dump(value, f, indent=1)
    os.rename(tmp, os.path.join(SHARE, name))


def main():
    with open(os.path.join(SHARE, 'suites.json')) as f:
        suites = json.load(f)
    with open('/proc/uptime') as f:
        uptime = float(f.read().split()[0])
    info = {'kernel': platform.release(), 'kernel_version': platform.version(),
            'bus': system_bus(), 'boot_seconds': uptime, 'suites': {}}
    state = subprocess.run(['systemctl', 'is-system-running'], stdout=subprocess.PIPE, text=True)
    info['system_state'] = state.stdout.strip()
    # Where the boot's time went: kernel and user space. (Not `systemd-analyze
    # blame`: it asks PID 1 about every unit, a minute and more emulated.)
    t = subprocess.run(['systemd-analyze', 'time'], stdout=subprocess.PIPE, text=True)
    info['boot'] = t.stdout.splitlines()[:1]
    write_json('info.json', info)
    for suite in suites:
        name = suite['name']
        env = {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
               'LANG': 'C.UTF-8', 'PYTHONDONTWRITEBYTECODE': '1'}
        env.update(suite.get('env', {}))
        t0 = last = time.monotonic()
        cases = []
        # The TAP lines go to the share and, as they come, to the console
        # (this service's output), where the host shows them on a failure;
        # each result's time is from the one before (or the suite's start).
        with open(os.path.join(SHARE, name + '.tap'), 'w') as out, \
                open(os.path.join(SHARE, name + '.log'), 'w') as err:
            p = subprocess.Popen(suite['argv'], stdout=subprocess.PIPE, stderr=err, env=env,
                                 cwd=suite.get('cwd', '/'), stdin=subprocess.DEVNULL, text=True)
            timer = threading.Timer(suite.get('timeout', 600), p.kill)
            timer.start()
            for line in p.stdout:
                if re.match(r'(not )?ok\b', line):
                    now = time.monotonic()
                    cases.append(round(now - last, 1))
                    last = now
                out.write(line)
                out.flush()
                print('%s: %s' % (name, line.rstrip('\n')), flush=True)
            rc = p.wait()
            if not timer.is_alive():
                rc = 'timeout'
            timer.cancel()
        info['suites'][name] = {'seconds': round(time.monotonic() - t0, 1), 'returncode': rc,
                                'cases': cases}
        write_json('info.json', info)
    info['done'] = True
    write_json('info.json', info)
    # Nothing is left to keep (the results share is written through): off
    # at once, without stopping each unit in turn (half a minute emulated).
    subprocess.run(['systemctl', '--force', 'poweroff'])


if __name__ == '__main__':
    main()
