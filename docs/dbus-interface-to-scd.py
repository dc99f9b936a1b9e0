#!/usr/bin/python3
# dbus-interface-to-scd: writes the manual page of a D-Bus interface, in
# scdoc(5) syntax, from its introspection XML and the gtk-doc style comments
# in it (the ones gdbus-codegen reads: "Name: text", "@arg: text", then the
# description). Each method, property and signal gets its signature and its
# text; <literal>, #references, @args and %constants become bold and
# underlined words.
#
# Usage: dbus-interface-to-scd.py INTERFACE.xml SECTION > PAGE.SECTION.scd

import re
import sys
import textwrap
import xml.etree.ElementTree as ET

BUS_NAME_NOTE = ('The object *{path}* on the system bus, owned by *{name}*. '
                 '*busctl introspect {name} {path}* shows it on a running system.')


def escape(text):
    """Escapes what scdoc would read as formatting."""
    return text.replace('\\', '\\\\').replace('*', '\\*').replace('_', '\\_')


def inline(text):
    """gtk-doc markup in @text to scdoc (the text escaped first)."""
    out = []
    pos = 0
    pattern = re.compile(r'<literal>(.*?)</literal>|#([A-Za-z0-9_.]+(?:(?::|::)[A-Za-z0-9_]+)?(?:\(\))?)'
                         r'|@([A-Za-z_][A-Za-z0-9_]*)|%([A-Za-z_][A-Za-z0-9_]*)', re.S)
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append('*%s*' % escape(re.sub(r'@(?=[A-Za-z_])', '', m.group(1))))
        elif m.group(2) is not None:
            # #org.vc.Mount.ListRootfs(), #org.vc.Mount:SharedDir,
            # #org.vc.Mount::RootfsMounted: the member's name is enough here.
            ref = re.split(r'::|:|\.(?=[A-Z][A-Za-z0-9]*(?:\(\))?$)', m.group(2))[-1]
            out.append('*%s*' % escape(ref))
        elif m.group(3) is not None:
            out.append('_%s_' % escape(m.group(3)))
        else:
            out.append('*%s*' % escape(m.group(4).lower()))
        pos = m.end()
    out.append(escape(text[pos:]))
    return ''.join(out)


def parse_comment(comment):
    """(name, {arg: text}, [paragraphs]) of a gtk-doc style comment."""
    lines = textwrap.dedent(comment.strip('\n')).strip().splitlines()
    if not lines:
        return None, {}, []
    m = re.match(r'\s*([A-Za-z0-9_.]+):\s*(.*)$', lines[0])
    name, rest = (m.group(1), m.group(2)) if m else (None, lines[0])
    body = ([rest] if rest else []) + lines[1:]
    args, paragraphs, current, arg = {}, [], [], None
    for line in body:
        stripped = line.strip()
        am = re.match(r'@([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$', stripped)
        if am and not paragraphs and not current:
            arg = am.group(1)
            args[arg] = am.group(2)
            continue
        if arg is not None and stripped and not paragraphs and not current and line[:1].isspace():
            args[arg] += ' ' + stripped
            continue
        arg = None
        if not stripped:
            if current:
                paragraphs.append(' '.join(current))
                current = []
            continue
        current.append(stripped)
    if current:
        paragraphs.append(' '.join(current))
    return name, args, paragraphs


def with_comments(path):
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    return ET.parse(path, parser).getroot()


def documented(parent, tags):
    """(element, comment text) of each child of @parent whose tag is in
    @tags, with the comment just before it (or '')."""
    pending = ''
    for child in parent:
        if child.tag is ET.Comment:
            pending = child.text or ''
            continue
        if child.tag in tags:
            yield child, pending
        pending = ''


def signature(element):
    args = []
    for a in element.findall('arg'):
        d = a.get('direction', 'out' if element.tag == 'signal' else 'in')
        prefix = '' if element.tag == 'signal' else d + ' '
        args.append('%s%s %s' % (prefix, a.get('type'), a.get('name')))
    return '%s(%s)' % (element.get('name'), ', '.join(args))


def main():
    xml_path, section = sys.argv[1], sys.argv[2]
    root = with_comments(xml_path)
    path = root.get('name', '/')
    out = []
    for iface, icomment in documented(root, ('interface',)):
        name = iface.get('name')
        _n, _a, paragraphs = parse_comment(icomment)
        short = ''
        m = re.search(r'@short_description:\s*(.*)', icomment)
        if m:
            short = m.group(1).strip()
            paragraphs = [p for p in paragraphs if not p.startswith('@short_description')]
        out.append('%s(%s)\n' % (name, section))
        out.append('# NAME\n\n%s - %s\n' % (escape(name), inline(short or 'D-Bus interface')))
        out.append('# SYNOPSIS\n\n' + BUS_NAME_NOTE.format(path=escape(path), name=escape(name)) + '\n')
        out.append('# DESCRIPTION\n')
        out.extend(inline(p) + '\n' for p in paragraphs)
        for tag, title in (('method', 'METHODS'), ('property', 'PROPERTIES'),
                           ('signal', 'SIGNALS')):
            members = list(documented(iface, (tag,)))
            if not members:
                continue
            out.append('# %s\n' % title)
            for member, comment in members:
                _n, args, paragraphs = parse_comment(comment)
                if tag == 'property':
                    head = '%s %s (%s)' % (member.get('type'), member.get('name'),
                                           member.get('access'))
                else:
                    head = signature(member)
                out.append('*%s*\n' % escape(head))
                for a in member.findall('arg'):
                    if a.get('name') in args:
                        out.append('\t_%s_: %s\n' % (escape(a.get('name')), inline(args[a.get('name')])))
                for p in paragraphs:
                    out.append('\t' + inline(p) + '\n')
    out.append('# SEE ALSO\n\n*vcmountd*(8), *vcmountctl*(1), *busctl*(1), *gdbus*(1), *polkit*(8)\n')
    sys.stdout.write('\n'.join(out))


if __name__ == '__main__':
    main()
