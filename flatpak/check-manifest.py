#!/usr/bin/python3
"""Checks the Flatpak manifest, which cannot be built here: valid JSON, the app ID, the GNOME runtime,
read access to the host's company file, what the mailshot timer needs, the libraries the runtime lacks
(libgsf, GMime) built from checked archives, and a module that builds this project with meson."""
import json
import sys

path, app_id = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    manifest = json.load(f)

problems = []
if manifest.get("id") != app_id:
    problems.append(f"id is {manifest.get('id')!r}, not {app_id!r}")
if manifest.get("runtime") != "org.gnome.Platform" or manifest.get("sdk") != "org.gnome.Sdk":
    problems.append("the runtime must be the GNOME one")
args = manifest.get("finish-args", [])
# The mailshot timer: its units in the host's ~/.config/systemd/user, systemd asked over D-Bus.
for needed in ("--filesystem=host-etc:ro", "--talk-name=org.freedesktop.secrets", "--share=network",
               "--talk-name=org.freedesktop.systemd1", "--filesystem=xdg-config/systemd/user:create"):
    if needed not in args:
        problems.append(f"finish-args lacks {needed}")
if "--env=MAILROOM_COMPANY_CONFIG=/run/host/etc/xdg/mailroom/company.json" not in args:
    problems.append("MAILROOM_COMPANY_CONFIG must point at /run/host/etc/xdg/mailroom/company.json")
modules = manifest.get("modules", [])
if not modules or modules[-1].get("name") != "mailroom" or modules[-1].get("buildsystem") != "meson":
    problems.append("the last module must build mailroom with meson")
# What the GNOME runtime lacks and the engine links: each built before mailroom.
names = [module.get("name") for module in modules]
for needed in ("libgsf", "gmime"):
    if needed not in names[:-1]:
        problems.append(f"no {needed} module before mailroom: the GNOME runtime does not have it")
for module in modules:
    for source in module.get("sources", []):
        if source.get("type") in ("archive", "file") and not source.get("sha256"):
            problems.append(f"module {module.get('name')}: a downloaded source needs a sha256")

for problem in problems:
    print(f"{path}: {problem}")
print(f"{path}: {'ok' if not problems else 'broken'}")
sys.exit(1 if problems else 0)
