#!/usr/bin/env bash
# Run a command while the bundled wspulse test server listens on an ephemeral loopback port.
#
#   tools/with_testserver.sh <wspulse-testserver> <command> [args...]
#
# The command gets WSPULSE_URL (ws://127.0.0.1:<port>) and WSPULSE_CONTROL_URL
# (http://127.0.0.1:<control-port>) in its environment; the server stops when it ends, and the
# command's exit status is the script's.
# SPDX-License-Identifier: MIT
set -euo pipefail
server_bin=$1
shift
fifo=$(mktemp -u)
mkfifo "$fifo"
"$server_bin" >"$fifo" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -f "$fifo"' EXIT
exec 3<"$fifo"  # kept open: the server may print more
read -r ready ws_port control_port <&3
[ "$ready" = READY ] || { echo "with_testserver: $server_bin did not start" >&2; exit 1; }
export WSPULSE_URL="ws://127.0.0.1:$ws_port" WSPULSE_CONTROL_URL="http://127.0.0.1:$control_port"
"$@"
