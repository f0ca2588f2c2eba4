#!/usr/bin/env bash
# The main job of `make demo`: start the bundled wspulse test server, run the chat example
# against it with a scripted conversation, print the exchange, stop the server.
# Usage: tools/demo.sh <build-dir>
set -euo pipefail
build=${1:-build/gcc-cxx17}
server_bin="$build/wspulse-testserver"
chat_bin="$build/wspulse-example-chat"

fifo=$(mktemp -u)
mkfifo "$fifo"
"$server_bin" >"$fifo" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -f "$fifo"' EXIT
read -r ready ws_port control_port <"$fifo"
[ "$ready" = READY ] || { echo "demo: the test server did not start" >&2; exit 1; }

url="ws://127.0.0.1:$ws_port/ws?room=demo&token=secret-token"
echo "== wspulse-testserver listening on 127.0.0.1:$ws_port (control port $control_port)"
echo "== chat example: sends three lines, prints what it sent (->) and received (<-)"
printf '%s\n' "hello from the C++ client" "wspulse says hi" "bye" |
  "$chat_bin" "$url" 2>/dev/null
echo "== done"
