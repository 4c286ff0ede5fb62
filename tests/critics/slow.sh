#!/bin/sh
# A critic that stalls: for each request whose id is in the comma-separated list $1 (or every
# request when $1 is "all") it sleeps 30 s before answering; others are answered at once. Used
# by critic_external_slow: t2g must time the sample out, kill the process (and its sleep) and go
# on. Reads the id from t2g's request line, which starts {"id":N,
stall=",${1:-all},"
while IFS= read -r line; do
  id=${line#\{\"id\":}
  id=${id%%,*}
  case "$stall" in
    ",all,"|*",$id,"*) sleep 30 ;;
  esac
  printf '{"id":%s,"textual_feedback":"reply to id %s","good_spans":[],"poor_spans":[],"score":0.5}\n' "$id" "$id"
done
