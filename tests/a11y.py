#!/usr/bin/python3
"""The real window, read through the accessibility bus (AT-SPI), and driven by the keyboard alone.

Run under xvfb-run in a private D-Bus session (tests/isolated.sh); the accessibility bus starts by
D-Bus activation. Cases, reported as TAP:

  names      every page of the window (the welcome on a first start, and every page once set up),
             the Check Server and Send Test Email dialogs and the shortcuts window: any object a
             person can focus and act on (a button, an entry, a switch, a choice, a list row) must
             have a name a screen reader can say.
  keyboard   a first start driven by key events only (xdotool, real X key presses): the address,
             Find Settings, Use These Settings, Check Server, Send Test Email, Done; then a new
             mail (Ctrl+N) typed and sent (Ctrl+Enter). The test SMTP server must receive both.

The accessible tree is only read, never used to press anything in the keyboard case.

GTK 4.8 names an object without a name of its own by its type ("GtkListView", "AdwGizmo"): such a
name counts as none. Items of a drop-down list carry no name of their own; a screen reader reads
their label, so their label's text counts as theirs.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

os.environ["GTK_A11Y"] = "atspi"
os.environ.pop("NO_AT_BRIDGE", None)

import pyatspi  # noqa: E402  (after the environment above)

APP = sys.argv[1]
TOP = os.environ["MAILROOM_TOP_SRCDIR"]
SERVER = os.path.join(TOP, "tests", "servers", "smtp-server.py")

# What a person acts on. Containers that only hold focus for their children (lists, scroll panes)
# are not in it: their rows and buttons are.
ACTIONABLE = {
    "push button", "toggle button", "check box", "radio button", "text", "password text", "entry",
    "combo box", "spin button", "slider", "link", "menu item", "check menu item", "radio menu item",
    "switch", "list item", "page tab", "tree item", "toggle",
}
TYPE_NAME = re.compile(r"^(Gtk|Adw|Mr)[A-Za-z]+$")

results = []


def tap(ok, name, detail=""):
    results.append(ok)
    print(("ok" if ok else "not ok") + f" {len(results)} {name}", flush=True)
    for line in detail.splitlines():
        print(f"# {line}", flush=True)


def real_name(node):
    name = (node.name or "").strip()
    return "" if TYPE_NAME.match(name) else name


def label_text(node, depth=0):
    """The text of the labels inside @node, as a screen reader reads a list item."""
    if depth > 6:
        return ""
    texts = []
    for i in range(node.childCount):
        child = node.getChildAtIndex(i)
        if child is None:
            continue
        if child.getRoleName() == "label" and real_name(child):
            texts.append(real_name(child))
        else:
            texts.append(label_text(child, depth + 1))
    return " ".join(t for t in texts if t)


def walk(node, path, found, seen):
    """Lists (path, role) of every focusable, actionable object without a name."""
    try:
        role = node.getRoleName()
        state = node.getState()
    except Exception:  # an object that went while we read
        return
    here = path + ([f"{role} '{real_name(node)}'"] if real_name(node) or role not in ("panel", "filler") else [])
    seen[0] += 1
    if role in ACTIONABLE and state.contains(pyatspi.STATE_FOCUSABLE):
        name = real_name(node) or (label_text(node) if role == "list item" else "")
        if not name:
            found.append(" > ".join(here[-7:]))
    for i in range(node.childCount):
        child = node.getChildAtIndex(i)
        if child is not None:
            walk(child, here, found, seen)


def find_app(pid, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            app = desktop.getChildAtIndex(i)
            try:
                if app is not None and app.get_process_id() == pid and app.childCount > 0:
                    return app
            except Exception:
                pass
        time.sleep(0.1)
    raise RuntimeError("the window did not appear on the accessibility bus")


def frames(app):
    return [app.getChildAtIndex(i) for i in range(app.childCount) if app.getChildAtIndex(i) is not None]


def same_name(node, name):
    """GTK 4.8 names a button with a mnemonic "_Check Server Check Server": both count."""
    own = real_name(node)
    return own == name or own.replace("_", "") in (name, f"{name} {name}")


def find(node, role, name, depth=0):
    if depth > 60:
        return None
    try:
        if node.getRoleName() == role and same_name(node, name):
            return node
    except Exception:
        return None
    for i in range(node.childCount):
        child = node.getChildAtIndex(i)
        if child is not None:
            hit = find(child, role, name, depth + 1)
            if hit is not None:
                return hit
    return None


def wait_until(what, condition, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


class Home:
    """A home, XDG folders and a company file of the test's own."""

    def __init__(self, company=None):
        self.root = tempfile.mkdtemp(prefix="mailroom-a11y.")
        self.env = dict(os.environ)
        for var in ("CONFIG", "DATA", "CACHE", "STATE"):
            path = os.path.join(self.root, var.lower())
            os.makedirs(path)
            self.env[f"XDG_{var}_HOME"] = path
        self.company = os.path.join(self.root, "etc", "company.json")
        os.makedirs(os.path.dirname(self.company))
        self.env["MAILROOM_COMPANY_CONFIG"] = self.company
        if company is not None:
            with open(self.company, "w") as f:
                json.dump({"schema_version": 1, "settings": company}, f)

    def start(self):
        self.process = subprocess.Popen([APP], env=self.env)
        self.app = find_app(self.process.pid)
        time.sleep(1.0)   # the window's first frame
        return self.app

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def check_names(what, node):
    found, seen = [], [0]
    walk(node, [], found, seen)
    tap(not found and seen[0] > 20, f"names: {what} ({seen[0]} objects)",
        "\n".join(f"no name: {f}" for f in found))


