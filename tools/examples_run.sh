#!/usr/bin/env bash
# `make examples-run`: run every example in <build-dir> against the bundled test server, each
# in its own room; fails when one fails. Usage: tools/examples_run.sh <build-dir>
# SPDX-License-Identifier: MIT
set -euo pipefail
build=$1
if [ -z "${WSPULSE_URL:-}" ]; then
  exec "$(dirname "$0")/with_testserver.sh" "$build/wspulse-testserver" "$0" "$@"
fi
for bin in "$build"/wspulse-example-*; do
  name=${bin##*/wspulse-example-}
  echo "== $name"
  case "$name" in
    codec) "$bin" ;;  # no network
    chat) printf '%s\n' "hello" "bye" | "$bin" "$WSPULSE_URL/ws?room=ex-chat" ;;
    request) "$bin" "$WSPULSE_URL/ws?room=ex-request&answer=1" ;;  # the server answers
    *) "$bin" "$WSPULSE_URL/ws?room=ex-$name" ;;
  esac
done
