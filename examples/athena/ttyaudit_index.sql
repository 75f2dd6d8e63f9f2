-- ttyaudit's index segments as a table: Athena (first statement) or Trino's Hive connector
-- (second). Replace BUCKET/PREFIX with the store's bucket and prefix (store: s3://BUCKET/PREFIX).
-- The schema (version 1) and what each column means: docs/CATALOG.md.
--
-- Segments partition by the time they were written (date=YYYY-MM-DD/hour=HH), not by when
-- their sessions started: filter on `start` for that. A session may appear in two segments
-- after an uploader crash; count DISTINCT id.

-- Athena: partitions are projected, so new ones need no MSCK REPAIR.
CREATE EXTERNAL TABLE IF NOT EXISTS ttyaudit_index (
  v            int,
  id           string,
  `start`      string,
  `end`        string,
  start_ns     bigint,
  end_ns       bigint,
  source       string,
  node         string,
  machine_id   string,
  runtime      string,
  namespace    string,
  pod          string,
  container    string,
  container_id string,
  image        string,
  `user`       string,
  uid          bigint,
  argv         array<string>,
  cwd          string,
  width        int,
  height       int,
  state        string,
  exit_code    int,
  signal       int,
  bytes_out    bigint,
  bytes_in     bigint,
  escalated    boolean,
  key          string,
  cast_size    bigint,
  cast_sha256  string,
  commands     array<struct<pid:bigint, ppid:bigint, argv:array<string>, cwd:string,
                            uid:bigint, euid:bigint, `start`:double, `end`:double,
                            exit_code:int, signal:int>>,
  signed_by    string
)
PARTITIONED BY (`date` string, `hour` string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
LOCATION 's3://BUCKET/PREFIX/index-segments/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.date.type' = 'date',
  'projection.date.format' = 'yyyy-MM-dd',
  'projection.date.range' = '2026-01-01,NOW',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://BUCKET/PREFIX/index-segments/date=${date}/hour=${hour}/'
);

-- Trino (Hive connector, schema `audit`): partition columns come last; then
--   CALL hive.system.sync_partition_metadata('audit', 'ttyaudit_index', 'ADD');
-- after new partitions appear (or enable hive.partition-projection-enabled).
-- CREATE TABLE hive.audit.ttyaudit_index (
--   v integer, id varchar, "start" varchar, "end" varchar, start_ns bigint, end_ns bigint,
--   source varchar, node varchar, machine_id varchar, runtime varchar, namespace varchar,
--   pod varchar, container varchar, container_id varchar, image varchar, "user" varchar,
--   uid bigint, argv array(varchar), cwd varchar, width integer, height integer,
--   state varchar, exit_code integer, signal integer, bytes_out bigint, bytes_in bigint,
--   escalated boolean, key varchar, cast_size bigint, cast_sha256 varchar,
--   commands array(row(pid bigint, ppid bigint, argv array(varchar), cwd varchar, uid bigint,
--                      euid bigint, "start" double, "end" double, exit_code integer,
--                      signal integer)),
--   signed_by varchar, "date" varchar, "hour" varchar)
-- WITH (format = 'JSON', external_location = 's3://BUCKET/PREFIX/index-segments/',
--       partitioned_by = ARRAY['date', 'hour']);

-- Who ran `rm -rf` in a container, newest first:
--   SELECT DISTINCT id, "start", namespace, pod, "user", array_join(c.argv, ' ') AS command
--   FROM ttyaudit_index CROSS JOIN UNNEST(commands) AS t(c)
--   WHERE regexp_like(array_join(c.argv, ' '), 'rm -rf') ORDER BY "start" DESC;
-- Sessions per node and day uploaded in December:
--   SELECT node, "date", count(DISTINCT id) FROM ttyaudit_index
--   WHERE "date" BETWEEN '2026-12-01' AND '2026-12-31' GROUP BY 1, 2;
