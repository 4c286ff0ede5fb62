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
usage=$("$t2g" --help)
for command in demo train rl report align sample eval export data devices selfcheck bench; do
  expect 0 "usage: t2g $command" -- "$t2g" $command --help
  if printf '%s' "$usage" | grep -q "^  $command\b"; then echo "ok: t2g --help lists $command"
  else echo "FAIL: t2g --help does not list $command"; fail=1; fi
  if "$t2g" frobnicate 2>&1 | grep -q "[ ,]$command[,( ]"; then echo "ok: the unknown-command message names $command"
  else echo "FAIL: the unknown-command message does not name $command"; fail=1; fi
done
expect 0 "usage: t2g bench kernels" -- "$t2g" bench kernels --help
expect 0 "t2g 0" -- "$t2g" version
expect 2 "unknown command 'frobnicate'" -- "$t2g" frobnicate
expect 2 "unknown argument '--jsn'" -- "$t2g" devices --jsn
expect 2 "needs a value" -- "$t2g" selfcheck --device
expect 2 "usage: t2g COMMAND" -- "$t2g"
[ $fail = 0 ] && echo "cli_help: all passed"
exit $fail
