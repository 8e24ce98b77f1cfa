//! Accounts, their assignments, sessions, API tokens, sign-up codes and login throttling.

use crate::audit::append_event;
use crate::{Change, Result, Store, StoreError, on_unique, with_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use wujia_core::accounts::throttle;
use wujia_core::accounts::{Actor, KeyScope, Role, Standing, ThrottleRecord, ThrottleScope};

/// An account.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Argon2id PHC string; never serialised.
    #[serde(skip)]
    pub password_hash: String,
    /// Role; a stored code that names no role fails the read.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Organisation (property company, developer, street department).
    pub organization: Option<String>,
    /// A resident's household.
    pub household_id: Option<i64>,
    /// Disabled accounts cannot log in.
    pub active: bool,
    /// Must choose a new password at next login.
    pub must_change_password: bool,
    /// Optimistic-lock version.
    pub version: i64,
}

impl User {
    /// The account's role.
    pub fn role(&self) -> Role {
        self.role
    }
}

/// What is needed to create an account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Argon2id hash.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Organisation.
    pub organization: Option<String>,
    /// Household, for residents.
    pub household_id: Option<i64>,
    /// Communities the account works in.
    pub communities: Vec<i64>,
    /// Must change the password at first login.
    pub must_change_password: bool,
}

/// An API key as listed: never the token, which is shown once when issued and stored only as its hash.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    /// Id.
    pub id: i64,
    /// What the key is for.
    pub name: String,
    /// The account it acts as.
    pub user_id: i64,
    /// That account's display name.
    pub owner: String,
    /// What it opens; a stored code that names no scope fails the read.
    #[sqlx(try_from = "String")]
    pub scope: KeyScope,
    /// When issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working; `None` only for a key issued explicitly without an end.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a key presented with a request grants, read by its hash (revoked and expired keys included, so the
/// answer can say why it is refused).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyGrant {
    /// The key's id.
    pub id: i64,
    /// The account it acts as.
    pub user_id: i64,
    /// What it opens.
    #[sqlx(try_from = "String")]
    pub scope: KeyScope,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The columns of [`ApiToken`], for `api_tokens t JOIN users u`. Calendar-feed tokens share the table and are
/// kept out with [`NOT_CALENDAR`].
const API_TOKEN_COLUMNS: &str = "t.id, t.name, t.user_id, u.display_name AS owner, t.scope, t.created_at, t.expires_at, t.last_used_at, t.revoked_at";
const NOT_CALENDAR: &str = "t.scope <> 'calendar'";

const USER_COLUMNS: &str = "id, username, display_name, password_hash, role, organization, household_id, active, must_change_password, version";

