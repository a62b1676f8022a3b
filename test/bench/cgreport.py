#!/usr/bin/python3
"""Owns the numbers of `test/bench/run.sh --callgrind`: compares two
callgrind profiles of httpd (collected only inside ap_process_request, so
one call per request), path a (mod_proxy) against path b (mod_apigw).

    cgreport.py --a A.out --a-requests N --b B.out --b-requests N --out JSON

Prints instructions (Ir) per request for each path and their ratio, the
mod_apigw functions on b's path with their inclusive cost per request, and
the functions whose own cost differs most between the two paths. Instruction
counts do not move with the machine's load, unlike req/s; they leave out the
kernel (syscalls), which the run checks separately with strace when asked."""
import argparse
import json
import os
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s*$")
OBJECT = re.compile(r"\s*\[([^\]]*)\]$")


def total_ir(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit("cgreport: no totals in %s" % path)


def functions(path, inclusive):
    """{function: (Ir, where)} by bare function name. callgrind_annotate
    lists a function once per source file its code came from (inlined
    headers, code without debug info), so exclusive costs are summed over
    those entries and inclusive ones take the largest; `where` joins the
    objects and source files seen, to tell mod_apigw's functions apart."""
    out = subprocess.run(
        ["callgrind_annotate", "--threshold=100",
         "--inclusive=" + ("yes" if inclusive else "no"), path],
        capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name, where = m.group(2), []
        mo = OBJECT.search(name)
        if mo:
            where.append(os.path.basename(mo.group(1)))
            name = name[:mo.start()]
        if ":" in name:
            source, name = name.rsplit(":", 1)
            where.append(os.path.basename(source))
        ir = int(m.group(1).replace(",", ""))
        old_ir, old_where = result.get(name, (0, ""))
        ir = max(ir, old_ir) if inclusive else ir + old_ir
        result[name] = (ir, " ".join(x for x in (old_where, *where) if x and x != "???"))
    return result


def is_apigw(where):
    return "mod_apigw.so" in where or re.search(r"\bapigw_\w+\.c\b", where)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--a-requests", type=int, required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--b-requests", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()

    na, nb = args.a_requests, args.b_requests
    ir_a, ir_b = total_ir(args.a) / na, total_ir(args.b) / nb
    incl_b = functions(args.b, True)
    excl_a, excl_b = functions(args.a, False), functions(args.b, False)

    apigw = sorted(((v / nb, name) for name, (v, where) in incl_b.items()
                    if is_apigw(where) and v / nb >= 1), reverse=True)
    diffs = []
    for name in set(excl_a) | set(excl_b):
        va = excl_a.get(name, (0, ""))[0] / na
        vb = excl_b.get(name, (0, ""))[0] / nb
        where = (excl_b.get(name) or excl_a.get(name))[1].split()
        obj = next((w for w in where if w.endswith(".so") or ".so." in w
                    or w == "apache2"), where[0] if where else "")
        if abs(vb - va) >= 1:
            diffs.append((vb - va, name, obj, va, vb))
    diffs.sort(key=lambda x: -abs(x[0]))

    print()
    print("callgrind, instructions per request inside ap_process_request "
          "(httpd -X, one client connection, Host header only)")
    print("  a mod_proxy  %8.0f Ir  (%d requests)" % (ir_a, na))
    print("  b apigw      %8.0f Ir  (%d requests)" % (ir_b, nb))
    print()
    print("mod_apigw functions on path b, inclusive Ir per request "
          "(apigw_handler includes the mod_proxy handler it runs):")
    for v, name in apigw[:args.top]:
        print("  %7.0f  %s" % (v, name))
    print()
    print("largest differences in a function's own cost, Ir per request "
          "(b - a):")
    for d, name, obj, va, vb in diffs[:args.top]:
        print("  %+7.0f  %-45s %-18s (a %.0f, b %.0f)" % (d, name[:45], obj[:18], va, vb))
    print()
    print("instructions apigw/mod_proxy: %.3f (%+.0f Ir per request, %+.1f%%)"
          % (ir_b / ir_a, ir_b - ir_a, (ir_b / ir_a - 1) * 100))

    result = {
        "ir_per_request": {"a": ir_a, "b": ir_b},
        "requests": {"a": na, "b": nb},
        "ratio_b_over_a": ir_b / ir_a,
        "apigw_inclusive_per_request": [{"function": n, "ir": v} for v, n in apigw],
        "own_cost_differences": [{"function": n, "object": o, "a": va, "b": vb,
                                  "diff": d} for d, n, o, va, vb in diffs[:50]],
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2, sort_keys=True)
        f.write("\n")
    print("results: %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
