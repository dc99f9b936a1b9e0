#!/usr/bin/python3
# rootless: what test_idmap.py runs as the unprivileged test user (started
# under setpriv by the test): a rootless runtime. It makes a user namespace
# of its own with newuidmap/newgidmap from its subordinate ranges and a mount
# namespace in it, puts a host directory of its own at a path that exists
# only there, fills it as the namespace's root, and makes one call to
# org.vc.Mount from inside, passing file descriptors.
#
#   rootless.py SPEC    SPEC (JSON):
#     address     the bus address
#     uid_map     newuidmap's triples ("inside outside count ...") or null:
#                 no namespaces at all (the call is made as the plain user)
#     gid_map     the same for newgidmap
#     become_root false: stay the IDs it was (where the maps hold no 0)
#     host_dir    a directory of the user's on the host ...
#     ns_dir      ... shown at this path, which exists only in the namespace
#                 (a tmpfs is mounted on it there)
#     files       [[name, uid, gid], ...] made in the rootfs, as those IDs of
#                 the namespace
#     method, signature, args   the call; args is GVariant text in which
#                 handles index "fds"
#     fds         what to pass: "rootfs" (the directory, O_RDONLY),
#                 "own-userns" (the namespace this process is in), or an
#                 int: an fd inherited from the test
#     attach      if the reply has a mount fd: attach it at NS_DIR/attached
#                 with move_mount(2) and report the owners seen there
#   Prints one JSON line: {"ok": bool, "result"|"error", "message",
#   "attached": {name: [uid, gid]}}.
import ctypes
import json
import os
import socket
import subprocess
import sys

from gi.repository import Gio, GLib

DEST, PATH, IFACE = 'org.vc.Mount', '/org/vc/Mount', 'org.vc.Mount'
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_REC, MS_PRIVATE, MS_BIND = 0x4000, 1 << 18, 4096
MOVE_MOUNT_F_EMPTY_PATH = 0x4
NR_MOVE_MOUNT = 429
AT_FDCWD = -100

libc = ctypes.CDLL(None, use_errno=True)


def check(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, f'{what}: {os.strerror(e)}')


def mount(source, target, fstype=None, flags=0, data=None):
    check(libc.mount(source.encode() if source else None, target.encode(),
                     fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                     data.encode() if data else None), f'mount {target}')


