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
        ),
        (
            "0002_key_scopes_audit_log",
            """
            -- Keys made before scopes existed could do everything; they keep every scope.
            ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL
                DEFAULT 'connections:read,connections:credentials,connections:write,keys:admin,audit:read,secretsmanagers:admin';
            ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;

            CREATE TABLE audit_log (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                workspace_id TEXT NOT NULL,
                at INTEGER NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                connection_id TEXT,
                target TEXT,
                client_address TEXT
            ) STRICT;
            CREATE INDEX audit_log_by_workspace ON audit_log(workspace_id, seq);
            CREATE INDEX audit_log_by_connection ON audit_log(workspace_id, connection_id, seq);
            -- Append-only: the database itself refuses to edit or remove an audit record.
            CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
            CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

            -- Key rotation walks the rows sealed under other keys.
            CREATE INDEX connections_by_auth_key ON connections(auth_key_id, id) WHERE auth_key_id IS NOT NULL;
            """
        ),
        (
            "0003_secrets_managers",
            """
            CREATE TABLE secrets_managers (
                id TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                name TEXT NOT NULL,
                type TEXT NOT NULL,
                dcs TEXT NOT NULL,
                auth_key_id TEXT NOT NULL,
                auth_ciphertext BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX secrets_managers_by_workspace ON secrets_managers(workspace_id, created_at, id);
            -- Which connections keep their credentials in a manager (refusing to delete one in use).
            CREATE INDEX connections_by_secrets_manager
                ON connections(workspace_id, secretsmanager_id) WHERE secretsmanager_id IS NOT NULL;
            """
        ),
        (
            "0004_oauth",
            """
            -- Token refresh: NULL refresh_status means Switchboard does not refresh this connection's
            -- token (and token_expires_at is NULL too). The lease columns are never read into a Connection.
            ALTER TABLE connections ADD COLUMN token_expires_at INTEGER;
            ALTER TABLE connections ADD COLUMN refresh_status TEXT;
            ALTER TABLE connections ADD COLUMN refresh_attempts INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE connections ADD COLUMN refresh_next_at INTEGER;
            ALTER TABLE connections ADD COLUMN refresh_lease_owner TEXT;
            ALTER TABLE connections ADD COLUMN refresh_lease_until INTEGER;
            -- The background refresher's work list, soonest expiry first.
            CREATE INDEX connections_refresh_due ON connections(token_expires_at)
                WHERE refresh_status IN ('active','retrying');

            ALTER TABLE workspaces ADD COLUMN redirect_origins TEXT NOT NULL DEFAULT '';

            CREATE TABLE workspace_integrations (
                workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                integration_type TEXT NOT NULL,
                client_id TEXT NOT NULL,
                is_active INTEGER NOT NULL,
                extra_scopes TEXT NOT NULL,
                auth_key_id TEXT NOT NULL,
                auth_ciphertext BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (workspace_id, integration_type)
            ) STRICT;

            -- Pending authorizations, by the hash of the state sent to the provider.
            CREATE TABLE oauth_states (
                state_hash BLOB PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                integration_type TEXT NOT NULL,
                environment TEXT NOT NULL,
                external_xref TEXT,
                caller_state TEXT,
                success_redirect TEXT,
                failure_redirect TEXT,
                permissions TEXT NOT NULL,
                subdomain TEXT,
                connection_id TEXT,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                used_at INTEGER
            ) STRICT;
            CREATE INDEX oauth_states_by_expiry ON oauth_states(expires_at);

            -- No foreign key to connections: deleting a connection must not wait on its tokens.
            CREATE TABLE reauth_tokens (
                token_hash BLOB PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                connection_id TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                used_at INTEGER
            ) STRICT;
            CREATE INDEX reauth_tokens_by_expiry ON reauth_tokens(expires_at);

            -- Keys that held every scope before this one existed keep holding every scope.
            UPDATE api_keys SET scopes = scopes || ',integrations:admin'
                WHERE scopes = 'connections:read,connections:credentials,connections:write,keys:admin,audit:read,secretsmanagers:admin';
            """
        ),
        (
            "0005_list_filters_in_indexes",
            """
            -- Filters the page order cannot serve are tested on index entries, not table rows:
            -- categories on the created_at order, and updated_gte under any order (a range on the
            -- updated_at index that carries every order's columns, sorted before any row is read).
            -- Each replaces the index it extends, which served the same orders.
            CREATE INDEX connections_by_created_mask
                ON connections(workspace_id, environment, created_at, id, category_mask);
            DROP INDEX connections_by_created;
            CREATE INDEX connections_by_updated_covering ON connections(
                workspace_id, environment, updated_at, id, created_at, name_sort, integration_type, category_mask
            );
            DROP INDEX connections_by_updated;
            """
        ),
        (
            "0006_updated_gte_by_hour",
            """
            -- updated_gte under the created_at order: per hour of updated_at, entries in created_at
            -- order, so a page merges one short range per hour instead of sorting every match
            -- (ConnectionQuery.updatedHours). updated_at and category_mask are carried for the
            -- bound's own hour and the categories test.
            CREATE INDEX connections_by_updated_hour ON connections(
                workspace_id, environment, (updated_at / 3600000), created_at, id, updated_at, category_mask
            );
            """
        ),
        (
            "0007_updated_at_in_created_order",
            """
            -- updated_gte windows wider than the hour merge, under the created_at order: the order's
            -- index carries updated_at too, so walking it tests the bound on index entries, without
            -- a table lookup each (SQLiteStore.listStatement). Replaces the index it extends.
            CREATE INDEX connections_by_created_covering
                ON connections(workspace_id, environment, created_at, id, category_mask, updated_at);
            DROP INDEX connections_by_created_mask;
            """
        ),
        (
            "0008_external_secret_ownership",
            """
            -- Secrets Switchboard created in external managers, and the connection each belongs
            -- to: only these are ever overwritten or deleted (ConnectionService+External). One
            -- owner per name.
            CREATE TABLE external_secrets (
                secretsmanager_id TEXT NOT NULL,
                name TEXT NOT NULL,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                connection_id TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (secretsmanager_id, name)
            ) STRICT;
            CREATE INDEX external_secrets_by_connection ON external_secrets(connection_id);
            -- Connections from before kept their credentials where Switchboard wrote them: they
            -- keep owning those secrets (the first connection of a shared name wins).
            INSERT OR IGNORE INTO external_secrets (secretsmanager_id, name, workspace_id, connection_id, created_at)
                SELECT c.secretsmanager_id,
                       COALESCE(CASE m.type WHEN 'aws' THEN c.auth_aws_arn WHEN 'hashicorp' THEN c.auth_hashi_vault_path END,
                                c.secretsmanager_key, 'switchboard/' || c.workspace_id || '/' || c.id),
                       c.workspace_id, c.id, c.created_at
                FROM connections c JOIN secrets_managers m ON m.id = c.secretsmanager_id AND m.workspace_id = c.workspace_id
                WHERE c.auth_ciphertext IS NULL
                ORDER BY c.created_at, c.id;
            -- Pending authorizations per workspace, oldest first: each workspace keeps a bounded
            -- number (AuthorizationStore.insert evicts the oldest).
            CREATE INDEX oauth_states_by_workspace ON oauth_states(workspace_id, created_at);

            -- Single-use tokens an application's backend mints for the authorize URL, and the
            -- workspace setting that makes the authorize URL require one.
            ALTER TABLE workspaces ADD COLUMN authorize_requires_token INTEGER NOT NULL DEFAULT 0;
            CREATE TABLE authorize_tokens (
                token_hash BLOB PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                external_xref TEXT,
                integration_type TEXT,
                environment TEXT,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                used_at INTEGER
            ) STRICT;
            CREATE INDEX authorize_tokens_by_expiry ON authorize_tokens(expires_at);
            """
        ),
        (
            "0009_environments",
            """
            -- The environments a workspace declares besides Production (/unified/environment),
            -- one a line, oldest first.
            ALTER TABLE workspaces ADD COLUMN environments TEXT NOT NULL DEFAULT '';
            """
        ),
        (
            "0010_needing_reauthorization",
            """
            -- The connections needing re-authorization, counted for /metrics without a scan.
            CREATE INDEX connections_needing_reauth ON connections(workspace_id) WHERE refresh_status = 'needs_reauth';
            """
        ),
        (
            "0011_proxy_scope",
            """
            -- Keys that held every scope before connections:proxy existed keep holding every scope.
            UPDATE api_keys SET scopes = scopes || ',connections:proxy'
                WHERE scopes = 'connections:read,connections:credentials,connections:write,keys:admin,audit:read,secretsmanagers:admin,integrations:admin';
            """
        ),
        (
            "0012_passthrough",
            """
            -- The API call log (/unified/apicall): passthrough calls and token requests, written
            -- in batches, purged by age. No foreign keys: a log row outlives its connection.
            CREATE TABLE api_calls (
                id TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                connection_id TEXT,
                integration_type TEXT NOT NULL,
                environment TEXT NOT NULL,
                external_xref TEXT,
                name TEXT NOT NULL,
                type TEXT NOT NULL,
                method TEXT NOT NULL,
                path TEXT NOT NULL,
                status TEXT NOT NULL,
                is_error INTEGER NOT NULL,
                error TEXT,
                size INTEGER,
                unified_response_time INTEGER NOT NULL,
                endapi_response_time INTEGER,
                ip_address TEXT,
                user_agent TEXT
            ) STRICT;
            CREATE INDEX api_calls_by_workspace ON api_calls(workspace_id, created_at, id);
            CREATE INDEX api_calls_by_connection ON api_calls(workspace_id, connection_id, created_at, id);
            CREATE INDEX api_calls_by_age ON api_calls(created_at);

            -- A workspace's own passthrough base URL for an integration (a self-hosted Jira or GitLab).
            ALTER TABLE workspace_integrations ADD COLUMN api_base_url TEXT;
            """
        ),
        (
            "0013_events",
            """
            -- Events (/unified/notification) and the event webhook outbox: an event row is written
            -- in the transaction of its change; while delivery = 'pending' it waits for a deliverer,
            -- which leases it (lease_owner, lease_until) for one attempt at a time.
            CREATE TABLE events (
                id TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL,
                type TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                connection_id TEXT,
                integration_type TEXT,
                environment TEXT,
                external_xref TEXT,
                description TEXT,
                delivery TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0,
                due_at INTEGER,
                sent_at INTEGER,
                lease_owner TEXT,
                lease_until INTEGER
            ) STRICT;
            CREATE INDEX events_by_workspace ON events(workspace_id, created_at, id);
            CREATE INDEX events_by_update ON events(workspace_id, updated_at, id);
            CREATE INDEX events_by_connection ON events(workspace_id, connection_id, created_at);
            CREATE INDEX events_due ON events(due_at) WHERE delivery = 'pending';
            CREATE INDEX events_held ON events(workspace_id) WHERE delivery = 'held';
            CREATE INDEX events_by_age ON events(created_at);

            -- Each delivery attempt: the delivery log.
            CREATE TABLE event_deliveries (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                event_id TEXT NOT NULL,
                workspace_id TEXT NOT NULL,
                at INTEGER NOT NULL,
                status INTEGER,
                latency_ms INTEGER NOT NULL,
                error TEXT,
                response_body TEXT,
                redelivery INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX event_deliveries_by_event ON event_deliveries(event_id, seq);

            -- A workspace's event webhook: where events go and the sealed Standard Webhooks secret.
            CREATE TABLE event_webhooks (
                workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
                url TEXT NOT NULL,
                types TEXT NOT NULL,
                secret_key_id TEXT NOT NULL,
                secret_ciphertext BLOB NOT NULL,
                previous_key_id TEXT,
                previous_ciphertext BLOB,
                previous_until INTEGER,
                disabled_at INTEGER,
                disabled_reason TEXT,
                updated_at INTEGER NOT NULL
            ) STRICT;
            """
        ),
        (
            "0014_dashboard",
            """
            -- Keys that held every scope before dashboard existed keep holding every scope.
            UPDATE api_keys SET scopes = scopes || ',dashboard'
                WHERE scopes = 'connections:read,connections:credentials,connections:write,keys:admin,audit:read,secretsmanagers:admin,integrations:admin,connections:proxy';

            -- Dashboard sessions and single-use sign-in links, by the hash of their token: every
            -- replica reads the same rows, so no process holds session state.
            CREATE TABLE dashboard_sessions (
                token_hash BLOB PRIMARY KEY,
                kind TEXT NOT NULL,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                key_id TEXT,
                scopes TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                last_seen_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                used_at INTEGER
            ) STRICT;
            CREATE INDEX dashboard_sessions_by_workspace ON dashboard_sessions(workspace_id);
            CREATE INDEX dashboard_sessions_by_expiry ON dashboard_sessions(expires_at);

            -- Hosted Connect sessions (POST /switchboard/connect-session), by the hash of their token.
            CREATE TABLE connect_sessions (
                token_hash BLOB PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                external_xref TEXT NOT NULL,
                integrations TEXT NOT NULL,
                categories TEXT NOT NULL,
                environment TEXT NOT NULL,
                success_redirect TEXT,
                failure_redirect TEXT,
                created_by TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                used_at INTEGER
            ) STRICT;
            CREATE INDEX connect_sessions_by_expiry ON connect_sessions(expires_at);
            """
        ),
    ]
}
