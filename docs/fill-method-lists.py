#!/usr/bin/python3
# fill-method-lists: fills a manual page's lists of methods from the
# interface's XML, the one list of them. Each "@METHODS action@" in the page
# becomes the methods whose org.vc.Mount.Action annotation names that
# action, comma-separated, in the XML's order; a marker naming an action no
# method has is an error, and so is a method whose action no marker names.
#
# Usage: fill-method-lists.py INTERFACE.xml PAGE.scd > PAGE.scd (filled)

import re
import sys
import xml.etree.ElementTree as ET

ACTION = 'org.vc.Mount.Action'
MARKER = re.compile(r'@METHODS ([a-z.-]+)@')


def methods_by_action(xml_path):
    """{action: [method, ...]} in the XML's order."""
    by_action = {}
    for iface in ET.parse(xml_path).getroot().iter('interface'):
        if iface.get('name') != 'org.vc.Mount':
            continue
        for m in iface.iter('method'):
            for a in m.findall('annotation'):
                if a.get('name') == ACTION:
                    by_action.setdefault(a.get('value'), []).append(m.get('name'))
    return by_action


def fill(by_action, text):
    """@text with its markers filled; ValueError on an action without
    methods or methods whose action has no marker."""
    used = set()

    def one(match):
        action = match.group(1)
        if action not in by_action:
            raise ValueError(f'{match.group(0)}: no method has the action {action}')
        used.add(action)
        return ', '.join(by_action[action])

    out = MARKER.sub(one, text)
    missing = sorted(set(by_action) - used)
    if missing:
        raise ValueError('no @METHODS ...@ list for the action(s) ' + ', '.join(missing))
    return out


def main():
    xml_path, page = sys.argv[1:3]
    with open(page) as f:
        text = f.read()
    try:
        sys.stdout.write(fill(methods_by_action(xml_path), text))
    except ValueError as e:
        sys.exit(f'{page}: {e}')


if __name__ == '__main__':
    main()
