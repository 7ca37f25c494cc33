#!/usr/bin/python3
"""An SMTP server that misbehaves on demand, for what real servers rarely do when asked.

Prints "PORT <n>", serves until standard input closes, and appends every line it receives to --log,
so that tests can check what crossed the wire (no AUTH in clear, say).

Scenarios: normal, greeting-421, no-answer, slow-ehlo, no-starttls, starttls-inject, drop-in-data,
malformed, changing-multiline, endless-multiline, many-auth. Options shape the normal dialogue: --auth-reply, --mail-reply,
--rcpt-temp WORD, --rcpt-perm WORD, --no-pipelining, --size N, --data-reply.
"""
import argparse
import asyncio
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--scenario", default="normal")
parser.add_argument("--log", required=True)
parser.add_argument("--auth-reply", default="235 2.7.0 Authentication successful")
parser.add_argument("--mail-reply", default="250 2.1.0 Sender OK")
parser.add_argument("--data-reply", default="250 2.0.0 OK queued")
parser.add_argument("--rcpt-temp", default=None)
parser.add_argument("--rcpt-perm", default=None)
parser.add_argument("--no-pipelining", action="store_true")
parser.add_argument("--size", type=int, default=0)
parser.add_argument("--delay-ms", type=int, default=5000)
parser.add_argument("--greeting-delay-ms", type=int, default=0)
parser.add_argument("--mail-reply-count", type=int, default=0,
                    help="only the first N MAIL commands (over all connections) get --mail-reply; 0: all")
parser.add_argument("--auth-offer", default="PLAIN LOGIN", help="the mechanisms of the AUTH line")
args = parser.parse_args()


def log(line):
    with open(args.log, "a", encoding="utf-8", errors="replace") as f:
        f.write(line + "\n")


mails = [0]


async def handle(reader, writer):
    async def send(text):
        writer.write(text.encode())
        await writer.drain()

    async def readline():
        line = await reader.readline()
        if line:
            log(line.decode(errors="replace").rstrip("\r\n"))
        return line

    try:
        if args.scenario == "no-answer":
            await asyncio.sleep(3600)
            return
        if args.scenario == "greeting-421":
            await send("421 4.3.2 Service not available, closing channel\r\n")
            return
        if args.greeting_delay_ms:
            await asyncio.sleep(args.greeting_delay_ms / 1000)
        await send("220 fault.test ESMTP ready\r\n")

        while True:
            line = await readline()
            if not line:
                return
            verb = line.decode(errors="replace").strip()
            upper = verb.upper()

            if upper.startswith("EHLO"):
                if args.scenario == "slow-ehlo":
                    await asyncio.sleep(args.delay_ms / 1000)
                if args.scenario == "malformed":
                    await send("hello there, I am not SMTP\r\n")
                    continue
                if args.scenario == "endless-multiline":
                    # A reply that never ends, as fast as the socket takes it.
                    chunk = "".join(f"250-line {i} of a reply that never ends\r\n" for i in range(1000))
                    while True:
                        await send(chunk)
                if args.scenario == "many-auth":
                    # 200 AUTH lines of 300 distinct mechanisms each, then a real end.
                    lines = [" ".join(f"X-M{l}-{m}" for m in range(300)) for l in range(200)]
                    await send("250-fault.test\r\n" + "".join(f"250-AUTH {l}\r\n" for l in lines)
                               + "250 AUTH PLAIN\r\n")
                    continue
                if args.scenario == "changing-multiline":
                    await send("250-fault.test\r\n251 PIPELINING\r\n")
                    continue
                lines = ["fault.test greets you"]
                if args.scenario in ("starttls-inject",):
                    lines.append("STARTTLS")
                if not args.no_pipelining:
                    lines.append("PIPELINING")
                lines += ["8BITMIME", "ENHANCEDSTATUSCODES", "DSN", f"AUTH {args.auth_offer}"]
                if args.size:
                    lines.append(f"SIZE {args.size}")
                await send("".join(f"250-{l}\r\n" for l in lines[:-1]) + f"250 {lines[-1]}\r\n")
            elif upper == "STARTTLS":
                if args.scenario == "starttls-inject":
                    # The injected reply rides in the same packet as the 220.
                    await send("220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 AUTH PLAIN\r\n")
                    await asyncio.sleep(1)
                    return
                await send("454 4.7.0 TLS not available\r\n")
            elif upper.startswith("AUTH"):
                words = verb.split()
                if len(words) < 3:
                    await send("334 \r\n")
                    await readline()
                await send(args.auth_reply + "\r\n")
            elif upper.startswith("MAIL FROM"):
                mails[0] += 1
                if args.mail_reply_count and mails[0] > args.mail_reply_count:
                    await send("250 2.1.0 Sender OK\r\n")
                else:
                    await send(args.mail_reply + "\r\n")
            elif upper.startswith("RCPT TO"):
                if args.rcpt_temp and args.rcpt_temp in verb:
                    await send("451 4.2.0 Try again later\r\n")
                elif args.rcpt_perm and args.rcpt_perm in verb:
                    await send("550 5.1.1 No such user here\r\n")
                else:
                    await send("250 2.1.5 Recipient OK\r\n")
            elif upper == "DATA":
                await send("354 End data with <CR><LF>.<CR><LF>\r\n")
                if args.scenario == "drop-in-data":
                    await reader.read(100)
                    writer.close()
                    return
                while True:
                    data = await reader.readline()
                    if not data:
                        return
                    if data == b".\r\n":
                        log("<end of data>")
                        break
                await send(args.data_reply + "\r\n")
            elif upper == "RSET":
                await send("250 2.0.0 OK\r\n")
            elif upper == "QUIT":
                await send("221 2.0.0 Bye\r\n")
                return
            elif upper == "*":
                await send("501 5.7.0 Authentication cancelled\r\n")
            else:
                await send("502 5.5.2 Command not recognised\r\n")
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, host="127.0.0.1", port=0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not os.read(sys.stdin.fileno(), 4096) else None)
    await stop.wait()
    server.close()


asyncio.run(main())
