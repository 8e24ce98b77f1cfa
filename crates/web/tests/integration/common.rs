//! The test harness: a real server on port 0 over a fresh copy of the demo community, on SQLite or PostgreSQL.
//!
//! The demo is loaded once per backend into a template (an SQLite file, or a PostgreSQL template
//! database); each test starts from its own copy, so tests are independent and fast.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use wujia_core::accounts::hash_password;
use wujia_store::{SecretKey, Store};
use wujia_web::{AppState, Config, FixedClock};

/// Every demo account's password in tests.
pub const PASSWORD: &str = "test-password-2024";

/// A password strong enough to be set (tests that create accounts or change passwords use it).
pub const NEW_PASSWORD: &str = "lantern-okra-57-river";

/// The token the test servers' `/metrics` asks for.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// The day the tests live on: the article's date, Beijing morning.
pub fn test_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 2, 26, 1, 30, 0).unwrap()
}

/// The secret key every test server is started with.
pub fn key() -> SecretKey {
    SecretKey::from_bytes([42; 32])
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL at `WUJIA_TEST_DATABASE_URL`.
    Postgres,
}

/// The PostgreSQL server for tests; CI must provide it, elsewhere the PostgreSQL variants say so and pass.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("WUJIA_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("CI").is_ok() => {
            panic!("CI must set WUJIA_TEST_DATABASE_URL so that the PostgreSQL suite runs")
        }
        _ => None,
    }
}

fn with_database(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a database URL ends in /DBNAME");
    format!("{base}/{db}")
}

fn run_blocking<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || tokio::runtime::Runtime::new().unwrap().block_on(f)).join().unwrap()
}

async fn load_template(url: String) {
    let store = Store::connect(&url, &key()).await.unwrap();
    store.migrate().await.unwrap();
    let demo = wujia_core::demo::generate(2023);
    let hash = hash_password(PASSWORD, &[7; 16]).unwrap();
    let accounts: Vec<_> = demo.accounts.iter().map(|a| (a.clone(), hash.clone())).collect();
    store.load_demo(&demo, &accounts, test_now()).await.unwrap();
    store.close().await;
}

/// True when no process with this id runs any more: what an earlier, finished test run left behind.
fn finished(pid: &str) -> bool {
    pid.parse::<u32>().is_ok_and(|p| p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists())
}

fn sqlite_template() -> &'static PathBuf {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        // Templates of finished runs (each test binary keeps its own while it runs).
        for entry in std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.strip_prefix("wujia-test-").is_some_and(finished) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = std::env::temp_dir().join(format!("wujia-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("template.db");
        let url = format!("sqlite://{}", path.display());
        run_blocking(load_template(url));
        path
    })
}

fn postgres_template(admin: &str) -> &'static String {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| {
        let name = format!("wujia_tpl_{}_{}", std::process::id(), rand_suffix());
        let admin = admin.to_string();
        let db_url = with_database(&admin, &name);
        let n = name.clone();
        run_blocking(async move {
            let pool = sqlx::PgPool::connect(&admin).await.unwrap();
            // Templates of finished runs (each test binary keeps its own while it runs).
            let old: Vec<String> =
                sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'wujia\\_tpl\\_%'")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            for db in old.iter().filter(|d| d.split('_').nth(2).is_some_and(finished)) {
                let sql = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
            }
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {n}"))).execute(&pool).await.unwrap();
            pool.close().await;
            load_template(db_url).await;
        });
        name
    })
}

