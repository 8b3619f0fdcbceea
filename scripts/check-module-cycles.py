#!/usr/bin/env python3
"""Fails when two modules of a crate import each other, directly or in a loop.

For every crate under crates/*/src the script builds the module tree from `mod x;` declarations
(x.rs or x/mod.rs, inline `mod x { ... }` blocks too), collects every path that names a module
of the same crate (`use crate::a::B`, `use super::b`, `crate::a::f()` in code), resolves
re-exports (`pub use a::B` in lib.rs or a mod.rs, so `crate::B` counts as a use of `a`), and
checks each level of the tree: among the child modules of one parent, an edge A -> B means code
under A names something under B. A cycle among siblings is an error. A parent using its own
children (lib.rs re-exporting, mod.rs dispatching) and a child using its parent's items are not
sibling edges, so they are allowed. Test-only code (`#[cfg(test)]` modules) is not counted.

Standard library only. Usage: python3 scripts/check-module-cycles.py [REPO_ROOT]
Exit status: 0 when no crate has a cycle, 1 otherwise (each cycle is named).
"""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict

# Crates whose cycles are being removed in parallel work. Each entry needs a reason and is removed
# as soon as that work is merged; cycles in these crates are printed but do not fail the check.
ALLOWED: dict[str, str] = {}

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments_and_strings(src: str) -> str:
    """Blank out comments, string and char literals, keeping offsets and newlines."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', src[i:]) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'r(#*)"', src[i:])
            hashes = m.group(1)
            end = src.find('"' + hashes, i + len(m.group(0)))
            j = n if end < 0 else end + 1 + len(hashes)
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == "'":
            # char literal ('a', '\n', '\u{1F600}') vs lifetime ('a)
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", src[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def block_end(text: str, open_brace: int) -> int:
    """Index just past the `}` matching the `{` at open_brace."""
    depth = 0
    for j in range(open_brace, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(text)


CFG_TEST = re.compile(r"#\[cfg\(\s*test\s*\)\]\s*")
MOD_DECL = re.compile(r"(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*([;{])")


class Module:
    def __init__(self, path: tuple[str, ...], file: str):
        self.path = path
        self.file = file
        self.children: dict[str, Module] = {}
        self.reexports: dict[str, list[str]] = {}  # name -> path segments relative to this module
        self.globs: list[list[str]] = []  # `pub use a::*` paths
        self.refs: list[list[str]] = []  # raw paths (segments) named in this module's code


def split_top(body: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        parts.append("".join(cur))
    return [p for p in parts if p]


USE_STMT = re.compile(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);")
PATH_IN_CODE = re.compile(r"(?<![A-Za-z0-9_:])((?:crate|super|self)(?:\s*::\s*" + IDENT + r")+)")


def use_entries(stmt_tree: str) -> list[tuple[list[str], str]]:
    """(segments, bound name) for each leaf of a use tree; handles `as` and `self`."""
    entries = []
    compact = re.sub(r"\s+as\s+", " as ", stmt_tree.strip())
    compact = re.sub(r"\s*::\s*", "::", compact)
    compact = re.sub(r"\s*([{},])\s*", r"\1", compact)

    def expand(prefix: list[str], s: str) -> None:
        s = s.strip()
        if not s:
            return
        if s.endswith("}") and "{" in s:
            brace = s.index("{")
            head = s[:brace].rstrip(":")
            base = prefix + [p for p in head.split("::") if p]
            for part in split_top(s[brace + 1 : -1]):
                expand(base, part)
            return
        alias = None
        if " as " in s:
            s, alias = s.split(" as ", 1)
        segs = prefix + [p for p in s.split("::") if p]
        if segs and segs[-1] == "self":
            segs = segs[:-1]
        if not segs:
            return
        entries.append((segs, alias or segs[-1]))

    expand([], compact)
    return entries


def load_module(path: tuple[str, ...], file: str, text: str, child_dir: str, modules: dict) -> Module:
    mod = Module(path, file)
    modules[path] = mod
    # Cut out test-only modules entirely.
    while True:
        m = CFG_TEST.search(text)
        if not m:
            break
        after = text[m.end() :]
        dm = re.match(r"(?:pub(?:\([^)]*\))?\s+)?mod\s+" + IDENT + r"\s*([;{])", after)
        if dm and dm.group(1) == "{":
            start = m.end() + after.index("{")
            end = block_end(text, start)
            text = text[: m.start()] + re.sub(r"[^\n]", " ", text[m.start() : end]) + text[end:]
        elif dm:
            end = m.end() + dm.end()
            text = text[: m.start()] + " " * (end - m.start()) + text[end:]
        else:
            # #[cfg(test)] on another item (a use, a fn): blank that item up to `;` or its block.
            semi = after.find(";")
            brace = after.find("{")
            if brace >= 0 and (semi < 0 or brace < semi):
                end = block_end(text, m.end() + brace)
            else:
                end = m.end() + (semi + 1 if semi >= 0 else len(after))
            text = text[: m.start()] + re.sub(r"[^\n]", " ", text[m.start() : end]) + text[end:]
    # Inline modules become child modules of their own.
    pos = 0
    while True:
        m = MOD_DECL.search(text, pos)
        if not m:
            break
        name = m.group(1)
        if m.group(2) == "{":
            start = m.end() - 1
            end = block_end(text, start)
            inner = text[start + 1 : end - 1]
            mod.children[name] = load_module(path + (name,), file, inner, os.path.join(child_dir, name), modules)
            text = text[: m.start()] + re.sub(r"[^\n]", " ", text[m.start() : end]) + text[end:]
            pos = m.start()
        else:
            cand = [os.path.join(child_dir, name + ".rs"), os.path.join(child_dir, name, "mod.rs")]
            found = next((c for c in cand if os.path.isfile(c)), None)
            if found:
                with open(found, encoding="utf-8") as f:
                    sub = strip_comments_and_strings(f.read())
                sub_dir = os.path.join(child_dir, name)
                mod.children[name] = load_module(path + (name,), found, sub, sub_dir, modules)
            pos = m.end()
    for um in USE_STMT.finditer(text):
        public = um.group(1) is not None
        for segs, bound in use_entries(um.group(2)):
            mod.refs.append(segs)
            if public and bound != "*":
                mod.reexports[bound] = segs
            elif public:
                mod.globs.append(segs[:-1])
    code = USE_STMT.sub(lambda m: " " * len(m.group(0)), text)
    for pm in PATH_IN_CODE.finditer(code):
        mod.refs.append([p.strip() for p in pm.group(1).split("::")])
    return mod


def resolve(modules: dict, here: tuple[str, ...], segs: list[str], depth: int = 0) -> tuple[str, ...] | None:
    """The module a path names (the deepest module it goes through), or None if external."""
    if depth > 16 or not segs:
        return None
    first = segs[0]
    if first == "crate":
        cur, rest = (), segs[1:]
    elif first == "super":
        cur, rest = here, segs
        while rest and rest[0] == "super":
            cur, rest = cur[:-1], rest[1:]
    elif first == "self":
        cur, rest = here, segs[1:]
    elif first in modules.get(here, Module((), "")).children:
        cur, rest = here, segs
    else:
        return None  # another crate, std, or a local item
    while rest:
        mod = modules.get(cur)
        if mod is None:
            return cur
        seg = rest[0]
        if seg in mod.children:
            cur, rest = cur + (seg,), rest[1:]
            continue
        if seg in mod.reexports:
            target = resolve(modules, cur, mod.reexports[seg] + rest[1:], depth + 1)
            return target if target is not None else cur
        if seg != "*":
            # A name not declared here may come through a glob re-export; with several globs
            # the first one that names a module of this crate is taken.
            for glob in mod.globs:
                target = resolve(modules, cur, glob, depth + 1)
                if target is not None and target != cur:
                    return target
        return cur
    return cur


def sibling_edges(modules: dict) -> dict[tuple[str, ...], dict[str, set[str]]]:
    """parent path -> {child name -> set of sibling child names it uses}."""
    graph: dict[tuple[str, ...], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path, mod in modules.items():
        for segs in mod.refs:
            target = resolve(modules, path, segs)
            if target is None or target == path:
                continue
            common = 0
            while common < min(len(path), len(target)) and path[common] == target[common]:
                common += 1
            if common == len(path) or common == len(target):
                continue  # ancestor/descendant: parent dispatching or child using its parent
            parent = path[:common]
            graph[parent][path[common]].add(target[common])
    return graph


def cycles(edges: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """Strongly connected components with more than one node (Tarjan): (members, a loop)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append((sorted(comp), loop_path(edges, sorted(comp))))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            strong(v)
    return out


