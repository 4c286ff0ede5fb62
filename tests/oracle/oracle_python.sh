# Sourced by the oracle's scripts: sets $python to the oracle's interpreter
# (${T2G_ORACLE_VENV:-$HOME/.cache/t2g/oracle-venv}, made by tools/setup.sh --oracle), or exits 2
# naming the caller ($oracle_caller, set before sourcing) and where it looked.
python=${T2G_ORACLE_VENV:-$HOME/.cache/t2g/oracle-venv}/bin/python
if [ ! -x "$python" ]; then
  echo "$oracle_caller: no oracle at $python; make it with tools/setup.sh --oracle" >&2
  exit 2
fi
