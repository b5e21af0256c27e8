#!/usr/bin/env python3
"""dashboard-queries: the PromQL of a Grafana dashboard, for tests.

usage: dashboard-queries.py DASHBOARD.json rules|names

Finds every query in the dashboard: each "expr" anywhere in it (panel
targets) and each query variable's query (label_values(SELECTOR, label)
counts as SELECTOR). Grafana's variables are replaced by values Prometheus
accepts ($__rate_interval and friends by 5m, any other $var by .*).

  rules  prints a Prometheus rule file with one recording rule per query,
         for `promtool check rules` to parse every query.
  names  prints each metric name a query selects, one per line as
         "NAME<TAB>QUERY"; exits 1 if a query selects none (this reader
         did not understand it) or uses {__name__=...}.

It reads PromQL only as far as naming metrics needs: strings, label
matchers, ranges, grouping clauses, numbers and keywords are dropped, and
an identifier followed by "(" is a function. Not a PromQL parser.
"""
import json
import re
import sys

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "inf", "nan"}


def queries(doc):
    found = []

    def walk(v, in_var=False):
        if isinstance(v, dict):
            if isinstance(v.get("expr"), str):
                found.append(v["expr"])
            if v.get("type") == "query" and "query" in v:
                q = v["query"]
                found.append(q.get("query", "") if isinstance(q, dict)
                             else q)
            for k, x in v.items():
                if k != "query" or v.get("type") != "query":
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(doc)
    return found


def to_promql(q):
    m = re.fullmatch(r"\s*label_values\((.*),\s*[A-Za-z_]\w*\s*\)\s*", q,
                     re.S)
    if m:
        q = m.group(1)
    q = re.sub(r"\$(__rate_interval|__interval|__range)\b|"
               r"\$\{(__rate_interval|__interval|__range)\}", "5m", q)
    return re.sub(r"\$\{\w+(:\w+)?\}|\$\w+", ".*", q)


def names(q):
    s = re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'|`[^`]*`', '""', q)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*"
               r"\([^)]*\)", " ", s)
    s = re.sub(r"\boffset\s+\S+", " ", s)
    s = re.sub(r"(?<![\w:])[0-9][0-9.]*([eE][+-]?[0-9]+)?", " ", s)
    out = []
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", s):
        rest = s[m.end():].lstrip()
        if m.group(0).lower() in KEYWORDS or rest.startswith("("):
            continue
        out.append(m.group(0))
    return out


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("rules", "names"):
        sys.exit("usage: dashboard-queries.py DASHBOARD.json rules|names")
    with open(sys.argv[1], encoding="utf-8") as f:
        qs = [to_promql(q) for q in queries(json.load(f))]
    if not qs:
        sys.exit("no queries in " + sys.argv[1])
    if sys.argv[2] == "rules":
        print("groups:\n  - name: dashboard\n    rules:")
        for i, q in enumerate(qs):
            print(f"      - record: dashboard:query{i}")
            print(f"        expr: {json.dumps(q)}")
        return
    bad = 0
    for q in qs:
        got = names(q)
        if not got or "__name__" in q:
            print(f"cannot tell the metrics of: {q}", file=sys.stderr)
            bad = 1
        for n in got:
            print(f"{n}\t{q}")
    sys.exit(bad)


main()
