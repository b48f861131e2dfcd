#!/usr/bin/env bash
# Shows that an import's memory does not grow with the file's size (exchange.md §1): builds
# the release binary, generates valid `resultats` files of 100,000 and 1,000,000 lines
# (monthly HP10 results, ten per declared worker), imports each with
# `/usr/bin/time -v siseri import …` into a fresh database, and prints the maximum resident
# set size of each import.
#
# Usage: scripts/memory-import.sh [--sizes "100000 1000000"] [--engine sqlite|postgres|all]
#                                 [--workers N] [--with-warnings]
#
# --workers N declares N workers whatever the size (default: a tenth of the lines), so that
# files of different lengths name the same workers.
#
# SQLite: a fresh file in a temporary directory. PostgreSQL (default engine `all` when the
# server answers): a fresh database `siseri_mem_…` on SISERI_MEMORY_POSTGRES (default
# SISERI_TEST_POSTGRES, else postgres://postgres@127.0.0.1:5432/postgres), dropped at the end.
#
# --with-warnings also imports, for each size, a file whose workers are all unknown to the
# registry: every line is then accepted with RATTACHEMENT_ABSENT, and listed in the report
# (which the report keeps in memory, one entry per such line).
set -euo pipefail
cd "$(dirname "$0")/.."

sizes="100000 1000000"
engine=""
with_warnings=0
fixed_workers=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --engine) engine="$2"; shift 2 ;;
    --with-warnings) with_warnings=1; shift ;;
    --workers) fixed_workers="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "memory-import.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
server="${SISERI_MEMORY_POSTGRES:-${SISERI_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}}"
pg_ready() { command -v psql >/dev/null 2>&1 && psql "$server" -Atqc 'SELECT 1' >/dev/null 2>&1; }
if [ -z "$engine" ]; then
  if pg_ready; then engine=all; else engine=sqlite; fi
fi
case "$engine" in
  sqlite) engines="sqlite" ;;
  postgres) engines="postgres" ;;
  all) engines="sqlite postgres" ;;
  *) echo "memory-import.sh: --engine sqlite, postgres or all" >&2; exit 2 ;;
esac
if [ ! -x /usr/bin/time ]; then
  echo "memory-import.sh: /usr/bin/time (GNU time) is needed (Debian package time)" >&2
  exit 1
fi

echo "Building the release binary…" >&2
cargo build --release --quiet
bin="$PWD/target/release/siseri"

work=$(mktemp -d "${TMPDIR:-/tmp}/siseri-memory.XXXXXX")
cleanup() {
  # The databases this run created (fresh_database runs in a subshell: found by name).
  if [[ " $engines " == *" postgres "* ]]; then
    psql "$server" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'siseri\_mem\_$$\_%'" 2>/dev/null |
      while read -r db; do
        psql "$server" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
      done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Worker i: a man born in 1985, NIR 185MM75IIIIII with its key 97 − (N mod 97).
# (awk's doubles are exact for these 13-digit numbers.)
workers_file() { # count first out
  awk -v n="$1" -v first="$2" 'BEGIN {
    print "NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;GROUPE;CLASSEMENT;AUTREEXPOSITION;caractereActivite;codeDomaineActivite;codeSecteurActivite;codeNuisanceRadiologique;codeTypeContrat;CodeMetier;QUOTITE;DATEDEBUT;DATEFIN"
    for (i = first; i < first + n; i++) {
      m = i % 12 + 1; nir = sprintf("185%02d75%06d", m, i); key = 97 - (nir % 97)
      printf "%s;%02d;Martin;Jean;03/%02d/1985;M;73282932000074;;A;;Civil;100000;101000;EXT;CDI;AS;0,8;01/01/2010;\n", nir, key, m
    }
  }' > "$3"
}

