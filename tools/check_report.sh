#!/bin/sh
# The browser check of a run report (t2g report, or a run folder's report.html): renders it in
# headless Chromium, and checks that the screenshot is not blank, that the page logged nothing
# to the console, that the browser's DOM has every section and every chart of the file, and
# that the file refers to nothing outside itself and has no script.
#   usage: tools/check_report.sh REPORT.html [SCREENSHOT.png]
# Exit 0 when it passes, or when chromium is not installed ("skipped: ..."; install it with
# tools/setup.sh --chromium); 1 when a check fails; 2 on bad usage.
set -u
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ "$1" = "--help" ] || [ "$1" = "-h" ]; then
  echo "usage: tools/check_report.sh REPORT.html [SCREENSHOT.png]" >&2
  exit 2
fi
report=$1
if [ ! -f "$report" ]; then
  echo "FAIL: $report: no such file" >&2
  exit 2
fi
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

# What the file itself must be (no browser needed).
check "no script" '! grep -qi "<script\|javascript:" "$report"'
check "no reference outside the page (src=, a link that is not #..., url(), @import, http:)" \
  '! grep -o "<[^>]*>" "$report" | grep -qi " src=\| srcset=\| xlink:href=\| href=\"[^#]\| on[a-z]*=" &&
   ! grep -qi "url(\|@import\|http:\|https:" "$report"'

if ! command -v chromium >/dev/null 2>&1; then
  echo "skipped: chromium not installed (tools/setup.sh --chromium installs it)"
  exit $fail
fi

tmp=$(mktemp -d /tmp/t2g-check-report-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
shot=${2:-$tmp/report.png}
dir=$(cd "$(dirname "$report")" && pwd) || exit 2
url="file://$(printf '%s/%s' "$dir" "$(basename "$report")" | sed 's/%/%25/g; s/ /%20/g; s/#/%23/g; s/?/%3F/g')"
browse() { # browse PROFILE ARGS...: headless chromium on the report, nothing fetched from elsewhere
  profile=$1; shift
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
    --user-data-dir="$tmp/$profile" --enable-logging=stderr --v=0 "$@" "$url"
}

rm -f "$shot"
browse shot --hide-scrollbars --window-size=1280,2400 --screenshot="$shot" >"$tmp/shot.out" 2>"$tmp/shot.err"
code=$?
check "chromium renders the page (exit $code)" '[ $code = 0 ]'
size=$(wc -c <"$shot" 2>/dev/null || echo 0)
check "the screenshot is a PNG, not blank ($size bytes; a blank page is about 14000)" \
  '[ "$size" -gt 40000 ] && [ "$(head -c 4 "$shot" | tail -c 3)" = "PNG" ]'

browse dom --dump-dom >"$tmp/dom.html" 2>"$tmp/dom.err"
code=$?
check "chromium loads the page and dumps its DOM (exit $code)" '[ $code = 0 ] && [ -s "$tmp/dom.html" ]'
check "the page logs nothing to the console" '! grep -h "CONSOLE" "$tmp/shot.err" "$tmp/dom.err"'
for section in 'id="config"' 'id="curves"' 'id="samples"' 'id="reproduce"' '<header' '<footer'; do
  check "the browser's DOM has $section" 'grep -q "$section" "$tmp/dom.html"'
done
charts=$(grep -o '<figure class="chart">' "$report" | wc -l)
dom_charts=$(grep -o '<figure class="chart">' "$tmp/dom.html" | wc -l)
check "the browser parsed every chart of the file ($dom_charts of $charts)" '[ "$charts" -gt 0 ] && [ "$charts" = "$dom_charts" ]'
legends=$(grep -o '<ul class="legend">' "$tmp/dom.html" | wc -l)
check "one legend per chart in the DOM ($legends)" '[ "$legends" = "$charts" ]'
check "no script in the DOM" '! grep -qi "<script" "$tmp/dom.html"'
[ $fail = 0 ] && echo "check_report: $report passed the browser check (screenshot: ${2:-not kept})"
exit $fail
