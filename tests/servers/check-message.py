#!/usr/bin/python3
"""Parses a delivered message with Python's email package (policy default) and prints a JSON report:
defects on every part and header, the longest line, headers, and the text of each part."""
import email
import json
import sys
from email import policy

with open(sys.argv[1], "rb") as f:
    raw = f.read()

message = email.message_from_bytes(raw, policy=policy.default)
defects = []
parts = []
for part in message.walk():
    defects += [f"{type(d).__name__}: {d}" for d in part.defects]
    for name, value in part.items():
        defects += [f"{name}: {type(d).__name__}" for d in getattr(value, "defects", [])]
    if not part.is_multipart():
        parts.append({"type": part.get_content_type(), "text": part.get_content() if part.get_content_maintype() == "text" else None})

def structure(part):
    if part.is_multipart():
        return part.get_content_type() + "[" + ",".join(structure(p) for p in part.iter_parts()) + "]"
    return part.get_content_type()


attachments = []
for part in message.walk():
    if part.is_multipart() or part.get_content_maintype() == "text" and not part.get_filename():
        continue
    payload = part.get_payload(decode=True) or b""
    attachments.append({"filename": part.get_filename(), "content_id": part["Content-ID"],
                        "disposition": part.get_content_disposition(), "type": part.get_content_type(),
                        "size": len(payload)})

# The HTML part as a browser's parser reads it (html.parser): its tags, links and text.
from html.parser import HTMLParser


class Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.links, self.images, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "a":
            self.links.append(attrs.get("href"))
        if tag == "img":
            self.images.append(attrs.get("src"))

    def handle_data(self, data):
        self.text.append(data)


outline = Outline()
for part in parts:
    if part["type"] == "text/html":
        outline.feed(part["text"])
        break

lines = raw.split(b"\r\n")
print(json.dumps({
    "defects": defects,
    "longest_line": max(len(line) for line in lines),
    "bare_lf": b"\n" in raw.replace(b"\r\n", b""),
    "subject": str(message["Subject"]) if message["Subject"] else None,
    "from": str(message["From"]) if message["From"] else None,
    "from_display": message["From"].addresses[0].display_name if message["From"] else None,
    "to": str(message["To"]) if message["To"] else None,
    "cc": str(message["Cc"]) if message["Cc"] else None,
    "has_bcc": message["Bcc"] is not None,
    "reply_to": str(message["Reply-To"]) if message["Reply-To"] else None,
    "message_id": str(message["Message-ID"]) if message["Message-ID"] else None,
    "date": str(message["Date"]) if message["Date"] else None,
    "list_unsubscribe": str(message["List-Unsubscribe"]) if message["List-Unsubscribe"] else None,
    "list_unsubscribe_post": str(message["List-Unsubscribe-Post"]) if message["List-Unsubscribe-Post"] else None,
    "parts": parts,
    "html_tags": outline.tags,
    "html_links": outline.links,
    "html_images": outline.images,
    "html_text": "".join(outline.text),
    "structure": structure(message),
    "attachments": attachments,
}))
