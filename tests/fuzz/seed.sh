#!/bin/bash
# seed.sh: (re)creates the seed corpora tests/fuzz/corpus/NAME from the
# project's own test data and examples, plus a few hand-written inputs
# (framed control requests, ENTSO-E A75 documents after the ones in
# tests/unit/test_providers.c). Run from anywhere; it replaces only the
# seed-*.* files, so inputs added by hand (crash-*, ...) stay; the
# privmsg seeds (one message of each type, made with privmsg_encode) are
# not made here and stay too.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
c=$src/tests/fuzz/corpus
for d in proto electricitymaps watttime ukci entsoe trace config policy \
    jobfile workload; do
	mkdir -p "$c/$d"
	rm -f "$c/$d"/seed-*
done
cp_seed() {	# cp_seed DIR FILE...: FILE as DIR/seed-BASENAME
	local d=$1; shift
	for f in "$@"; do cp "$f" "$c/$d/seed-$(basename "$f")"; done
}
samples=$src/tests/data/provider-samples
cp_seed electricitymaps "$samples"/electricitymaps/*.json \
    "$src"/tests/data/fixtures/em_*.json
cp_seed watttime "$samples"/watttime/*.json "$samples"/watttime/*/*.json \
    "$src"/tests/data/fixtures/wt_login.json
