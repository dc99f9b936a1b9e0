#!/usr/bin/python3
"""check-client-gen: vcm-client-gen.py on small interfaces of its own (TAP):
what it makes of a method without arguments and of a new library version,
and that it refuses, naming the method, what it cannot turn into C.

Usage: check-client-gen.py GENERATOR MAP_TEMPLATE
"""
import os
import re
import subprocess
import sys
import tempfile

generator, template = sys.argv[1:3]

XML = '''<node>
  <interface name="org.vc.Mount">
    <!--
        {name}:
{args_doc}

        {summary}
        polkit action: <literal>org.vc.mount.query</literal>.
    -->
    <method name="{name}">
      <annotation name="org.vc.Mount.Action" value="org.vc.mount.query"/>
{annotations}{args}
    </method>
  </interface>
</node>
'''


def interface(name='GetThing', args=(), annotations=(), summary='Tells the thing.', docs=True):
    return XML.format(
        name=name, summary=summary,
        args_doc='\n'.join(f'        @{a}: The {a}.' for a, _, _ in args if docs),
        annotations=''.join(f'      <annotation name="org.vc.Mount.Client.{k}" value="{v}"/>\n'
                            for k, v in annotations),
        args='\n'.join(f'      <arg name="{a}" direction="{d}" type="{t}"/>' for a, d, t in args))


def generate(xml):
    """(exit code, stderr, {output name: text})"""
    with tempfile.TemporaryDirectory() as out:
        path = os.path.join(out, 'i.xml')
        with open(path, 'w') as f:
            f.write(xml)
        p = subprocess.run(['/usr/bin/python3', generator, path, template, out],
                           capture_output=True, text=True)
        files = {}
        for name in os.listdir(out):
            with open(os.path.join(out, name)) as f:
                files[name] = f.read()
        return p.returncode, p.stderr, files


checks = []


def check(what, ok, detail=''):
    checks.append((what, ok, detail))


# a method without arguments answering a string, brought by a new version
code, err, files = generate(interface(args=[('thing', 'out', 's')], annotations=[('Since', '9.1')]))
h = files.get('vcm-client-methods.h', '')
c = files.get('vcm-client-methods.c', '')
m = files.get('libvcmount-1.map', '')
check('a method without arguments is generated', code == 0, err)
check('its async form takes only the flags, cancellable and callback',
      'void vcm_client_get_thing (VcmClient *self, VcmCallFlags flags, GCancellable *cancellable, '
      'GAsyncReadyCallback callback, gpointer user_data);' in re.sub(r'\s+', ' ', h), h)
check('its finish returns the string', 'char *vcm_client_get_thing_finish (' in h, h)
check('its call row names the method and the string decoder',
      'X (GET_THING, "GetThing", decode_string)' in files.get('vcm-client-calls.h', ''))
check('its documentation says the summary, the version and the transfer',
      'Tells the thing.' in c and 'Since: 9.1' in c and '(transfer full): the thing, or %NULL' in c, c)
check('a new version node holds its trio, after the last one',
      'VCMOUNT_9.1 {\n  global:\n    vcm_client_get_thing;\n    vcm_client_get_thing_finish;\n'
      '    vcm_client_get_thing_sync;\n} VCMOUNT_1.1;' in m, m[-300:])

# what it refuses
for what, xml, says in [
    ('a method whose comment does not describe an argument',
     interface(args=[('path', 'in', 's'), ('thing', 'out', 's')], docs=False), 'describe @path'),
    ('a method whose comment says nothing of what it does',
     interface(args=[('thing', 'out', 's')], summary=''), 'says nothing'),
    ('an argument with no C form', interface(args=[('map', 'in', 'a{ss}'), ('thing', 'out', 's')]),
     'Wrapper = hand-written'),
    ('an answer of several values without Returns',
     interface(args=[('a', 'out', 's'), ('b', 'out', 'u')]), 'needs org.vc.Mount.Client.Returns'),
    ('a Returns it does not know',
     interface(args=[('thing', 'out', 's')], annotations=[('Returns', 'a thing')]), 'is none of'),
]:
    code, err, files = generate(xml)
    check(f'refused: {what}', code != 0 and 'GetThing' in err and says in err and not files.get('vcm-client-methods.c'),
          err.strip())

print(f'1..{len(checks)}')
failed = 0
for i, (what, ok, detail) in enumerate(checks, 1):
    print(f'{"ok" if ok else "not ok"} {i} - {what}')
    if not ok:
        for line in str(detail).splitlines()[:20]:
            print(f'# {line}')
        failed += 1
sys.exit(1 if failed else 0)
