#!/usr/bin/env bash
# verify_by_hand.sh — replay the documented deadlock interleavings of the rule fixtures
# (tests/data/rules/LG*/*.sql) and of the sample application (samples/shop, samples/shop-fixed)
# on a real PostgreSQL server, and print one line per fixture/scenario: DEADLOCK or OK.
#
# This documents how the fixtures were checked by hand; the Rust test suite has its own check.
#
# Usage:  tests/data/rules/verify_by_hand.sh [--exhaustive] [--keep] [FILE.sql ...]
#   no FILE      every fixture under tests/data/rules/LG*/ with an interleaving line (required in
#                LG10x/), and every scenario under samples/
#   --exhaustive also replay every possible interleaving of the sessions' statements
#                (one summary line per file: how many interleavings deadlocked)
#   --keep       keep the scratch schemas and session transcripts (default: dropped)
#   --pairs DIR  (sample app) run every pair of transactions of DIR (each app/*.sql block, and each
#                migration that ALTERs/LOCKs existing tables) through all interleavings (at most
#                --cap N per pair, evenly sampled; default 60); one line per pair; exit 1 if any deadlocked
# Connection: PGHOST/PGPORT/PGUSER/PGDATABASE (default 127.0.0.1 / postgres / test). Needs a
# superuser (sessions set deadlock_timeout=100ms). Exit status 1 if any outcome is not the expected one.
#
# What it reads in a .sql file
#   * statements before the first BEGIN            schema DDL, run once in a fresh scratch schema
#   * BEGIN … COMMIT blocks                          transactions T1, T2, … in file order
#   * a file under a `migrations/` directory         one transaction (the runner wraps each file)
#   * `-- seed: <SQL>` comment lines                 rows the interleaving touches (fixtures only;
#                                                    the sample app uses SHOP_SEED below)
#   * `-- interleaving: <sessions> : <steps> -> <expected>`
#       sessions  A=T1 B=T2            session A runs transaction T1, B runs T2
#                 B=T1(1<>2)           B runs T1 with the integer literals 1 and 2 swapped
#                                      (the "other instance" of the same transaction)
#                 A=app/x.sql#T1       (samples) T1 of another file, relative to the sample root
#                 B=migrations/0005_x.sql   (samples) a migration file as one transaction
#       steps     A1 B1 A2 …           statement k (1-based, after BEGIN) of a session; statements
#                                      not listed run afterwards in order, then every session COMMITs
#       expected  deadlock | both commit | all commit
#   Each step is sent, then the script waits until that session is idle again or waits for a lock,
#   so a blocked session keeps its later statements queued, as a real client would.
# Statement splitting is simple: `;` outside single quotes ends a statement, `--` starts a comment
# (no dollar quoting in these files).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres} PGDATABASE=${PGDATABASE:-test}
unset PGOPTIONS PGAPPNAME
EXHAUSTIVE=0 KEEP=0 PAIRS_DIR="" CAP=60
FILES=()
while (($#)); do
  case $1 in
    --exhaustive) EXHAUSTIVE=1 ;;
    --keep) KEEP=1 ;;
    --pairs) PAIRS_DIR=$(cd "$2" && pwd); shift ;;
    --cap) CAP=$2; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    *) FILES+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")") ;;
  esac
  shift
done

WORK=$(mktemp -d /tmp/lgverify.XXXXXX)
SESSION_PIDS=()
cleanup() {
  local p
  for p in "${SESSION_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [[ $KEEP == 1 ]] && echo "transcripts kept in $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

# Seed rows for the sample application (valid after migrations 0001–0004; used for shop and shop-fixed).
SHOP_SEED="
INSERT INTO customers (id, email, full_name) VALUES (1, 'alice@example.com', 'Alice Example'), (2, 'bob@example.com', 'Bob Example');
INSERT INTO accounts (id, customer_id, currency, balance_cents) VALUES (1, 1, 'EUR', 100000), (2, 2, 'EUR', 100000);
INSERT INTO ledger_entries (account_id, amount_cents, kind) VALUES (1, 100000, 'top_up'), (2, 100000, 'top_up');
INSERT INTO products (id, sku, name, price_cents) VALUES (3, 'MUG-01', 'Mug', 1500), (7, 'PEN-02', 'Pen', 500);
INSERT INTO inventory (product_id, on_hand) VALUES (3, 100), (7, 100);
INSERT INTO orders (id, customer_id, status, total_cents) VALUES (1, 1, 'placed', 2500);
INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (1, 3, 1, 1500), (1, 7, 2, 500);
"

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# split_sql FILE -> one statement per line (comments removed, whitespace collapsed)
split_sql() {
  awk '
    function emit(  s) { s = buf; gsub(/[ \t\r]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s)
                         if (s != "") print s; buf = "" }
    {
      line = $0
      for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (inq) { buf = buf c; if (c == "\047") inq = 0; continue }
        if (c == "\047") { inq = 1; buf = buf c; continue }
        if (c == "-" && substr(line, i + 1, 1) == "-") break
        if (c == ";") { emit(); continue }
        buf = buf c
      }
      buf = buf " "
    }
    END { emit() }' "$1"
}

