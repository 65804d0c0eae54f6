#!/usr/bin/env bash
# Shows which index PostgreSQL uses for each shape of the list query, at a realistic size.
# Seeds N connections (default 1,000,000) in one workspace (plus 10% noise in another) into a
# scratch database, then EXPLAINs the same SQL PostgresStore.listSQL builds.
#
#   scripts/explain-list.sh [N]        (needs scripts/postgres-up.sh and a built switchboard)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
base="$(scripts/postgres-up.sh)"
port="$(echo "$base" | sed -E 's|.*:([0-9]+)/.*|\1|')"
db="sb_explain"
psql_() { psql -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
psql_ -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
SWITCHBOARD_MASTER_KEY="$(head -c 32 /dev/zero | base64)" \
  .build/debug/switchboard migrate --database "postgres://postgres@127.0.0.1:$port/$db?sslmode=disable" >/dev/null

psql_ -d "$db" <<SQL
INSERT INTO workspaces VALUES ('ws', 'bench', 0), ('noise', 'noise', 0);
-- ~50 integration types, 80% Production / 15% Sandbox / 5% Staging, 1-3 categories of 38,
-- external_xref for ~N/5 end users, timestamps over two years.
INSERT INTO connections
SELECT lpad(to_hex(i), 12, '0') || '-0000-7000-8000-000000000000',
       CASE WHEN i % 10 = 0 THEN 'noise' ELSE 'ws' END,
       'type' || (i % 50), CASE WHEN i % 7 = 0 THEN NULL ELSE 'Name ' || (i % 97) END,
       COALESCE(CASE WHEN i % 7 = 0 THEN NULL ELSE 'Name ' || (i % 97) END, ''),
       'user-' || (i % ($n / 5)), 'crm_contact_read', 'crm',
       (1::bigint << (i % 38)) | (1::bigint << ((i / 38) % 38)),
       CASE WHEN i % 20 < 16 THEN 'Production' WHEN i % 20 < 19 THEN 'Sandbox' ELSE 'Staging' END,
       'mk_x', decode(repeat('ab', 300), 'hex'), false,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       1640995200000 + (i::bigint * 63072000000 / $n), 1640995200000 + ((i::bigint * 7919) % $n) * 63072000000 / $n, 1
FROM generate_series(1, $n) AS s(i);
-- VACUUM as autovacuum would after a bulk insert: index-only scans need the visibility map.
VACUUM ANALYZE connections;
SQL

cols="id, workspace_id, integration_type, integration_name, external_xref, permissions, categories, environment, auth_key_id, auth_ciphertext, is_paused, auth_aws_arn, auth_azure_keyvault_id, auth_gcp_secret_name, auth_hashi_vault_path, secretsmanager_id, secretsmanager_key, last_healthy_at, last_unhealthy_at, last_unhealthy_code, created_at, updated_at, version"
where="workspace_id = 'ws' AND environment"
gte=$((1640995200000 + 63072000000 * 99 / 100))
explain() {
  echo "### $1"
  echo '```'
  psql_ -d "$db" -At -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT $cols FROM connections WHERE $where $2 LIMIT 100 OFFSET ${3:-0}" \
    | grep -vE '^\s*(Planning|Rows Removed)' 
  echo '```'
}
# The shape listSQL uses when ConnectionQuery.choosesPageFromIndex (offset, categories, updated_gte
# under another order): the page's ids from the covering index, then those rows.
# Arguments: title, filter, order, offset.
explain_first() {
  echo "### $1 (ids from the index first)"
  echo '```'
  psql_ -d "$db" -At -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT $cols FROM connections WHERE workspace_id = 'ws' AND id IN (SELECT id FROM connections WHERE $where $2 $3 LIMIT 100 OFFSET ${4:-0}) $3" \
    | grep -vE '^\s*(Planning|Rows Removed)'
  echo '```'
}
explain "defaults (env=Production, created_at asc)" "= 'Production' ORDER BY created_at ASC, id ASC"
explain "external_xref" "= 'Production' AND external_xref = 'user-42' ORDER BY created_at ASC, id ASC"
byCreated="ORDER BY created_at ASC, id ASC"
explain_first "categories x1 (crm)" "= 'Production' AND (category_mask & 32) <> 0" "$byCreated"
explain_first "categories x3" "= 'Production' AND (category_mask & 416) <> 0" "$byCreated"
explain "env=Sandbox" "= 'Sandbox' ORDER BY created_at ASC, id ASC"
explain_first "updated_gte selecting 1%" "= 'Production' AND updated_at >= $gte" "$byCreated"
explain "sort=updated_at desc" "= 'Production' ORDER BY updated_at DESC, id DESC"
explain "sort=name asc" "= 'Production' ORDER BY name_sort ASC, integration_type ASC, id ASC"
explain "sort=created_at desc" "= 'Production' ORDER BY created_at DESC, id DESC"
explain_first "offset=10000" "= 'Production'" "$byCreated" 10000
explain_first "offset=600000 (deep: the workspace has 700,000 Production rows)" "= 'Production'" "$byCreated" 600000
deep=$((1640995200000 + 63072000000 * 9 / 10))
explain "cursor 90% deep (keyset)" "= 'Production' AND (created_at, id) > ($deep, '') ORDER BY created_at ASC, id ASC"
explain "cursor, sort=name desc (keyset)" "= 'Production' AND (name_sort, integration_type, id) < ('Name 5', 'type3', '') ORDER BY name_sort DESC, integration_type DESC, id DESC"
psql_ -d postgres -c "DROP DATABASE $db"
