#!/usr/bin/env bash
set -euo pipefail
hostname="$1"; qtype="${2:-A}"; nameserver="${3:-}"; count="${4:-0}"; rand="${5:-0}"
if ! command -v dig >/dev/null 2>&1; then
  echo "dig is not installed (Debian: apt-get install dnsutils)" >&2
  exit 1
fi
args=(+short "$hostname" "$qtype")
if [ -n "$nameserver" ]; then args=("@$nameserver" "${args[@]}"); fi
answers="$(dig "${args[@]}")"
if [ "$rand" = "1" ]; then answers="$(printf '%s\n' "$answers" | shuf)"; fi
if [ "$count" -gt 0 ] 2>/dev/null; then answers="$(printf '%s\n' "$answers" | head -n "$count")"; fi
printf '%s\n' "$answers"
