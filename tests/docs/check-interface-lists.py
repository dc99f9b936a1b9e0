#!/usr/bin/python3
"""check-interface-lists: the lists of methods that people read, held against
the one list, introspection/org.vc.Mount.xml. Each method and the polkit
action its annotation org.vc.Mount.Action names must appear, on one row, in
the README's table "The interface at a glance" and under that action in
vcmountd(8)'s AUTHORIZATION section (which the build fills from the XML:
this checks the page's markers, one per action), and neither may name a
method the XML does not have. Prints each difference; exit 1 on any.

Usage: check-interface-lists.py SOURCE_ROOT
"""
import importlib.util
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ACTION = "org.vc.Mount.Action"


def xml_methods(root):
    tree = ET.parse(root / "introspection" / "org.vc.Mount.xml")
    methods = {}
    for iface in tree.getroot().iter("interface"):
        if iface.get("name") != "org.vc.Mount":
            continue
        for m in iface.iter("method"):
            action = None
            for a in m.findall("annotation"):
                if a.get("name") == ACTION:
                    action = a.get("value")
            methods[m.get("name")] = action
    return methods


def readme_rows(root):
    """{method: action} from the README's interface table."""
    text = (root / "README.md").read_text()
    section = text.split("## The interface at a glance", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        actions = re.findall(r"`(org\.vc\.mount\.[a-z-]+)`", cells[1]) if len(cells) > 1 else []
        for name in re.findall(r"`([A-Z][A-Za-z]+)\(", cells[0]):
            rows[name] = actions[0] if actions else None
    return rows


def manpage_lists(root):
    """{method: action} from vcmountd(8)'s AUTHORIZATION section as the build
    fills it from the XML (docs/fill-method-lists.py): each *ACTION* item
    lists its methods, comma-separated, before a full stop."""
    spec = importlib.util.spec_from_file_location("fill", root / "docs" / "fill-method-lists.py")
    fill = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fill)
    xml = root / "introspection" / "org.vc.Mount.xml"
    text = fill.fill(fill.methods_by_action(xml), (root / "docs" / "vcmountd.8.scd").read_text())
    section = text.split("# AUTHORIZATION", 1)[1].split("\n# ", 1)[0]
    found = {}
    for action, body in re.findall(r"^\*(org\.vc\.mount\.[a-z-]+)\*\n\t([^.]*)\.", section, re.M):
        for name in re.findall(r"\b[A-Z][A-Za-z]+\b", body):
            found[name] = action
    return found


def compare(where, listed, methods):
    errors = []
    for name, action in sorted(methods.items()):
        if name not in listed:
            errors.append(f"{where}: {name} (action {action}) is missing")
        elif listed[name] != action:
            errors.append(f"{where}: {name} is listed under {listed[name]}, the XML says {action}")
    for name in sorted(set(listed) - set(methods)):
        errors.append(f"{where}: {name} is not a method of the interface")
    return errors


def main():
    root = Path(sys.argv[1])
    methods = xml_methods(root)
    errors = [f"XML: {n} has no {ACTION} annotation" for n, a in sorted(methods.items()) if a is None]
    errors += compare("README.md interface table", readme_rows(root), methods)
    try:
        errors += compare("vcmountd(8) AUTHORIZATION", manpage_lists(root), methods)
    except ValueError as e:
        errors.append(f"vcmountd(8) AUTHORIZATION: {e}")
    for e in errors:
        print(e)
    print(f"{len(methods)} methods, {len(errors)} differences")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
