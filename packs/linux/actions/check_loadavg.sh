#!/usr/bin/env bash
# Prints the load average as JSON from /proc/loadavg: {"one": .., "five": .., "fifteen": ..}.
set -euo pipefail
period="${1:-all}"
if [ ! -r /proc/loadavg ]; then
  echo "/proc/loadavg is not readable on this host" >&2
  exit 1
fi
read -r one five fifteen _ < /proc/loadavg
case "$period" in
  one) printf '{"one": %s}\n' "$one" ;;
  five) printf '{"five": %s}\n' "$five" ;;
  fifteen) printf '{"fifteen": %s}\n' "$fifteen" ;;
  all) printf '{"one": %s, "five": %s, "fifteen": %s}\n' "$one" "$five" "$fifteen" ;;
  *) echo "unknown period \"$period\" (one, five, fifteen, all)" >&2; exit 1 ;;
esac
