#!/usr/bin/python3
"""fdcall: one call of an fd-based org.vc.Mount method from this process (run
it as a test user with setpriv, inside namespaces with unshare), passing an
fd it opens itself. Prints 'ok' and the reply, or 'error', the error name
and the message.

Usage: fdcall.py BUS_ADDRESS METHOD KIND PATH ARGS [ATTACH [UNMOUNT]]
  KIND: dir (O_RDONLY|O_DIRECTORY), file (O_RDONLY), opath (O_PATH),
        socket, memfd, pidfd, device (PATH opened O_RDONLY), none (no fd),
        inherited (PATH is the number of an fd this process inherited)
  ARGS: GVariant text of the arguments, the fd as 'handle 0'
        ("('sb1', 'c1', handle 0, @a{sv} {})")
  ATTACH: for OpenMount, a directory to attach the returned mount on
        (move_mount), then 'attached' is printed with the names it holds;
        'userns:DIR': first enter a new user namespace (mapping this uid to
        0, with every capability there) and mount namespace, as a rootless
        runtime that opened its source on the host does
  UNMOUNT: then unmount ATTACH/UNMOUNT on its own (umount2) and print
        'unmounted' with the names it then holds, or 'unmount-failed ERROR'
"""
import ctypes
import os
import socket
import sys

from gi.repository import Gio, GLib

libc = ctypes.CDLL(None, use_errno=True)
SYS_PIDFD_OPEN, SYS_MOVE_MOUNT = 434, 429
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MOVE_MOUNT_F_EMPTY_PATH = 0x4


def open_kind(kind, path):
    if kind == 'dir':
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    if kind in ('file', 'device'):
        return os.open(path, os.O_RDONLY)
    if kind == 'inherited':
        return os.dup(int(path))
    if kind == 'opath':
        return os.open(path, os.O_PATH)
    if kind == 'socket':
        return os.dup(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).detach())
    if kind == 'memfd':
        return os.memfd_create('vcmtest')
    if kind == 'pidfd':
        return libc.syscall(SYS_PIDFD_OPEN, os.getpid(), 0)
    raise ValueError(kind)


def main():
    address, method, kind, path, text = sys.argv[1:6]
    attach = sys.argv[6] if len(sys.argv) > 6 else None
    unmount = sys.argv[7] if len(sys.argv) > 7 else None
    conn = Gio.DBusConnection.new_for_address_sync(
        address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    fds = Gio.UnixFDList.new()
    if kind != 'none':
        fd = open_kind(kind, path)
        fds.append(fd)
        os.close(fd)
    sig = {'MountRootfsFd': '(ssha{sv})', 'BindMountFd': '(hsa{sv})', 'OpenMount': '(ha{sv})'}[method]
    params = GLib.Variant.parse(GLib.VariantType.new(sig), text, None, None)
    try:
        res, out_fds = conn.call_with_unix_fd_list_sync(
            'org.vc.Mount', '/org/vc/Mount', 'org.vc.Mount', method, params,
            None, Gio.DBusCallFlags.NO_AUTO_START, 60000, fds, None)
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e)
        message = e.message
        if name and message.startswith('GDBus.Error:%s: ' % name):
            message = message[len('GDBus.Error:%s: ' % name):]
        print('error')
        print(name or 'local')
        print(message)
        return
    print('ok')
    print(res.print_(True))
    if attach is not None:
        mnt = out_fds.get(res.get_child_value(0).get_handle())
        if attach.startswith('userns:'):
            # (a user namespace wants a single thread: GDBus has its own)
            attach = attach[len('userns:'):]
            uid, gid = os.getuid(), os.getgid()
            sys.stdout.flush()
            child = os.fork()
            if child != 0:
                _, status = os.waitpid(child, 0)
                sys.exit(os.waitstatus_to_exitcode(status))
            if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
                raise OSError(ctypes.get_errno(), 'unshare')
            for name, text in (('uid_map', f'0 {uid} 1'), ('setgroups', 'deny'), ('gid_map', f'0 {gid} 1')):
                with open(f'/proc/self/{name}', 'w') as f:
                    f.write(text)
        os.makedirs(attach, exist_ok=True)
        rc = libc.syscall(SYS_MOVE_MOUNT, mnt, b'', -100, attach.encode(), MOVE_MOUNT_F_EMPTY_PATH)
        if rc < 0:
            print('attach-failed', os.strerror(ctypes.get_errno()))
        else:
            print('attached', ' '.join(sorted(os.listdir(attach))))
            if unmount is not None:
                target = os.path.join(attach, unmount)
                if libc.umount2(target.encode(), 0) != 0:
                    print('unmount-failed', os.strerror(ctypes.get_errno()))
                else:
                    print('unmounted', ' '.join(sorted(os.listdir(target))))
    sys.stdout.flush()
    os._exit(0)


main()