def enter_namespaces(spec):
    """Forks: the child unshares a user namespace; this process (still
    outside) has newuidmap/newgidmap write its maps, then waits for it and
    exits with its status. Returns in the child, as root of the namespace,
    in a mount namespace of its own."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid > 0:
        os.close(ready_w)
        os.close(go_r)
        if os.read(ready_r, 1) != b'u':
            sys.exit(3)
        for tool, triples in (('newuidmap', spec['uid_map']), ('newgidmap', spec['gid_map'])):
            subprocess.run([tool, str(pid)] + triples.split(), check=True)
        os.write(go_w, b'g')
        os.close(go_w)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    os.close(ready_r)
    os.close(go_w)
    check(libc.unshare(CLONE_NEWUSER), 'unshare(CLONE_NEWUSER)')
    os.write(ready_w, b'u')
    if os.read(go_r, 1) != b'g':
        os._exit(4)
    if spec.get('become_root', True):
        os.setresgid(0, 0, 0)
        os.setgroups([])
        os.setresuid(0, 0, 0)
    check(libc.unshare(CLONE_NEWNS), 'unshare(CLONE_NEWNS)')
    mount(None, '/', flags=MS_REC | MS_PRIVATE)


def make_rootfs(spec):
    """NS_DIR/rootfs: HOST_DIR, at a path that exists only here."""
    ns_dir = spec['ns_dir']
    if not spec.get('become_root', True):
        # unmapped here, it can make no file: the directory itself is shown
        mount(spec['host_dir'], ns_dir, flags=MS_BIND)
        return ns_dir
    mount('tmpfs', ns_dir, 'tmpfs', data='mode=0755')
    rootfs = os.path.join(ns_dir, 'rootfs')
    os.mkdir(rootfs)
    mount(spec['host_dir'], rootfs, flags=MS_BIND)
    for name, uid, gid in spec.get('files', []):
        path = os.path.join(rootfs, name)
        with open(path, 'w') as f:
            f.write(name + '\n')
        os.chown(path, uid, gid)
    return rootfs


class RawBus:
    """One D-Bus connection made by hand, with an empty EXTERNAL identity:
    inside a user namespace the uid the process sees (0) is not the one the
    bus sees through SO_PEERCRED, and the bus refuses it. (GDBus sends the
    empty identity only for the system bus or with
    G_DBUS_CONNECTION_FLAGS_CROSS_NAMESPACE, which GLib 2.74's
    new_for_address refuses.) GLib still marshals the messages."""

    def __init__(self, address):
        path = dict(kv.split('=', 1) for kv in address.split(':', 1)[1].split(','))['path']
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.sendall(b'\0AUTH EXTERNAL\r\n')
        self._expect(b'DATA')
        self.sock.sendall(b'DATA\r\n')
        self._expect(b'OK ')
        self.sock.sendall(b'NEGOTIATE_UNIX_FD\r\n')
        self._expect(b'AGREE_UNIX_FD')
        self.sock.sendall(b'BEGIN\r\n')
        self.serial = 0
        self.buf, self.fds = b'', []
        self.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello',
                  None, [])

    def _expect(self, prefix):
        line = b''
        while not line.endswith(b'\r\n'):
            chunk = self.sock.recv(1)
            if not chunk:
                raise OSError('the bus closed the connection during authentication')
            line += chunk
        if not line.startswith(prefix):
            raise OSError(f'authentication: expected {prefix!r}, got {line!r}')

    def _read_message(self):
        caps = Gio.DBusCapabilityFlags.UNIX_FD_PASSING
        while True:
            if len(self.buf) >= 16:
                need = Gio.DBusMessage.bytes_needed(self.buf)
                if len(self.buf) >= need:
                    blob, self.buf = self.buf[:need], self.buf[need:]
                    msg = Gio.DBusMessage.new_from_blob(blob, caps)
                    n = msg.get_num_unix_fds()
                    if n:
                        fd_list = Gio.UnixFDList.new_from_array(self.fds[:n])
                        self.fds = self.fds[n:]
                        msg.set_unix_fd_list(fd_list)
                    return msg
            data, fds, _, _ = socket.recv_fds(self.sock, 65536, 16)
            if not data:
                raise OSError('the bus closed the connection')
            self.buf += data
            self.fds += fds

    def call(self, dest, path, iface, method, params, fds):
        msg = Gio.DBusMessage.new_method_call(dest, path, iface, method)
        if params is not None:
            msg.set_body(params)
        if fds:
            msg.set_unix_fd_list(Gio.UnixFDList.new_from_array([os.dup(fd) for fd in fds]))
        self.serial += 1
        msg.set_serial(self.serial)
        blob = msg.to_blob(Gio.DBusCapabilityFlags.UNIX_FD_PASSING)
        if fds:
            socket.send_fds(self.sock, [blob], list(fds))
        else:
            self.sock.sendall(blob)
        while True:
            reply = self._read_message()
            if reply.get_reply_serial() == self.serial:
                return reply


def call(spec, rootfs):
    bus = RawBus(spec['address'])
    fds = []
    for what in spec.get('fds', []):
        if what == 'rootfs':
            fds.append(os.open(rootfs, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        elif what == 'own-userns':
            fds.append(os.open('/proc/self/ns/user', os.O_RDONLY | os.O_CLOEXEC))
        else:
            fds.append(int(what))
    params = GLib.Variant.parse(GLib.VariantType.new('(' + spec['signature'] + ')'), spec['args'],
                                None, None)
    reply = bus.call(DEST, PATH, IFACE, spec['method'], params, fds)
    if reply.get_message_type() == Gio.DBusMessageType.ERROR:
        body = reply.get_body()
        return {'ok': False, 'error': reply.get_error_name(),
                'message': body.get_child_value(0).get_string() if body is not None else ''}
    res = reply.get_body()
    out_fds = reply.get_unix_fd_list()
    answer = {'ok': True, 'result': res.print_(True) if res is not None else '()'}
    if spec.get('attach') and out_fds is not None and out_fds.get_length() > 0:
        mnt_fd = out_fds.get(0)
        target = os.path.join(spec['ns_dir'], 'attached')
        os.mkdir(target)
        check(libc.syscall(NR_MOVE_MOUNT, mnt_fd, b'', AT_FDCWD, target.encode(),
                           MOVE_MOUNT_F_EMPTY_PATH), 'move_mount')
        attached = {}
        for name in ['.'] + sorted(os.listdir(target)):
            st = os.lstat(os.path.join(target, name))
            attached[name] = [st.st_uid, st.st_gid]
        answer['attached'] = attached
    return answer


def main():
    spec = json.loads(sys.argv[1])
    rootfs = spec.get('host_dir')
    if spec.get('uid_map'):
        enter_namespaces(spec)
        rootfs = make_rootfs(spec)
    print(json.dumps(call(spec, rootfs)), flush=True)


if __name__ == '__main__':
    main()
