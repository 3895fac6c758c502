#!/bin/sh
# circles.sh - the include and call circles among the files of src/labcd.
# A file is its stem (ct.c and ct.h are "ct"). Edges: x -> y when x.c or
# x.h has #include "y.h", and when x.o uses a symbol that y.o defines (nm
# on the objects of the last plain build: run `make` first). Prints every
# strongly connected group of two or more files with one circle through
# each of its files, and exits 1 if there is any.
#
# Left out, by design: the command table (cmd.c's references to every
# cmd_*_entry: the commands register there and call cmd.c back) and
# labcd.h, which every file includes and which is not labcd.c's interface
# (labcd.c is main(); the header holds the daemon's shared types).
#
#	tests/tools/circles.sh [OBJDIR]	(default build/obj/src/labcd)
set -eu
# The checkout we are in (so that another one's can be looked at too).
cd "$(git rev-parse --show-toplevel 2>/dev/null || echo "$(dirname "$0")/../..")"
obj=${1:-build/obj/src/labcd}
ls "$obj"/*.o >/dev/null 2>&1 || { echo "circles.sh: no $obj/*.o (make)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in src/labcd/*.c src/labcd/*.h; do
	s=$(basename "$f"); s=${s%.*}
	sed -n 's/^#[ \t]*include[ \t]*"\([^"]*\)\.h".*/\1/p' "$f" |
	    while read -r t; do
		if [ -e "src/labcd/$t.h" ] && [ "$t" != "$s" ] &&
		    [ "$t" != labcd ]; then
			echo "$s $t include"
		fi
	    done
done >"$tmp/edges"
for o in "$obj"/*.o; do
	s=$(basename "$o" .o)
	nm "$o" | awk -v s="$s" '$2 ~ /^[TDBR]$/ { print "D", $3, s }
	    $1 == "U" { print "U", $2, s }'
done >"$tmp/syms"
awk '$1 == "D" { def[$2] = $3 } $1 == "U" { use[NR] = $2; by[NR] = $3 }
    END { for (i in use) if ((use[i] in def) && def[use[i]] != by[i] &&
	!(by[i] == "cmd" && use[i] ~ /^cmd_.*_entry$/))
	print by[i], def[use[i]], "call:" use[i] }' "$tmp/syms" >>"$tmp/edges"
python3 - "$tmp/edges" <<'PY'
import sys
from collections import defaultdict, deque
g, why = defaultdict(set), defaultdict(set)
for line in open(sys.argv[1]):
    a, b, w = line.split()
    g[a].add(b)
    why[a, b].add(w)
nodes = sorted(set(g) | {b for s in g.values() for b in s})
idx, low, on, st, sccs, n = {}, {}, set(), [], [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    idx[v] = low[v] = n[0]; n[0] += 1; st.append(v); on.add(v)
    for w in sorted(g[v]):
        if w not in idx:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        c = []
        while True:
            w = st.pop(); on.discard(w); c.append(w)
            if w == v: break
        if len(c) > 1: sccs.append(sorted(c))
for v in nodes:
    if v not in idx: visit(v)
def path(a, b, inside):
    prev, q = {a: None}, deque([a])
    while q:
        v = q.popleft()
        for w in sorted(g[v]):
            if w in inside and w not in prev:
                prev[w] = v; q.append(w)
    p, v = [], b
    while v is not None: p.append(v); v = prev[v]
    return p[::-1]
def label(a, b):
    w = sorted(why[a, b])
    calls = [x[5:] for x in w if x.startswith("call:")]
    s = []
    if "include" in w: s.append("#include")
    if calls: s.append("calls " + ",".join(calls[:3]) + ("..." if len(calls) > 3 else ""))
    return "; ".join(s)
print("%d circle group(s) among %d files of src/labcd" % (len(sccs), len(nodes)))
for c in sccs:
    inside = set(c)
    print("\ngroup: " + " ".join(c))
    seen = set()
    for v in c:
        # one shortest circle through v: v -> w -> ... -> v
        best = None
        for w in sorted(g[v] & inside):
            p = path(w, v, inside)
            if best is None or len(p) < len(best): best = p
        circle = [v] + best
        key = frozenset(zip(circle, circle[1:]))
        if key in seen: continue
        seen.add(key)
        print("  " + " -> ".join(circle))
        for a, b in zip(circle, circle[1:]):
            print("      %s -> %s: %s" % (a, b, label(a, b)))
sys.exit(1 if sccs else 0)
PY
