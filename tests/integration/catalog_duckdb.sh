#!/usr/bin/env bash
# DuckDB reads a local archive's index segments as a Hive-partitioned table (as Athena, Trino
# or Spark would a bucket's) and counts the sessions search finds.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
. "$(dirname "$0")/../lib/catalog.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
[ -d "$ROOT/node_modules/@duckdb/node-api" ] || skip "@duckdb/node-api is not installed (make deps)"
export TTYAUDIT_CACHE_DIR="$T/cache"
make_varied_sessions "$T/spool" 120 node-1 21 >/dev/null
make_varied_sessions "$T/spool" 80 node-2 22 >/dev/null
S3_ENDPOINT=http://127.0.0.1:9  # no bucket here: the store is a local archive
write_config "$T/config.json" "$T/spool" "file://$T/archive"
export TTYAUDIT_CONFIG="$T/config.json"
"$BIN/ttyaudit-uploader" --once 2>"$T/up.log" || fail "upload"
# One session in a second segment too (as after an uploader crash): DISTINCT id counts it once.
first=$(find "$T/archive/index-segments" -name '*.jsonl' | head -n 1)
ms=$(basename "$first" | cut -d- -f1)
head -n 1 "$first" >"$(dirname "$first")/$ms-copy-x.jsonl"
count=$("$BIN/ttyaudit" --store "file://$T/archive" search --json | wc -l)
assert_eq "$count" 200 "sessions search finds"
cat >"$ROOT/.catalog_duckdb_test.mjs" <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const r = await c.runAndReadAll(`
  SELECT count(DISTINCT id) AS sessions, count(*) AS lines,
         count(DISTINCT node) AS nodes, min("date") AS day, min("hour") AS hour,
         count(DISTINCT id) FILTER (WHERE state = 'exited' AND exit_code IS NOT NULL) AS exited,
         sum(len(commands)) AS commands
  FROM read_json_auto('${process.argv[2]}/index-segments/*/*/*.jsonl', hive_partitioning = true)`);
console.log(JSON.stringify(r.getRowObjectsJson()[0]));
JS
on_exit "rm -f '$ROOT/.catalog_duckdb_test.mjs'"
out=$(cd "$ROOT" && node .catalog_duckdb_test.mjs "$T/archive")
echo "duckdb: $out"
assert_eq "$(jq -r .sessions <<<"$out")" 200 "DuckDB's count of distinct sessions"
assert_eq "$(jq -r .lines <<<"$out")" 201 "DuckDB's count of lines (one session twice)"
assert_eq "$(jq -r .nodes <<<"$out")" 2 "nodes"
assert_eq "$(jq -r .day <<<"$out")" "$(date -u +%Y-%m-%d)" "the date partition: the day the segments were written"
[[ $(jq -r .hour <<<"$out") =~ ^[0-9]+$ ]] || fail "hour partition: $out"
want_exited=$("$BIN/ttyaudit" --store "file://$T/archive" search --state exited --json | wc -l)
assert_eq "$(jq -r .exited <<<"$out")" "$want_exited" "exited sessions"
ok "DuckDB reads the Hive-partitioned segments and counts the 200 sessions search finds"