def loop_path(edges: dict[str, set[str]], comp: list[str]) -> list[str]:
    """A shortest loop through the component's first node, for the message."""
    members, start = set(comp), comp[0]
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges.get(v, ())):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return comp + [comp[0]]


def check_crate(crate_dir: str) -> list[str]:
    src = os.path.join(crate_dir, "src")
    roots = [os.path.join(src, f) for f in ("lib.rs", "main.rs") if os.path.isfile(os.path.join(src, f))]
    found = []
    for root in roots:
        modules: dict = {}
        with open(root, encoding="utf-8") as f:
            load_module((), root, strip_comments_and_strings(f.read()), src, modules)
        for parent, edges in sorted(sibling_edges(modules).items()):
            for members, loop in cycles(edges):
                where = "::".join(parent) or "crate root"
                names = ["::".join(parent + (m,)) for m in loop]
                msg = f"{where}: " + " -> ".join(names)
                if len(members) > len(loop) - 1:
                    msg += f" (cycle among {', '.join(members)})"
                found.append(msg)
    return found


SELF_TEST = {
    # lib.rs declares a, b (a directory module with children x, y), c; comments, strings and
    # test modules must not count.
    "src/lib.rs": "mod a;\nmod b;\nmod c;\npub use a::Thing;\n",
    "src/a.rs": "use crate::c::Leaf;\npub struct Thing;\n// use crate::b::x;\n",
    "src/b/mod.rs": "mod x;\nmod y;\npub(crate) use x::Shared;\nfn f() { let _ = \"crate::a::Thing\"; }\n",
    "src/b/x.rs": "use super::y::Helper;\npub struct Shared;\n",
    "src/b/y.rs": "pub struct Helper;\nfn g() -> super::Shared { super::x::Shared }\n",
    "src/c.rs": "pub struct Leaf;\n#[cfg(test)]\nmod tests {\n    use crate::Thing;\n}\n",
}


