/// Versioned, append-only schema changes. A shipped migration is never edited; a change is a new
/// entry. The PostgreSQL backend keeps the same ids in the same order.
enum SQLiteMigrations {
    static let all: [(id: String, sql: String)] = [
        (
            "0001_create_workspaces_keys_connections",
            """
            CREATE TABLE workspaces (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL
            ) STRICT;

            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                secret_hash BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER
            ) STRICT;
            CREATE INDEX api_keys_by_workspace ON api_keys(workspace_id);

            CREATE TABLE connections (
                id TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                integration_type TEXT NOT NULL,
                integration_name TEXT,
                name_sort TEXT NOT NULL,
                external_xref TEXT,
                permissions TEXT NOT NULL,
                categories TEXT NOT NULL,
                category_mask INTEGER NOT NULL,
                environment TEXT NOT NULL,
                auth_key_id TEXT,
                auth_ciphertext BLOB,
                is_paused INTEGER NOT NULL,
                auth_aws_arn TEXT,
                auth_azure_keyvault_id TEXT,
                auth_gcp_secret_name TEXT,
                auth_hashi_vault_path TEXT,
                secretsmanager_id TEXT,
                secretsmanager_key TEXT,
                last_healthy_at INTEGER,
                last_unhealthy_at INTEGER,
                last_unhealthy_code TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                version INTEGER NOT NULL,
                CHECK ((auth_key_id IS NULL) = (auth_ciphertext IS NULL))
            ) STRICT;
            -- One index per sort order, led by the filters every list applies (workspace, env),
            -- so a page is read in index order and stops after LIMIT rows.
            CREATE INDEX connections_by_created ON connections(workspace_id, environment, created_at, id);
            CREATE INDEX connections_by_updated ON connections(workspace_id, environment, updated_at, id);
            CREATE INDEX connections_by_name
                ON connections(workspace_id, environment, name_sort, integration_type, id);
            CREATE INDEX connections_by_xref
                ON connections(workspace_id, environment, external_xref, created_at, id);
            """
        )
    ]
}
