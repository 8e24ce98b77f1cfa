//! `wujia`: the one binary. Each subcommand is a thin shell over library code.

mod bench;
mod data_dir;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use wujia_core::accounts::api_keys::check_alive;
use wujia_core::accounts::{KeyRefusal, KeyScope, Lifetime, Role, check_password_strength, hash_password};
use wujia_core::transfer::{self, Format};
use wujia_store::{Change, NewUser, SecretKey, Store, StoreError};

#[derive(Parser, Debug)]
#[command(name = "wujia", version, about = "吾家 Wujia: community governance for resettled communities")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct Db {
    /// Directory for the embedded database, the secret key and uploads.
    #[arg(long, env = "WUJIA_DATA_DIR", default_value = "wujia-data")]
    data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; defaults to SQLite in the data directory.
    #[arg(long, env = "WUJIA_DATABASE_URL")]
    database_url: Option<String>,
    /// The secret key's file, to keep it apart from the data and its backups (created, owner-only, on first
    /// start); defaults to `secret.key` in the data directory. `WUJIA_SECRET_KEY` gives the key itself instead.
    #[arg(long, env = "WUJIA_SECRET_KEY_FILE")]
    secret_key_file: Option<PathBuf>,
}

impl Db {
    fn key_path(&self) -> PathBuf {
        self.secret_key_file.clone().unwrap_or_else(|| self.data_dir.join("secret.key"))
    }
}

/// The community's WeChat Official Account (服务号), as its developer page (开发 → 基本配置) shows it. Without an
/// AppID the server answers no WeChat callback.
#[derive(Args, Debug, Clone)]
struct Wechat {
    /// The account's AppID (`wx…`).
    #[arg(long = "wechat-appid", env = "WUJIA_WECHAT_APPID")]
    appid: Option<String>,
    /// The AppSecret.
    #[arg(long = "wechat-secret", env = "WUJIA_WECHAT_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// The Token the callback is signed with.
    #[arg(long = "wechat-token", env = "WUJIA_WECHAT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The 43-character EncodingAESKey, for safe mode (安全模式) and compatible mode.
    #[arg(long = "wechat-aes-key", env = "WUJIA_WECHAT_AES_KEY", hide_env_values = true)]
    aes_key: Option<String>,
    /// WeChat's API (a stand-in in tests).
    #[arg(long = "wechat-api-base", env = "WUJIA_WECHAT_API_BASE", default_value = wujia_web::WECHAT_API_BASE)]
    api_base: String,
}

