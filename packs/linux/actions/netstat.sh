#!/usr/bin/env bash
set -euo pipefail
args="${1:--tulpn}"; pid="${2:-0}"
if command -v ss >/dev/null 2>&1; then tool=ss; elif command -v netstat >/dev/null 2>&1; then tool=netstat; else
  echo "neither ss nor netstat is installed (Debian: apt-get install iproute2)" >&2
  exit 1
fi
# shellcheck disable=SC2086
out="$($tool $args)"
if [ "$pid" != "0" ]; then printf '%s\n' "$out" | head -n 1; printf '%s\n' "$out" | grep -E "pid=$pid[,)]|[[:space:]]$pid/" || true; else printf '%s\n' "$out"; fi