fn rand_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Client without cookies (API with bearer tokens).
    pub client: Client,
    /// The database URL, for tests that look underneath (tampering).
    pub database_url: String,
    /// The backend.
    pub backend: Backend,
    /// The server's clock.
    pub clock: Arc<FixedClock>,
    /// The server's state, for running background jobs on demand.
    pub state: AppState,
    blob_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    /// Starts a server over a fresh copy of the demo; `None` when the backend is not available here.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with settings changed by `configure`.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Option<Self> {
        let database_url = match backend {
            Backend::Sqlite => {
                let template = sqlite_template();
                let path = template.with_file_name(format!("t-{}.db", rand_suffix()));
                std::fs::copy(template, &path).unwrap();
                format!("sqlite://{}", path.display())
            }
            Backend::Postgres => {
                let admin = postgres_admin_url()?;
                let template = postgres_template(&admin);
                let name = format!("wujia_t_{}", rand_suffix());
                let pool = sqlx::PgPool::connect(&admin).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} TEMPLATE {template}")))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                with_database(&admin, &name)
            }
        };
        let store = Store::connect(&database_url, &key()).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(FixedClock::new(test_now()));
        let blob_dir = std::env::temp_dir().join(format!("wujia-test-blobs-{}", rand_suffix()));
        let mut config = Config {
            blob_dir: blob_dir.clone(),
            metrics_token: wujia_web::MetricsToken::new(METRICS_TOKEN),
            // The tests' robots listen on 127.0.0.1, allowed as an admin would allow an intranet host.
            webhook_allow_hosts: vec!["127.0.0.1".into()],
            ..Config::default()
        };
        configure(&mut config);
        let state = AppState::with_clock(store, config, clock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(wujia_web::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Some(Self { base, client: Client::new(), database_url, backend, clock, state, blob_dir, shutdown: Some(tx) })
    }

    /// Full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in through the API and returns the bearer token.
    pub async fn token(&self, username: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/v1/sessions"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "login as {username}");
        res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
    }

    /// An account's id.
    pub async fn user_id_of(&self, username: &str) -> i64 {
        let token = self.token(username).await;
        self.get_json(&token, "/api/v1/me").await["user"]["id"].as_i64().unwrap()
    }

    /// GET with a bearer token.
    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    /// GET returning JSON, asserting 200.
    pub async fn get_json(&self, token: &str, path: &str) -> Value {
        let res = self.get(token, path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }

    /// A method with a JSON body and a bearer token.
    pub async fn send(&self, method: reqwest::Method, token: &str, path: &str, body: &Value) -> Response {
        self.client.request(method, self.url(path)).bearer_auth(token).json(body).send().await.unwrap()
    }

    /// Takes in a request through the API as `token`, asserting it was created, and returns it.
    pub async fn create_request(&self, token: &str, body: &Value) -> Value {
        let res = self.send(reqwest::Method::POST, token, "/api/v1/requests", body).await;
        assert_eq!(res.status(), StatusCode::CREATED, "POST /api/v1/requests {body}");
        res.json().await.unwrap()
    }

    /// A browser-like client that keeps cookies, logged in through the login form.
    pub async fn browser(&self, username: &str) -> Client {
        let c = Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::limited(5)).build().unwrap();
        let page = c.get(self.url("/login")).send().await.unwrap().text().await.unwrap();
        let csrf = hidden(&page, "csrf");
        let res = c
            .post(self.url("/login"))
            .form(&[("username", username), ("password", PASSWORD), ("csrf", &csrf), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "page login as {username}");
        c
    }

    /// Runs SQL directly on the database, for tests that tamper underneath the application.
    pub async fn raw_sql(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.database_url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.database_url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = std::fs::remove_dir_all(&self.blob_dir);
        match self.backend {
            Backend::Sqlite => {
                let path = self.database_url.trim_start_matches("sqlite://").to_string();
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            Backend::Postgres => {
                let (admin, name) =
                    (postgres_admin_url(), self.database_url.rsplit('/').next().unwrap_or("").to_string());
                if let Some(admin) = admin {
                    run_blocking(async move {
                        if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                            pool.close().await;
                        }
                    });
                }
            }
        }
    }
}

/// The value of a hidden form field in an HTML page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no hidden field {name}")) + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// Runs each named test body on SQLite and, where available, PostgreSQL; `configure = f;` first changes the
/// servers' settings as [`TestApp::spawn_with`] does.
#[macro_export]
macro_rules! on_both {
    (configure = $configure:expr; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::common::TestApp::spawn_with($crate::common::Backend::Sqlite, $configure).await.unwrap();
                super::$name(app).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                match $crate::common::TestApp::spawn_with($crate::common::Backend::Postgres, $configure).await {
                    Some(app) => super::$name(app).await,
                    None => eprintln!("WUJIA_TEST_DATABASE_URL is not set: PostgreSQL variant not run here"),
                }
            })*
        }
    };
    ($($name:ident),* $(,)?) => {
        on_both!(configure = |_| {}; $($name),*);
    };
}

/// Runs a third-party checker written in Python (the packages of `scripts/requirements-test.txt`) and returns
/// its standard output, failing the test with its standard error when it exits non-zero.
///
/// `./scripts/test` installs the packages into a virtual environment and sets `WUJIA_TEST_PYTHON`; under CI a
/// missing interpreter fails the test rather than skipping the check.
pub fn python(script: &str, args: &[&str]) -> String {
    let python = match std::env::var("WUJIA_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => panic!(
            "WUJIA_TEST_PYTHON is not set: run ./scripts/test, or point it at a Python with the packages of \
             scripts/requirements-test.txt"
        ),
    };
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        out.status.success(),
        "the Python checker failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the checker prints UTF-8")
}

/// A phone photo: a real 64×48 JPEG whose EXIF block holds where it was taken, as phones send.
pub fn jpeg() -> Vec<u8> {
    with_location(&plain_jpeg(64, 48))
}

/// A plain JPEG of `width`×`height` pixels (a gradient, so that it compresses like a picture).
pub fn plain_jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 120]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
    out
}

/// `jpeg` with an EXIF block (APP1, right after the start marker) giving a GPS position: 39°54'N 116°24'E.
pub fn with_location(jpeg: &[u8]) -> Vec<u8> {
    // TIFF, little-endian. IFD0 holds one entry, the GPS IFD pointer (offset 26); the GPS IFD holds the latitude
    // reference "N" and the latitude as three rationals at offset 56.
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend([1, 0, 0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0, 0, 0, 0]);
    tiff.extend([2, 0]);
    tiff.extend([0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    tiff.extend([0x02, 0x00, 5, 0, 3, 0, 0, 0, 56, 0, 0, 0]);
    tiff.extend([0, 0, 0, 0]);
    for (n, d) in [(39u32, 1u32), (54, 1), (0, 1)] {
        tiff.extend(n.to_le_bytes());
        tiff.extend(d.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

/// A problem response (RFC 9457): its status and body, asserting the problem content type.
pub async fn problem(res: reqwest::Response) -> (reqwest::StatusCode, Value) {
    let status = res.status();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = res.text().await.unwrap();
    assert!(ct.starts_with("application/problem+json"), "content type {ct}: {status} {body}");
    (status, serde_json::from_str(&body).unwrap())
}
