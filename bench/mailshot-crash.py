#!/usr/bin/python3
"""Crash safety: a mailshot killed with SIGKILL at random moments and resumed each time.

Counts, from what the server received, the recipients never reached (goal 0) and the mails that
arrived twice (goal: at most one per kill, the mail in flight at that moment).
Usage: mailshot-crash.py MAILROOM-CLI SERVER-SCRIPT WORKDIR [RECIPIENTS] [KILLS] [CONNECTIONS]
With several connections, as many mails are in flight at each kill.
"""
import collections, glob, json, os, random, signal, subprocess, sys, time

cli, server_script, work = sys.argv[1:4]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
kills = int(sys.argv[5]) if len(sys.argv) > 5 else 20
connections = int(sys.argv[6]) if len(sys.argv) > 6 else 1
maildir = os.path.join(work, "crash-maildir")
os.makedirs(maildir, exist_ok=True)
env = dict(os.environ, XDG_DATA_HOME=os.path.join(work, "crash-data"), XDG_CACHE_HOME=os.path.join(work, "crash-cache"),
           XDG_CONFIG_HOME=os.path.join(work, "crash-config"), MAILROOM_COMPANY_CONFIG=os.path.join(work, "crash-company.json"))

server = subprocess.Popen(["/usr/bin/python3", server_script, "--mode", "plain", "--maildir", maildir],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
port = int(server.stdout.readline().split()[1])
with open(env["MAILROOM_COMPANY_CONFIG"], "w") as f:
    json.dump({"schema_version": 1, "settings": {"smtp.host": "127.0.0.1", "smtp.port": port, "smtp.security": "none",
                                                  "smtp.auth": "none", "sender.from_address": "bench@example.com"}}, f)
template = os.path.join(work, "crash-template.json")
with open(template, "w") as f:
    json.dump({"schema_version": 1, "name": "Crash", "subject": "Hello {{name}}", "text": "Dear {{name}}"}, f)
recipients = os.path.join(work, "crash-list.csv")
with open(recipients, "w") as f:
    f.write("email,name\n")
    for i in range(count):
        f.write(f"p{i}@example.org,P{i}\n")

random.seed(2026)
command = [cli, "mailshot", "--template", template, "--recipients", recipients, "--connections", str(connections)]
done_kills = 0
def job_written():
    return subprocess.run([cli, "mailshot", "status", "1"], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 65


for _ in range(kills):
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The first kill comes once the job is in the journal: before that, there is nothing to resume.
    while done_kills == 0 and not job_written() and process.poll() is None:
        time.sleep(0.01)
    time.sleep(random.uniform(0.02, 0.2))
    if process.poll() is not None:
        break
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_kills += 1
    command = [cli, "mailshot", "resume", "1"]
final = subprocess.run([cli, "mailshot", "resume", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
server.stdin.close()
server.wait()

received = collections.Counter()
for path in glob.glob(os.path.join(maildir, "*.json")):
    with open(path) as f:
        for rcpt in json.load(f)["rcpt_tos"]:
            received[rcpt] += 1
lost = sum(1 for i in range(count) if received[f"p{i}@example.org"] == 0)
twice = sum(n - 1 for n in received.values() if n > 1)
print(f"Crash safety: {count} recipients, {connections} connection(s), {done_kills} kills (SIGKILL at random moments), resumed each time")
print(f"  never reached: {lost} (goal 0); arrived twice: {twice} (goal at most {done_kills * connections}); final exit {final.returncode}")
