#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter that can make virtual environments, or explain what to
# install and exit 1. PYTHON=/path/to/python chooses one (make PYTHON=... demo); it must then fit.
set -u
MIN_MINOR=12

# "ok", "old X.Y", "novenv X.Y" or nothing (not a Python) for one interpreter.
probe() {
  "$1" - "$MIN_MINOR" 2>/dev/null <<'PY'
import sys
version = "%d.%d" % sys.version_info[:2]
if sys.version_info[0] != 3 or sys.version_info[1] < int(sys.argv[1]):
    print("old " + version)
else:
    try:
        import ensurepip, venv  # noqa: F401  (python -m venv needs both)
        print("ok")
    except ImportError:
        print("novenv " + version)
PY
}

advice() {
  cat >&2 <<MSG
Install Python 3.$MIN_MINOR or newer with its venv module, then run the command again, for example:
  - Debian 13 / Ubuntu 24.04 and newer:  apt-get install python3 python3-venv
  - older Debian or Ubuntu:              pyenv install 3.12   (https://github.com/pyenv/pyenv)
  - macOS:                               brew install python@3.12
  - or point to one you have:            make PYTHON=/path/to/python3.12 demo
MSG
}

if [ -n "${PYTHON:-}" ]; then
  p=$(command -v "$PYTHON" 2>/dev/null) || { echo "PYTHON=$PYTHON: no such program" >&2; advice; exit 1; }
  case "$(probe "$p")" in
    ok) echo "$p"; exit 0 ;;
    old*) echo "PYTHON=$PYTHON is Python $(probe "$p" | cut -d' ' -f2); kube-sim needs 3.$MIN_MINOR or newer" >&2 ;;
    novenv*) echo "PYTHON=$PYTHON lacks the venv module (on Debian/Ubuntu: apt-get install" \
                  "python$(probe "$p" | cut -d' ' -f2)-venv)" >&2 ;;
    *) echo "PYTHON=$PYTHON is not a Python interpreter" >&2 ;;
  esac
  advice; exit 1
fi

candidates=(python3.14 python3.13 python3.12)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.|$)' | sort -rV); do
    candidates+=("$root/versions/$v/bin/python3")
  done
fi
for p in "${HOME:-/nonexistent}"/.pyenv/versions/3.*/bin/python3; do  # pyenv's, even when pyenv is not on PATH
  [ -x "$p" ] && candidates+=("$p")
done
candidates+=(python3 python)

seen=() novenv=()
for c in "${candidates[@]}"; do
  p=$(command -v "$c" 2>/dev/null) || continue
  result=$(probe "$p")
  case "$result" in
    ok) echo "$p"; exit 0 ;;
    old*) seen+=("$p (${result#old })") ;;
    novenv*) novenv+=("$p (${result#novenv })") ;;
  esac
done

echo "kube-sim needs Python 3.$MIN_MINOR or newer with its venv module, and none was found." >&2
[ ${#seen[@]} -gt 0 ] && echo "Too old: $(printf '%s, ' "${seen[@]}" | sed 's/, $//')." >&2
if [ ${#novenv[@]} -gt 0 ]; then
  echo "Without the venv module: $(printf '%s, ' "${novenv[@]}" | sed 's/, $//')" \
       "(on Debian/Ubuntu: apt-get install python3-venv, or python3.X-venv for python3.X)." >&2
fi
advice
exit 1