cp_seed config "$src"/examples/ebb.yaml "$src"/tests/golden/config/*.yaml
cp "$src"/examples/simulate/ebb.yaml "$c/config/seed-simulate.yaml"
cp "$src"/examples/slurm/ebb.yaml "$c/config/seed-slurm-site.yaml"
cp_seed policy "$src"/examples/policies/*.yaml \
    "$src"/tests/golden/policies/*.yaml
cp_seed jobfile "$src"/examples/jobs/*.yaml \
    "$src"/tests/golden/config/jobs/*.yaml
cp_seed workload "$src"/tests/data/sim/*.csv
head -40 "$src"/examples/simulate/pai-week.csv > "$c/workload/seed-pai.csv"
# Traces: the head of a bundled Electricity Maps export, and the
# "Let's Wait Awhile" layout (time, value) with quotes and a BOM.
head -30 "$src"/examples/traces/DE-LU_2023_hourly.csv \
    > "$c/trace/seed-em-export.csv"
printf '\xef\xbb\xbfTime,Carbon Intensity\n2023-03-14 10:00:00,218.29\n"2023-03-14 10:15:00","217.88"\n2023-03-14T10:30:00Z,\n2023-03-14T10:45:00+01:00,"2""1"\n' \
    > "$c/trace/seed-lwa.csv"

python3 - "$c" <<'PY'
import json, struct, sys
c = sys.argv[1]

def frame(obj):
    b = json.dumps(obj).encode()
    return struct.pack(">I", len(b)) + b

job = {"name": "render", "argv": ["sh", "-c", "make -j2 render"],
       "env": ["HOME=/home/a", "LANG=C.UTF-8"], "workdir": "/home/a",
       "cpus": 2, "mem": 1 << 30, "duration": 5400, "max_delay": 21600,
       "sites": ["de", "gb"], "interruptible": True, "policy": "ml",
       "tags": ["gpu", "nightly"], "power_w": 120.5, "data_gb": 2}
reqs = {
    "hello": [{"v": 1, "cmd": "hello"}],
    "submit": [{"v": 1, "cmd": "submit", "args": {"job": job}}],
    "submit-min": [{"v": 1, "cmd": "submit",
                    "args": {"job": {"argv": ["echo", "hello"]}}}],
    "submit-deadline": [{"v": 1, "cmd": "submit", "args": {"job": {
        "argv": ["./nightly.sh"], "duration": 1800,
        "deadline": 1678881660}}}],
    "session": [{"v": 1, "cmd": "queue", "args": {"all": True}},
                {"v": 1, "cmd": "show", "args": {"id": 3}},
                {"v": 1, "cmd": "cancel", "args": {"id": 2}},
                {"v": 1, "cmd": "logs", "args": {"id": 1, "stream": "stderr"}},
                {"v": 1, "cmd": "forecast", "args": {"hours": 48}}],
    "record": [{"v": 1, "cmd": "x", "args": dict(job, id=7, user="a",
        uid=1000, gid=1000, state="planned", submit_time=1678795260,
        planned_start=1678800000, site="de", exit_code=-1, cpu_usec=-1,
        peak_mem=-1)}],
    "bad-version": [{"v": 2, "cmd": "hello"}],
}
for name, msgs in reqs.items():
    with open(f"{c}/proto/seed-{name}.bin", "wb") as f:
        f.write(b"".join(frame(m) for m in msgs))
with open(f"{c}/proto/seed-not-json.bin", "wb") as f:
    f.write(struct.pack(">I", 5) + b"{\"v\":")

HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n<GL_MarketDocument xmlns='
        '"urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0">'
        '<mRID>t</mRID><type>A75</type>'
        '<process.processType>A16</process.processType>')
IN = ('<inBiddingZone_Domain.mRID codingScheme="A01">10Y1001A1001A48H'
      '</inBiddingZone_Domain.mRID>')
OUT = IN.replace("inBidding", "outBidding")
def ts(extra, psr, curve, res, start, end, points):
    return ('<TimeSeries><mRID>1</mRID><businessType>A01</businessType>'
            + extra + '<quantity_Measure_Unit.name>MAW'
            '</quantity_Measure_Unit.name><curveType>' + curve +
            '</curveType><MktPSRType><psrType>' + psr +
            '</psrType></MktPSRType><Period><timeInterval><start>' + start +
            '</start><end>' + end + '</end></timeInterval><resolution>' +
            res + '</resolution>' + points + '</Period></TimeSeries>')
def p(pos, q):
    return f"<Point><position>{pos}</position><quantity>{q}</quantity></Point>"
S, E = "2023-03-14T00:00Z", "2023-03-14T03:00Z"
docs = {
    "a01": HEAD + ts(IN, "B04", "A01", "PT60M", S, E, p(1, 100) + p(2, 200))
        + ts(IN, "B12", "A01", "PT60M", S, E, p(1, 300) + p(2, 200) + p(3, 400))
        + ts(OUT, "B12", "A01", "PT60M", S, E, p(1, 5000))
        + ts(IN, "B25", "A01", "PT60M", S, E, p(1, 9000))
        + "</GL_MarketDocument>",
    "a03": HEAD + ts(IN, "B05", "A03", "PT15M", S, "2023-03-14T01:00Z",
                     p(1, 100) + p(3, 300))
        + ts(IN, "B14", "A01", "PT30M", S, "2023-03-14T01:00Z",
             p(1, 200) + p(2, "200.0")) + "</GL_MarketDocument>",
    "ack": '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Acknowledgement_MarketDocument><mRID>x</mRID><Reason><code>999'
        '</code><text>No matching data found</text></Reason>'
        '</Acknowledgement_MarketDocument>',
}
# UK: the national sample cut to its first periods, one with an actual
# value (the whole file makes every input 23 kB), and a regional answer.
import glob, os
src = os.path.dirname(os.path.dirname(c.rstrip("/")))
nat = json.load(open(glob.glob(src + "/data/provider-samples/"
                               "uk-carbon-intensity/national_*.json")[0]))
d = nat["data"]
cut = [dict(x, intensity=dict(x["intensity"])) for x in d[:4]]
cut[0]["intensity"]["actual"] = 143	# a measured period, as in /intensity
with open(f"{c}/ukci/seed-national.json", "w") as f:
    json.dump({"data": cut}, f)
with open(f"{c}/ukci/seed-regional.json", "w") as f:
    json.dump({"data": {"regionid": 13, "shortname": "London",
                        "data": [dict(x, generationmix=[{"fuel": "gas",
                                 "perc": 40.1}]) for x in d[:3]]}}, f)
for name, d in docs.items():
    with open(f"{c}/entsoe/seed-{name}.xml", "w") as f:
        f.write(d)
PY