def open_and_check(app, button, what):
    before = len(frames(app))
    target = find(app, "push button", button)
    if target is None:
        tap(False, f"names: {what}", f"no button named {button!r}")
        return
    target.queryAction().doAction(0)
    dialog = wait_until(what, lambda: len(frames(app)) > before and frames(app)[-1])
    time.sleep(1.5)   # the check runs against a closed port and shows its result
    check_names(what, dialog)
    close = find(dialog, "push button", "Close") or find(dialog, "push button", "Cancel")
    if close is not None:
        close.queryAction().doAction(0)
    wait_until(f"{what} to close", lambda: len(frames(app)) == before)


def case_names():
    home = Home()
    try:
        app = home.start()
        check_names("the first start (welcome)", app)
    finally:
        home.stop()

    with socket_closed_port() as port:
        home = Home({"smtp.host": "127.0.0.1", "smtp.port": port, "smtp.security": "none",
                     "smtp.auth": "none", "sender.from_address": "office@example.com",
                     "sender.from_name": "Example Office"})
        try:
            app = home.start()
            check_names("every page, set up", app)
            open_and_check(app, "Check Server", "the Check Server dialog")
            open_and_check(app, "Send Test Email", "the Send Test Email dialog")
        finally:
            home.stop()


class socket_closed_port:
    def __enter__(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc):
        return False


def xdotool(*args):
    subprocess.run(["xdotool", *args], check=True)


def keys(*names):
    for name in names:
        xdotool("key", "--clearmodifiers", name)
        time.sleep(0.25)


def type_text(text):
    xdotool("type", "--delay", "20", text)
    time.sleep(0.3)


def find_all(node, role, name, found=None, depth=0):
    found = [] if found is None else found
    if depth > 60:
        return found
    try:
        if node.getRoleName() == role and same_name(node, name):
            found.append(node)
        for i in range(node.childCount):
            child = node.getChildAtIndex(i)
            if child is not None:
                find_all(child, role, name, found, depth + 1)
    except Exception:
        pass
    return found


def focused(node, role, name):
    """Whether one of the objects so named has the focus (hidden pages hold others of the name)."""
    return any(n.getState().contains(pyatspi.STATE_FOCUSED) for n in find_all(node, role, name))


