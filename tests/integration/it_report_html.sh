#!/bin/bash
# it_report_html: `ebb report --html` on a real daemon, looked at in a real
# browser. Two ordinary users run a short job each, one named with HTML
# and quotes; root's page has both (the name escaped, never markup), each
# user's page only their own; the page loads nothing; headless Chromium
# renders it (a screenshot of the asked-for size that is not blank) and its
# DOM holds the job rows and no script. Also `--by`, CodeCarbon's columns
# checked against the JSON report, and ebbd refusing bad from/asof.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create test users"; exit 77; }
BROWSER=$(command -v chromium || command -v chromium-browser) ||
	{ echo "SKIP: chromium is not installed (apt-get install chromium; .ci/deps)"; exit 77; }
share_bins
test_users ebbrp1 ebbrp2
getent group ebbrp >/dev/null || groupadd ebbrp
usermod -a -G ebbrp ebbrp1; usermod -a -G ebbrp ebbrp2
write_config 2 "socket_group: ebbrp"
site_de_trace
start_ebbd
# The forecast a job was planned on is the one known at its submit: the
# trace must have been read by then (on a loaded machine it may not be).
wait_provider_ok || fail "the trace provider never answered"
as() { local u=$1; shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups env EBB_SOCKET="$SOCK" "$@"; }

evil='<script>alert(1)</script> "q" & '"'"'s'
id1=$(as ebbrp1 "$EBB" submit -q --workdir /tmp --name "$evil" -- "$EBB_BURN" 300)
id2=$(as ebbrp2 "$EBB" submit -q --workdir /tmp --name plain -- "$EBB_BURN" 300)
[ -n "$id1" ] && [ -n "$id2" ] && ok "two users submitted jobs $id1, $id2" || fail "submit"
wait_final 30
for _ in $(seq 1 50); do
	[ "$("$EBB" report --format json | jq '[.jobs[] | select(.emissions_g != null)] | length')" = 2 ] && break
	sleep 0.2
done
expect_eq "both jobs have a ledger row with emissions" 2 \
	"$("$EBB" report --format json | jq '[.jobs[] | select(.emissions_g != null)] | length')"

# --- root's page: both jobs, names escaped, nothing that loads.
"$EBB" report --html "$T/all.html" && ok "ebb report --html wrote the page" || fail "--html failed"
page=$T/all.html
expect_eq "one table row per job" 2 "$(grep -c '<tr class="job ' "$page")"
grep -qF "<tr class=\"job final\" id=\"job-$id2\">" "$page" ||
	grep -qF "<tr class=\"job provisional\" id=\"job-$id2\">" "$page" &&
	ok "job $id2 in the table" || fail "job $id2 not in the table"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &amp; &#39;s' "$page" &&
	ok "the job name is escaped" || fail "the job name is not escaped"
expect_eq "no script element" 0 "$(grep -ci '<script' "$page")"
expect_eq "no URL" 0 "$(grep -ciE 'https?:|src=|href=|url\(|@import' "$page")"
grep -q '<svg width="960"[^>]*data-site="local"' "$page" && ok "a chart for site local" ||
	fail "no chart for site local"
grep -q '<path class="act" d="M' "$page" && ok "measured intensity drawn" ||
	fail "no measured intensity line"
grep -q '<path class="used" d="M' "$page" && ok "the forecasts the jobs were planned on drawn" ||
	fail "no forecast-used line"
expect_eq "both jobs drawn as bars" 2 "$(grep -c '<rect class="bar ' "$page")"
for h in "Totals by user" "Totals by site" "Totals by month" "Methods and status"; do
	grep -q "<h2>$h" "$page" && ok "section: $h" || fail "no section $h"
done

expect_eq "--html - writes the page to standard output" 2 \
	"$("$EBB" report --html - | grep -c '<tr class="job ')"

# --- each user sees only their own jobs.
mkdir -p "$T/u2" && chown ebbrp2 "$T/u2"
as ebbrp2 "$EBB" report --html "$T/u2/r.html" && ok "a user writes their page" ||
	fail "ebbrp2: --html failed"
expect_eq "a user's page has their job only" "1 0" \
	"$(grep -c '<tr class="job ' "$T/u2/r.html") $(grep -c 'alert(1)' "$T/u2/r.html")"

# --- a real browser renders it.
shot=$T/shot.png
timeout 60 "$BROWSER" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$T/chromium" --window-size=1200,1600 --screenshot="$shot" \
    "file://$page" >"$T/chromium.log" 2>&1
