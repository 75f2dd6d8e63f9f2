-- ttyaudit's screen segments (what each session showed on screen) as a table: Athena (first
-- statement) or Trino's Hive connector (second). Replace BUCKET/PREFIX as in
-- ttyaudit_index.sql; join the two on id. The line's schema: docs/CATALOG.md ("Screen
-- segments"). `text` is null for a session whose recording the emulator could not read; a
-- session may appear in two segments after an uploader crash, with the same text.

CREATE EXTERNAL TABLE IF NOT EXISTS ttyaudit_screen (
  v    int,
  id   string,
  node string,
  text string
)
PARTITIONED BY (`date` string, `hour` string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
LOCATION 's3://BUCKET/PREFIX/screen-segments/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.date.type' = 'date',
  'projection.date.format' = 'yyyy-MM-dd',
  'projection.date.range' = '2026-01-01,NOW',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://BUCKET/PREFIX/screen-segments/date=${date}/hour=${hour}/'
);

-- Trino (Hive connector, schema `audit`):
-- CREATE TABLE hive.audit.ttyaudit_screen (
--   v integer, id varchar, node varchar, text varchar, "date" varchar, "hour" varchar)
-- WITH (format = 'JSON', external_location = 's3://BUCKET/PREFIX/screen-segments/',
--       partitioned_by = ARRAY['date', 'hour']);

-- Sessions that showed a failed database login, with where they ran:
--   SELECT DISTINCT i.id, i."start", i.namespace, i.pod, i."user"
--   FROM ttyaudit_screen s JOIN ttyaudit_index i ON i.id = s.id
--   WHERE regexp_like(s.text, 'password authentication failed') ORDER BY i."start" DESC;
