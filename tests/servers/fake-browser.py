#!/usr/bin/python3
"""A browser for the tests, registered for https:// in the isolated XDG folders (a .desktop file and
mimeapps.list). It does what a person does at a sign-in page: opens the address (trusting the tests'
CA), lets the page sign them in, and follows the redirect back to Mailroom's loopback address.
Every address it was asked to open is appended to $MAILROOM_FAKE_BROWSER_LOG; with
$MAILROOM_FAKE_BROWSER_DELAY_MS it takes that long, as a person does."""
import os
import ssl
import sys
import time
import urllib.request

url = sys.argv[1]
log = os.environ.get("MAILROOM_FAKE_BROWSER_LOG")
if log:
    with open(log, "a") as f:
        f.write(url + "\n")
# An empty variable is as if unset (the tests keep every variable they change set, see mr_test_setenv()).
time.sleep(int(os.environ.get("MAILROOM_FAKE_BROWSER_DELAY_MS") or "0") / 1000)
context = ssl.create_default_context(cafile=os.environ.get("MAILROOM_FAKE_BROWSER_CA") or None)
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
try:
    with opener.open(url, timeout=10) as page:
        page.read()
except Exception as error:  # the test sees the missing sign-in; say why here
    print("fake-browser:", error, file=sys.stderr)
    sys.exit(1)
