#!/usr/bin/python3
# attacker: what the attack tests (test_attacks.py) run as an unprivileged
# user (started under setpriv by the test). One process, one bus connection,
# many calls, so that thousands of attempts fit in a test run.
#
#   attacker.py ADDRESS calls JSON|@FILE calls in turn; JSON: a list of
#                                        [method, signature, args-text]; prints
#                                        one JSON line per call: [ok, result-or-
#                                        error-name, message]
#   attacker.py ADDRESS flood N JSON [--interactive] [--agent] [--fds=K]
#                                        sends N copies of one call (or, when
#                                        JSON is a list of calls, each once) without
#                                        waiting, then collects every reply; with
#                                        --agent registers a polkit
#                                        authentication agent for itself that
#                                        never answers; with --fds=K sends K
#                                        descriptors with each call (of
#                                        /dev/null, or --fd-path=PATH opened
#                                        for reading); prints {"reply": NAME}
#                                        as each reply comes (an error name or
#                                        "ok"), then {"final": {NAME: count}}
#   attacker.py ADDRESS hangup SECONDS JSON
#                                        for SECONDS, connects again and again;
#                                        each connection sends the calls of
#                                        JSON (a list, as for calls) and hangs
#                                        up once the bus has answered its
#                                        Hello, without a reply; prints
#                                        {"connections": N, "calls": M} at the end
#   attacker.py ADDRESS pipeline SECONDS JSON
#                                        as hangup, but each connection reads
#                                        an answer to each of its calls before
#                                        it hangs up; prints {"connections": N,
#                                        "calls": M, "answered": K,
#                                        "unanswered": [serials]} at the end
#   attacker.py ADDRESS probe JSON       on a new connection each time, makes
#                                        the call JSON ([method, signature,
#                                        args-text]; ["GetId", null, null]: the
#                                        bus's own GetId) in turn until stdin
#                                        closes; prints {"reply": NAME,
#                                        "seconds": S} for each
#   attacker.py ADDRESS loop JSON|@FILE  makes the calls of JSON (as for calls)
#                                        in turn, over and over, on one
#                                        connection, until stdin closes; prints
#                                        {"rounds": N, "replies": {NAME: count}}
#                                        at the end, and "started" after the
#                                        first round
#   attacker.py - swap DIR A B STOPFILE  exchanges DIR/A and DIR/B (renameat2
#                                        RENAME_EXCHANGE) until STOPFILE exists;
#                                        prints "started" after its first
#                                        exchanges, the number of them at the end
import ctypes
import json
import os
import select
import socket
import sys
import time

from gi.repository import Gio, GLib

DEST, PATH, IFACE = 'org.vc.Mount', '/org/vc/Mount', 'org.vc.Mount'
RENAME_EXCHANGE = 2
AT_FDCWD = -100

AGENT_XML = '''
<node>
  <interface name="org.freedesktop.PolicyKit1.AuthenticationAgent">
    <method name="BeginAuthentication">
      <arg type="s" name="action_id" direction="in"/>
      <arg type="s" name="message" direction="in"/>
      <arg type="s" name="icon_name" direction="in"/>
      <arg type="a{ss}" name="details" direction="in"/>
      <arg type="s" name="cookie" direction="in"/>
      <arg type="a(sa{sv})" name="identities" direction="in"/>
    </method>
    <method name="CancelAuthentication">
      <arg type="s" name="cookie" direction="in"/>
    </method>
  </interface>
</node>
'''


def connect(address):
    return Gio.DBusConnection.new_for_address_sync(
        address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)


def error_name(e):
    name = Gio.DBusError.get_remote_error(e)
    message = e.message
    if name and message.startswith('GDBus.Error:%s: ' % name):
        message = message[len('GDBus.Error:%s: ' % name):]
    return name or 'local.%s.%d' % (e.domain, e.code), message


def message_for(method, sig, args_text, interactive):
    msg = Gio.DBusMessage.new_method_call(DEST, PATH, IFACE, method)
    msg.set_body(GLib.Variant.parse(GLib.VariantType.new('(' + sig + ')'), args_text, None, None))
    if interactive:
        msg.set_flags(Gio.DBusMessageFlags.ALLOW_INTERACTIVE_AUTHORIZATION)
    return msg


def load_spec(spec):
    """A JSON spec, given inline or as @FILE (for arguments larger than a
    command line may be)."""
    if spec.startswith('@'):
        with open(spec[1:]) as f:
            return json.load(f)
    return json.loads(spec)


def cmd_calls(conn, spec):
    for method, sig, args_text in load_spec(spec):
        try:
            res = conn.call_sync(DEST, PATH, IFACE, method,
                                 GLib.Variant.parse(GLib.VariantType.new('(' + sig + ')'), args_text,
                                                    None, None),
                                 None, Gio.DBusCallFlags.NO_AUTO_START, 60000, None)
            print(json.dumps([True, res.unpack(), '']), flush=True)
        except GLib.Error as e:
            name, message = error_name(e)
            print(json.dumps([False, name, message]), flush=True)


