#!/bin/bash
# pictures.sh: the pictures in docs/, rendered from a real run.
#
#   tools/pictures.sh SOCKLAB RUN      (make pictures: RUN = results/latest)
#
# Three ladders (linger-zero-rst, keepalive-vs-retransmit,
# simultaneous-close) by rsvg-convert, the state machine of the whole run
# (socklab states) likewise, and a screenshot of the run's index.html by
# headless Chromium.  The same renderers the tests use (test_ladder_svg,
# states.sh, report_html.sh), so what is in docs/ is what they check.
set -euo pipefail
socklab=${1:?usage: pictures.sh SOCKLAB RUN}
run=$(realpath "${2:?usage: pictures.sh SOCKLAB RUN}")
out=docs
mkdir -p "$out"

ladder() { # id variant
	local svg=$run/$1/$2/ladder.svg
	[ -f "$svg" ] || { echo "pictures.sh: no $svg (run $1 first)" >&2; exit 2; }
	rsvg-convert -b white -o "$out/ladder-$1.png" "$svg"
	install -m 644 "$svg" "$out/ladder-$1.svg"
	echo "$out/ladder-$1.png"
}
ladder linger-zero-rst close_linger_1_0
ladder keepalive-vs-retransmit idle_keepalive_2s_1s_3
ladder simultaneous-close "$(basename "$(ls -d "$run"/simultaneous-close/*/ | head -1)")"

"$socklab" states -o "$out/states.svg" "$run"
rsvg-convert -b white -o "$out/states.png" "$out/states.svg"
echo "$out/states.png"

browser=$(command -v chromium || command -v chromium-browser)
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 120 "$browser" --headless=new --no-sandbox --disable-gpu \
	--user-data-dir="$profile" --window-size=1280,1600 \
	--screenshot="$out/index-html.png" "file://$run/index.html" \
	> /dev/null 2>&1
echo "$out/index-html.png"
chmod 644 "$out"/*.png "$out"/*.svg
