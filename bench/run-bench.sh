#!/bin/sh
# `make bench`: Mailroom's SMTP client against Postfix's smtp-source, both sending the same 2 KB
# messages to the same smtp-sink on loopback, over 1 and over 10 connections, in the same run.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
count=${MAILROOM_BENCH_MESSAGES:-5000}
work=$(mktemp -d)
trap 'kill "$sink" 2>/dev/null || true; rm -rf "$work"' EXIT

# One 2 KB message, headers included, CRLF line ends.
/usr/bin/python3 - "$work/message.eml" <<'PY'
import sys
head = ("From: bench@example.com\r\nTo: sink@example.com\r\nSubject: benchmark\r\n"
        "Message-ID: <bench@example.com>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n")
line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
body = line * ((2048 - len(head)) // len(line))
body += "x" * (2048 - len(head) - len(body) - 2) + "\r\n"
open(sys.argv[1], "w", newline="").write(head + body)
PY
size=$(wc -c < "$work/message.eml")

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ "$(id -u)" -eq 0 ]; then as_user="-u nobody"; else as_user=""; fi
# shellcheck disable=SC2086
/usr/sbin/smtp-sink $as_user 127.0.0.1:"$port" 1000 &
sink=$!
sleep 0.5

now() { date +%s.%N; }
echo "Sending $count messages of $size bytes to smtp-sink on 127.0.0.1:$port"
printf '%-12s %18s %18s %8s\n' connections "smtp-source msg/s" "mailroom msg/s" ratio
for connections in 1 10; do
  start=$(now)
  /usr/sbin/smtp-source -d -s "$connections" -m "$count" -F "$work/message.eml" \
    -f bench@example.com -t sink@example.com 127.0.0.1:"$port"
  end=$(now)
  reference=$(echo "$count / ($end - $start)" | bc -l)
  ours=$("$top/$build/bench/mr-bench-send" 127.0.0.1 "$port" "$work/message.eml" "$count" "$connections" |
         sed -n 's/.*: \([0-9]*\) messages\/s$/\1/p')
  printf '%-12s %18.0f %18.0f %8.2f\n' "$connections" "$reference" "$ours" "$(echo "$ours / $reference" | bc -l)"
done