impl Wechat {
    /// The account, when an AppID is set.
    fn account(&self) -> Result<Option<wujia_web::WechatAccount>> {
        let Some(appid) = self.appid.as_deref() else { return Ok(None) };
        let account = wujia_web::WechatAccount::new(
            appid,
            self.secret.as_deref().unwrap_or_default(),
            self.token.as_deref().unwrap_or_default(),
            self.aes_key.as_deref(),
            Some(&self.api_base),
        )
        .context("the WeChat account (WUJIA_WECHAT_*)")?;
        Ok(Some(account))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the server (migrations are applied first).
    Serve {
        #[command(flatten)]
        db: Db,
        /// Address to listen on.
        #[arg(long, env = "WUJIA_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Load the demo community of 望坛新苑 if the database is empty.
        #[arg(long)]
        demo: bool,
        /// Seed of the demo generator.
        #[arg(long, default_value_t = 2023)]
        seed: u64,
        /// The server is reached over HTTPS (directly or through a TLS proxy): Secure cookies and HSTS.
        #[arg(long, env = "WUJIA_SECURE_COOKIES")]
        secure_cookies: bool,
        /// The bearer token Prometheus must send to read /metrics; without it /metrics is not served.
        #[arg(long, env = "WUJIA_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// Hosts (`host` or `host:port`, comma-separated) that notification webhooks may call although they are
        /// on this machine or a private network.
        #[arg(long, env = "WUJIA_WEBHOOK_ALLOW_HOSTS", value_delimiter = ',')]
        webhook_allow_hosts: Vec<String>,
        /// Addresses of the reverse proxies in front of this server (comma-separated): only requests from them
        /// have their client address taken from X-Forwarded-For, for login throttling.
        #[arg(long, env = "WUJIA_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<std::net::IpAddr>,
        #[command(flatten)]
        wechat: Wechat,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: Db,
    },
    /// Load the demo community into an empty database and print the demo logins.
    Demo {
        #[command(flatten)]
        db: Db,
        /// Seed of the demo generator.
        #[arg(long, default_value_t = 2023)]
        seed: u64,
    },
    /// Import residents and households from an XLSX or CSV file (all rows or none).
    Import {
        #[command(flatten)]
        db: Db,
        /// The file.
        file: PathBuf,
        /// Community code (default: the only or first community).
        #[arg(long)]
        community: Option<String>,
        /// Check every row and report, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export residents to XLSX or CSV (the operator sees everything; the export is audited).
    Export {
        #[command(flatten)]
        db: Db,
        /// The file to write; its extension chooses the format.
        file: PathBuf,
        /// Community code (default: the first community).
        #[arg(long)]
        community: Option<String>,
    },
    /// Write an online, consistent snapshot of the SQLite database that `serve` can start from. The snapshot
    /// records the fingerprint of the secret key its ID numbers are sealed with; a start needs that key.
    Backup {
        #[command(flatten)]
        db: Db,
        /// The snapshot file to create.
        target: PathBuf,
        /// Also write the secret key to this new file, to keep apart from the snapshot (whoever holds both
        /// reads every ID number).
        #[arg(long)]
        key_file: Option<PathBuf>,
    },
    /// Audit log operations.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// API keys for scripts and other systems.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Rebuilds this node's full-text search index from the records.
    Reindex {
        #[command(flatten)]
        db: Db,
    },
    /// Measurements recorded in BENCHMARKS.md (each builds its own data in a temporary directory).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Import residents from one XLSX file into a fresh SQLite database, then re-import it.
    Import {
        /// Residents in the file.
        #[arg(long, default_value_t = 100_000)]
        residents: usize,
    },
    /// Request creation through the HTTP API, durable before acknowledged.
    Requests {
        /// Concurrencies to measure, comma-separated.
        #[arg(long, default_value = "16,64", value_delimiter = ',')]
        clients: Vec<usize>,
        /// Seconds per concurrency.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Findings with two 2 MB photos through HTTP, then the zero board over a long history of findings.
    Patrol {
        /// Concurrent clients recording findings.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Findings recorded through HTTP.
        #[arg(long, default_value_t = 320)]
        findings: usize,
        /// Historical findings behind the board.
        #[arg(long, default_value_t = 100_000)]
        history: usize,
    },
    /// The proactive detector (未诉先办) on a two-year synthetic history with planted patterns.
    Detector {
        /// Seeds of the synthetic histories to average over.
        #[arg(long, default_value_t = 5)]
        runs: u64,
    },
    /// The staff queue and the three rates for a year with many requests stored in one community.
    Queue {
        /// Requests laid down before measuring.
        #[arg(long, default_value_t = 1_000_000)]
        requests: usize,
    },
    /// Chinese full-text search over many requests: reindex rate and query latency.
    Search {
        /// Requests laid down and indexed before measuring.
        #[arg(long, default_value_t = 1_000_000)]
        requests: usize,
    },
    /// The dashboard of a street office over many communities and many requests.
    Street {
        /// Communities of the street.
        #[arg(long, default_value_t = 20)]
        communities: usize,
        /// Requests laid down between them.
        #[arg(long, default_value_t = 1_000_000)]
        requests: usize,
    },
    /// Household lookup by address and resident search through HTTP.
    Lookup {
        /// Concurrent clients.
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// Requests per kind of lookup.
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Walk the hash chain and report the first tampered event.
    Verify {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand, Debug)]
enum ApikeyCommand {
    /// Issue a key and print it (shown once). Without options: an Open311 key for `admin`, valid 90 days.
    Create {
        #[command(flatten)]
        db: Db,
        /// What the key is for.
        name: String,
        /// The account the key acts as.
        #[arg(long, default_value = "admin")]
        user: String,
        /// What the key opens: `open311` (the Open311 endpoints only), `read` (GET only, no full phone or ID
        /// numbers, no exports) or `admin` (everything the account may do).
        #[arg(long, default_value = "open311")]
        scope: KeyScope,
        /// Days the key lives (1–3650).
        #[arg(long, default_value_t = Lifetime::DEFAULT_DAYS, conflicts_with = "never_expires")]
        expires_in_days: u16,
        /// The key never expires (revoke it when it is no longer needed).
        #[arg(long)]
        never_expires: bool,
    },
    /// List the keys (never their tokens): id, scope, status, account, purpose, issued, expires, last used.
    List {
        #[command(flatten)]
        db: Db,
    },
    /// Revoke a key: it is refused from the next request on.
    Revoke {
        #[command(flatten)]
        db: Db,
        /// The key's id, as `apikey list` shows it.
        id: i64,
    },
}

fn database_url(db: &Db) -> String {
    db.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", db.data_dir.join("wujia.db").display()))
}

fn secret_key(db: &Db) -> Result<SecretKey> {
    if let Ok(text) = std::env::var("WUJIA_SECRET_KEY") {
        return SecretKey::parse(&text).context("WUJIA_SECRET_KEY must be 64 hex characters or base64 of 32 bytes");
    }
    let path = db.key_path();
    SecretKey::load_or_create(&path).with_context(|| format!("reading the secret key {}", path.display()))
}

async fn open(db: &Db) -> Result<Store> {
    data_dir::prepare(&db.data_dir)?;
    let key_path = db.key_path();
    let had_key = key_path.exists();
    let key = secret_key(db)?;
    let url = database_url(db);
    let store = Store::connect(&url, &key).await.with_context(|| format!("connecting to {}", redact(&url)))?;
    data_dir::protect_sqlite(&url)?;
    match store.migrate().await {
        Ok(()) => Ok(store),
        Err(StoreError::WrongKey(wrong)) => {
            store.close().await;
            if had_key || std::env::var_os("WUJIA_SECRET_KEY").is_some() {
                bail!("{wrong}; copy that key to {}", key_path.display());
            }
            // A key made just now for a restored database is the wrong one: leave no stray key behind.
            std::fs::remove_file(&key_path).with_context(|| format!("removing {}", key_path.display()))?;
            let needed =
                wrong.needed.map_or_else(|| "another key".to_string(), |f| format!("the key whose fingerprint is {f}"));
            bail!(
                "{} holds no secret key, and this database's personal data is sealed with {needed}: copy the \
                 key kept with the backup there, or set WUJIA_SECRET_KEY",
                key_path.display()
            )
        }
        Err(e) => Err(e).context("applying migrations"),
    }
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(colon) => format!("{}:***{}", &url[..s + 3 + colon], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    wujia_web::Clock::now(&wujia_web::SystemClock)
}

fn system_change(action: &str) -> Change {
    Change {
        at: now(),
        actor_id: None,
        actor: "cli".into(),
        community_id: None,
        action: action.into(),
        entity: action.split('.').next().unwrap_or(action).into(),
        entity_id: String::new(),
        before: serde_json::Value::Null,
        after: serde_json::Value::Null,
    }
}

/// A readable random password with letters and digits, e.g. `wt-k3m9-x7q2-p4`.
fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    loop {
        let chunk = |rng: &mut rand::rngs::ThreadRng, n: usize| -> String {
            (0..n).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
        };
        let p = format!("wt-{}-{}-{}", chunk(&mut rng, 4), chunk(&mut rng, 4), chunk(&mut rng, 2));
        if check_password_strength(&p, &[]).is_ok() {
            return p;
        }
    }
}

fn hash(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    hash_password(password, &salt).map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

fn admin_password_from_env() -> Result<Option<String>> {
    match std::env::var("WUJIA_ADMIN_PASSWORD") {
        Ok(p) => {
            check_password_strength(&p, &["admin"]).map_err(|e| anyhow::anyhow!("WUJIA_ADMIN_PASSWORD: {e}"))?;
            Ok(Some(p))
        }
        Err(_) => Ok(None),
    }
}

/// Loads the demo into an empty database; returns the logins to print once.
async fn load_demo(
    store: &Store,
    seed: u64,
    blob_dir: &std::path::Path,
) -> Result<Vec<(String, String, Role, String)>> {
    let demo = wujia_core::demo::generate(seed);
    let admin_password = admin_password_from_env()?;
    let mut accounts = Vec::new();
    let mut logins = Vec::new();
    for a in &demo.accounts {
        let password = match (&admin_password, a.role) {
            (Some(p), Role::Admin) => p.clone(),
            _ => generate_password(),
        };
        accounts.push((a.clone(), hash(&password)?));
        logins.push((a.username.clone(), password, a.role, a.display_name.clone()));
    }
    store.load_demo(&demo, &accounts, now()).await.context("loading the demo community")?;
    let requests = wujia_web::load_request_history(store, now())
        .await
        .map_err(|e| anyhow::anyhow!("loading the demo requests: {e}"))?;
    tracing::info!(requests, "demo service history loaded");
    let findings = wujia_web::load_patrol_history(store, blob_dir)
        .await
        .map_err(|e| anyhow::anyhow!("loading the demo patrols: {e}"))?;
    tracing::info!(findings, "demo patrol history loaded");
    let (visits, volunteers) = wujia_web::load_reception_history(store)
        .await
        .map_err(|e| anyhow::anyhow!("loading the demo reception days: {e}"))?;
    tracing::info!(visits, volunteers, "demo reception days and volunteers loaded");
    let attended = wujia_web::load_activity_history(store, blob_dir)
        .await
        .map_err(|e| anyhow::anyhow!("loading the demo activities: {e}"))?;
    tracing::info!(attended, "demo activities loaded");
    Ok(logins)
}

/// On a database with no accounts, creates `admin` with `WUJIA_ADMIN_PASSWORD` or a generated password.
async fn bootstrap_admin(store: &Store) -> Result<Option<String>> {
    if !store.users().await?.is_empty() {
        return Ok(None);
    }
    let (password, generated) = match admin_password_from_env()? {
        Some(p) => (p, false),
        None => (generate_password(), true),
    };
    let new = NewUser {
        username: "admin".into(),
        display_name: "系统管理员".into(),
        password_hash: hash(&password)?,
        role: Role::Admin,
        organization: None,
        household_id: None,
        communities: vec![],
        must_change_password: generated,
    };
    store.create_user(&new, system_change("user.create")).await?;
    Ok(Some(password))
}

fn print_logins(url: &str, logins: &[(String, String, Role, String)]) {
    println!();
    println!("吾家 Wujia · 望坛新苑 demo is ready at {url}");
    println!("Demo logins (printed once; keep them):");
    for (user, password, role, name) in logins {
        println!("  {user:<12} {password:<18} {:<14} {name}", role.code());
    }
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

async fn community_id(store: &Store, code: Option<&str>) -> Result<i64> {
    let all = store.communities().await?;
    match code {
        Some(c) => {
            all.iter().find(|x| x.code == c).map(|x| x.id).with_context(|| format!("no community with code {c}"))
        }
        None => all
            .first()
            .map(|x| x.id)
            .context("the database holds no community yet (run `wujia demo` or import into a created community)"),
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve {
            db,
            listen,
            demo,
            seed,
            secure_cookies,
            metrics_token,
            webhook_allow_hosts,
            trusted_proxies,
            wechat,
        } => {
            let wechat = wechat.account()?;
            let store = open(&db).await?;
            let listener =
                tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("listening on {listen}"))?;
            let url = format!("http://{}", listener.local_addr()?);
            if demo && store.is_empty().await? {
                let logins = load_demo(&store, seed, &db.data_dir.join("blobs")).await?;
                print_logins(&url, &logins);
            } else if let Some(password) = bootstrap_admin(&store).await? {
                println!("Created the admin account: admin / {password} (printed once)");
            } else if demo {
                println!(
                    "The database already holds data; the demo was not loaded again (logins were printed at first start)."
                );
            }
            println!("Wujia is listening on {url}");
            let config = wujia_web::Config {
                secure_cookies,
                metrics_token: metrics_token.and_then(wujia_web::MetricsToken::new),
                webhook_allow_hosts,
                trusted_proxies,
                blob_dir: db.data_dir.join("blobs"),
                search_dir: Some(db.data_dir.join("search")),
                smtp: smtp_from_env(),
                wechat,
                ..Default::default()
            };
            let limits = wujia_web::Limits {
                max_connections: wujia_web::raise_file_limit(config.limits.max_connections),
                ..config.limits
            };
            let config = wujia_web::Config { limits, ..config };
            let state = wujia_web::AppState::new(store, config);
            // Deliveries and deadline alerts: every node runs them; the database hands each item to one.
            let jobs = wujia_web::spawn_jobs(state.clone(), std::time::Duration::from_secs(10));
            wujia_web::serve(listener, state, shutdown_signal()).await?;
            jobs.abort();
            Ok(())
        }
        Command::Reindex { db } => {
            let store = open(&db).await?;
            let index = wujia_web::search::SearchIndex::open(Some(&db.data_dir.join("search")))
                .map_err(|e| anyhow::anyhow!("opening the search index: {e}"))?;
            let started = std::time::Instant::now();
            let n = index.rebuild(&store).await.map_err(|e| anyhow::anyhow!("rebuilding the search index: {e}"))?;
            println!("Indexed {n} records in {:.1} s (up to event {})", started.elapsed().as_secs_f64(), index.seq());
            Ok(())
        }
        Command::Migrate { db } => {
            open(&db).await?;
            println!("Migrations applied to {}", redact(&database_url(&db)));
            Ok(())
        }
        Command::Demo { db, seed } => {
            let store = open(&db).await?;
            if !store.is_empty().await? {
                bail!("the database already holds a community; the demo loads only into an empty database");
            }
            let logins = load_demo(&store, seed, &db.data_dir.join("blobs")).await?;
            print_logins("`wujia serve`", &logins);
            Ok(())
        }
        Command::Import { db, file, community, dry_run } => {
            let store = open(&db).await?;
            let community = community_id(&store, community.as_deref()).await?;
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let today = wujia_web::Clock::today(&wujia_web::SystemClock);
            let table = transfer::read_table(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let parsed = match transfer::check_rows(&table, today) {
                Ok(parsed) => parsed,
                Err(errors) => {
                    report_row_errors(&errors);
                    bail!("{} problems in {}; nothing was written", errors.len(), file.display());
                }
            };
            let rows = parsed.rows;
            let bar = ProgressBar::new(rows.len() as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let progress = |done: usize, _total: usize| bar.set_position(done as u64);
            let result = store
                .import_residents(community, &rows, parsed.errors, dry_run, system_change("resident.import"), &progress)
                .await;
            bar.finish_and_clear();
            match result {
                Ok(r) => {
                    println!(
                        "{}{} rows: {} households created, {} residents created, {} updated, {} unchanged",
                        if r.dry_run { "Dry run (nothing written): " } else { "" },
                        r.rows,
                        r.households_created,
                        r.residents_created,
                        r.residents_updated,
                        r.unchanged
                    );
                    Ok(())
                }
                Err(StoreError::Rows(errors)) => {
                    report_row_errors(&errors);
                    bail!("{} problems in {}; nothing was written", errors.len(), file.display());
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Export { db, file, community } => {
            let store = open(&db).await?;
            let community = community_id(&store, community.as_deref()).await?;
            let format = file
                .extension()
                .and_then(|e| e.to_str())
                .and_then(Format::parse)
                .context("the file must end in .xlsx or .csv")?;
            let today = wujia_web::Clock::today(&wujia_web::SystemClock);
            let records = store.export_records(community, None, today).await?;
            let rows: Vec<Vec<String>> = records
                .iter()
                .map(|r| r.cells(r.id_card.clone().unwrap_or_default(), r.resident.phone.clone().unwrap_or_default()))
                .collect();
            let bytes = transfer::write_table(format, &rows)?;
            write_new(&file, &bytes)?;
            let mut change = system_change("registry.export");
            change.community_id = Some(community);
            change.entity_id = community.to_string();
            change.after = serde_json::json!({"rows": rows.len(), "file": file.file_name().map(|f| f.to_string_lossy().to_string())});
            store.record(&change).await?;
            println!("Wrote {} residents to {}", rows.len(), file.display());
            Ok(())
        }
        Command::Backup { db, target, key_file } => {
            let store = open(&db).await?;
            store.backup(&target).await.with_context(|| format!("writing {}", target.display()))?;
            println!(
                "Snapshot written to {} (start from it with --database-url sqlite://{}); it needs the secret key \
                 with fingerprint {}",
                target.display(),
                target.display(),
                store.key_fingerprint()
            );
            if let Some(path) = key_file {
                secret_key(&db)?.write_new(&path).with_context(|| format!("writing the key to {}", path.display()))?;
                println!("Secret key written to {}: keep it apart from the snapshot", path.display());
            }
            Ok(())
        }
        Command::Audit { command: AuditCommand::Verify { db } } => {
            let store = open(&db).await?;
            match store.verify_audit().await {
                Ok(n) => {
                    println!("Audit chain intact: {n} events verified");
                    Ok(())
                }
                Err(StoreError::Tampered(t)) => bail!("Audit chain broken: event {} — {}", t.seq, t.reason),
                Err(e) => Err(e.into()),
            }
        }
        Command::Bench { command } => run_bench(command).await,
        Command::Apikey { command } => run_apikey(command).await,
    }
}

async fn run_apikey(command: ApikeyCommand) -> Result<()> {
    match command {
        ApikeyCommand::Create { db, name, user, scope, expires_in_days, never_expires } => {
            let lifetime = if never_expires {
                Lifetime::Never
            } else {
                Lifetime::days(i64::from(expires_in_days)).context("--expires-in-days")?
            };
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 60 {
                bail!("the purpose must be 1 to 60 characters");
            }
            let store = open(&db).await?;
            let account = store.user_by_username(&user).await?.with_context(|| format!("no account named {user}"))?;
            let token = format!("{}{}", wujia_web::API_TOKEN_PREFIX, wujia_web::new_token(24));
            let change = system_change("api_token.create");
            let expires = lifetime.expires_at(change.at);
            let key = store
                .create_api_token(account.id, name, &wujia_web::token_hash(&token), scope, expires, change)
                .await?;
            eprintln!(
                "Key {} for {}: scope {}, {}",
                key.id,
                account.username,
                scope.code(),
                expires.map_or_else(|| "never expires".to_string(), |e| format!("expires {}", e.to_rfc3339()))
            );
            println!("{token}");
            Ok(())
        }
        ApikeyCommand::List { db } => {
            let store = open(&db).await?;
            let now = now();
            println!(
                "{:>4}  {:<8} {:<8} {:<12} {:<20} {:<17} {:<17} last used",
                "id", "scope", "status", "account", "purpose", "issued", "expires"
            );
            for k in store.api_tokens().await? {
                let status = match check_alive(k.revoked_at, k.expires_at, now) {
                    Ok(()) => "active",
                    Err(KeyRefusal::Revoked) => "revoked",
                    Err(_) => "expired",
                };
                let minute = |t: Option<chrono::DateTime<chrono::Utc>>, none: &str| {
                    t.map_or_else(|| none.to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
                };
                println!(
                    "{:>4}  {:<8} {:<8} {:<12} {:<20} {:<17} {:<17} {}",
                    k.id,
                    k.scope.code(),
                    status,
                    k.owner,
                    k.name,
                    minute(Some(k.created_at), ""),
                    minute(k.expires_at, "never"),
                    minute(k.last_used_at, "never")
                );
            }
            Ok(())
        }
        ApikeyCommand::Revoke { db, id } => {
            let store = open(&db).await?;
            let key = match store.revoke_api_token(id, system_change("api_token.revoke")).await {
                Ok(k) => k,
                Err(StoreError::NotFound) => bail!("no API key {id} (see `wujia apikey list`)"),
                Err(e) => return Err(e.into()),
            };
            println!("Key {} ({}) revoked", key.id, key.name);
            Ok(())
        }
    }
}

async fn run_bench(command: BenchCommand) -> Result<()> {
    match command {
        BenchCommand::Import { residents } => bench::import(residents).await,
        BenchCommand::Lookup { clients, requests } => bench::lookup(clients, requests).await,
        BenchCommand::Requests { clients, seconds } => bench::requests(&clients, seconds).await,
        BenchCommand::Patrol { clients, findings, history } => bench::patrol(clients, findings, history).await,
        BenchCommand::Detector { runs } => bench::detector(runs),
        BenchCommand::Queue { requests } => bench::queue(requests).await,
        BenchCommand::Search { requests } => bench::search(requests).await,
        BenchCommand::Street { communities, requests } => bench::street(communities, requests).await,
    }
}

fn report_row_errors(errors: &[transfer::RowError]) {
    for e in errors {
        eprintln!("  row {:>6}  {:<10} {}", e.row, e.column, e.message);
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist)", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    init_logging()?;
    run(Cli::parse()).await
}

/// Logs to stderr at `WUJIA_LOG` (default: INFO for Wujia, warnings only from the libraries' chatter), one JSON
/// object a line with `WUJIA_LOG_FORMAT=json`, and colours only on a terminal.
fn init_logging() -> Result<()> {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("WUJIA_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn,tantivy=warn,hyper=warn,tower_http=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match std::env::var("WUJIA_LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().with_current_span(true).with_span_list(false).init(),
        Ok("text") | Err(std::env::VarError::NotPresent) => {
            builder.with_ansi(std::io::stderr().is_terminal()).init();
        }
        Ok(other) => bail!("WUJIA_LOG_FORMAT must be text or json, not {other:?}"),
        Err(e) => bail!("WUJIA_LOG_FORMAT: {e}"),
    }
    Ok(())
}

/// The SMTP server for e-mail channels, from `WUJIA_SMTP_URL` and `WUJIA_SMTP_FROM`.
fn smtp_from_env() -> Option<wujia_web::mail::SmtpConfig> {
    let url = std::env::var("WUJIA_SMTP_URL").ok().filter(|u| !u.is_empty())?;
    let from = std::env::var("WUJIA_SMTP_FROM").unwrap_or_else(|_| "吾家 Wujia <wujia@localhost>".into());
    Some(wujia_web::mail::SmtpConfig { url, from })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn generated_passwords_are_strong() {
        for _ in 0..50 {
            assert!(check_password_strength(&generate_password(), &[]).is_ok());
        }
    }

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(redact("postgres://wujia:secret@localhost/wujia"), "postgres://wujia:***@localhost/wujia");
        assert_eq!(redact("sqlite://wujia-data/wujia.db"), "sqlite://wujia-data/wujia.db");
    }
}
