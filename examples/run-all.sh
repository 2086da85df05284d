#!/usr/bin/env bash
# Runs every framework example against the package as an app installs it.
# Each example has its own package.json and package-lock.json (their peer
# ranges differ from the root's: @auth/core wants nodemailer 7 or 8), and
# .npmrc's install-links=true makes `file:../..` a packed copy of this
# repository rather than a symlink, so the library loads the example's own
# nodemailer. Needs dist/ (npm run build) and Debian's redis-server for the
# BullMQ example, which gets a throwaway instance on a port the kernel picked.
set -euo pipefail
cd "$(dirname "$0")"

[[ -f ../dist/index.js && -f ../dist/index.cjs ]] || { echo "examples: dist/ is missing: run 'npm run build' first" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "examples: redis-server is not installed: apt-get install -y redis-server" >&2; exit 1; }

port=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
redis_dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$redis_dir" --daemonize no --loglevel warning >"$redis_dir/log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; rm -rf "$redis_dir"' EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$port" ping >/dev/null || { echo "examples: redis-server did not start on port $port" >&2; cat "$redis_dir/log" >&2; exit 1; }

passed=0
failed=0
for example in nest next authjs bullmq observability; do
  printf '\n--- examples/%s\n' "$example"
  if (cd "$example" && rm -rf build && npm ci --no-audit --no-fund --loglevel=error && REDIS_PORT="$port" npm test --silent); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "examples/$example FAILED"
  fi
done
echo "examples: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
