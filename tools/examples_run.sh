#!/usr/bin/env bash
# `make examples-run`: run every example in <build-dir> against the bundled test server, each
# in its own room; fails when one fails. Usage: tools/examples_run.sh <build-dir>
# SPDX-License-Identifier: MIT
set -euo pipefail
build=$1
if [ -z "${WSPULSE_URL:-}" ]; then
  exec "$(dirname "$0")/with_testserver.sh" "$build/wspulse-testserver" "$0" "$@"
fi
# tls: a wss:// echo peer (tests/support/tls_echo_server.py) with a throw-away self-signed
# certificate for 127.0.0.1, which the example trusts as its CA file.
run_tls() {
  local bin=$1 dir port peer
  dir=$(mktemp -d)
  trap 'kill "$peer" 2>/dev/null; rm -rf "$dir"; trap - RETURN' RETURN
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=wspulse-example -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1
  coproc PEER { exec /usr/bin/python3 "$(dirname "$0")/../tests/support/tls_echo_server.py" \
    "$dir/server.crt" "$dir/server.key"; }
  peer=$PEER_PID
  read -r -t 10 ready port <&"${PEER[0]}" || { echo "tls: the wss:// peer did not start" >&2; return 1; }
  [ "$ready" = READY ] || { echo "tls: the wss:// peer said: $ready $port" >&2; return 1; }
  "$bin" "wss://127.0.0.1:$port/ws?room=ex-tls" "$dir/server.crt"
}

for bin in "$build"/wspulse-example-*; do
  name=${bin##*/wspulse-example-}
  echo "== $name"
  case "$name" in
    codec) "$bin" ;;  # no network
    chat) printf '%s\n' "hello" "bye" | "$bin" "$WSPULSE_URL/ws?room=ex-chat" ;;
    request) "$bin" "$WSPULSE_URL/ws?room=ex-request&answer=1" ;;  # the server answers
    tls) run_tls "$bin" ;;
    *) "$bin" "$WSPULSE_URL/ws?room=ex-$name" ;;
  esac
done