def case_keyboard():
    maildir = tempfile.mkdtemp(prefix="mailroom-a11y-mail.")
    server = subprocess.Popen(["/usr/bin/python3", SERVER, "--mode", "plain", "--maildir", maildir],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    home = Home()
    # Gmail as the presets know it, but at the test server, without a login (the keyboard path, not
    # the login, is what this case is about; /gui/welcome-to-test-email has the login).
    with open(os.path.join(TOP, "src", "engine", "settings", "presets.json")) as f:
        presets = json.load(f)
    for provider in presets["providers"]:
        if provider["id"] == "gmail":
            provider.update(host="127.0.0.1", port=port, security="none", auth=["none"])
            provider.pop("ports", None)
    presets_path = os.path.join(home.root, "presets.json")
    with open(presets_path, "w") as f:
        json.dump(presets, f)
    home.env["MAILROOM_PRESETS"] = presets_path
    steps = []

    def step(what, condition):
        wait_until(what, condition)
        steps.append(what)

    def messages():
        return sorted(n for n in os.listdir(maildir) if n.endswith(".eml"))

    try:
        app = home.start()
        window = frames(app)[0]
        # The window takes the keyboard focus, as a window manager would give it (there is none here).
        xdotool("search", "--sync", "--onlyvisible", "--pid", str(home.process.pid), "--name", "^Mailroom$", "windowfocus")
        time.sleep(0.5)
        # The welcome starts with the focus in the address field. (GTK 4.8 reports neither the focus
        # nor the text of an entry row on the bus: what the typing leads to shows it.)
        type_text("office@gmail.com")
        keys("Return")                                           # Find Settings
        step("Use These Settings is offered, with the focus", lambda: focused(window, "push button", "Use These Settings"))
        keys("Return")                                           # Use These Settings
        step("the login step", lambda: focused(window, "push button", "Check Server"))
        n = len(frames(app))
        keys("Return")                                           # Check Server
        step("the check dialog", lambda: len(frames(app)) > n)
        step("the server works", lambda: find(frames(app)[-1], "label", "The Server Works"))
        keys("Escape")
        step("the dialog closed", lambda: len(frames(app)) == n)
        step("Send Test Email has the focus", lambda: focused(window, "push button", "Send Test Email"))
        keys("Return")                                           # Send Test Email
        step("the test dialog", lambda: len(frames(app)) > n)
        time.sleep(0.5)
        keys("Return")                                           # Send, to the address itself
        step("the test email went", lambda: find(frames(app)[-1], "label", "Test Email Sent"))
        keys("Escape")
        step("Done has the focus", lambda: focused(window, "push button", "Done"))
        keys("Return")                                           # Done
        time.sleep(1.0)
        keys("ctrl+n")                                           # a new mail
        time.sleep(0.5)
        type_text("ann@example.org")
        keys("Tab", "Tab", "Tab")                                # past Cc and Bcc to Subject
        type_text("Sent with the keyboard")
        keys("ctrl+Return")                                      # Send
        step("both mails arrived", lambda: len(messages()) == 2)
        with open(os.path.join(maildir, messages()[1]), errors="replace") as f:
            mail = f.read()
        tap("Subject: Sent with the keyboard" in mail and "ann@example.org" in mail,
            "keyboard: first start, a test email and a mail sent with keys alone", "\n".join(steps))
    except Exception as error:  # report where it stopped, with the screen as it was
        shot = os.path.join(os.environ.get("MAILROOM_SCREENSHOT_DIR", tempfile.gettempdir()), "keyboard-stopped.png")
        subprocess.run(["import", "-window", "root", shot], check=False)
        steps.append(f"the screen: {shot}")
        tap(False, "keyboard: first start, a test email and a mail sent with keys alone",
            "\n".join(steps) + f"\nstopped: {error}")
    finally:
        home.stop()
        server.stdin.close()
        server.wait(timeout=10)
        shutil.rmtree(maildir, ignore_errors=True)


def main():
    cases = {"names": case_names, "keyboard": case_keyboard}
    chosen = sys.argv[2:] or list(cases)
    for name in chosen:
        try:
            cases[name]()
        except Exception as error:
            tap(False, name, f"stopped: {error}")
    print(f"1..{len(results)}", flush=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
