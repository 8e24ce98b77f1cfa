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
