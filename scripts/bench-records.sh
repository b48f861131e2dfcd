#!/usr/bin/env bash
# Worker records through the HTTP API under 16 concurrent clients (wrk), on PostgreSQL over
# TCP and over the local socket, side by side on the same database (issue 12: every read
# journals one entry; over TCP those entries must not queue one network round trip after
# another).
#
# Usage: scripts/bench-records.sh [--workers N] [--months M] [--duration S] [--rounds R]
#   defaults: 20,000 workers × 20 monthly results = 400,000 results, 20 s per run, 2 rounds
#   (TCP, socket, TCP, socket…). Needs PostgreSQL (local, trust auth, user postgres), wrk
#   (Debian package, installed when missing) and a release build (made when missing).
# Prints, for each run, requests/s and the latency percentiles wrk reports, then the medians.
set -euo pipefail
cd "$(dirname "$0")/.."

workers=20000
months=20
duration=20
rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --months) months=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [--workers N] [--months M] [--duration S] [--rounds R]" >&2; exit 2 ;;
  esac
done

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --locked -p siseri >&2
bin=target/release/siseri
db=siseri_bench_records
tcp="postgres://postgres@127.0.0.1:5432/$db"
socket="postgres://postgres@localhost/$db?host=/var/run/postgresql"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

psql -q -U postgres -h 127.0.0.1 -c "DROP DATABASE IF EXISTS $db" postgres
psql -q -U postgres -h 127.0.0.1 -c "CREATE DATABASE $db" postgres

# The registry: one establishment, an employer, a laboratory, an administrator who reads.
export SISERI_DATABASE_URL=$tcp
$bin admin establishment add --siret 73282932000074 --name "CHU de référence" >/dev/null
$bin admin account add --login employeur --role EMPLOYEUR --siren 732829320 --password 'Vx9-Kp2m-Tr7w-Qz4' >/dev/null
$bin admin account add --login labo --role ORGANISME --siren 443061841 --natures EXTERNE --password 'Hd3-Lw8c-Zn5y-Pf6' >/dev/null
$bin admin account add --login lecteur --role ADMIN --password 'Mq7-Bx4t-Rj9v-Cs2e' >/dev/null
token=$($bin admin token --login lecteur | tail -n 1 | awk '{print $NF}')

python3 - "$work" "$workers" "$months" <<'EOF'
import sys, calendar
out, n, months = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def key(nir):
    return "%02d" % (97 - int(nir) % 97)
def letters(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s
nirs = []
with open(f"{out}/travailleurs.csv", "w") as w, open(f"{out}/resultats.csv", "w") as r, open(f"{out}/nirs.txt", "w") as l:
    w.write("NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;GROUPE;CLASSEMENT;AUTREEXPOSITION;caractereActivite;"
            "codeDomaineActivite;codeSecteurActivite;codeNuisanceRadiologique;codeTypeContrat;CodeMetier;QUOTITE;DATEDEBUT\n")
    r.write("REFERENCE;NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;NATURE;GRANDEUR;POSITION;DATE_DEBUT;DATE_FIN;STATUT;VALEUR;SEUIL;CODE_METROLOGIE\n")
    for i in range(n):
        nir = "2%02d0175%06d" % (70 + i % 30, i)
        k = key(nir)
        born = "01/01/19%02d" % (70 + i % 30)
        l.write(nir + "\n")
        w.write(f"{nir};{k};MARTIN {letters(i)};Prenom;{born};F;73282932000074;;A;;Civil;100000;101000;EXT;CDI;AS;1;01/01/2020\n")
        for m in range(months):
            y, mo = 2024 + m // 12, m % 12 + 1
            last = calendar.monthrange(y, mo)[1]
            r.write(f"R-{i}-{m};{nir};{k};MARTIN {letters(i)};Prenom;{born};F;73282932000074;EXTERNE;HP10;;"
                    f"01/{mo:02d}/{y};{last:02d}/{mo:02d}/{y};MESURE;0,{(i + m) % 90 + 10:02d};;\n")
EOF
echo "bench: importing $workers workers and $((workers * months)) results…" >&2
for sent in "employeur travailleurs" "labo resultats"; do
  set -- $sent
  $bin import --as "$1" --format "$2" "$work/$2.csv" |
    python3 -c 'import json, sys; r = json.load(sys.stdin); print("bench:", r["format"], r["totals"], file=sys.stderr); sys.exit(r["totals"]["rejected"] > 0)'
done
psql -q -U postgres -h 127.0.0.1 -c "VACUUM ANALYZE" "$db"

# wrk: each request reads the record of a random worker.
{
  echo "local nirs = {}"
  echo "for line in io.lines('$work/nirs.txt') do nirs[#nirs + 1] = line end"
  echo "request = function()"
  echo "  local nir = nirs[math.random(#nirs)]"
  echo "  return wrk.format('GET', '/api/v1/travailleurs/' .. nir, {['Authorization'] = 'Bearer $token'})"
  echo "end"
  echo "done = function(summary, latency, requests)"
  echo "  io.write(string.format('RESULT %.1f %.2f %.2f %.2f %d %d\\n', summary.requests / (summary.duration / 1e6),"
  echo "    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,"
  echo "    summary.errors.status + summary.errors.timeout + summary.errors.connect, summary.requests))"
  echo "end"
} >"$work/records.lua"

run() {
  local name=$1 url=$2 port=$3
  SISERI_DATABASE_URL=$url $bin serve --listen "127.0.0.1:$port" >"$work/serve-$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  # Warm-up, then the measured run.
  wrk -t2 -c16 -d10s -s "$work/records.lua" "http://127.0.0.1:$port" >/dev/null
  local line
  line=$(wrk -t2 -c16 -d"${duration}s" -s "$work/records.lua" "http://127.0.0.1:$port" | grep '^RESULT')
  case "$line" in
    *" 0 "[0-9]*) ;;
    *) echo "bench: requests failed: $line" >&2 ;;
  esac
  kill "$pid"; wait "$pid" 2>/dev/null || true
  # shellcheck disable=SC2086
  set -- $line
  printf '%-7s %9s req/s  p50 %7s ms  p99 %7s ms  max %8s ms  errors %s  (%s requests)\n' "$name" "$2" "$3" "$4" "$5" "$6" "$7"
  echo "$name $2 $4" >>"$work/results"
}

echo "bench: $rounds rounds of ${duration} s, 16 clients, $((workers * months)) results" >&2
for r in $(seq 1 "$rounds"); do
  run tcp "$tcp" 18081
  run socket "$socket" 18082
done
python3 - "$work/results" <<'EOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
def med(name, col):
    return statistics.median(float(r[col]) for r in rows if r[0] == name)
t, s = med("tcp", 1), med("socket", 1)
print(f"median: tcp {t:.0f} req/s (p99 {med('tcp', 2):.1f} ms), socket {s:.0f} req/s (p99 {med('socket', 2):.1f} ms): tcp/socket = {t / s:.2f}")
EOF
psql -q -U postgres -h 127.0.0.1 -c "DROP DATABASE IF EXISTS $db" postgres
