#!/usr/bin/env python3
"""Checks that libshifan/ keeps its layers (docs/architecture.md).

    tools/check-layers.py [--root DIR] [--objects DIR] [--rules RULES]

Rules (all by default; --rules takes a comma-separated subset):

  includes   a file in libshifan/<layer>/ includes only headers of the layers
             its layer may use (LAYERS below), and the generated protobuf
             header only where PROTO allows it;
  calls      LMDB (mdb_*, <lmdb.h>) only in storage/, ZeroMQ and CZMQ
             (zmq_*, zsock_*, ..., <zmq.h>, <czmq.h>) only in transport/;
             libmicrohttpd (MHD_*, <microhttpd.h>) only in transport/http.c,
             libxlsxwriter only in domain/xlsx_write.c and domain/render_xlsx.c,
             libzip and libxml2 only in domain/xlsx_read.c (OWNED_FILES);
  functions  no function body over MAX_LINES lines unless the comment just
             above it says why, with a line containing "long:";
  cycles     (needs --objects: the build's object files) no two modules
             (object files) depend on each other through their symbols,
             directly or around a longer cycle, and every symbol a module
             uses comes from its own layer or one it may use.

Prints one line per violation and exits 1 if there is any, 0 otherwise.
"""
import argparse
import os
import re
import subprocess
import sys

# What each layer may include, itself included. Dependencies run one way:
# app -> domain, transport -> storage -> base.
LAYERS = {
    "base": {"base"},
    "storage": {"base", "storage"},
    "transport": {"base", "storage", "transport"},
    "domain": {"base", "domain"},
    "app": {"base", "storage", "transport", "domain", "app"},
}
PROTO = {"transport", "domain", "app"}  # may include shifan.pb-c.h
OWNED_CALLS = {
    "storage": re.compile(r"\bmdb_\w+\s*\(|#include\s*<lmdb\.h>"),
    "transport": re.compile(
        r"\b(zmq|zsock|zmsg|zframe|zcert|zsys|zpoller|zloop|zactor|zauth|zstr)_\w+\s*\(|"
        r"#include\s*<(zmq|czmq)\.h>"),
}
# Libraries that stay in named files of one layer: the console's HTTP
# server (http.h), the workbooks (xlsx.h).
OWNED_FILES = {
    ("libmicrohttpd", ("transport/http.c",)): re.compile(
        r"\bMHD_\w+\s*\(|#include\s*<microhttpd\.h>"),
    ("libxlsxwriter", ("domain/xlsx_write.c", "domain/render_xlsx.c")): re.compile(
        r"\b(lxw|workbook|worksheet|format_set|chartsheet)_\w+\s*\(|#include\s*<xlsxwriter\.h>"),
    ("libzip and libxml2", ("domain/xlsx_read.c",)): re.compile(
        r"\b(zip|xml)\w*\s*\(|#include\s*<(zip\.h|libxml/)"),
}
MAX_LINES = 60

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def strip_comments(text):
    """Blanks comments and string literals, keeping line numbers."""
    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', blank, text, flags=re.S)


def sources(root):
    lib = os.path.join(root, "libshifan")
    for layer in LAYERS:
        folder = os.path.join(lib, layer)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith((".c", ".h")):
                yield layer, os.path.join(folder, name)


def check_includes(root, problems):
    for layer, path in sources(root):
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                if target == "shifan.pb-c.h":
                    if layer not in PROTO:
                        problems.append(f"{rel}:{number}: {layer}/ may not include the "
                                        f"protobuf messages ({target})")
                    continue
                if target == "embedded_data.h":
                    continue
                first = target.split("/")[0]
                if "/" not in target or first not in LAYERS:
                    problems.append(f"{rel}:{number}: include \"{target}\" names no layer "
                                    f"(write \"<layer>/<file>.h\")")
                elif first not in LAYERS[layer]:
                    problems.append(f"{rel}:{number}: {layer}/ may not include {target} "
                                    f"(a higher or sibling layer: {layer} may use "
                                    f"{', '.join(sorted(LAYERS[layer]))})")


