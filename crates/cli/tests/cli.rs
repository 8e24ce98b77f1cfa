//! The `wujia` binary end to end: demo, audit, backup, import, export and API keys on a temporary data directory.

use std::path::Path;
use std::process::{Command, Output};

fn wujia(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wujia"))
        .args(args)
        .env("WUJIA_DATA_DIR", dir)
        .env("WUJIA_ADMIN_PASSWORD", "cli-lantern-okra-2024")
        .env_remove("WUJIA_DATABASE_URL")
        .env_remove("WUJIA_SECRET_KEY")
        .output()
        .expect("the binary runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wujia-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn demo_backup_audit_import_export_and_api_keys() {
    let dir = temp_dir("flow");
    let out = ok(&wujia(&dir, &["demo"]));
    assert!(out.contains("admin        cli-lantern-okra-2024"), "{out}");
    assert!(out.contains("zhangli"));
    // The demo loads only once.
    assert!(!wujia(&dir, &["demo"]).status.success());
    assert!(dir.join("secret.key").exists());

    let out = ok(&wujia(&dir, &["audit", "verify"]));
    assert!(out.contains("Audit chain intact"), "{out}");

    let snapshot = dir.join("snapshot.db");
    ok(&wujia(&dir, &["backup", snapshot.to_str().unwrap()]));
    let url = format!("sqlite://{}", snapshot.display());
    let out = ok(&wujia(&dir, &["audit", "verify", "--database-url", &url]));
    assert!(out.contains("events verified"));
    assert!(!wujia(&dir, &["backup", snapshot.to_str().unwrap()]).status.success(), "a backup never overwrites");

    let file = dir.join("new.csv");
    std::fs::write(&file, "小区(院),楼号,单元,房号,姓名,性别,出生日期\n琉璃井路1号院,1,1,2301,新居民,女,1990-01-01\n琉璃井路1号院,77,1,101,错楼,男,1990-01-01\n").unwrap();
    let out = wujia(&dir, &["import", file.to_str().unwrap(), "--dry-run"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row      3") && err.contains("楼号"), "{err}");
    std::fs::write(&file, "小区(院),楼号,单元,房号,姓名,性别,出生日期\n琉璃井路1号院,1,1,2301,新居民,女,1990-01-01\n")
        .unwrap();
    let out = ok(&wujia(&dir, &["import", file.to_str().unwrap()]));
    assert!(out.contains("1 residents created"), "{out}");
    let out = ok(&wujia(&dir, &["import", file.to_str().unwrap()]));
    assert!(out.contains("1 unchanged"), "{out}");

    let export = dir.join("all.xlsx");
    let out = ok(&wujia(&dir, &["export", export.to_str().unwrap()]));
    assert!(out.contains("Wrote"));
    assert!(std::fs::read(&export).unwrap().starts_with(b"PK"));

    let out = ok(&wujia(&dir, &["apikey", "create", "12345 bridge"]));
    assert!(out.trim().starts_with("wjt_") && out.trim().len() > 40, "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn api_keys_are_issued_narrow_listed_without_tokens_and_revoked() {
    let dir = temp_dir("apikeys");
    ok(&wujia(&dir, &["demo"]));
    let created = wujia(&dir, &["apikey", "create", "12345 bridge"]);
    let bridge = ok(&created).trim().to_string();
    let told = String::from_utf8_lossy(&created.stderr).to_string();
    assert!(
        told.contains("scope open311") && told.contains("expires"),
        "an Open311 key for 90 days by default: {told}"
    );
    let board = ok(&wujia(
        &dir,
        &["apikey", "create", "dashboard", "--user", "zhangli", "--scope", "read", "--expires-in-days", "7"],
    ));
    ok(&wujia(&dir, &["apikey", "create", "forever", "--scope", "admin", "--never-expires"]));
    for refused in [
        &["apikey", "create", "x", "--scope", "root"][..],
        &["apikey", "create", "x", "--expires-in-days", "0"],
        &["apikey", "create", "x", "--expires-in-days", "5", "--never-expires"],
        &["apikey", "create", "x", "--user", "nobody"],
        &["apikey", "revoke", "999"],
    ] {
        assert!(!wujia(&dir, refused).status.success(), "{refused:?}");
    }

    let list = ok(&wujia(&dir, &["apikey", "list"]));
    assert!(!list.contains(&bridge) && !list.contains(board.trim()), "tokens are never listed: {list}");
    let row =
        |name: &str| list.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("{name} in {list}")).to_string();
    let bridge_row = row("12345 bridge");
    assert!(
        bridge_row.contains("open311") && bridge_row.contains("active") && bridge_row.contains("系统管理员"),
        "{bridge_row}"
    );
    assert!(row("dashboard").contains("read") && row("dashboard").contains("张丽"));
    assert!(row("forever").contains("admin") && row("forever").contains("never"));

    let id = bridge_row.split_whitespace().next().unwrap().to_string();
    let out = ok(&wujia(&dir, &["apikey", "revoke", &id]));
    assert!(out.contains("revoked"), "{out}");
    let list = ok(&wujia(&dir, &["apikey", "list"]));
    assert!(list.lines().any(|l| l.contains("12345 bridge") && l.contains("revoked")), "{list}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_wrong_secret_key_or_database_url_is_reported_plainly() {
    let dir = temp_dir("errors");
    let out = Command::new(env!("CARGO_BIN_EXE_wujia"))
        .args(["migrate"])
        .env("WUJIA_DATA_DIR", &dir)
        .env("WUJIA_SECRET_KEY", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("WUJIA_SECRET_KEY"));
    let out = wujia(&dir, &["migrate", "--database-url", "mysql://x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite:// or postgres://"));
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs the binary and returns its standard error, failing the test if it is still running after a minute (a
/// server that started) or if it succeeded.
fn refused(dir: &Path, args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wujia"))
        .args(args)
        .env("WUJIA_DATA_DIR", dir)
        .env_remove("WUJIA_DATABASE_URL")
        .env_remove("WUJIA_SECRET_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{args:?} started instead of refusing");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success(), "{args:?} succeeded: {err}");
    err
}

#[test]
fn a_restore_without_its_key_is_refused_naming_the_key_it_needs() {
    let dir = temp_dir("restore-from");
    ok(&wujia(&dir, &["demo"]));
    let snapshot = dir.join("snapshot.db");
    let kept_key = dir.join("kept-apart.key");
    let out = ok(&wujia(&dir, &["backup", snapshot.to_str().unwrap(), "--key-file", kept_key.to_str().unwrap()]));
    let fingerprint = out.split("fingerprint ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    assert_eq!(fingerprint.len(), 16, "{out}");
    assert_eq!(std::fs::read_to_string(&kept_key).unwrap(), std::fs::read_to_string(dir.join("secret.key")).unwrap());

    // A fresh data directory holding only the snapshot: no start, and no stray key made for it.
    let fresh = temp_dir("restore-to");
    std::fs::copy(&snapshot, fresh.join("wujia.db")).unwrap();
    let export = fresh.join("all.csv");
    for command in [&["serve", "--listen", "127.0.0.1:0"][..], &["export", export.to_str().unwrap()]] {
        let err = refused(&fresh, command);
        assert!(err.contains(&fingerprint) && err.contains("secret.key"), "{command:?}: {err}");
        assert!(!fresh.join("secret.key").exists(), "a new key was made for a restored database");
    }

    // With the key kept apart, it starts and reads the ID numbers.
    std::fs::copy(&kept_key, fresh.join("secret.key")).unwrap();
    ok(&wujia(&fresh, &["export", export.to_str().unwrap()]));
    let csv = std::fs::read_to_string(&export).unwrap();
    let id_numbers = csv.lines().skip(1).filter_map(|l| l.split(',').nth(7)).filter(|id| id.len() == 18).count();
    assert!(id_numbers > 100, "the ID numbers read back: {id_numbers}");
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(fresh);
}

#[cfg(unix)]
#[test]
fn the_data_directory_is_the_owners_alone_and_the_key_can_live_elsewhere() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = temp_dir("owner-only");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let keys = temp_dir("owner-only-keys");
    let key = keys.join("vault").join("wujia.key");
    let with_key = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wujia"))
            .args(args)
            .env("WUJIA_DATA_DIR", &dir)
            .env("WUJIA_SECRET_KEY_FILE", &key)
            .env("WUJIA_ADMIN_PASSWORD", "cli-lantern-okra-2024")
            .env_remove("WUJIA_DATABASE_URL")
            .env_remove("WUJIA_SECRET_KEY")
            .output()
            .expect("the binary runs")
    };
    ok(&with_key(&["demo"]));
    assert_eq!(mode(&dir), 0o700, "the data directory was left open to others");
    assert_eq!(mode(&dir.join("wujia.db")), 0o600, "the database file was left readable by others");
    assert_eq!(mode(&key), 0o600);
    assert!(!dir.join("secret.key").exists(), "the key was written into the data directory");
    assert!(ok(&with_key(&["audit", "verify"])).contains("Audit chain intact"));

    // Without the key kept apart, the data does not open, and no stray key is left beside it.
    let out = wujia(&dir, &["audit", "verify"]);
    assert!(!out.status.success());
    assert!(!dir.join("secret.key").exists());
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(keys);
}

/// Starts `wujia serve` with `env`, asks for `/healthz` with a request id, stops it and returns its log.
fn serve_log(name: &str, env: &[(&str, &str)]) -> String {
    use std::io::{Read, Write};
    let dir = temp_dir(name);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = dir.join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wujia"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("WUJIA_DATA_DIR", &dir)
        .env_remove("WUJIA_DATABASE_URL")
        .env_remove("WUJIA_SECRET_KEY")
        .env_remove("WUJIA_LOG")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut stream = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if std::time::Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(50)),
            Err(e) => panic!("the server did not start: {e}"),
        }
    };
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: probe-42\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The access line is written as the answer leaves; give the writer a moment before stopping.
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_dir_all(dir);
    text
}

#[test]
fn every_request_is_logged_with_its_id_route_status_and_duration() {
    let json = serve_log("log-json", &[("WUJIA_LOG_FORMAT", "json")]);
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object a line ({e}): {l}")))
        .collect();
    let access = lines
        .iter()
        .find(|l| l["fields"]["message"] == "answered")
        .unwrap_or_else(|| panic!("no access line in {json}"));
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["fields"]["route"], "/healthz");
    assert_eq!(access["fields"]["status"], 200);
    assert!(access["fields"]["ms"].as_f64().is_some(), "{access}");
    assert_eq!(access["span"]["request_id"], "probe-42", "{access}");

    let text = serve_log("log-text", &[]);
    assert!(text.contains("answered") && text.contains("probe-42"), "{text}");
    assert!(!text.contains('\u{1b}'), "colour codes in a log that is not a terminal: {text:?}");
}