if [ -s "$shot" ]; then
	read -r w h colours ink < <(python3 "$EBB_TEST_DATA/helpers/pngstat.py" "$shot")
	expect_eq "screenshot size" "1200x1600" "${w}x${h}"
	[ "${colours:-0}" -ge 16 ] && ok "screenshot has $colours colours" ||
		fail "screenshot has ${colours:-no} colours"
	awk -v i="${ink:-0}" 'BEGIN { exit !(i > 0.02) }' && ok "screenshot not blank (ink $ink)" ||
		fail "screenshot blank (ink ${ink:-?})"
else
	fail "no screenshot: $(tail -5 "$T/chromium.log")"
fi
dom=$(timeout 60 "$BROWSER" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$T/chromium" --dump-dom "file://$page" 2>/dev/null)
for id in "$id1" "$id2"; do
	echo "$dom" | grep -q "<tr class=\"job [a-z]*\" id=\"job-$id\">" &&
		ok "the DOM has job $id's row" || fail "the DOM lacks job $id's row"
done
expect_eq "the DOM has no script element" 0 "$(echo "$dom" | grep -ci '<script')"
echo "$dom" | grep -q '<svg' && ok "the DOM has the charts" || fail "no svg in the DOM"

# --- --by and CodeCarbon's columns.
by=$("$EBB" report --by user)
echo "$by" | grep -q '^ebbrp1 ' && echo "$by" | grep -q '^ebbrp2 ' &&
	ok "--by user: a line per user" || fail "--by user: $by"
expect_eq "--by site: one site" "local" \
	"$("$EBB" report --by site --format csv | tail -n +2 | cut -d, -f1 | sort -u)"
cc=$("$EBB" report --format codecarbon)
expect_eq "CodeCarbon header" \
	"timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,on_cloud,pue" \
	"$(echo "$cc" | head -1)"
g=$("$EBB" report --format json "$id2" | jq '.jobs[0].emissions_g')
kg=$(echo "$cc" | awk -F, -v id="$id2" '$3 == id { print $5 }')
awk -v g="$g" -v kg="$kg" 'BEGIN { d = kg * 1000 - g; exit !(kg != "" && d < 1e-6 && d > -1e-6) }' &&
	ok "CodeCarbon emissions in kg ($kg kg = $g g)" || fail "emissions: $kg kg vs $g g"
expect_eq "CodeCarbon rows: one per job, 31 fields" "3 31" \
	"$(echo "$cc" | wc -l) $(echo "$cc" | grep ",$id2," | awk -F, '{ print NF }')"

# --- ebbd checks from/asof.
req='{"v":1,"cmd":"forecast","args":{"from":-1}}'
out=$(printf "\\0\\0\\0\\$(printf '%03o' ${#req})%s" "$req" | "$EBB_RAWSEND" "$SOCK")
expect_eq "forecast: a negative from is refused" \
	"usage: from: must be epoch seconds, at most ten years from now" \
	"$(echo "$out" | jq -r '.code + ": " + .error')"
# The largest integer: refused, not added to (an overflow in ebbd).
req='{"v":1,"cmd":"forecast","args":{"from":9223372036854775807}}'
out=$(printf "\\0\\0\\0\\$(printf '%03o' ${#req})%s" "$req" | "$EBB_RAWSEND" "$SOCK")
expect_eq "forecast: a from past ten years ahead is refused" "usage" "$(echo "$out" | jq -r .code)"
req='{"v":1,"cmd":"forecast","args":{"asof":9223372036854775807}}'
out=$(printf "\\0\\0\\0\\$(printf '%03o' ${#req})%s" "$req" | "$EBB_RAWSEND" "$SOCK")
expect_eq "forecast: an asof past ten years ahead is refused" "usage" "$(echo "$out" | jq -r .code)"
req='{"v":1,"cmd":"forecast","args":{"asof":"x"}}'
out=$(printf "\\0\\0\\0\\$(printf '%03o' ${#req})%s" "$req" | "$EBB_RAWSEND" "$SOCK")
expect_eq "forecast: asof must be a number" "usage" "$(echo "$out" | jq -r .code)"
# asof: the same hour as known now has values; as known before ebbd
# fetched anything it has none.
rawreq() { printf "\\0\\0\\0\\$(printf '%03o' ${#1})%s" "$1" | "$EBB_RAWSEND" "$SOCK"; }
t=$(( $(date +%s) / 3600 * 3600 - 3600 ))
expect_eq "forecast from an hour ago: values as known now" 12 \
	"$(rawreq '{"v":1,"cmd":"forecast","args":{"from":'$t',"hours":1,"window":0}}' |
	jq '[.result.points[] | select(.value != null)] | length')"
expect_eq "the same hour as known before any fetch: none" 0 \
	"$(rawreq '{"v":1,"cmd":"forecast","args":{"from":'$t',"hours":1,"window":0,"asof":'$((t - 86400))'}}' |
	jq '[.result.points[] | select(.value != null)] | length')"
finish