def cmd_loop(conn, spec):
    calls = [(method, GLib.Variant.parse(GLib.VariantType.new('(' + sig + ')'), args_text, None, None))
             for method, sig, args_text in load_spec(spec)]
    replies = {}
    rounds = 0
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], 0)
        if readable and not sys.stdin.buffer.read1(4096):
            break
        for method, params in calls:
            try:
                conn.call_sync(DEST, PATH, IFACE, method, params, None,
                               Gio.DBusCallFlags.NO_AUTO_START, 120000, None)
                name = 'ok'
            except GLib.Error as e:
                name, _ = error_name(e)
            replies[name] = replies.get(name, 0) + 1
        rounds += 1
        if rounds == 1:
            print('started', flush=True)
    print(json.dumps({'rounds': rounds, 'replies': replies}), flush=True)


def register_silent_agent(conn):
    """An authentication agent for this process that never answers: every
    interactive check for it waits until it times out."""
    held = []

    def on_call(c, sender, path, iface, method, params, invocation):
        if method == 'BeginAuthentication':
            held.append(invocation)          # never answered
        else:
            invocation.return_value(None)

    info = Gio.DBusNodeInfo.new_for_xml(AGENT_XML).interfaces[0]
    conn.register_object('/vcmtest/agent', info, on_call, None, None)
    with open('/proc/self/stat') as f:
        start_time = int(f.read().rsplit(')', 1)[1].split()[19])
    subject = ('unix-process', {'pid': GLib.Variant('u', os.getpid()),
                                'start-time': GLib.Variant('t', start_time),
                                'uid': GLib.Variant('i', os.getuid())})
    conn.call_sync('org.freedesktop.PolicyKit1', '/org/freedesktop/PolicyKit1/Authority',
                   'org.freedesktop.PolicyKit1.Authority', 'RegisterAuthenticationAgent',
                   GLib.Variant('((sa{sv})ss)', (subject, 'C', '/vcmtest/agent')),
                   None, Gio.DBusCallFlags.NONE, 10000, None)
    return held


def cmd_flood(conn, n, spec, interactive, agent, n_fds=0, fd_path='/dev/null'):
    held = register_silent_agent(conn) if agent else None
    spec = json.loads(spec)
    # one call N times, or (a list of calls) each of them once
    specs = spec if isinstance(spec[0], list) else [spec] * n
    loop = GLib.MainLoop()
    outcomes = {}
    left = [len(specs)]

    def on_reply(c, res, _data):
        try:
            reply = c.send_message_with_reply_finish(res)
            if reply.get_message_type() == Gio.DBusMessageType.ERROR:
                name = reply.get_error_name()
            else:
                name = 'ok'
        except GLib.Error as e:
            name, _ = error_name(e)
        outcomes[name] = outcomes.get(name, 0) + 1
        print(json.dumps({'reply': name}), flush=True)
        left[0] -= 1
        if left[0] == 0:
            loop.quit()

    for method, sig, args_text in specs:
        msg = message_for(method, sig, args_text, interactive)
        if n_fds:
            fds = Gio.UnixFDList()
            for _ in range(n_fds):
                fd = os.open(fd_path, os.O_RDONLY)
                fds.append(fd)
                os.close(fd)
            msg.set_unix_fd_list(fds)
        conn.send_message_with_reply(msg, Gio.DBusSendMessageFlags.NONE, 600000, None,
                                     on_reply, None)
    loop.run()
    print(json.dumps({'final': outcomes}), flush=True)
    del held


