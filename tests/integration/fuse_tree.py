#!/usr/bin/python3
# fuse_tree: a FUSE filesystem that lies, for the attack tests: a few empty
# directories (a, a/b, a/b/c) that it reports as root's, mode 0755, without
# ACLs, as a user's FUSE server may; its owner ("user_id") is the uid given.
# A rename it makes up (the directory "a" answered under the name "moved"
# from then on) is what a user's server can do at any moment: sent with
# SIGUSR1. Run as root inside the test's mount namespace:
#
#   fuse_tree.py MOUNT_POINT UID     mounts, prints "ready", then serves until killed
import os
import signal
import sys

from fuse_wire import (ATTR_OUT, EMPTY_STATFS, ENTRY_OUT, FUSE_ACCESS, FUSE_BATCH_FORGET, FUSE_FORGET,
                       FUSE_GETATTR, FUSE_INIT, FUSE_LOOKUP, FUSE_OPENDIR, FUSE_READDIR, FUSE_RELEASEDIR,
                       FUSE_STATFS, IN_HEADER, OPEN_OUT, dir_attr, init_answer, mount)
import fuse_wire

ENOENT, ENOSYS = 2, 38

# nodeid -> (parent nodeid, name); the root is 1
TREE = {2: (1, 'a'), 3: (2, 'b'), 4: (3, 'c')}
renamed = False


def child(parent, name):
    for nodeid, (p, n) in TREE.items():
        if renamed and nodeid == 2:
            n = 'moved'
        if p == parent and n == name:
            return nodeid
    return None


def on_usr1(signum, frame):
    global renamed
    renamed = True


def main():
    mnt, uid = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGUSR1, on_usr1)
    fd = mount(mnt, 'vcmtest-tree', uid)
    print('ready', flush=True)

    def reply(unique, body=b'', error=0):
        fuse_wire.reply(fd, unique, body, error)

    while True:
        try:
            req = os.read(fd, 1 << 20)
        except InterruptedError:
            continue
        except OSError:
            return  # unmounted
        length, opcode, unique, nodeid, _, _, _, _, _ = IN_HEADER.unpack_from(req)
        body = req[IN_HEADER.size:length]
        if opcode == FUSE_INIT:
            reply(unique, init_answer(body))
        elif opcode in (FUSE_FORGET, FUSE_BATCH_FORGET):
            pass
        elif opcode == FUSE_LOOKUP:
            found = child(nodeid, body.rstrip(b'\0').decode(errors='replace'))
            if found is None:
                # a short negative entry: the kernel asks again soon
                reply(unique, error=ENOENT)
            else:
                # entries valid for no time at all: every lookup asks again
                reply(unique, ENTRY_OUT.pack(found, 0, 0, 0, 0, 0) + dir_attr(found))
        elif opcode == FUSE_GETATTR:
            reply(unique, ATTR_OUT.pack(0, 0, 0) + dir_attr(nodeid))
        elif opcode == FUSE_OPENDIR:
            reply(unique, OPEN_OUT.pack(0, 0, 0))
        elif opcode in (FUSE_READDIR, FUSE_RELEASEDIR, FUSE_ACCESS):
            reply(unique)
        elif opcode == FUSE_STATFS:
            reply(unique, EMPTY_STATFS)
        else:  # GETXATTR, LISTXATTR and the rest: not implemented
            reply(unique, error=ENOSYS)


if __name__ == '__main__':
    main()
