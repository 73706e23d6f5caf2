#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain what to install and exit 1.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.14 python3.13 python3.12)
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -rV); do
    candidates+=("$(pyenv root)/versions/$v/bin/python3")
  done
fi
for d in "$HOME/.pyenv/versions" /root/.pyenv/versions /usr/local/bin /opt/python*/bin; do
  for p in "$d"/3.1[2-9]*/bin/python3 "$d"/python3.1[2-9]; do [ -x "$p" ] && candidates+=("$p"); done
done
candidates+=(python3 python)
for c in "${candidates[@]}"; do
  p=$(command -v "$c" 2>/dev/null) || continue
  if ok "$p"; then echo "$p"; exit 0; fi
done
cat >&2 <<'MSG'
kube-sim needs Python 3.12 or newer, and none was found.
Install one, then run the command again, for example:
  - Debian/Ubuntu:  apt-get install python3.12 python3.12-venv   (Debian 13 or Ubuntu 24.04 and newer)
  - pyenv:          pyenv install 3.12
  - or point to it: make PYTHON=/path/to/python3.12 demo
MSG
exit 1
