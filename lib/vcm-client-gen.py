#!/usr/bin/python3
"""vcm-client-gen: libvcmount's methods, generated from the interface XML.

The XML is the one list of the service's methods. From it this writes, for
each method of org.vc.Mount:
  vcm-client-methods.h  the public declarations of its trio, vcm_client_NAME()
                        (async), vcm_client_NAME_finish() and
                        vcm_client_NAME_sync() (NAME: the method's name in
                        lower case with underscores);
  vcm-client-methods.c  their definitions (one macro of vcm-client-private.h
                        each) with their documentation and GI annotations,
                        taken from the XML's comments;
  vcm-client-calls.h    the rows of the call table (VCM_XML_CALLS);
  libvcmount-1.map      the version script: the hand-kept template with the
                        trio of every method added to the version node its
                        org.vc.Mount.Client.Since names (default 1.0; a node
                        missing from the template is made, after the last).

How a method becomes C (annotations of the method, all optional):
  org.vc.Mount.Client.Returns  what finish returns, when the reply is not one
      s (a string), as (a string array) or b (a boolean, in *out_result):
      a boxed type of the library (VcmDeviceInfo, ...), "TYPE list" (a
      GPtrArray of TYPE and the generation) or "fd with TYPE" (a descriptor
      and a TYPE in *out_info); decoded by decode_SNAKE (decode_SNAKE_list,
      decode_fd_with_SNAKE) of vcm-client-call.c.
  org.vc.Mount.Client.Wrapper = hand-written  only the call row: the trio
      and its documentation are written by hand (its C form is not the
      method's).
  org.vc.Mount.Client.Since    the library version that brought it.
and of an argument:
  org.vc.Mount.Client.NullIsEmpty = true  an s argument that may be NULL in
      C, sent as "".
An argument of type h is an int NAME_fd (the library sends a copy); an a{sv}
named options is a VcmMountOptions. Other types are refused here: give the
method a hand-written wrapper.

Usage: vcm-client-gen.py XML MAP_TEMPLATE OUTPUT_DIR
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

IFACE = 'org.vc.Mount'
ANN = 'org.vc.Mount.Client.'
NODE_PREFIX = 'VCMOUNT_'


def snake(name):
    return re.sub(r'(?<=[a-z0-9])([A-Z])', r'_\1', name).lower()


def fail(msg):
    sys.exit(f'vcm-client-gen: {msg}')


def annotations(elem):
    return {a.get('name'): a.get('value') for a in elem.findall('annotation')}


# ---- the XML's comments ------------------------------------------------------

def parse_comment(text):
    """A gtk-doc style comment: 'Name:', '@arg: text' lines (continued by
    deeper-indented lines), a blank line, the body. Returns (args, body)."""
    lines = text.strip('\n').split('\n')
    args, body, cur = {}, [], None
    in_args = True
    for line in lines[1:]:
        stripped = line.strip()
        if in_args:
            m = re.match(r'@(\w+):\s*(.*)', stripped)
            if m:
                cur = m.group(1)
                args[cur] = m.group(2)
                continue
            if stripped == '':
                in_args = False
                continue
            if cur is not None:
                args[cur] += ' ' + stripped
                continue
            in_args = False
        body.append(stripped)
    return args, body


class Method:
    def __init__(self, elem, comment):
        self.name = elem.get('name')
        self.stem = snake(self.name)
        self.ann = annotations(elem)
        self.ins = [a for a in elem.findall('arg') if a.get('direction', 'in') == 'in']
        self.outs = [a for a in elem.findall('arg') if a.get('direction') == 'out']
        if comment is None or not comment.strip().startswith(self.name + ':'):
            fail(f'{self.name} has no comment "{self.name}: ..." before it')
        self.arg_docs, body = parse_comment(comment)
        for a in self.ins + self.outs:
            if a.get('name') not in self.arg_docs:
                fail(f'{self.name}: the comment does not describe @{a.get("name")}')
        # the summary: the body's first paragraph, up to its errors and action
        summary = []
        for line in body:
            if line == '' or line.startswith(('Errors:', 'polkit action:')):
                break
            summary.append(line)
        if not summary:
            fail(f'{self.name}: the comment says nothing before Errors / polkit action')
        self.summary = ' '.join(summary)
        self.hand = self.ann.get(ANN + 'Wrapper') == 'hand-written'
        self.since = self.ann.get(ANN + 'Since', '1.0')
        if not re.fullmatch(r'\d+\.\d+', self.since):
            fail(f'{self.name}: {ANN}Since must be MAJOR.MINOR')


def read_methods(path):
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.parse(path, parser).getroot()
    iface = next((i for i in root.findall('interface') if i.get('name') == IFACE), None)
    if iface is None:
        fail(f'no interface {IFACE} in {path}')
    methods, comment = [], None
    for child in iface:
        if child.tag is ET.Comment:
            comment = child.text
            continue
        if child.tag == 'method':
            methods.append(Method(child, comment))
        comment = None
    if not methods:
        fail('the interface has no methods')
    return methods


# ---- text for doc comments -----------------------------------------------------

def doc_text(text, method, params):
    """The XML's docbook-flavoured text as gi-docgen's markdown."""
    text = re.sub(r'<(literal|filename)>(.*?)</\1>', r'`\2`', text)
    text = re.sub(r'#org\.vc\.Mount\.(\w+)\(\)', lambda m: f'vcm_client_{snake(m.group(1))}()', text)
    text = re.sub(r'#org\.vc\.Mount::(\w+)', r'the `\1` signal', text)
    text = re.sub(r'#org\.vc\.Mount:(\w+)', r'the `\1` property', text)

    def at(m):
        name = m.group(1)
        c = params.get(name)
        return f'@{c}' if c is not None else f'`{name}`'
    text = re.sub(r'@(\w+)', at, text)
    return text.replace('*/', '*&#47;')


def wrap(prefix, text, indent='  '):
    """@prefix and @text as comment lines of at most 100 columns."""
    words = text.split()
    lines, cur = [], ' * ' + prefix
    for w in words:
        if len(cur) + 1 + len(w) > 100 and cur.strip() not in ('*', '* ' + prefix.strip()):
            lines.append(cur)
            cur = ' * ' + indent + w
        else:
            cur += (' ' if not cur.endswith(' ') else '') + w
    lines.append(cur)
    return lines


def lower_first(s):
    s = s.rstrip('.')
    return s[:1].lower() + s[1:] if s[:2] != s[:2].upper() else s


# ---- from a method to C --------------------------------------------------------

class Param:
    def __init__(self, method, arg):
        name, sig = arg.get('name'), arg.get('type')
        ann = annotations(arg)
        self.xml_name = name
        doc = method.arg_docs[name]
        self.gi = ''
        self.pass_expr = name
        if sig == 's':
            self.ctype, self.name = 'const char *', name
            if ann.get(ANN + 'NullIsEmpty') == 'true':
                self.gi = '(nullable): '
                self.pass_expr = f'{name} != NULL ? {name} : ""'
                doc = doc.rstrip('.') + '; %NULL is the empty string.'
        elif sig == 'b':
            self.ctype, self.name = 'gboolean ', name
        elif sig == 'u':
            self.ctype, self.name = 'guint ', name
        elif sig == 'h':
            self.ctype, self.name = 'int ', name + '_fd'
            self.pass_expr = self.name
            doc = doc.rstrip('.') + '. The library sends a copy: the caller keeps its own.'
        elif sig == 'a{sv}' and name == 'options':
            self.ctype, self.name = 'VcmMountOptions *', name
            self.gi = '(nullable): '
            doc = 'the mount\'s options (see vcm_mount_options_new()), or %NULL for the service\'s defaults'
        else:
            fail(f'{method.name}: no C form for {name} ({sig}); give it {ANN}Wrapper = hand-written')
        self.doc = doc
        if self.pass_expr == name and self.name != name:
            self.pass_expr = self.name


class Result:
    """What finish gives: its C type, the value on an error, the decoder, an
    extra out parameter (type, name, doc) and the Returns: text."""

    def __init__(self, method):
        spec = method.ann.get(ANN + 'Returns')
        sigs = ''.join(a.get('type') for a in method.outs)
        out_doc = lower_first(doc_text(method.arg_docs[method.outs[0].get('name')], method, {}))
        self.extra = None
        self.boolean = False
        if spec is None:
            if sigs == 's':
                self.ctype, self.none, self.decode = 'char *', 'NULL', 'decode_string'
                self.returns = f'(transfer full): {out_doc}, or %NULL on error'
            elif sigs == 'as':
                self.ctype, self.none, self.decode = 'char **', 'NULL', 'decode_strv'
                self.returns = f'(transfer full) (array zero-terminated=1): {out_doc}, or %NULL on error'
            elif sigs == 'b':
                self.boolean = True
                self.ctype, self.none, self.decode = 'gboolean ', 'FALSE', 'decode_boolean'
                self.extra = ('gboolean *', 'out_result', f'(out): {out_doc}')
                self.returns = '%TRUE on success, %FALSE on error'
            else:
                fail(f'{method.name}: a reply ({sigs}) needs {ANN}Returns')
            return
        m = re.fullmatch(r'(Vcm\w+)', spec) or re.fullmatch(r'(Vcm\w+) list', spec) or \
            re.fullmatch(r'fd with (Vcm\w+)', spec)
        if m is None:
            fail(f'{method.name}: {ANN}Returns "{spec}" is none of TYPE, "TYPE list", "fd with TYPE"')
        gtype = m.group(1)
        type_stem = snake(gtype[3:])
        if spec == gtype:
            self.ctype, self.none, self.decode = f'{gtype} *', 'NULL', f'decode_{type_stem}'
            self.returns = f'(transfer full): {out_doc} (a #{gtype}), or %NULL on error'
        elif spec.endswith(' list'):
            if [a.get('type') for a in method.outs][:1] != ['t']:
                fail(f'{method.name}: a list is answered after its generation (t)')
            items = lower_first(doc_text(method.arg_docs[method.outs[1].get('name')], method, {}))
            self.ctype, self.none, self.decode = 'GPtrArray *', 'NULL', f'decode_{type_stem}_list'
            self.extra = ('guint64 *', 'out_generation',
                          '(out) (optional): the generation the answer is valid for')
            self.returns = (f'(transfer container) (element-type {gtype}): {items}, '
                            'or %NULL on error')
        else:
            self.ctype, self.none, self.decode = 'int ', '-1', f'decode_fd_with_{type_stem}'
            info_doc = lower_first(doc_text(method.arg_docs[method.outs[1].get('name')], method, {}))
            self.extra = (f'{gtype} **', 'out_info', f'(out) (optional) (transfer full): {info_doc}')
            self.returns = f'{out_doc}; or -1 on error'


def prototype(ret, name, params):
    """A declaration as the project's clang-format lays it out: on one line
    when it fits in 100 columns, else a parameter a line, aligned."""
    one = f'{ret}{name} ({", ".join(params)});'
    if len(one) <= 100:
        return one
    indent = ' ' * len(f'{ret}{name} (')
    return f'{ret}{name} (' + (',\n' + indent).join(params) + ');'


def emit_method(m, c, h):
    params = [Param(m, a) for a in m.ins]
    res = Result(m)
    names = {p.xml_name: p.name for p in params}
    summary = doc_text(m.summary, m, names)
    fn = f'vcm_client_{m.stem}'

    def param_docs(lines):
        for p in params:
            lines += wrap(f'@{p.name}: ', p.gi + doc_text(p.doc, m, names))

    def pre(lines, extra_last):
        lines.append(' * @self: a #VcmClient')
        param_docs(lines)
        lines.append(' * @flags: call flags')
        lines.append(' * @cancellable: (nullable): a #GCancellable')
        if extra_last:
            return
    since = [' *', f' * Since: {m.since}'] if m.since != '1.0' else []

    # async
    doc = ['/**', f' * {fn}:']
    pre(doc, False)
    doc += [' * @callback: (scope async): called when the call is done',
            ' * @user_data: (closure): data for @callback', ' *']
    doc += wrap('', summary, '')
    doc += [' *', ' * Asynchronous: @callback is called in the thread-default main context of the',
            f' * caller; call {fn}_finish() there.'] + since + [' */', '']
    # finish
    doc += ['/**', f' * {fn}_finish:', ' * @self: a #VcmClient',
            ' * @result: the #GAsyncResult given to the callback']
    if res.extra:
        doc += wrap(f'@{res.extra[1]}: ', res.extra[2])
    doc += [' * @error: return location for an error', ' *', f' * Finishes {fn}().', ' *']
    doc += wrap('Returns: ', res.returns) + since + [' */', '']
    # sync
    doc += ['/**', f' * {fn}_sync:']
    pre(doc, False)
    if res.extra:
        doc += wrap(f'@{res.extra[1]}: ', res.extra[2])
    doc += [' * @error: return location for an error', ' *',
            f' * The synchronous form of {fn}(): blocks the calling thread until the',
            ' * service answers.', ' *']
    doc += wrap('Returns: ', res.returns) + since + [' */']
    c.extend(doc)

    decl_params = ''.join(f', {p.ctype}{p.name}' for p in params)
    call_args = ''.join(f', {p.pass_expr}' for p in params)
    macro_params = f'({decl_params})' if params else '()'
    macro_args = f'({call_args})' if params else '()'
    ident = f'VCM_CALL_{m.stem.upper()}'
    if res.boolean:
        c.append(f'VCM_CLIENT_TRIO_BOOL ({m.stem}, {ident}, {macro_params}, {macro_args})')
    elif res.extra:
        c.append(f'VCM_CLIENT_TRIO_OUT ({m.stem}, {ident}, {res.ctype.strip()}, {res.none}, '
                 f'{res.extra[0]}, {res.extra[1]}, {macro_params}, {macro_args})')
    else:
        c.append(f'VCM_CLIENT_TRIO ({m.stem}, {ident}, {res.ctype.strip()}, {res.none}, '
                 f'{macro_params}, {macro_args})')
    c.append('')

    own = [f'{p.ctype}{p.name}' for p in params]
    extra = [f'{res.extra[0]}{res.extra[1]}'] if res.extra else []
    h.append(prototype('void ', fn, ['VcmClient *self'] + own + [
        'VcmCallFlags flags', 'GCancellable *cancellable', 'GAsyncReadyCallback callback',
        'gpointer user_data']))
    h.append(prototype(res.ctype, fn + '_finish',
                       ['VcmClient *self', 'GAsyncResult *result'] + extra + ['GError **error']))
    h.append(prototype(res.ctype, fn + '_sync', ['VcmClient *self'] + own + [
        'VcmCallFlags flags', 'GCancellable *cancellable'] + extra + ['GError **error']))
    h.append('')
    return res


def call_row(m, res):
    opts = any(a.get('name') == 'options' and a.get('type') == 'a{sv}' for a in m.ins)
    return (f'  X ({m.stem.upper()}, "{m.name}", {res.decode}'
            + (', .options = TRUE' if opts else '') + ')')


# ---- the version script ----------------------------------------------------------

def version_script(template, methods):
    text = template
    by_node = {}
    for m in methods:
        node = NODE_PREFIX + m.since
        fn = f'vcm_client_{m.stem}'
        by_node.setdefault(node, []).extend([fn, fn + '_finish', fn + '_sync'])
    nodes = re.findall(r'(?m)^(' + NODE_PREFIX + r'[0-9.]+)\s*\{', text)
    if not nodes:
        fail('the version script template has no version node')
    for node in sorted(by_node, key=lambda n: [int(x) for x in n[len(NODE_PREFIX):].split('.')]):
        syms = by_node[node]
        if node not in nodes:
            text = text.rstrip('\n') + f'\n\n/* Methods since {node[len(NODE_PREFIX):]}. */\n' \
                f'{node} {{\n  global:\n}} {nodes[-1]};\n'
            nodes.append(node)
        m = re.search(r'(?ms)^' + re.escape(node) + r'\s*\{\s*global:\n(.*?)(?=^\s*local:|^\})', text)
        if m is None:
            fail(f'the version script template has no "global:" in {node}')
        existing = re.findall(r'([A-Za-z0-9_]+);', m.group(1))
        dup = set(existing) & set(syms)
        if dup:
            fail(f'the version script template names generated symbols: {sorted(dup)}')
        body = ''.join(f'    {s};\n' for s in sorted(existing + syms))
        text = text[:m.start(1)] + body + text[m.end(1):]
    return text


HEADER_TOP = '''/* vcm-client-methods.h: generated by vcm-client-gen.py from org.vc.Mount.xml;
 * do not edit. VcmClient's method trios, one for each method of the XML. */
#pragma once

#if !defined(VCMOUNT_INSIDE) && !defined(VCMOUNT_COMPILATION)
#error "Only <vcmount.h> can be included directly."
#endif

G_BEGIN_DECLS
'''

SOURCE_TOP = '''/* vcm-client-methods.c: generated by vcm-client-gen.py from org.vc.Mount.xml;
 * do not edit. VcmClient's method trios, each one macro over its row of the
 * call table (vcm-client-call.c), documented from the XML's comments. */
#include "vcm-client-private.h"
'''

CALLS_TOP = '''/* vcm-client-calls.h: generated by vcm-client-gen.py from org.vc.Mount.xml;
 * do not edit. A row for each method of the XML: the call's id, the D-Bus
 * method, the decoder of its reply (vcm-client-call.c) and the rest of its
 * VcmCall row. */
#pragma once

#define VCM_XML_CALLS(X) \\
'''


def write(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, 'w') as f:
        f.write(text)


def main():
    if len(sys.argv) != 4:
        fail(__doc__.rsplit('Usage: ', 1)[1].strip())
    xml, template, outdir = sys.argv[1:]
    methods = read_methods(xml)
    c, h, rows = [SOURCE_TOP], [HEADER_TOP], []
    for m in methods:
        if m.hand:
            rows.append(call_row(m, Result(m)))
            continue
        rows.append(call_row(m, emit_method(m, c, h)))
    h.append('G_END_DECLS\n')
    with open(template) as f:
        tmpl = f.read()
    write(os.path.join(outdir, 'vcm-client-methods.h'), '\n'.join(h))
    write(os.path.join(outdir, 'vcm-client-methods.c'), '\n'.join(c))
    write(os.path.join(outdir, 'vcm-client-calls.h'), CALLS_TOP + ' \\\n'.join(rows) + '\n')
    write(os.path.join(outdir, 'libvcmount-1.map'), version_script(tmpl, methods))


if __name__ == '__main__':
    main()