def self_test() -> int:
    """Checks the checker on a synthetic crate: exactly the cycle b::x <-> b::y is found, and
    a cycle through a root re-export (c -> a via `crate::Thing`) is found once c uses it."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in SELF_TEST.items():
            path = os.path.join(tmp, "synthetic", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        crate = os.path.join(tmp, "synthetic")
        first = check_crate(crate)
        with open(os.path.join(crate, "src/c.rs"), "a", encoding="utf-8") as f:
            f.write("fn h(_: crate::Thing) {}\n")
        second = check_crate(crate)
    ok = first == ["b: b::x -> b::y -> b::x"] and sorted(second) == sorted(
        ["crate root: a -> c -> a", "b: b::x -> b::y -> b::x"]
    )
    print(f"check-module-cycles self-test: {'ok' if ok else 'FAILED'}: {first} / {second}")
    return 0 if ok else 1


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    crates_dir = os.path.join(root, "crates")
    failed = False
    for name in sorted(os.listdir(crates_dir)):
        crate_dir = os.path.join(crates_dir, name)
        if not os.path.isdir(os.path.join(crate_dir, "src")):
            continue
        loops = check_crate(crate_dir)
        for loop in loops:
            if name in ALLOWED:
                print(f"check-module-cycles: {name}: allowed for now ({ALLOWED[name]}): {loop}")
            else:
                print(f"check-module-cycles: {name}: module cycle: {loop}", file=sys.stderr)
                failed = True
    if failed:
        print("check-module-cycles: move the shared types into a leaf module both can use", file=sys.stderr)
        return 1
    print("check-module-cycles: no module cycles outside the allow-list")
    return 0


if __name__ == "__main__":
    sys.exit(main())