# Line j: worker first + j % workers, month j / workers from January 2012.
results_file() { # lines workers first out
  awk -v n="$1" -v w="$2" -v first="$3" 'BEGIN {
    split("31 28 31 30 31 30 31 31 30 31 30 31", days, " ")
    print "REFERENCE;NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;NATURE;GRANDEUR;POSITION;DATE_DEBUT;DATE_FIN;STATUT;VALEUR;SEUIL;CODE_METROLOGIE"
    for (j = 0; j < n; j++) {
      i = first + j % w; month = int(j / w); y = 2012 + int(month / 12); mo = month % 12 + 1
      last = days[mo] + (mo == 2 && y % 4 == 0 ? 1 : 0)
      m = i % 12 + 1; nir = sprintf("185%02d75%06d", m, i); key = 97 - (nir % 97)
      printf "R%08d;%s;%02d;Martin;Jean;03/%02d/1985;M;73282932000074;EXTERNE;HP10;;01/%02d/%d;%02d/%02d/%d;MESURE;0,%d;;\n", j, nir, key, m, mo, y, last, mo, y, j % 90 + 10
    }
  }' > "$4"
}

fresh_database() { # engine size tag → URL
  case "$1" in
    sqlite) echo "sqlite:$work/$2-$3.db" ;;
    postgres)
      local name="siseri_mem_$$_$2_$3"
      psql "$server" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
      psql "$server" -qc "CREATE DATABASE $name" >/dev/null
      local base="${server%%\?*}" scheme="${server%%://*}://"
      local rest="${base#"$scheme"}"
      echo "$scheme${rest%%/*}/$name"
      ;;
  esac
}

setup() { # url
  SISERI_DATABASE_URL="$1" "$bin" admin establishment add --siret 73282932000074 --name CHU >/dev/null
  SISERI_DATABASE_URL="$1" "$bin" admin account add --login chu --role EMPLOYEUR --siren 732829320 >/dev/null
  SISERI_DATABASE_URL="$1" "$bin" admin account add --login labo --role ORGANISME --siren 301234563 --natures EXTERNE >/dev/null
}

# Prints: engine, kind, lines, accepted, warnings, seconds, max RSS (MiB).
measure() { # engine kind lines url file
  local report="$work/report.json" timing="$work/time.txt"
  SISERI_DATABASE_URL="$4" /usr/bin/time -v "$bin" import --as labo --format resultats "$5" \
    > "$report" 2> "$timing"
  local rss accepted warnings seconds
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$timing")
  seconds=$(awk -F': ' '/Elapsed \(wall clock\) time/ {print $2}' "$timing")
  accepted=$(grep -m1 '"accepted"' "$report" | tr -dc '0-9')
  warnings=$(grep -m1 '"warnings"' "$report" | tr -dc '0-9')
  if [ "$accepted" != "$3" ]; then
    echo "memory-import.sh: $1 $3 lines: only $accepted accepted" >&2
    exit 1
  fi
  printf '%-8s %-9s %9s %9s %9s %10s %10.1f\n' "$1" "$2" "$3" "$accepted" "$warnings" "$seconds" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
}

printf '%-8s %-9s %9s %9s %9s %10s %10s\n' engine kind lines accepted warnings "wall" "max RSS MiB"
for size in $sizes; do
  workers=${fixed_workers:-$((size / 10))}
  workers_file "$workers" 0 "$work/travailleurs-$size.csv"
  results_file "$size" "$workers" 0 "$work/resultats-$size.csv"
  if [ "$with_warnings" = 1 ]; then
    # One worker per line, imported into a database that declares none.
    results_file "$size" "$size" 0 "$work/inconnus-$size.csv"
  fi
  for e in $engines; do
    url=$(fresh_database "$e" "$size" valid)
    setup "$url"
    SISERI_DATABASE_URL="$url" "$bin" import --as chu --format travailleurs "$work/travailleurs-$size.csv" >/dev/null
    measure "$e" declared "$size" "$url" "$work/resultats-$size.csv"
    if [ "$with_warnings" = 1 ]; then
      url=$(fresh_database "$e" "$size" unknown)
      setup "$url"
      measure "$e" unknown "$size" "$url" "$work/inconnus-$size.csv"
    fi
  done
done
