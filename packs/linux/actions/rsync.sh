#!/usr/bin/env bash
set -euo pipefail
source_path="$1"; server="$2"; destination="$3"; user="${4:-}"; args="${5:--avz}"; connect_timeout="${6:-30}"
target="$server:$destination"
if [ -n "$user" ]; then target="$user@$target"; fi
# shellcheck disable=SC2086
exec rsync $args -e "ssh -o ConnectTimeout=$connect_timeout -o BatchMode=yes" -- "$source_path" "$target"
