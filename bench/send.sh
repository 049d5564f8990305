#!/usr/bin/env bash
# Benchmark: `infoflash send` over SMTP against two peers, in one run, on one machine, to one
# Postfix smtp-sink, with the same message (the sample edition as infoflash renders it):
#
#   - mailmerge (PyPI, the popular command-line mail merge), run as its users run it: an HTML
#     template greeting each recipient, one connection per message,
#   - smtp-source (Postfix's SMTP load generator: the practical ceiling), with as many
#     parallel sessions as infoflash has connections, each kept open (-d).
#
# infoflash sends to RECIPIENTS (default 100,000) generated recipients, with its journal, its
# rendering and the per-recipient personalisation included in the time; its peak memory is read
# by /usr/bin/time. mailmerge is slow enough that a sample of MAILMERGE (default 2,000)
# messages gives its rate. The figures are ratios of rates measured in this run, because the
# machine is shared and noisy. The sink writes every message to disk (emptied between peers).
# Targets: >= 10x mailmerge, >= 75% of smtp-source, <= 64 MB at 100,000 recipients.
#
# Usage: bench/send.sh [RECIPIENTS] [MAILMERGE] [CONNECTIONS]   (defaults 100000 2000 4)
# Needs: postfix (smtp-sink, smtp-source), time, python3 with venv; installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
recipients=${1:-100000}
mailmerge_n=${2:-2000}
connections=${3:-4}
work=$(pwd)/bench/work/send
rm -rf "$work/state" "$work/outbox" "$work/mailmerge"
mkdir -p "$work/recipients" "$work/editions" "$work/mailmerge"

sink_bin=/usr/sbin/smtp-sink
source_bin=/usr/sbin/smtp-source
missing=()
[ -x "$sink_bin" ] && [ -x "$source_bin" ] || missing+=(postfix)
[ -x /usr/bin/time ] || missing+=(time)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
venv=$(pwd)/bench/work/venv
if [ ! -x "$venv/bin/mailmerge" ]; then
  echo "bench: installing mailmerge into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet mailmerge
fi

cargo build --release --locked --quiet
bin=$(pwd)/target/release/infoflash

# --- the project: the sample edition, a generated list, SMTP to the sink ---------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
list="$work/recipients/generated-$recipients.csv"
if [ ! -f "$list" ]; then
  python3 - "$recipients" "$list" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
regions = ["africa", "arab-states", "asia-pacific", "europe-north-america", "latin-america-caribbean"]
languages = ["en", "fr", "es"]
with open(path, "w", encoding="utf-8") as f:
    f.write("email,name,language,region\n")
    for i in range(n):
        f.write(f"person{i}@school{i % 5000}.example.org,Person {i},{languages[i % 3]},{regions[i % 5]}\n")
PY
fi
cp editions/2026-01-info-flash-22.toml "$work/editions/"
cp -r data "$work/"
printf 'email,reason,date\n' > "$work/recipients/suppression.csv"
sed -e "s|^lists = .*|lists = [\"recipients/generated-$recipients.csv\"]|" -e '/^\[offices/,$d' infoflash.toml > "$work/infoflash.toml"
cat >> "$work/infoflash.toml" <<EOF

[delivery]
relay = "smtp://127.0.0.1:$port"
connections = $connections
rate = 1000000
EOF

sink_pid=""
start_sink() {
  local as=()
  [ "$(id -u)" -ne 0 ] || as=(-u nobody)
  "$sink_bin" "${as[@]}" "$@" "127.0.0.1:$port" 256 &
  sink_pid=$!
  for _ in $(seq 100); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && return
    sleep 0.05
  done
  echo "bench: smtp-sink did not start" >&2; exit 2
}
stop_sink() { kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; }
trap stop_sink EXIT
now() { date +%s.%N; }

# --- one message as infoflash sends it: the peers send exactly this ---------------------------
chmod 777 "$work/mailmerge"
start_sink -d "$work/mailmerge/infoflash-%s."
( cd "$work" && "$bin" send editions/2026-01-info-flash-22.toml --test sample@example.org > /dev/null )
stop_sink
sample=$(ls "$work"/mailmerge/infoflash-* | head -1)
# smtp-sink prefixes its own X- lines; smtp-source wants LF line ends (it sends CRLF).
sed -e '/^X-\(Client\|Helo\|Mail\|Rcpt\)-Args:/d' -e 's/\r$//' "$sample" > "$work/message.eml"
size=$(wc -c < "$work/message.eml")

