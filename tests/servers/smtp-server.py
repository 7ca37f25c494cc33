#!/usr/bin/python3
"""A real SMTP server for the tests: aiosmtpd, bound to 127.0.0.1 port 0.

Prints "PORT <n>" once it listens, then serves until its standard input closes. Every message it
accepts is written to --maildir as N.eml (the data as received, dot-unstuffed) and N.json (envelope).
AUTH: PLAIN and LOGIN through aiosmtpd, and CRAM-MD5, SCRAM-SHA-256 and XOAUTH2 implemented here,
each checking the client's proof for real.
"""
import argparse
import time
import asyncio
import base64
import hashlib
import hmac
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, auth_mechanism

parser = argparse.ArgumentParser()
parser.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--user", action="append", default=[], help="login:password")
parser.add_argument("--token", action="append", default=[], help="login:token for XOAUTH2")
parser.add_argument("--auth-required", action="store_true")
parser.add_argument("--exclude", action="append", default=[], help="an AUTH mechanism not to offer")
parser.add_argument("--only", action="append", default=[], help="offer only these AUTH mechanisms")
parser.add_argument("--maildir", required=True)
parser.add_argument("--size", type=int, default=0)
parser.add_argument("--rcpt-temp-once", help="a recipient containing this gets 451 the first time, 250 after")
parser.add_argument("--rcpt-perm", help="a recipient containing this gets 550 every time")
parser.add_argument("--port", type=int, default=0, help="0: any free port")
args = parser.parse_args()

users = dict(u.split(":", 1) for u in args.user)
tokens = dict(t.split(":", 1) for t in args.token)
counter = 0
deferred = set()


def b64(data):
    return base64.b64encode(data).decode()


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if args.rcpt_perm and args.rcpt_perm in address:
            return "550 5.1.1 No such user here"
        if args.rcpt_temp_once and args.rcpt_temp_once in address and address not in deferred:
            deferred.add(address)
            return "451 4.2.0 Try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        global counter
        counter += 1
        path = os.path.join(args.maildir, str(counter))
        with open(path + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(path + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "mail_options": envelope.mail_options, "rcpt_options": envelope.rcpt_options,
                       "smtp_utf8": envelope.smtp_utf8,
                       "tls": session.ssl is not None or args.mode == "tls",
                       "received_at": time.monotonic(),
                       "login": session.auth_data.decode() if isinstance(session.auth_data, bytes)
                       else session.auth_data}, f)
        return f"250 2.0.0 OK queued as {counter}"

    @auth_mechanism("CRAM-MD5")
    async def auth_CRAM_MD5(self, server, words):
        challenge = f"<{os.urandom(6).hex()}@mx.test>".encode()
        response = await server.challenge_auth(challenge)
        if not isinstance(response, bytes) or b" " not in response:
            return AuthResult(success=False, handled=False)
        login, digest = response.decode().rsplit(" ", 1)
        password = users.get(login)
        good = password is not None and hmac.compare_digest(
            hmac.new(password.encode(), challenge, hashlib.md5).hexdigest(), digest)
        return AuthResult(success=good, handled=False, auth_data=login.encode() if good else None)

    @auth_mechanism("SCRAM-SHA-256")
    async def auth_SCRAM_SHA_256(self, server, words):
        return await self.scram(server, words, "sha256")

    # Postfix with Cyrus SASL, and Dovecot, offer SCRAM-SHA-1 (RFC 5802).
    @auth_mechanism("SCRAM-SHA-1")
    async def auth_SCRAM_SHA_1(self, server, words):
        return await self.scram(server, words, "sha1")

    async def scram(self, server, words, hash_name):
        digest = getattr(hashlib, hash_name)
        first = base64.b64decode(words[1]) if len(words) > 1 else await server.challenge_auth(b"")
        if not isinstance(first, bytes) or not first.startswith(b"n,,"):
            return AuthResult(success=False, handled=False)
        bare = first[3:].decode()
        fields = dict(part.split("=", 1) for part in bare.split(","))
        login = fields["n"].replace("=2C", ",").replace("=3D", "=")
        password = users.get(login, "")
        salt, iterations = os.urandom(16), 4096
        nonce = fields["r"] + b64(os.urandom(12))
        server_first = f"r={nonce},s={b64(salt)},i={iterations}"
        final = await server.challenge_auth(server_first.encode())
        if not isinstance(final, bytes):
            return AuthResult(success=False, handled=False)
        final = final.decode()
        without_proof, _, proof = final.rpartition(",p=")
        if not without_proof.startswith("c=biws,r=" + nonce):
            return AuthResult(success=False, handled=False)
        salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), salt, iterations)
        client_key = hmac.new(salted, b"Client Key", digest).digest()
        stored_key = digest(client_key).digest()
        auth_message = f"{bare},{server_first},{without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, digest).digest()
        expected = bytes(a ^ b for a, b in zip(client_key, signature))
        if login not in users or not hmac.compare_digest(base64.b64decode(proof), expected):
            return AuthResult(success=False, handled=False)
        server_key = hmac.new(salted, b"Server Key", digest).digest()
        verifier = hmac.new(server_key, auth_message, digest).digest()
        await server.challenge_auth(b"v=" + base64.b64encode(verifier))
        return AuthResult(success=True, handled=False, auth_data=login.encode())

    async def auth_XOAUTH2(self, server, words):
        data = base64.b64decode(words[1]) if len(words) > 1 else await server.challenge_auth(b"")
        parts = dict(p.split("=", 1) for p in data.decode().split("\x01") if "=" in p)
        login, bearer = parts.get("user"), parts.get("auth", "")
        if login in tokens and bearer == "Bearer " + tokens[login]:
            return AuthResult(success=True, handled=False, auth_data=login.encode())
        # Google and Microsoft explain a refused token in a 334, and wait for an empty line.
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}).encode())
        return AuthResult(success=False, handled=False)


def authenticator(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword):
        login, password = auth_data.login.decode(), auth_data.password.decode()
        good = login in users and users[login] == password
        # handled=False: aiosmtpd itself answers 535 to a failure.
        return AuthResult(success=good, handled=False, auth_data=login if good else None)
    return AuthResult(success=False, handled=False)


context = None
if args.mode != "plain":
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

exclude = list(args.exclude)
if args.only:
    exclude += [m for m in ("SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN", "XOAUTH2")
                if m not in args.only]


class SizedSMTP(SMTP):
    """aiosmtpd announces SIZE from data_size_limit; the tests set it."""


def factory():
    return SizedSMTP(Handler(), hostname="mx.test",
                     tls_context=context if args.mode == "starttls" else None,
                     require_starttls=args.mode == "starttls",
                     authenticator=authenticator, auth_required=args.auth_required,
                     auth_require_tls=args.mode == "starttls",
                     auth_exclude_mechanism=exclude,
                     data_size_limit=args.size or 33554432,
                     enable_SMTPUTF8=True)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host="127.0.0.1", port=args.port,
                                      ssl=context if args.mode == "tls" else None)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not os.read(sys.stdin.fileno(), 4096) else None)
    await stop.wait()
    server.close()


asyncio.run(main())