impl Store {
    /// An account by login name.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(pool).await?),
        )
    }

    /// An account by id.
    pub async fn user(&self, id: i64) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// All accounts, by username.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?),
        )
    }

    /// The active accounts of the given roles that belong to a community — assigned to it, or (volunteers,
    /// residents) living in one of its households — by name: whom work there can go to.
    pub async fn community_accounts(&self, community_id: i64, roles: &[Role]) -> Result<Vec<User>> {
        if roles.is_empty() {
            return Ok(Vec::new());
        }
        let columns = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        // Role codes are fixed identifiers of the enum, not input.
        let roles = roles.iter().map(|r| format!("'{}'", r.code())).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns} FROM users u WHERE u.active AND u.role IN ({roles}) AND ( \
               EXISTS (SELECT 1 FROM user_communities uc WHERE uc.user_id = u.id AND uc.community_id = $1) \
               OR EXISTS (SELECT 1 FROM households h WHERE h.id = u.household_id AND h.community_id = $1)) \
             ORDER BY u.display_name, u.id"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql))
            .bind(community_id)
            .fetch_all(pool)
            .await?))
    }

    /// The display names of the given accounts (those that exist), for showing who handles what without reading
    /// every account of the deployment (resident accounts included).
    pub async fn display_names(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let sql = format!("SELECT id, display_name FROM users WHERE id IN {}", crate::scope::id_list(&ids));
        let rows: Vec<(i64, String)> =
            with_db!(self, read, pool, _pg => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?);
        Ok(rows.into_iter().collect())
    }

    /// The account with everything it is assigned to, ready for permission checks (one query).
    pub async fn actor(&self, user: &User) -> Result<Actor> {
        let role = user.role();
        // 'c' rows are communities, 'b' rows buildings the account looks after as their social worker.
        let rows: Vec<(String, i64)> = match role {
            Role::Resident | Role::Volunteer => match user.household_id {
                Some(h) => with_db!(self, read, pool, _pg => sqlx::query_as(
                    "SELECT 'c' AS kind, community_id FROM households WHERE id = $1",
                )
                .bind(h)
                .fetch_all(pool)
                .await?),
                None => Vec::new(),
            },
            Role::Admin => {
                with_db!(self, read, pool, _pg => sqlx::query_as("SELECT 'c' AS kind, id FROM communities").fetch_all(pool).await?)
            }
            _ => with_db!(self, read, pool, _pg => sqlx::query_as(
                "SELECT 'c' AS kind, community_id FROM user_communities WHERE user_id = $1 \
                 UNION ALL SELECT 'b', id FROM buildings WHERE social_worker_id = $1",
            )
            .bind(user.id)
            .fetch_all(pool)
            .await?),
        };
        let mut communities: Vec<i64> = rows.iter().filter(|(k, _)| k == "c").map(|(_, id)| *id).collect();
        let mut buildings: Vec<i64> = rows.iter().filter(|(k, _)| k == "b").map(|(_, id)| *id).collect();
        communities.sort_unstable();
        communities.dedup();
        buildings.sort_unstable();
        Ok(Actor { user_id: user.id, role, communities, buildings, household: user.household_id })
    }

    /// Creates an account and records it.
    pub async fn create_user(&self, new: &NewUser, change: Change) -> Result<User> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (username, display_name, password_hash, role, organization, household_id, active, must_change_password, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8) RETURNING id",
            )
            .bind(&new.username)
            .bind(&new.display_name)
            .bind(&new.password_hash)
            .bind(new.role.code())
            .bind(&new.organization)
            .bind(new.household_id)
            .bind(new.must_change_password)
            .bind(change.at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| on_unique(e, "用户名已被使用 / username is taken"))?;
            for c in &new.communities {
                sqlx::query("INSERT INTO user_communities (user_id, community_id) VALUES ($1, $2)").bind(id).bind(*c).execute(&mut *tx).await?;
            }
            let change = Change {
                entity: "user".into(),
                entity_id: id.to_string(),
                after: serde_json::json!({"username": new.username, "display_name": new.display_name, "role": new.role.code(),
                    "organization": new.organization, "household_id": new.household_id, "communities": new.communities}),
                ..change
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.user(id).await
    }

    /// Replaces an account's password hash and ends its other sessions.
    pub async fn set_password(
        &self,
        user_id: i64,
        hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
        change: Change,
    ) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2, version = version + 1 WHERE id = $3")
                .bind(hash)
                .bind(must_change)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            if n.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(keep_session.unwrap_or(""))
                .execute(&mut *tx)
                .await?;
            let change = Change { entity: "user".into(), entity_id: user_id.to_string(), after: serde_json::json!({"password": "changed"}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Enables or disables an account; disabling ends its sessions and revokes its tokens.
    pub async fn set_active(&self, user_id: i64, active: bool, change: Change) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE users SET active = $1, version = version + 1 WHERE id = $2")
                .bind(active)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            if n.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            if !active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            }
            let change = Change { entity: "user".into(), entity_id: user_id.to_string(), after: serde_json::json!({"active": active}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Stores a new session; only the token's hash is kept.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        with_db!(self, write, pool, _pg => { sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(expires)
        .execute(pool)
        .await?; });
        Ok(())
    }

    /// The account and CSRF token of a live session, in one query (it runs on every request).
    pub async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(User, String)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: User,
            csrf_token: String,
        }
        let row: Option<Row> = with_db!(self, read, pool, _pg => sqlx::query_as::<_, Row>(
            "SELECT u.id, u.username, u.display_name, u.password_hash, u.role, u.organization, u.household_id, u.active, \
               u.must_change_password, u.version, s.csrf_token \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await?);
        Ok(row.map(|r| (r.user, r.csrf_token)))
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        with_db!(self, write, pool, _pg => { sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(pool).await?; });
        Ok(())
    }

    /// The throttle records a login attempt by `username` from `address` is weighed against.
    pub async fn login_standing(&self, username: &str, address: &str) -> Result<Standing> {
        let subject = |scope: ThrottleScope| scope.subject(username, address);
        let rows: Vec<ThrottleRow> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT scope, failures, last_failure_at, last_success_at FROM login_throttle \
             WHERE (scope = 'address' AND subject = $1) OR (scope = 'account_address' AND subject = $2) \
                OR (scope = 'account' AND subject = $3)",
        )
        .bind(subject(ThrottleScope::Address))
        .bind(subject(ThrottleScope::AccountFromAddress))
        .bind(subject(ThrottleScope::Account))
        .fetch_all(pool)
        .await?);
        let mut standing = Standing::default();
        for row in rows {
            let record = ThrottleRecord {
                failures: row.failures,
                last_failure_at: row.last_failure_at,
                last_success_at: row.last_success_at,
            };
            let slot = match row.scope {
                ThrottleScope::Address => &mut standing.address,
                ThrottleScope::AccountFromAddress => &mut standing.account_from_address,
                ThrottleScope::Account => &mut standing.account,
            };
            *slot = Some(record);
        }
        Ok(standing)
    }

    /// Charges a login attempt to one throttle record before its password is checked, setting its failures to
    /// `failures`, provided the record is still as read (`seen`: its stored failures, `None`: no record). False
    /// when another attempt (on this node or another) changed it first: the caller reads again.
    pub async fn charge_login_attempt(
        &self,
        scope: ThrottleScope,
        subject: &str,
        seen: Option<u32>,
        failures: u32,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = with_db!(self, write, pool, _pg => match seen {
            None => sqlx::query(
                "INSERT INTO login_throttle (scope, subject, failures, last_failure_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (scope, subject) DO NOTHING",
            )
            .bind(scope.code())
            .bind(subject)
            .bind(i64::from(failures))
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected(),
            Some(seen) => sqlx::query(
                "UPDATE login_throttle SET failures = $3, last_failure_at = $4 \
                 WHERE scope = $1 AND subject = $2 AND failures = $5",
            )
            .bind(scope.code())
            .bind(subject)
            .bind(i64::from(failures))
            .bind(now)
            .bind(i64::from(seen))
            .execute(pool)
            .await?
            .rows_affected(),
        });
        Ok(done == 1)
    }

    /// Takes back the charge made at `charged_at` to a record that stood at `previous` (its last failure before,
    /// if it had one): the password was right, or the attempt lost a race and is weighed again. The time of the
    /// last failure goes back too, unless another attempt was charged since.
    pub async fn uncharge_login_attempt(
        &self,
        scope: ThrottleScope,
        subject: &str,
        charged_at: DateTime<Utc>,
        previous: Option<DateTime<Utc>>,
    ) -> Result<()> {
        with_db!(self, write, pool, _pg => {
            sqlx::query(
                "UPDATE login_throttle SET failures = failures - 1, \
                   last_failure_at = CASE WHEN last_failure_at = $3 THEN COALESCE($4, last_failure_at) ELSE last_failure_at END \
                 WHERE scope = $1 AND subject = $2 AND failures > 0",
            )
            .bind(scope.code())
            .bind(subject)
            .bind(charged_at)
            .bind(previous)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records a successful login on its account-from-address record (`subject`): its failures are forgotten,
    /// and the address becomes one the account is known at.
    pub async fn record_login_success(&self, subject: &str, now: DateTime<Utc>) -> Result<()> {
        with_db!(self, write, pool, _pg => {
            sqlx::query("UPDATE login_throttle SET failures = 0, last_success_at = $2 WHERE scope = $1 AND subject = $3")
                .bind(ThrottleScope::AccountFromAddress.code())
                .bind(now)
                .bind(subject)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deletes throttle records with nothing left to remember: failures forgotten, no recent success.
    pub async fn prune_login_throttle(&self, now: DateTime<Utc>) -> Result<u64> {
        let forgotten = now - chrono::Duration::seconds(throttle::FORGET_AFTER_SECONDS);
        let unknown = now - chrono::Duration::days(throttle::KNOWN_ADDRESS_DAYS);
        Ok(with_db!(self, write, pool, _pg => sqlx::query(
            "DELETE FROM login_throttle WHERE last_failure_at <= $1 AND (last_success_at IS NULL OR last_success_at <= $2)",
        )
        .bind(forgotten)
        .bind(unknown)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Issues an API key for an account; only its hash is stored.
    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        scope: KeyScope,
        expires_at: Option<DateTime<Utc>>,
        change: Change,
    ) -> Result<ApiToken> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (name, token_hash, user_id, created_at, scope, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(name)
            .bind(token_hash)
            .bind(user_id)
            .bind(change.at)
            .bind(scope.code())
            .bind(expires_at)
            .fetch_one(&mut *tx)
            .await?;
            let after = serde_json::json!({"name": name, "user_id": user_id, "scope": scope.code(), "expires_at": expires_at});
            let change = Change { entity: "api_token".into(), entity_id: id.to_string(), after, ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.api_token(id).await
    }

    /// One API key (not a calendar-feed token).
    pub async fn api_token(&self, id: i64) -> Result<ApiToken> {
        let sql = format!(
            "SELECT {API_TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1 AND {NOT_CALENDAR}"
        );
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, ApiToken>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Every API key, newest first, revoked and expired ones included.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {API_TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE {NOT_CALENDAR} ORDER BY t.id DESC"
        );
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, ApiToken>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?),
        )
    }

    /// Revokes an API key from `change.at` on. Revoking a key that is already revoked changes nothing.
    pub async fn revoke_api_token(&self, id: i64, change: Change) -> Result<ApiToken> {
        let key = self.api_token(id).await?;
        if key.revoked_at.is_some() {
            return Ok(key);
        }
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(change.at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let change = Change {
                entity: "api_token".into(),
                entity_id: id.to_string(),
                after: serde_json::json!({"revoked_at": change.at}),
                ..change
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.api_token(id).await
    }

    /// What the API key with this hash grants, if it belongs to an active account; revoked or expired included.
    pub async fn api_key_grant(&self, token_hash: &str) -> Result<Option<ApiKeyGrant>> {
        let sql = format!(
            "SELECT t.id, t.user_id, t.scope, t.expires_at, t.last_used_at, t.revoked_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND u.active AND {NOT_CALENDAR}"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, ApiKeyGrant>(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?))
    }

    /// Records that an API key was used at `at` (callers write this at most once a minute per key).
    pub async fn record_api_token_use(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        with_db!(self, write, pool, _pg => {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(at).bind(id).execute(pool).await?;
        });
        Ok(())
    }

    /// Issues the account's calendar-feed token (only its hash is stored), revoking the one before.
    pub async fn create_calendar_token(&self, user_id: i64, token_hash: &str, change: Change) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND scope = 'calendar' AND revoked_at IS NULL")
                .bind(change.at).bind(user_id).execute(&mut *tx).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (name, token_hash, user_id, created_at, scope) VALUES ('calendar', $1, $2, $3, 'calendar') RETURNING id")
                .bind(token_hash).bind(user_id).bind(change.at).fetch_one(&mut *tx).await?;
            let change = Change { entity: "api_token".into(), entity_id: id.to_string(),
                after: serde_json::json!({"name": "calendar", "user_id": user_id, "scope": "calendar"}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The active account behind an unrevoked calendar-feed token.
    pub async fn calendar_token_user(&self, token_hash: &str) -> Result<Option<User>> {
        let uid: Option<i64> = with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active AND t.scope = 'calendar'",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        match uid {
            Some(id) => Ok(Some(self.user(id).await?)),
            None => Ok(None),
        }
    }

    /// Issues a one-time sign-up code for a household; only its hash is stored.
    pub async fn issue_signup_code(
        &self,
        household_id: i64,
        code_hash: &str,
        expires: DateTime<Utc>,
        change: Change,
    ) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO signup_codes (code_hash, household_id, issued_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(code_hash)
            .bind(household_id)
            .bind(change.actor_id)
            .bind(change.at)
            .bind(expires)
            .fetch_one(&mut *tx)
            .await?;
            let change = Change { entity: "signup_code".into(), entity_id: id.to_string(), after: serde_json::json!({"household_id": household_id, "expires_at": expires}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Creates a resident account from an unused, unexpired code, marking the code used in the same transaction.
    pub async fn redeem_signup_code(&self, code_hash: &str, new: &NewUser, now: DateTime<Utc>) -> Result<User> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let row: Option<(i64, i64, i64)> = sqlx::query_as(
                "SELECT s.id, s.household_id, h.community_id FROM signup_codes s JOIN households h ON h.id = s.household_id \
                 WHERE s.code_hash = $1 AND s.used_at IS NULL AND s.expires_at > $2",
            )
            .bind(code_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((code_id, household_id, community_id)) = row else {
                return Err(StoreError::Invalid(vec![wujia_core::registry::FieldError::new("code", "注册码无效或已过期 / the code is invalid, used or expired")]));
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (username, display_name, password_hash, role, household_id, active, must_change_password, created_at) \
                 VALUES ($1, $2, $3, 'resident', $4, TRUE, FALSE, $5) RETURNING id",
            )
            .bind(&new.username)
            .bind(&new.display_name)
            .bind(&new.password_hash)
            .bind(household_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| on_unique(e, "用户名已被使用 / username is taken"))?;
            let used = sqlx::query("UPDATE signup_codes SET used_at = $1, used_by = $2 WHERE id = $3 AND used_at IS NULL")
                .bind(now)
                .bind(id)
                .bind(code_id)
                .execute(&mut *tx)
                .await?;
            if used.rows_affected() != 1 {
                return Err(StoreError::Conflict("注册码已被使用 / the code was just used".into()));
            }
            let change = Change {
                at: now,
                actor_id: Some(id),
                actor: new.username.clone(),
                community_id: Some(community_id),
                action: "user.signup".into(),
                entity: "user".into(),
                entity_id: id.to_string(),
                before: serde_json::Value::Null,
                after: serde_json::json!({"username": new.username, "role": "resident", "household_id": household_id}),
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.user(id).await
    }
}

#[derive(sqlx::FromRow)]
struct ThrottleRow {
    #[sqlx(try_from = "String")]
    scope: ThrottleScope,
    #[sqlx(try_from = "i64")]
    failures: u32,
    last_failure_at: DateTime<Utc>,
    last_success_at: Option<DateTime<Utc>>,
}
