#!/usr/bin/python3
"""Serves the files of a folder (--maildir, as mr_test_server_start() names the server's own) over
HTTP on 127.0.0.1 (port 0), says "PORT N", and stops when its standard input closes: the web pages
that pictures are fetched from in the tests."""
import argparse
import functools
import http.server
import sys
import threading


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


parser = argparse.ArgumentParser()
parser.add_argument('--maildir', required=True)
folder = parser.parse_args().maildir
server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=folder))
print('PORT', server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
server.shutdown()
