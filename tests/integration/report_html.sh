#!/usr/bin/env bash
# A run's index.html: written by every run into its folder, self-contained
# (no script, nothing fetched: the only URL in it is SVG's namespace name),
# with the summary, the claim, the predictions and the ladder inline; and,
# opened in headless Chromium, it renders without a console error, into a
# screenshot that is kept as build/report-screenshot.png.
# usage: report_html.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
build=$(realpath "$2")
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (it runs an experiment)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" run rst-refused --results "$tmp/results" -q > "$tmp/out" 2>&1 ||
	fail "the run failed: $(cat "$tmp/out")"
html=$(realpath "$tmp/results/latest")/index.html
[ -s "$html" ] || fail "no index.html in the run folder"
grep -q '<h2 id="rst-refused">' "$html" || fail "no section for the experiment"
grep -q 'a SYN to a port with no listener' "$html" || fail "no claim"
grep -q '\[ ok \]' "$html" || fail "no predictions"
grep -q '<svg' "$html" || fail "no ladder picture inline"
grep -q 'href="rst-refused/nothing_on_port/client-eth0.pcap"' "$html" ||
	fail "no link to the pcap"
for p in router-eth0 router-eth1 server-eth0; do
	grep -q "href=\"rst-refused/nothing_on_port/$p.pcap\"" "$html" ||
		fail "no link to $p.pcap"
done
! grep -qi '<script' "$html" || fail "a script in the report"
if grep -o 'https\?://[^" ]*' "$html" | grep -v '^http://www.w3.org/2000/svg$' | grep -q .; then
	fail "a URL other than SVG's namespace: $(grep -o 'https\?://[^" ]*' "$html" | sort -u | head -3)"
fi

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "ok: index.html written and self-contained; not rendered: no" \
	     "chromium here (make deps installs it)"
	exit 0
fi
# Headless Chromium logs the page's console to stderr with
# --enable-logging ("INFO:CONSOLE:<line>] ..."): an error the page met would
# be there.
render() { # page png log
	timeout 120 "$browser" --headless=new --no-sandbox --disable-gpu \
		--user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 \
		--window-size=1280,2400 --screenshot="$2" "file://$1" > "$3" 2>&1
}
console() { grep -E ':CONSOLE[:(]|Uncaught' "$1"; }
# The check can fail: a page that writes to its console is caught.
echo '<html><body><script>console.error("broken")</script></body></html>' \
	> "$tmp/broken.html"
render "$tmp/broken.html" "$tmp/broken.png" "$tmp/broken.log" ||
	fail "chromium could not render a plain page: $(tail -5 "$tmp/broken.log")"
console "$tmp/broken.log" | grep -q broken ||
	fail "a console error went unseen: $(tail -5 "$tmp/broken.log")"

render "$html" "$tmp/shot.png" "$tmp/chromium.log" ||
	fail "chromium could not render it: $(tail -5 "$tmp/chromium.log")"
if console "$tmp/chromium.log" | grep -q .; then
	fail "console errors: $(console "$tmp/chromium.log" | head -3)"
fi
[ -s "$tmp/shot.png" ] || fail "no screenshot"
size=$(stat -c %s "$tmp/shot.png")
[ "$size" -gt 30000 ] || fail "the screenshot is nearly blank ($size bytes)"
cp "$tmp/shot.png" "$build/report-screenshot.png"
echo "ok: index.html renders in $("$browser" --version 2>/dev/null | head -1)" \
     "without console errors; screenshot $build/report-screenshot.png"
