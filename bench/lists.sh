#!/usr/bin/env bash
# Benchmark: `infoflash lists` over a generated 1,000,000-row list (realistic columns, 1% of
# rows invalid, 2% duplicates, a suppression list), reporting wall time and peak memory
# (/usr/bin/time -v). Targets on this 2-core machine: <= 3 s and <= 150 MB.
#
# Usage: bench/lists.sh [ROWS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
work=bench/work/lists
mkdir -p "$work/recipients"
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install -y time)" >&2; exit 2; }

list="$work/recipients/generated-$rows.csv"
if [ ! -f "$list" ]; then
  echo "bench: generating $list" >&2
  python3 - "$rows" "$list" <<'PY'
import random, sys
rows, path = int(sys.argv[1]), sys.argv[2]
random.seed(1)
regions = ["africa", "arab-states", "asia-pacific", "europe-north-america", "latin-america-caribbean"]
languages = ["en", "fr", "es", "ar", "ru", "zh", ""]
roles = ["Teacher", "Principal", "National Coordinator", "Partner"]
with open(path, "w", encoding="utf-8") as f:
    f.write("email,name,language,region,country,role,tags,school,city\n")
    for i in range(rows):
        r = random.random()
        n = random.randrange(i) if r < 0.02 and i else i      # 2% duplicates of an earlier row
        email = f"person{n}@school{n % 5000}.example.org" if r >= 0.01 else f"broken{i}.example.org"
        f.write(f"{email},Person {n},{random.choice(languages)},{random.choice(regions)},"
                f"Country {n % 190},{random.choice(roles)},tag{n % 7};tag{n % 11},"
                f"\"School {n % 5000}, campus {n % 3}\",City {n % 900}\n")
PY
fi
printf 'email,reason,date\n' > "$work/recipients/suppression.csv"
for i in $(seq 0 997 20000); do printf 'person%d@school%d.example.org,unsubscribed,2025-01-01\n' "$i" "$((i % 5000))"; done >> "$work/recipients/suppression.csv"
printf '*@school4999.example.org,domain closed,2025-01-01\n' >> "$work/recipients/suppression.csv"
sed -e 's|^lists = .*|lists = ["recipients/generated-'"$rows"'.csv"]|' -e '/^\[offices/,$d' infoflash.toml > "$work/infoflash.toml"

cargo build --release --locked --quiet
bin=$(pwd)/target/release/infoflash
( cd "$work" && /usr/bin/time -v "$bin" lists --json > summary.json 2> time.txt ) || true
secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$work/time.txt")
mb=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$work/time.txt")
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("rows %(rows)d, valid %(valid)d, invalid %(invalid)d, duplicates %(duplicates)d, suppressed %(suppressed)d, deliverable %(deliverable)d" % d)' "$work/summary.json"
echo "infoflash lists, $rows rows: ${secs} s, peak ${mb} MB (targets: <= 3 s, <= 150 MB)"
awk -v s="$secs" -v m="$mb" 'BEGIN { exit !(s <= 3 && m <= 150) }' || { echo "bench: above target" >&2; exit 1; }