def pipelined(address, spec):
    """The bus's socket path, and what a client that pipelines (as sd-bus
    does) writes at once: the bus's authentication, Hello (serial 1) and the
    calls of @spec (serials 2, 3, ...); and the number of calls."""
    path = address.split('unix:path=', 1)[1].split(',', 1)[0]
    uid = str(os.getuid()).encode().hex().encode()
    blob = b'\0AUTH EXTERNAL ' + uid + b'\r\nBEGIN\r\n'
    hello = Gio.DBusMessage.new_method_call('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                            'org.freedesktop.DBus', 'Hello')
    hello.set_serial(1)
    blob += hello.to_blob(Gio.DBusCapabilityFlags.NONE)
    for serial, (method, sig, args_text) in enumerate(load_spec(spec), start=2):
        msg = message_for(method, sig, args_text, False)
        msg.set_serial(serial)
        blob += msg.to_blob(Gio.DBusCapabilityFlags.NONE)
    return path, blob, len(load_spec(spec))


def cmd_hangup(address, seconds, spec):
    """Connections that hang up at once: the bus's authentication, Hello and
    the calls in one write (as sd-bus pipelines them), then close, never
    reading an answer. Costs the caller next to nothing per call."""
    path, blob, n_calls = pipelined(address, spec)
    connections = 0
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.sendall(blob)
            # the bus's "OK <guid>" and then its answer to Hello: the calls
            # were read (a client that never waits floods the bus, not us)
            got = b''
            while len(got) <= 37:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            connections += 1
        except OSError:
            pass
        finally:
            s.close()
    print(json.dumps({'connections': connections, 'calls': connections * n_calls}), flush=True)


def cmd_pipeline(address, seconds, spec):
    """The hang-up flood's client that stays: for SECONDS, connections that
    write the same calls at once and then read an answer to each (a return
    or an error), in turn. Prints the connections, the calls, those
    answered, and the serials of those that were not (within 60 s)."""
    path, blob, n_calls = pipelined(address, spec)
    connections = answered = 0
    unanswered = []
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(path)
        s.sendall(blob)
        waiting = set(range(2, 2 + n_calls))
        got = b''
        try:
            while b'\r\n' not in got:
                chunk = s.recv(4096)
                if not chunk:
                    raise OSError('the bus hung up')
                got += chunk
            got = got.split(b'\r\n', 1)[1]   # (after the bus's "OK <guid>")
            while waiting:
                need = Gio.DBusMessage.bytes_needed(got) if len(got) >= 16 else 16
                if len(got) < need:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                    continue
                msg = Gio.DBusMessage.new_from_blob(got[:need], Gio.DBusCapabilityFlags.NONE)
                got = got[need:]
                if msg.get_message_type() in (Gio.DBusMessageType.METHOD_RETURN,
                                              Gio.DBusMessageType.ERROR):
                    waiting.discard(msg.get_reply_serial())
        except (OSError, socket.timeout):
            pass
        finally:
            s.close()
        connections += 1
        answered += n_calls - len(waiting)
        unanswered += sorted(waiting)
    print(json.dumps({'connections': connections, 'calls': connections * n_calls,
                      'answered': answered, 'unanswered': unanswered}), flush=True)


def cmd_probe(address, spec):
    """One call at a time, each on a connection of its own (so that each is
    identified anew), until stdin closes: the latency another caller sees."""
    method, sig, args_text = json.loads(spec)
    params = GLib.Variant.parse(GLib.VariantType.new('(' + sig + ')'), args_text, None, None) \
        if sig is not None else None
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], 0.05)
        if readable and not sys.stdin.buffer.read1(4096):
            break
        started = time.monotonic()
        try:
            conn = connect(address)
            if method == 'GetId':   # the bus itself: what it adds to every call
                conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                               'GetId', None, None, Gio.DBusCallFlags.NONE, 120000, None)
            else:
                conn.call_sync(DEST, PATH, IFACE, method, params, None,
                               Gio.DBusCallFlags.NO_AUTO_START, 120000, None)
            name = 'ok'
            conn.close_sync(None)
        except GLib.Error as e:
            name, _ = error_name(e)
        print(json.dumps({'reply': name, 'seconds': time.monotonic() - started}), flush=True)


def cmd_swap(directory, a, b, stopfile):
    libc = ctypes.CDLL(None, use_errno=True)
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    ba, bb = a.encode(), b.encode()
    n = 0
    started = False
    while not os.path.exists(stopfile):
        for _ in range(64):
            if libc.renameat2(dfd, ba, dfd, bb, RENAME_EXCHANGE) == 0:
                n += 1
        if not started:
            print('started', flush=True)
            started = True
    print(n, flush=True)


def main():
    address, command = sys.argv[1], sys.argv[2]
    if command == 'swap':
        cmd_swap(*sys.argv[3:7])
        return
    if command == 'hangup':
        cmd_hangup(address, sys.argv[3], sys.argv[4])
        return
    if command == 'probe':
        cmd_probe(address, sys.argv[3])
        return
    if command == 'pipeline':
        cmd_pipeline(address, sys.argv[3], sys.argv[4])
        return
    conn = connect(address)
    if command == 'calls':
        cmd_calls(conn, sys.argv[3])
    elif command == 'loop':
        cmd_loop(conn, sys.argv[3])
    elif command == 'flood':
        fds = [int(a.split('=', 1)[1]) for a in sys.argv[5:] if a.startswith('--fds=')]
        fd_path = [a.split('=', 1)[1] for a in sys.argv[5:] if a.startswith('--fd-path=')]
        cmd_flood(conn, int(sys.argv[3]), sys.argv[4], '--interactive' in sys.argv[5:],
                  '--agent' in sys.argv[5:], fds[0] if fds else 0, fd_path[0] if fd_path else '/dev/null')
    else:
        raise SystemExit(f'unknown command {command}')


if __name__ == '__main__':
    main()
