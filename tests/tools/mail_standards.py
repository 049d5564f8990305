"""Checks messages against the mail standards, independently of infoflash's own code.

Usage: python3 mail_standards.py FILE.eml...
Prints one JSON object with an entry for every file: {"FILE": {"problems": ["...", ...],
"headers": {"subject": "...", "to": "...", "list-id": "...", ...}, "text": "..."}}, the problems
empty when the message is fine, the headers as a mail program decodes them, and the text part. Exit status 0 unless a file
cannot be read.

What is checked, and where the rule comes from:
- RFC 5322 2.1.1: every line at most 998 octets, lines end in CRLF (no bare CR or LF).
- RFC 2045 6.7: quoted-printable lines at most 76 characters.
- RFC 5322 / 2047 via Python's `email` package with `policy.strict` (raise on any defect):
  every header of the message and of each part parses.
- RFC 2047 5: an encoded word never stands inside a quoted string.
- RFC 2919: List-Id is an optional phrase and one <list-id>, nothing after it.
- RFC 6532 aside (not used), header bytes are ASCII.
"""
import email
import json
import re
import sys
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser

ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
LIST_ID = re.compile(r"^(?P<phrase>[^<>]*)<(?P<id>[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+)>\s*$")
DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+$")


def raw_headers(block):
    """(name, unfolded raw value) pairs of a header block (bytes)."""
    out = []
    for line in block.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and out:
            out[-1][1] += b" " + line.strip()
        elif line:
            name, _, value = line.partition(b":")
            out.append([name.decode("ascii", "replace"), value.strip()])
    return out


def decoded_headers(data):
    msg = BytesParser(policy=policy.default).parsebytes(data)
    headers = {name.lower(): str(value) for name, value in msg.items()}
    raw = dict((n.lower(), v.decode("ascii", "replace")) for n, v in raw_headers(data.split(b"\r\n\r\n", 1)[0]))
    for name in ("from", "to", "reply-to"):
        if msg[name] is None or not msg[name].addresses:
            continue
        phrase = raw[name].rsplit("<", 1)[0].strip()
        if "=?" in phrase:
            # The address parser keeps the folding space between adjacent encoded words,
            # which RFC 2047 6.2 says to drop; the older decoder follows the RFC.
            headers[name + " name"] = str(make_header(decode_header(phrase)))
        else:
            headers[name + " name"] = msg[name].addresses[0].display_name
    return headers


def text_part(data):
    """The text/plain part, decoded, or None."""
    msg = BytesParser(policy=policy.default).parsebytes(data)
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else None


def check(data):
    problems = []
    lines = data.split(b"\n")
    for n, line in enumerate(lines, 1):
        if n < len(lines) and not line.endswith(b"\r"):
            problems.append(f"line {n}: ends in a bare LF")
        body = line[:-1] if line.endswith(b"\r") else line
        if b"\r" in body:
            problems.append(f"line {n}: bare CR")
        if len(body) > 998:
            problems.append(f"line {n}: {len(body)} octets (RFC 5322 allows 998)")

    # Every header block: the message's and each part's.
    blocks = [data.split(b"\r\n\r\n", 1)[0]]
    try:
        msg = BytesParser(policy=policy.strict).parsebytes(data)
    except Exception as e:  # noqa: BLE001 - any defect is a finding
        return problems + [f"policy.strict refuses the message: {type(e).__name__}: {e}"]
    for part in msg.walk():
        for name, value in part.items():
            try:
                str(value)
            except Exception as e:  # noqa: BLE001
                problems.append(f"{name}: {type(e).__name__}: {e}")
            if getattr(value, "defects", None):
                problems.append(f"{name}: defects {[type(d).__name__ for d in value.defects]}")
        cte = (part.get("Content-Transfer-Encoding") or "").lower()
        if cte == "quoted-printable" and not part.is_multipart():
            payload = part.get_payload(decode=False)
            for n, line in enumerate(payload.split("\n"), 1):
                line = line.rstrip("\r")
                if len(line) > 76:
                    problems.append(f"{part.get_content_type()} line {n}: {len(line)} quoted-printable characters (RFC 2045 allows 76)")

    for name, value in raw_headers(blocks[0]):
        try:
            text = value.decode("ascii")
        except UnicodeDecodeError:
            problems.append(f"{name}: raw non-ASCII bytes")
            continue
        for quoted in QUOTED.findall(text):
            if ENCODED_WORD.search(quoted):
                problems.append(f"{name}: an encoded word inside a quoted string: {quoted[:80]}")
        if name.lower() == "list-id":
            m = LIST_ID.match(text)
            if not m:
                problems.append(f"List-Id: not `phrase <id>`: {text[:120]}")
            elif not DOT_ATOM.match(m.group("id")):
                problems.append(f"List-Id: the id is not a dot-atom: {m.group('id')}")
            elif m.group("phrase").count('"') % 2:
                problems.append(f"List-Id: unbalanced quotes in the phrase: {m.group('phrase')}")
    return problems


def main():
    report = {}
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        report[path] = {"problems": check(data), "headers": decoded_headers(data), "text": text_part(data)}
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
