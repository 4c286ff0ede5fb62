#!/bin/sh
# Every subcommand answers --help with exit code 0; unknown commands and options exit 2 with a
# message that names them.   usage: cli_help.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
expect() { # expect CODE PATTERN -- command...
  code=$1; pattern=$2; shift 3
  out=$("$@" 2>&1); got=$?
  if [ "$got" != "$code" ]; then echo "FAIL: '$*' exited $got, expected $code"; echo "$out"; fail=1; return; fi
  if ! printf '%s' "$out" | grep -q -- "$pattern"; then echo "FAIL: '$*' printed no '$pattern':"; echo "$out"; fail=1; return; fi
  echo "ok: $*"
}
expect 0 "usage: t2g COMMAND" -- "$t2g" --help
expect 0 "usage: t2g devices" -- "$t2g" devices --help
expect 0 "usage: t2g selfcheck" -- "$t2g" selfcheck --help
expect 0 "usage: t2g bench" -- "$t2g" bench --help
expect 0 "usage: t2g bench kernels" -- "$t2g" bench kernels --help
expect 0 "t2g 0" -- "$t2g" version
expect 2 "unknown command 'frobnicate'" -- "$t2g" frobnicate
expect 2 "unknown argument '--jsn'" -- "$t2g" devices --jsn
expect 2 "needs a value" -- "$t2g" selfcheck --device
expect 2 "usage: t2g COMMAND" -- "$t2g"
[ $fail = 0 ] && echo "cli_help: all passed"
exit $fail