def check_calls(root, problems):
    for layer, path in sources(root):
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        code = strip_comments(text)
        for owner, pattern in OWNED_CALLS.items():
            if owner == layer:
                continue
            for m in pattern.finditer(code):
                number = text.count("\n", 0, m.start()) + 1
                problems.append(f"{rel}:{number}: {m.group(0).strip()} outside {owner}/")
        here = f"{layer}/{os.path.basename(path)}"
        for (library, owners), pattern in OWNED_FILES.items():
            if here in owners:
                continue
            for m in pattern.finditer(code):
                number = text.count("\n", 0, m.start()) + 1
                problems.append(f"{rel}:{number}: {m.group(0).strip()} ({library}) outside "
                                f"{' and '.join(owners)}")


FUNC_START = re.compile(r"^[A-Za-z_][^;]*\(")


def check_functions(root, problems):
    for layer, path in sources(root):
        if not path.endswith(".c"):
            continue
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        signature = None
        for i, line in enumerate(lines):
            if FUNC_START.match(line) and not line.rstrip().endswith(";"):
                signature = i
            if line.startswith("{") and signature is not None:
                start = i
                end = start + 1
                while end < len(lines) and not lines[end].startswith("}"):
                    end += 1
                length = end - start - 1
                if length > MAX_LINES:
                    above = []
                    j = signature - 1
                    while j >= 0 and (lines[j].startswith(("/*", " *", "//")) or
                                      lines[j].rstrip().endswith("*/")):
                        above.append(lines[j])
                        j -= 1
                    if not any("long:" in a for a in above):
                        name = re.sub(r"\(.*", "", lines[signature]).split()[-1].lstrip("*")
                        problems.append(f"{rel}:{signature + 1}: {name} is {length} lines "
                                        f"(over {MAX_LINES}, and no \"long:\" reason above it)")
                signature = None


def object_symbols(objects):
    """{module: (layer, defined set, undefined set)} from nm over the objects."""
    modules = {}
    library = os.path.join(objects, "CMakeFiles", "shifan.dir", "libshifan")
    for dirpath, _, names in os.walk(library if os.path.isdir(library) else objects):
        for name in names:
            if not name.endswith(".c.o"):
                continue
            parts = dirpath.replace(os.sep, "/").split("/")
            layer = next((p for p in reversed(parts) if p in LAYERS), None)
            if layer is None:
                continue
            module = f"{layer}/{name[:-4]}"
            out = subprocess.run(["nm", "-g", os.path.join(dirpath, name)], check=True,
                                 capture_output=True, text=True).stdout
            defined, undefined = set(), set()
            for row in out.splitlines():
                fields = row.split()
                if len(fields) == 2 and fields[0] == "U":
                    undefined.add(fields[1])
                elif len(fields) == 3 and fields[1] in "TDBRCVWG":
                    defined.add(fields[2])
            modules[module] = (layer, defined, undefined)
    return modules


def check_cycles(objects, problems):
    modules = object_symbols(objects)
    if not modules:
        problems.append(f"{objects}: no library object files found (build first)")
        return
    owner = {}
    for module, (_, defined, _) in modules.items():
        for symbol in defined:
            owner[symbol] = module
    edges = {m: set() for m in modules}
    for module, (layer, _, undefined) in modules.items():
        for symbol in undefined:
            target = owner.get(symbol)
            if target is None or target == module:
                continue
            edges[module].add(target)
            target_layer = modules[target][0]
            if target_layer not in LAYERS[layer]:
                problems.append(f"{module} uses {symbol} of {target} "
                                f"({layer}/ may not use {target_layer}/)")
    # Tarjan's strongly connected components: any with two or more modules is a cycle.
    index, low, stack, on_stack, counter = {}, {}, [], set(), [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                problems.append("modules depend on each other: " + " <-> ".join(sorted(component)))

    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            visit(v)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    parser.add_argument("--objects", help="the build directory (for the cycles rule)")
    parser.add_argument("--rules", default="includes,calls,functions,cycles")
    args = parser.parse_args()
    rules = set(args.rules.split(","))
    problems = []
    if "includes" in rules:
        check_includes(args.root, problems)
    if "calls" in rules:
        check_calls(args.root, problems)
    if "functions" in rules:
        check_functions(args.root, problems)
    if "cycles" in rules and args.objects:
        check_cycles(args.objects, problems)
    for problem in problems:
        print(problem)
    if problems:
        sys.stdout.flush()
        print(f"check-layers: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check-layers: {', '.join(sorted(rules))}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
