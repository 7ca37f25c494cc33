#!/usr/bin/python3
"""A DNS server for the tests: the records given, over UDP and TCP on one port, and every question
written down.

No real DNS server runs here for made-up names without root and port 53, so this stands in for
one, as RFC 1035 and RFC 2308 describe: an authoritative answer with the TTLs given, CNAMEs
followed within the records given, "no such name" (NXDOMAIN) or "no record of that type" (NODATA)
with the zone's SOA in the authority section, a truncated UDP answer when it would not fit 512
bytes (the client asks again over TCP), and a long TXT record in strings of 255 bytes.

It checks what it is asked: a query (QR 0, opcode 0), one question, class IN, no answers in it.
Anything else is answered FORMERR and written down as "BAD why".

  --maildir DIR                 (as the other servers) the questions go to DIR/queries, a line each
  --record TYPE NAME TTL VALUE  TXT, MX ("10 mx.example.test"), A, AAAA, CNAME
  --soa ZONE TTL MINIMUM        the SOA given with "nothing there" for names in ZONE
  --servfail NAME               questions about NAME get SERVFAIL
  --silent NAME                 questions about NAME get no answer at all (a timeout)

It prints "PORT n" when it listens, and stops when its standard input closes.
"""

import argparse
import os
import socket
import socketserver
import struct
import sys
import threading

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
NAMES = {number: name for name, number in TYPES.items()}

parser = argparse.ArgumentParser()
parser.add_argument("--maildir", required=True)
parser.add_argument("--record", nargs=4, action="append", default=[], metavar=("TYPE", "NAME", "TTL", "VALUE"))
parser.add_argument("--soa", nargs=3, action="append", default=[], metavar=("ZONE", "TTL", "MINIMUM"))
parser.add_argument("--servfail", action="append", default=[])
parser.add_argument("--silent", action="append", default=[])
args = parser.parse_args()

records = [(kind.upper(), name.lower().rstrip("."), int(ttl), value) for kind, name, ttl, value in args.record]
zones = [(zone.lower().rstrip("."), int(ttl), int(minimum)) for zone, ttl, minimum in args.soa]
servfail = {name.lower().rstrip(".") for name in args.servfail}
silent = {name.lower().rstrip(".") for name in args.silent}
log_path = os.path.join(args.maildir, "queries")
log_lock = threading.Lock()


def write_down(line):
    with log_lock, open(log_path, "a", encoding="utf-8") as log:
        log.write(line + "\n")


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def read_question(query):
    """The name, type and class of the one question, and where the question ends."""
    at, labels = 12, []
    while True:
        if at >= len(query):
            raise ValueError("the question's name runs past the message")
        length = query[at]
        if length & 0xC0:
            raise ValueError("a compressed name in a question")
        at += 1
        if length == 0:
            break
        labels.append(query[at:at + length].decode("ascii", "replace"))
        at += length
    if at + 4 > len(query):
        raise ValueError("the question has no type and class")
    qtype, qclass = struct.unpack("!HH", query[at:at + 4])
    return ".".join(labels).lower(), qtype, qclass, at + 4


def rdata(kind, value):
    if kind == "TXT":
        data = value.encode("utf-8")
        chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        return b"".join(bytes([len(chunk)]) + chunk for chunk in chunks)
    if kind == "MX":
        preference, host = value.split()
        return struct.pack("!H", int(preference)) + encode_name(host)
    if kind == "A":
        return socket.inet_pton(socket.AF_INET, value)
    if kind == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    if kind == "CNAME":
        return encode_name(value)
    raise ValueError(kind)


def resource(name, kind, ttl, data):
    return encode_name(name) + struct.pack("!HHIH", TYPES[kind], 1, ttl, len(data)) + data


def soa_for(name):
    for zone, ttl, minimum in zones:
        if name == zone or name.endswith("." + zone):
            data = encode_name("ns." + zone) + encode_name("hostmaster." + zone) + struct.pack("!IIIII", 1, 3600, 600, 86400, minimum)
            return resource(zone, "SOA", ttl, data)
    return None


def answer(query, over_tcp):
    """The reply to @query, or None for no reply at all."""
    if len(query) < 12:
        write_down("BAD a message shorter than its header")
        return None
    ident, flags, qdcount, ancount, nscount, _ = struct.unpack("!HHHHHH", query[:12])

    def reply(rcode, question=b"", answers=(), authority=(), truncated=False):
        out_flags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode | (0x0200 if truncated else 0)
        body = question + b"".join(answers) + b"".join(authority)
        return struct.pack("!HHHHHH", ident, out_flags, 1 if question else 0, len(answers), len(authority), 0) + body

    try:
        if flags & 0x8000 or (flags >> 11) & 0xF:
            raise ValueError("not a standard query")
        if qdcount != 1 or ancount or nscount:
            raise ValueError(f"{qdcount} questions, {ancount} answers, {nscount} authority records")
        name, qtype, qclass, end = read_question(query)
        if qclass != 1:
            raise ValueError(f"class {qclass}")
    except ValueError as why:
        write_down(f"BAD {why}")
        return reply(1)
    question = query[12:end]
    write_down(f"{NAMES.get(qtype, qtype)} {name}{' tcp' if over_tcp else ''}")
    if name in silent:
        return None
    if name in servfail:
        return reply(2, question)

    answers, wanted, seen = [], name, set()
    while wanted not in seen:
        seen.add(wanted)
        found = [r for r in records if r[1] == wanted and TYPES[r[0]] == qtype]
        alias = [r for r in records if r[1] == wanted and r[0] == "CNAME"]
        if found:
            answers += [resource(r[1], r[0], r[2], rdata(r[0], r[3])) for r in found]
            break
        if not alias:
            break
        answers.append(resource(alias[0][1], "CNAME", alias[0][2], rdata("CNAME", alias[0][3])))
        wanted = alias[0][3].lower().rstrip(".")
    if any(TYPES[r[0]] == qtype for r in records if r[1] == wanted):
        message = reply(0, question, answers)
        if not over_tcp and len(message) > 512:
            return reply(0, question, truncated=True)
        return message
    exists = any(r[1] == wanted for r in records)
    soa = soa_for(wanted)
    return reply(0 if exists else 3, question, answers, [soa] if soa else [])


class Udp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        out = answer(data, False)
        if out is not None:
            sock.sendto(out, self.client_address)


class Tcp(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            size = self.rfile.read(2)
            if len(size) < 2:
                return
            data = self.rfile.read(struct.unpack("!H", size)[0])
            out = answer(data, True)
            if out is None:
                return
            self.wfile.write(struct.pack("!H", len(out)) + out)


class ThreadedUdp(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True


class ThreadedTcp(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    for _ in range(20):   # a UDP port whose TCP twin is free too
        udp = ThreadedUdp(("127.0.0.1", 0), Udp)
        port = udp.server_address[1]
        try:
            tcp = ThreadedTcp(("127.0.0.1", port), Tcp)
            break
        except OSError:
            udp.server_close()
    else:
        sys.exit("no port free for both UDP and TCP")
    for server in (udp, tcp):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    open(log_path, "a", encoding="utf-8").close()
    print(f"PORT {port}", flush=True)
    sys.stdin.read()
    udp.shutdown()
    tcp.shutdown()


if __name__ == "__main__":
    main()
