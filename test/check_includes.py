#!/usr/bin/python3
"""Finds include circles among the project's own headers.

Reads the `#include "..."` lines of every .c and .h file under common/
and mod_*/, resolves each against the including file's folder, then
common/ (as the build does; a name found in neither is a system or httpd
header and is left out), and looks for cycles among the headers. Prints
each cycle and exits 1, else prints "include graph: N headers, no cycles"
and exits 0.

usage: test/check_includes.py [TOP]   (TOP defaults to this tree)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def sources(top):
    """Every .c and .h file under common/ and mod_*/, sorted."""
    dirs = [d for d in sorted(os.listdir(top))
            if d == "common" or d.startswith("mod_")]
    for d in dirs:
        path = os.path.join(top, d)
        if not os.path.isdir(path):
            continue
        for root, subdirs, files in os.walk(path):
            subdirs.sort()
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(root, f)


def resolve(top, including, name):
    """The project file a quoted include names, or None."""
    for folder in (os.path.dirname(including), os.path.join(top, "common")):
        candidate = os.path.normpath(os.path.join(folder, name))
        if os.path.isfile(candidate):
            return candidate
    return None


def include_graph(top):
    """{file: [included project files]} for every source file."""
    graph = {}
    for path in sources(top):
        edges = []
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = INCLUDE.match(line)
                if m:
                    target = resolve(top, path, m.group(1))
                    if target and target not in edges:
                        edges.append(target)
        graph[path] = edges
    return graph


def cycles(graph):
    """The elementary cycles among headers, each once (rotated so that
    its smallest member comes first), found by depth-first search from
    every header over header-to-header edges."""
    headers = sorted(p for p in graph if p.endswith(".h"))
    found = set()
    result = []

    def walk(start, node, path, on_path):
        for nxt in graph.get(node, ()):
            if not nxt.endswith(".h"):
                continue
            if nxt == start:
                cycle = tuple(path)
                i = cycle.index(min(cycle))
                key = cycle[i:] + cycle[:i]
                if key not in found:
                    found.add(key)
                    result.append(key)
            elif nxt not in on_path and nxt > start:
                # each cycle is found from its smallest header only
                on_path.add(nxt)
                path.append(nxt)
                walk(start, nxt, path, on_path)
                path.pop()
                on_path.discard(nxt)

    for h in headers:
        walk(h, h, [h], {h})
    return headers, result


def main(argv):
    top = os.path.abspath(argv[1] if len(argv) > 1 else
                          os.path.join(os.path.dirname(__file__), ".."))
    graph = include_graph(top)
    headers, found = cycles(graph)
    for cycle in found:
        names = [os.path.relpath(p, top) for p in cycle]
        print("include cycle: " + " -> ".join(names + [names[0]]))
    if found:
        print("include graph: %d headers, %d cycle%s"
              % (len(headers), len(found), "" if len(found) == 1 else "s"))
        return 1
    print("include graph: %d headers, no cycles" % len(headers))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