# mailmerge as its users run it: an HTML template (the edition's HTML, as `infoflash build`
# writes it), greeting each recipient by name; mailmerge builds each MIME message itself.
( cd "$work" && "$bin" build editions/2026-01-info-flash-22.toml --language en --out "$work/build" > /dev/null )
python3 - "$work/build/2026-01-info-flash-22/en/email.html" "$work/template.txt" <<'PY'
import sys
html = open(sys.argv[1], encoding="utf-8").read()
template = ("TO: {{email}}\nSUBJECT: Info Flash N°22\nFROM: Info Flash <flash@example.org>\n"
            "CONTENT-TYPE: text/html\n\n<p>Dear {{name}},</p>\n{% raw %}" + html + "{% endraw %}\n")
open(sys.argv[2], "w", encoding="utf-8").write(template)
PY
head -n $((mailmerge_n + 1)) "$list" | cut -d, -f1,2 > "$work/mailmerge/database.csv"
cat > "$work/mailmerge/server.conf" <<EOF
[smtp_server]
host = 127.0.0.1
port = $port
ratelimit = 0
EOF

# --- the runs: the sink writes every message to disk, as a real relay's queue would -----------
dump="$work/dump"
fresh_dump() { rm -rf "$dump"; mkdir -p "$dump"; chmod 777 "$dump"; }
fresh_dump
start_sink -d "$dump/%s."
t0=$(now)
( cd "$work" && /usr/bin/time -v "$bin" send editions/2026-01-info-flash-22.toml > send.out 2> time.txt ) \
  || { cat "$work/time.txt" >&2; echo "bench: infoflash send failed" >&2; exit 1; }
t1=$(now)
delivered=$(cd "$work" && "$bin" status editions/2026-01-info-flash-22.toml --json \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])')
[ "$delivered" -eq "$recipients" ] || { echo "bench: infoflash delivered $delivered of $recipients" >&2; exit 1; }

fresh_dump
t2=$(now)
"$source_bin" -d -s "$connections" -m "$recipients" -F "$work/message.eml" \
  -f flash@example.org -t person@example.org "127.0.0.1:$port"
t3=$(now)

fresh_dump
t4=$(now)
( cd "$work/mailmerge" && "$venv/bin/mailmerge" --no-dry-run --no-limit --output-format raw \
    --template ../template.txt --database database.csv --config server.conf > /dev/null 2> mailmerge.err ) \
  || { tail "$work/mailmerge/mailmerge.err" >&2; echo "bench: mailmerge failed" >&2; exit 1; }
t5=$(now)
stop_sink
rm -rf "$dump"

mb=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$work/time.txt")
python3 - "$recipients" "$mailmerge_n" "$connections" "$size" "$mb" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" <<'PY'
import sys
n, m, c, size = (int(x) for x in sys.argv[1:5])
mb = float(sys.argv[5])
t = [float(x) for x in sys.argv[6:]]
ours, source, merge = n / (t[1] - t[0]), n / (t[3] - t[2]), m / (t[5] - t[4])
print(f"message: {size} bytes (the sample edition, en); {c} connections; same smtp-sink")
print(f"infoflash    {n:>7} messages  {t[1]-t[0]:7.2f} s  {ours:8.1f} msg/s  peak {mb} MB")
print(f"smtp-source  {n:>7} messages  {t[3]-t[2]:7.2f} s  {source:8.1f} msg/s")
print(f"mailmerge    {m:>7} messages  {t[5]-t[4]:7.2f} s  {merge:8.1f} msg/s")
print(f"infoflash / mailmerge   = {ours / merge:6.1f}x   (target >= 10x)")
print(f"infoflash / smtp-source = {100 * ours / source:6.1f}%   (target >= 75%)")
print(f"infoflash peak memory   = {mb} MB at {n} recipients (target <= 64 MB)")
ok = ours / merge >= 10 and ours / source >= 0.75 and (mb <= 64 or n < 100000)
sys.exit(0 if ok else 1)
PY
