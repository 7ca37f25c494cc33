#!/usr/bin/python3
"""Writes adversarial SMTP server scripts for fuzz-smtp (one file each) into the folder given: every
step of a good dialogue cut off, oversized multi-line replies, NUL bytes, lines without CR LF, a 5xx
in the middle of DATA, codes that change, and random mutations of a good dialogue (fixed seed, so
that a failure can be replayed). The SMTP fault test runs fuzz-smtp on all of them."""
import os
import random
import sys

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
os.makedirs(out, exist_ok=True)

GOOD = [
    b"220 mx.test ESMTP\r\n",
    b"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
    b"250-AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256\r\n250 SMTPUTF8\r\n",
    b"235 2.7.0 ok\r\n",
    b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go\r\n",
    b"250 2.0.0 queued\r\n",
    b"221 2.0.0 bye\r\n",
]
cases = {}
whole = b"".join(GOOD)
# Cut off at every step, and inside every reply.
for i in range(len(whole) + 1):
    if i % 7 == 0 or any(i == len(b"".join(GOOD[:k])) for k in range(len(GOOD) + 1)):
        cases[f"cut-{i:04d}"] = whole[:i]
# Structured attacks.
cases["endless-multiline"] = GOOD[0] + b"250-x\r\n" * 5000
cases["long-line"] = GOOD[0] + b"250 " + b"x" * 100000 + b"\r\n"
cases["nul-bytes"] = GOOD[0].replace(b"ESMTP", b"ES\0MTP") + GOOD[1].replace(b"PIPELINING", b"PIPE\0LINING") + b"".join(GOOD[2:])
cases["no-crlf"] = whole.replace(b"\r\n", b"\n")
cases["bare-cr"] = whole.replace(b"\r\n", b"\r")
cases["5xx-in-data"] = b"".join(GOOD[:4]) + b"554 5.0.0 no thanks, in the middle\r\n"
cases["421-in-data"] = b"".join(GOOD[:4]) + b"421 4.3.0 closing\r\n"
cases["changing-code"] = GOOD[0] + b"250-mx.test\r\n251 odd\r\n"
cases["auth-challenge-garbage"] = GOOD[0] + GOOD[1] + b"334 !!!not base64***\r\n"
cases["auth-endless-challenges"] = GOOD[0] + GOOD[1] + b"334 \r\n" * 2000
cases["scram-bad-first"] = GOOD[0] + b"250-mx.test\r\n250 AUTH SCRAM-SHA-256\r\n" + b"334 cj1hYmMscz1,aT0=\r\n"
cases["scram-huge-iterations"] = GOOD[0] + b"250-mx.test\r\n250 AUTH SCRAM-SHA-1\r\n" + b"334 cj1eLHM9YWJjLGk9OTk5OTk5OTk5\r\n"
cases["many-auth"] = GOOD[0] + b"250-mx.test\r\n" + b"".join(b"250-AUTH X%d Y%d\r\n" % (i, i) for i in range(900)) + b"250 AUTH PLAIN\r\n"
cases["utf8-garbage"] = b"220 \xff\xfe\xc3(\r\n" + b"250 \xe2\x82\r\n"
cases["size-huge"] = GOOD[0] + b"250-mx.test\r\n250 SIZE 99999999999999999999999999\r\n"
cases["size-tiny"] = GOOD[0] + b"250-mx.test\r\n250 SIZE 1\r\n"
cases["enhanced-odd"] = GOOD[0] + GOOD[1] + GOOD[2] + b"250 2.1.0 ok\r\n550 5.1.1\r\n450 4.\r\n354 go\r\n5 \r\n"
# Random mutations of the good dialogue.
rng = random.Random(12)
alphabet = [b"\r\n", b"\r", b"\n", b"\0", b"-", b" ", b"250", b"354", b"4", b"5", b"334 ", b"\xff", b"2.", b"AUTH ", b"="]
for n in range(count):
    data = bytearray(whole)
    for _ in range(rng.randint(1, 12)):
        op = rng.random()
        at = rng.randint(0, len(data))
        if op < 0.4:
            data[at:at] = rng.choice(alphabet)
        elif op < 0.7 and len(data) > 0:
            del data[at:at + rng.randint(1, 20)]
        elif op < 0.85:
            data[at:at] = bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 30)))
        else:
            data[at:at] = bytes(data[max(0, at - 200):at]) * rng.randint(1, 5)
    cases[f"random-{n:04d}"] = bytes(data)

for name, data in cases.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(cases)} scripts in {out}")