is_migration() { [[ $1 == */migrations/* ]]; }

# parse_file FILE PREFIX: fills ${PREFIX}_PRE (array of statements outside blocks) and
# ${PREFIX}_BLK_<n> (array: [0]=BEGIN statement, [1..]=statements), ${PREFIX}_NBLK
parse_file() {
  local file=$1 p=$2 stmt n=0 inblk=0 v
  for v in $(compgen -v "${p}_BLK_"); do unset "$v"; done
  eval "${p}_PRE=()"
  if is_migration "$file"; then
    n=1; eval "${p}_BLK_1=(BEGIN)"
    while IFS= read -r stmt; do eval "${p}_BLK_1+=(\"\$stmt\")"; done < <(split_sql "$file")
  else
    while IFS= read -r stmt; do
      shopt -s nocasematch
      if [[ $stmt =~ ^(BEGIN|START\ TRANSACTION)($|\ ) ]]; then
        n=$((n + 1)); inblk=1; eval "${p}_BLK_${n}=(\"\$stmt\")"
      elif [[ $stmt =~ ^(COMMIT|END)$ ]]; then
        inblk=0
      elif [[ $inblk == 1 ]]; then
        eval "${p}_BLK_${n}+=(\"\$stmt\")"
      else
        eval "${p}_PRE+=(\"\$stmt\")"
      fi
      shopt -u nocasematch
    done < <(split_sql "$file")
  fi
  eval "${p}_NBLK=$n"
}

# swap_literals "a<>b" STATEMENT
swap_literals() {
  local a=${1%%<>*} b=${1##*<>}
  sed -E "s/\\b$a\\b/__LGV_SWAP__/g; s/\\b$b\\b/$a/g; s/__LGV_SWAP__/$b/g" <<<"$2"
}

# --- session control ------------------------------------------------------------------------
APP_TAG="lgv$$"
declare -A FD PID OUT
sess_start() { # letter schema
  local s=$1 schema=$2 fifo="$WORK/fifo_$1"
  rm -f "$fifo"; mkfifo "$fifo"
  OUT[$s]="$WORK/out_$s"
  PGAPPNAME="${APP_TAG}_$s" \
  PGOPTIONS="-c search_path=$schema -c deadlock_timeout=100ms -c lock_timeout=5s -c statement_timeout=20s" \
    psql -X -v VERBOSITY=verbose -v ON_ERROR_STOP=0 <"$fifo" >"${OUT[$s]}" 2>&1 &
  PID[$s]=$!; SESSION_PIDS+=("$!")
  local fd; exec {fd}>"$fifo"; FD[$s]=$fd
}
sess_send() { printf '%s;\n' "$2" >&"${FD[$1]}"; }
# wait until session $1 finished the statement tagged $2 (idle again) or waits on a lock
sess_settle() {
  local s=$1 tag=$2 i row
  for ((i = 0; i < 400; i++)); do
    row=$(psql -X -At -F '|' -c "SELECT state, coalesce(wait_event_type, ''), left(query, 40)
            FROM pg_stat_activity WHERE application_name = '${APP_TAG}_$s'" 2>/dev/null)
    [[ -z $row ]] && { kill -0 "${PID[$s]}" 2>/dev/null || return 0; }
    IFS='|' read -r st wt q <<<"$row"
    [[ $wt == Lock ]] && { [[ $tag == *.[1-9]* ]] && echo -n "${tag/./} " >>"$WORK/waits"; return 0; }
    [[ $q == "/*$tag*/"* && $st != active ]] && return 0
    sleep 0.025
  done
  echo "  (session $s did not settle on $tag)" >&2; return 1
}
sess_finish_all() {
  local s i
  for s in "${!FD[@]}"; do exec {FD[$s]}>&-; done
  for s in "${!PID[@]}"; do
    for ((i = 0; i < 400; i++)); do kill -0 "${PID[$s]}" 2>/dev/null || break; sleep 0.05; done
    kill "${PID[$s]}" 2>/dev/null
    wait "${PID[$s]}" 2>/dev/null
  done
  FD=(); PID=(); SESSION_PIDS=()
}

# outcome of the finished sessions: DEADLOCK | OK | ERROR(<codes>)
outcome() {
  local s dl=0 victims="" other="" committed=1 codes
  for s in "$@"; do
    grep -q 'ERROR:  40P01' "${OUT[$s]}" && { dl=1; victims+=$s; }
    codes=$(grep -oE 'ERROR:  [0-9A-Z]{5}' "${OUT[$s]}" | awk '{print $2}' | grep -vE '^(40P01|25P02)$' | sort -u | tr '\n' ',')
    other+=$codes
    [[ $(grep -E '^(COMMIT|ROLLBACK)$' "${OUT[$s]}" | tail -1) == COMMIT ]] || committed=0
  done
  if [[ $dl == 1 ]]; then echo "DEADLOCK victim=$victims"
  elif [[ -n $other ]]; then echo "ERROR(${other%,})"
  elif [[ $committed == 1 ]]; then echo OK
  else echo "ERROR(no commit)"; fi
}

# --- one run ----------------------------------------------------------------------------------
# run_once SCHEMA SETUP_FILE STEPS...   (sessions described by SESS_LIST and SESS_<L>_STMTS arrays)
run_once() {
  local schema=$1 setup=$2; shift 2
  local s step k
  : >"$WORK/waits"
  psql_admin -c "DROP SCHEMA IF EXISTS $schema CASCADE" -c "CREATE SCHEMA $schema" >/dev/null 2>&1 || return 1
  if ! PGOPTIONS="-c search_path=$schema" psql_admin -f "$setup" >"$WORK/setup.log" 2>&1; then
    echo "SETUP-FAILED"; sed 's/^/    /' "$WORK/setup.log" >&2; return 0
  fi
  declare -A next
  for s in "${SESS_LIST[@]}"; do
    sess_start "$s" "$schema"; next[$s]=1
    eval "sess_send $s \"/*$s.0*/ \${SESS_${s}_STMTS[0]}\""
    sess_settle "$s" "$s.0"
  done
  for step in "$@"; do
    s=${step:0:1}; k=${step:1}
    eval "sess_send $s \"/*$s.$k*/ \${SESS_${s}_STMTS[$k]}\""
    sess_settle "$s" "$s.$k"
    next[$s]=$((k + 1))
  done
  for s in "${SESS_LIST[@]}"; do
    local n; eval "n=\$((\${#SESS_${s}_STMTS[@]} - 1))"
    for ((k = ${next[$s]}; k <= n; k++)); do
      eval "sess_send $s \"/*$s.$k*/ \${SESS_${s}_STMTS[$k]}\""
      sess_settle "$s" "$s.$k"
    done
    sess_send "$s" "/*$s.c*/ COMMIT"
    sess_settle "$s" "$s.c"
  done
  sess_finish_all
  echo "$(outcome "${SESS_LIST[@]}") waited: $(cat "$WORK/waits")"
  for s in "${SESS_LIST[@]}"; do cp "${OUT[$s]}" "$WORK/last_$s"; done
  [[ $KEEP == 1 ]] || psql_admin -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1
}

# all merges of the sessions' statement sequences, one space-separated step list per line
interleavings() { # "A:3 B:2 ..."
  local spec=("$@")
  _merge() {
    local prefix=$1; shift
    local rest=("$@") i any=0 s used total
    for ((i = 0; i < ${#rest[@]}; i++)); do
      IFS=: read -r s used total <<<"${rest[$i]}"
      if ((used < total)); then
        any=1
        local copy=("${rest[@]}"); copy[$i]="$s:$((used + 1)):$total"
        _merge "$prefix $s$((used + 1))" "${copy[@]}"
      fi
    done
    ((any)) || echo "${prefix# }"
  }
  local init=() x
  for x in "${spec[@]}"; do init+=("${x%%:*}:0:${x##*:}"); done
  _merge "" "${init[@]}"
}

# --- scenarios --------------------------------------------------------------------------------
FAILS=0
report() { # name outcome expected detail
  local name=$1 got=${2%% *} exp=$3 detail=$4 verdict extra=""
  [[ $2 == *" "* ]] && extra=${2#* }
  case $exp in
    deadlock) [[ $got == DEADLOCK ]] && verdict="as expected" || verdict="MISMATCH (expected deadlock)" ;;
    *) [[ $got == OK ]] && verdict="as expected" || verdict="MISMATCH (expected $exp)" ;;
  esac
  [[ $verdict == MISMATCH* ]] && FAILS=$((FAILS + 1))
  printf '%-66s %-8s %s  [%s]  %s\n' "$name" "$got" "$verdict" "$detail" "$extra"
}

# resolve a session reference into SESS_<L>_STMTS; $1=letter $2=ref $3=file holding the line $4=sample root
load_session() {
  local s=$1 ref=$2 file=$3 root=$4 swap="" src blk stmt i
  if [[ $ref =~ ^(.*)\(([0-9]+\<\>[0-9]+)\)$ ]]; then ref=${BASH_REMATCH[1]}; swap=${BASH_REMATCH[2]}; fi
  if [[ $ref =~ ^T([0-9]+)$ ]]; then src=$file; blk=${BASH_REMATCH[1]}
  elif [[ $ref =~ ^(.*)#T([0-9]+)$ ]]; then src=$root/${BASH_REMATCH[1]}; blk=${BASH_REMATCH[2]}
  else src=$root/$ref; blk=1; fi
  [[ -f $src ]] || { echo "no such file: $src" >&2; return 1; }
  parse_file "$src" P
  local -n blkarr="P_BLK_$blk"
  eval "SESS_${s}_STMTS=()"
  for stmt in "${blkarr[@]}"; do
    [[ -n $swap ]] && stmt=$(swap_literals "$swap" "$stmt")
    eval "SESS_${s}_STMTS+=(\"\$stmt\")"
  done
  [[ $src == */migrations/* ]] && echo "$src" >>"$WORK/migrations_used"
  return 0
}

# run the scenario described by one interleaving line
scenario() { # file line name root(kind: fixture|sample)
  local file=$1 line=$2 name=$3 root=$4
  local spec=${line#*interleaving:}
  local sessions=${spec%% : *} rest=${spec#* : }
  local steps=${rest%%->*} expected=${rest##*->}
  expected=$(echo $expected); steps=$(echo $steps)
  SESS_LIST=(); : >"$WORK/migrations_used"
  local a
  for a in $sessions; do
    SESS_LIST+=("${a%%=*}")
    load_session "${a%%=*}" "${a#*=}" "$file" "$root" || { report "$name" "BAD-SPEC" "$expected" "$spec"; return; }
  done
  # setup script
  local setup="$WORK/setup.sql" schema="lgv_$(basename "$file" .sql | tr -c 'a-z0-9_\n' '_')"
  : >"$setup"
  if [[ $root == fixture ]]; then
    parse_file "$file" F
    local st; for st in "${F_PRE[@]}"; do printf '%s;\n' "$st" >>"$setup"; done
    grep '^-- seed:' "$file" | sed 's/^-- seed://' >>"$setup"
  else
    local first_mig m
    first_mig=$(sort "$WORK/migrations_used" | head -1)
    for m in "$root"/migrations/*.sql; do
      [[ -n $first_mig && ! $m < $first_mig ]] && break
      { echo "BEGIN;"; cat "$m"; echo; echo "COMMIT;"; } >>"$setup"
    done
    echo "$SHOP_SEED" >>"$setup"
  fi
  local got
  got=$(run_once "$schema" "$setup" $steps)
  report "$name" "$got" "$expected" "$sessions : $steps"
  if [[ $got != DEADLOCK* && $got != OK* ]]; then
    local s; for s in "${SESS_LIST[@]}"; do echo "    --- session $s:"; sed 's/^/    /' "$WORK/last_$s" 2>/dev/null | tail -15; done
  fi
  if [[ $EXHAUSTIVE == 1 ]]; then
    local lens=() s n total=0 dl=0 okc=0 errs="" il r
    for s in "${SESS_LIST[@]}"; do eval "n=\$((\${#SESS_${s}_STMTS[@]} - 1))"; lens+=("$s:$n"); done
    while IFS= read -r il; do
      r=$(run_once "$schema" "$setup" $il); total=$((total + 1))
      case $r in DEADLOCK*) dl=$((dl + 1)) ;; OK*) okc=$((okc + 1)) ;; *) errs+="[$il]=${r%% waited*} " ;; esac
    done < <(interleavings "${lens[@]}")
    printf '    exhaustive: %d interleavings, %d deadlocked, %d committed%s\n' "$total" "$dl" "$okc" "${errs:+, other: $errs}"
    if [[ $expected != deadlock && $dl -gt 0 ]]; then FAILS=$((FAILS + 1)); echo "    MISMATCH: a good case deadlocked"; fi
  fi
}

run_file() {
  local file=$1 root kind name line found=0
  name=${file#"$ROOT"/}
  if [[ $file == */samples/* ]]; then
    root=${file%%/app/*}; root=${root%%/migrations/*}
  else root=fixture; fi
  while IFS= read -r line; do
    found=1
    scenario "$file" "$line" "$name" "$root"
  done < <(grep '^-- interleaving:' "$file")
  # lock-rule fixtures (LG10x) must document their interleaving; other rules' fixtures are not lock cases
  if [[ $found == 0 && $root == fixture && $file == */LG10[0-9]/* ]]; then report "$name" "NO-SPEC" "an interleaving line" "-"; fi
}

# every pair of transactions of a sample app, all (or --cap evenly sampled) interleavings
pairs_check() {
  local root=$1 refs=() f n i j k r1 r2 total
  for f in "$root"/app/*.sql; do
    parse_file "$f" Q
    for ((n = 1; n <= Q_NBLK; n++)); do refs+=("app/$(basename "$f")#T$n"); done
  done
  for f in "$root"/migrations/*.sql; do
    grep -qiE '^[[:space:]]*(ALTER|LOCK)[[:space:]]+TABLE' "$f" && refs+=("migrations/$(basename "$f")")
  done
  local pairs=()
  for ((i = 0; i < ${#refs[@]}; i++)); do
    for ((j = i; j < ${#refs[@]}; j++)); do
      r1=${refs[$i]} r2=${refs[$j]}
      [[ $r1 == migrations/* && $r2 == migrations/* ]] && continue
      pairs+=("$r1|$r2")
      if ((i == j)); then   # another instance with keys 1 and 2 swapped, if both occur
        parse_file "$root/${r1%#*}" Q
        local -n b="Q_BLK_${r1##*#T}"
        local all; all=$(printf '%s\n' "${b[@]}")
        [[ $all =~ (^|[^0-9])1([^0-9]|$) && $all =~ (^|[^0-9])2([^0-9]|$) ]] && pairs+=("$r1|$r2(1<>2)")
      fi
    done
  done
  local p setup="$WORK/setup.sql" schema=lgv_pairs m first_mig dl_total=0
  for p in "${pairs[@]}"; do
    SESS_LIST=(A B); : >"$WORK/migrations_used"
    load_session A "${p%%|*}" "" "$root" && load_session B "${p##*|}" "" "$root" || continue
    : >"$setup"
    first_mig=$(sort "$WORK/migrations_used" | head -1)
    for m in "$root"/migrations/*.sql; do
      [[ -n $first_mig && ! $m < $first_mig ]] && break
      { echo "BEGIN;"; cat "$m"; echo; echo "COMMIT;"; } >>"$setup"
    done
    echo "$SHOP_SEED" >>"$setup"
    local la lb; eval "la=\$((\${#SESS_A_STMTS[@]} - 1)) lb=\$((\${#SESS_B_STMTS[@]} - 1))"
    mapfile -t ILS < <(interleavings "A:$la" "B:$lb")
    total=${#ILS[@]}
    local stride=$(( (total + CAP - 1) / CAP )) ran=0 dl=0 okc=0 errs="" r
    for ((k = 0; k < total; k += stride)); do
      r=$(run_once "$schema" "$setup" ${ILS[$k]}); ran=$((ran + 1))
      case $r in DEADLOCK*) dl=$((dl + 1)); errs+="[${ILS[$k]}]=deadlock " ;; OK*) okc=$((okc + 1)) ;; *) errs+="[${ILS[$k]}]=${r%% waited*} " ;; esac
    done
    dl_total=$((dl_total + dl))
    printf '%-34s x %-40s %4d/%-4d run  %3d deadlocked  %3d committed  %s\n' "${p%%|*}" "${p##*|}" "$ran" "$total" "$dl" "$okc" "${errs:0:300}"
  done
  echo "pairs in ${root#"$ROOT"/}: $dl_total deadlocked interleaving(s)"
  ((dl_total == 0))
}

if [[ -n $PAIRS_DIR ]]; then pairs_check "$PAIRS_DIR"; exit $?; fi

if [[ ${#FILES[@]} == 0 ]]; then
  mapfile -t FILES < <(ls "$HERE"/LG*/*.sql 2>/dev/null; grep -l '^-- interleaving:' -r "$ROOT/samples" --include='*.sql' 2>/dev/null | sort)
fi
for f in "${FILES[@]}"; do run_file "$f"; done
psql_admin -Atc "SELECT 'leftover scratch schemas: ' || string_agg(nspname, ', ') FROM pg_namespace WHERE nspname LIKE 'lgv\_%' HAVING count(*) > 0"
if ((FAILS)); then echo "$FAILS mismatch(es)"; exit 1; fi
echo "all outcomes as expected"
