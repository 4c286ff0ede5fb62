#!/bin/sh
# The README's picture of a run report (docs/demo_report.png): the report rendered in headless
# Chromium with its config, navigation and reproduce sections hidden and only the first three
# reinforcement-learning charts shown, so one screen holds the header, the curves and the
# coloured samples. The report itself is not changed (a styled copy is rendered).
#   usage: tools/report_excerpt.sh REPORT.html OUT.png [HEIGHT]     (HEIGHT in pixels, 2130)
set -eu
if [ $# -lt 2 ] || [ $# -gt 3 ]; then echo "usage: tools/report_excerpt.sh REPORT.html OUT.png [HEIGHT]" >&2; exit 2; fi
command -v chromium >/dev/null 2>&1 || { echo "report_excerpt: chromium is not installed (tools/setup.sh --chromium)" >&2; exit 2; }
[ -f "$1" ] || { echo "report_excerpt: $1: no such file" >&2; exit 2; }
tmp=$(mktemp -d /tmp/t2g-report-excerpt-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
sed 's#</head>#<style>\#config, nav, \#reproduce {display: none} \#curves .chart:nth-of-type(n+4) {display: none}</style></head>#' "$1" > "$tmp/excerpt.html"
grep -q '#config, nav' "$tmp/excerpt.html" || { echo "report_excerpt: $1 has no </head>: not a t2g report?" >&2; exit 1; }
timeout 90 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --user-data-dir="$tmp/profile" --hide-scrollbars --window-size=1280,"${3:-2130}" --screenshot="$2" \
  "file://$tmp/excerpt.html" >/dev/null 2>&1
[ -s "$2" ] || { echo "report_excerpt: chromium wrote no screenshot" >&2; exit 1; }
echo "report_excerpt: $2"
