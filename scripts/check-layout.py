#!/usr/bin/env python3
"""The layout rules of src/ (README "How it is built"), checked by the test command:

1. No import cycle among files. The file-level import graph is built from every `use` tree and
   every inline `crate::`/`super::`/`self::` path, each resolved to the file that defines the
   longest matching module prefix. `mod x;` declarations are not imports, so a parent `mod.rs`
   that uses its child while the child uses the parent is a cycle too. Unit-test modules
   (`#[cfg(test)] mod ... { }`) are left out: a test of one concern may build a whole service,
   and that makes it a user of the module, not a dependency of it.
2. No source file over MAX_LINES lines, so each can be read in one sitting.

Usage: scripts/check-layout.py [SRC_DIR] [-v]   (-v prints every edge). Exit 1 on a violation."""
import os, re, sys

args = [a for a in sys.argv[1:] if not a.startswith('-')]
src = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src')
MAX_LINES = 600
files = {}  # module path tuple -> file
for root, _, names in os.walk(src):
    for n in names:
        if not n.endswith('.rs'):
            continue
        full = os.path.join(root, n)
        rel = os.path.relpath(full, src)[:-3].split(os.sep)
        if rel in (['lib'], ['main']):
            mod = ()
        elif rel[-1] == 'mod':
            mod = tuple(rel[:-1])
        else:
            mod = tuple(rel)
        if rel == ['main']:
            continue  # the binary: a separate crate using the library by name
        files[mod] = full

def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)   # string literals
    text = re.sub(r"'(?:\\.|[^'\\])'", "' '", text)   # char literals ('{' would count)
    text = re.sub(r'//[^\n]*', '', text)
    return strip_test_modules(text)

def strip_test_modules(text):
    """Drop every `#[cfg(test)] mod name { ... }` (braces matched; strings are already empty)."""
    out, pos = [], 0
    for m in re.finditer(r'#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{', text):
        if m.start() < pos:
            continue
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {'{': 1, '}': -1}.get(text[i], 0)
            i += 1
        out.append(text[pos:m.start()])
        pos = i
    out.append(text[pos:])
    return ''.join(out)

def expand(tree):
    """`a::{b, c::{d, self}}` -> ['a::b', 'a::c::d', 'a::c']"""
    tree = tree.strip()
    depth = 0
    for i, ch in enumerate(tree):
        if ch == '{':
            if depth == 0:
                prefix = tree[:i].rstrip(':').strip()
                inner = tree[i + 1:tree.rindex('}')]
                parts, d, cur = [], 0, ''
                for c in inner:
                    if c == ',' and d == 0:
                        parts.append(cur); cur = ''
                        continue
                    d += c == '{'; d -= c == '}'
                    cur += c
                parts.append(cur)
                out = []
                for p in parts:
                    p = p.strip()
                    if not p:
                        continue
                    for e in expand(p):
                        out.append(prefix if e == 'self' else (prefix + '::' + e if prefix else e))
                return out
            depth += 1
    return [re.sub(r'\s+as\s+\w+$', '', tree)]

def expand_keep_as(tree):
    return [re.sub(r'\s+as\s+', ' as ', p) for p in expand(tree.replace(' as ', ' as '))]

def resolve(mod, path, in_inline, alias=None):
    segs = [s for s in path.split('::') if s]
    if not segs:
        return None
    base = list(mod)
    if segs[0] == 'crate':
        base, segs = [], segs[1:]
    elif segs[0] in ('super', 'self'):
        # `super` inside an inline `mod tests {}` is the file itself.
        if in_inline and segs[0] == 'super':
            segs = segs[1:]
        while segs and segs[0] in ('super', 'self'):
            if segs[0] == 'super':
                base = base[:-1]
            segs = segs[1:]
    elif alias is not None and segs[0] in alias:
        base, segs = list(alias[segs[0]]), segs[1:]
    else:
        return None  # external crate or std
    full = base + segs
    for k in range(len(full), -1, -1):
        if tuple(full[:k]) in files:
            return tuple(full[:k])
    return None

edges = {m: set() for m in files}
for mod, path in files.items():
    text = strip_comments(open(path).read())
    # Offsets of inline modules (`mod tests {`): paths after them use `super` for the file.
    inline = [m.start() for m in re.finditer(r'\bmod\s+\w+\s*\{', text)]
    first_inline = min(inline) if inline else len(text) + 1
    found = []
    for m in re.finditer(r'\buse\s+([^;]+);', text):
        for p in expand(m.group(1)):
            found.append((m.start(), p))
    for m in re.finditer(r'(?<![\w:$])((?:crate|super|self)(?:::\w+)+)', text):
        found.append((m.start(), m.group(1)))
    # Names bound to modules: child modules (`mod x;`) and `use` of a module (`use crate::spec;`).
    alias = {m[-1]: m for m in files if len(m) == len(mod) + 1 and m[:len(mod)] == mod}
    for m in re.finditer(r'\buse\s+([^;]+);', text):
        for raw in expand_keep_as(m.group(1)):
            p, _, as_name = raw.partition(' as ')
            t = resolve(mod, p, m.start() > first_inline, alias)
            full = p.split('::')
            if t is not None and t[-1:] == (full[-1],) or (t is not None and full[-1] == 'self'):
                alias[(as_name or full[-1]).strip()] = t
    for m in re.finditer(r'(?<![\w:$])([A-Za-z_]\w*(?:::\w+)+)', text):
        found.append((m.start(), m.group(1)))
    for pos, p in found:
        target = resolve(mod, p, pos > first_inline, alias)
        if target is not None and target != mod:
            edges[mod].add(target)

name = lambda m: os.path.relpath(files[m], src)
if '-v' in sys.argv:
    for m in sorted(edges, key=name):
        print(f"{name(m)} -> {', '.join(sorted(name(t) for t in edges[m])) or '-'}")
# Tarjan's strongly connected components.
index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1:
            sccs.append(comp)
sys.setrecursionlimit(10000)
for v in edges:
    if v not in index:
        strong(v)
print(f"check-layout: {len(files)} files, {sum(len(e) for e in edges.values())} import edges")
bad = False
for c in sccs:
    print("check-layout: import cycle among:", ', '.join(sorted(name(m) for m in c)))
    bad = True
for m in sorted(files, key=name):
    with open(files[m]) as f:
        lines = sum(1 for _ in f)
    if lines > MAX_LINES:
        print(f"check-layout: {name(m)} has {lines} lines (at most {MAX_LINES}): split it by concern")
        bad = True
if bad:
    sys.exit(1)
print("check-layout: no import cycle, no file over", MAX_LINES, "lines")
