//! API keys tried as an attacker would: a key opens what its scope says and nothing more, and a revoked or
//! expired key is refused saying so. The list shows when a key was last used, never the key.

use crate::common::{TestApp, hidden, problem};
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wujia_web::{Clock, urlencode};

on_both!(
    an_open311_key_is_refused_on_the_api_and_takes_requests_on_open311,
    a_read_key_reads_but_never_writes_reveals_or_exports,
    expired_and_revoked_keys_are_refused_saying_so,
    only_admins_list_issue_and_revoke_keys,
    the_list_records_the_last_use_once_a_minute_and_never_shows_the_token,
    a_stored_scope_code_that_names_no_scope_is_a_fault_not_a_default,
    the_admin_page_lists_issues_and_revokes_keys,
    keys_issued_before_scopes_keep_working_as_admin_keys_with_an_expiry,
);

/// Issues a key as admin and returns the answer (token included).
async fn issue(app: &TestApp, body: Value) -> Value {
    let admin = app.token("admin").await;
    let res = app.send(Method::POST, &admin, "/api/v1/api_tokens", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{body}");
    res.json().await.unwrap()
}

fn token(issued: &Value) -> String {
    issued["token"].as_str().unwrap().to_string()
}

async fn open311_post(app: &TestApp, key: &str) -> reqwest::Response {
    let body = format!(
        "api_key={key}&service_code=property.repair.elevator&address_string={}&description={}",
        urlencode("琉璃井路3号院7号楼1单元电梯"),
        urlencode("电梯停在三楼")
    );
    let req = app.client.post(app.url("/open311/v2/requests.json"));
    req.header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap()
}

async fn listed(app: &TestApp, id: i64) -> Value {
    let admin = app.token("admin").await;
    let list = app.get_json(&admin, "/api/v1/api_tokens").await;
    list.as_array().unwrap().iter().find(|k| k["id"] == id).cloned().expect("the key is listed")
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

async fn an_open311_key_is_refused_on_the_api_and_takes_requests_on_open311(app: TestApp) {
    let zhangli = app.user_id_of("zhangli").await;
    // Without a scope, a key is the narrowest one: Open311 only, for 90 days.
    let issued = issue(&app, json!({"name": "街道 12345 对接", "user_id": zhangli})).await;
    assert_eq!(issued["scope"], "open311");
    assert_eq!(time(&issued["expires_at"]), app.clock.now() + Duration::days(90));
    let key = token(&issued);

    for path in ["/api/v1/households?q=3-7-1-102", "/api/v1/registry/export?format=csv", "/api/v1/me"] {
        let (status, p) = problem(app.get(&key, path).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(p["detail"].as_str().unwrap().contains("Open311"), "{p}");
    }
    let res = app.send(Method::POST, &key, "/api/v1/requests", &json!({"category_id": 1, "description": "x"})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let page = app.client.get(app.url("/console")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN, "pages are not Open311 either");

    let res = open311_post(&app, &key).await;
    assert_eq!(res.status(), StatusCode::OK);
    let created: Value = res.json().await.unwrap();
    let number = created[0]["service_request_id"].as_str().unwrap().to_string();
    let res = app.client.get(app.url(&format!("/open311/v2/requests/{number}.json?api_key={key}"))).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::OK);
}

async fn a_read_key_reads_but_never_writes_reveals_or_exports(app: TestApp) {
    let staff = app.token("zhangli").await;
    let zhangli = app.user_id_of("zhangli").await;
    let key = token(&issue(&app, json!({"name": "看板", "user_id": zhangli, "scope": "read"})).await);

    assert_eq!(app.get_json(&key, "/api/v1/registry/summary").await["households"], 2268);
    let hits = app.get_json(&key, "/api/v1/households?q=3-7-1-102").await;
    let hu = hits[0]["household_id"].as_i64().unwrap();
    let seen = app.get_json(&key, &format!("/api/v1/households/{hu}")).await;
    let resident = seen["residents"][0].clone();
    assert!(resident["id_card"].as_str().unwrap().contains('*'), "masked for the key: {resident}");

    // The account may reveal, export and write; its read key may not.
    let reveal = format!("/api/v1/residents/{}/id_card", resident["id"]);
    assert_eq!(app.send(Method::POST, &staff, &reveal, &json!({})).await.status(), StatusCode::OK);
    let (status, p) = problem(app.send(Method::POST, &key, &reveal, &json!({})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(p["detail"].as_str().unwrap().contains("only read"), "{p}");
    assert_eq!(app.get(&staff, "/api/v1/registry/export?format=csv").await.status(), StatusCode::OK);
    let (status, _) = problem(app.get(&key, "/api/v1/registry/export?format=csv").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no registry export with ID numbers");
    let res = app.send(Method::POST, &key, "/api/v1/requests", &json!({"category_id": 1, "description": "x"})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.send(Method::DELETE, &key, "/api/v1/sessions", &json!({})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Open311 reads are reads; taking a request in is a write.
    let res = app.client.get(app.url(&format!("/open311/v2/requests.json?api_key={key}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = open311_post(&app, &key).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let admin = app.token("admin").await;
    let events = app.get_json(&admin, "/api/v1/audit/events?limit=50").await;
    let reads = events.as_array().unwrap().iter().filter(|e| e["action"] == "resident.read_id_card").count();
    assert_eq!(reads, 1, "only the account's own reveal was logged");
}

async fn expired_and_revoked_keys_are_refused_saying_so(app: TestApp) {
    let issued = issue(&app, json!({"name": "一天", "scope": "admin", "expires_in_days": 1})).await;
    let key = token(&issued);
    assert_eq!(app.get(&key, "/api/v1/registry/summary").await.status(), StatusCode::OK);
    app.clock.advance(Duration::days(1));
    let (status, p) = problem(app.get(&key, "/api/v1/registry/summary").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("已过期") && detail.contains("expired"), "{p}");
    let res = open311_post(&app, &key).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("expired"));
    assert_eq!(listed(&app, issued["id"].as_i64().unwrap()).await["status"], "expired");

    let issued = issue(&app, json!({"name": "要吊销的", "scope": "admin"})).await;
    let key = token(&issued);
    let id = issued["id"].as_i64().unwrap();
    assert_eq!(app.get(&key, "/api/v1/registry/summary").await.status(), StatusCode::OK);
    let admin = app.token("admin").await;
    let res = app.send(Method::DELETE, &admin, &format!("/api/v1/api_tokens/{id}"), &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let revoked: Value = res.json().await.unwrap();
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(time(&revoked["revoked_at"]), app.clock.now());
    let (status, p) = problem(app.get(&key, "/api/v1/registry/summary").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "refused from the very next request");
    assert!(p["detail"].as_str().unwrap().contains("revoked"), "{p}");
    let res = open311_post(&app, &key).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Revoking again changes nothing; an unknown key is not found.
    let again = app.send(Method::DELETE, &admin, &format!("/api/v1/api_tokens/{id}"), &json!({})).await;
    assert_eq!(again.json::<Value>().await.unwrap()["revoked_at"], revoked["revoked_at"]);
    let (status, _) = problem(app.send(Method::DELETE, &admin, "/api/v1/api_tokens/99999", &json!({})).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A key that was never issued is still just "authentication required".
    let (status, p) = problem(app.get("wjt_00", "/api/v1/registry/summary").await).await;
    assert_eq!((status, p["type"].as_str().unwrap()), (StatusCode::UNAUTHORIZED, "/problems/unauthorized"));
}

async fn only_admins_list_issue_and_revoke_keys(app: TestApp) {
    let issued = issue(&app, json!({"name": "管理员的", "scope": "admin"})).await;
    let id = issued["id"].as_i64().unwrap();
    let staff = app.token("zhangli").await;
    assert_eq!(problem(app.get(&staff, "/api/v1/api_tokens").await).await.0, StatusCode::FORBIDDEN);
    let res = app.send(Method::POST, &staff, "/api/v1/api_tokens", &json!({"name": "x", "scope": "admin"})).await;
    assert_eq!(problem(res).await.0, StatusCode::FORBIDDEN);
    let res = app.send(Method::DELETE, &staff, &format!("/api/v1/api_tokens/{id}"), &json!({})).await;
    assert_eq!(problem(res).await.0, StatusCode::FORBIDDEN);
    // An admin's read key is an admin's account, still only reading: it cannot issue itself a stronger key.
    let read = token(&issue(&app, json!({"name": "只读", "scope": "read"})).await);
    assert_eq!(app.get(&read, "/api/v1/api_tokens").await.status(), StatusCode::FORBIDDEN);
    let res = app.send(Method::POST, &read, "/api/v1/api_tokens", &json!({"name": "x", "scope": "admin"})).await;
    assert_eq!(problem(res).await.0, StatusCode::FORBIDDEN);
    assert_eq!(listed(&app, id).await["status"], "active");

    let admin = app.token("admin").await;
    let bad = json!({"name": "", "scope": "root", "expires_in_days": 0});
    let (status, p) = problem(app.send(Method::POST, &admin, "/api/v1/api_tokens", &bad).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "scope", "expires_in_days"], "{p}");
    let both = json!({"name": "x", "expires_in_days": 5, "never_expires": true});
    assert_eq!(
        problem(app.send(Method::POST, &admin, "/api/v1/api_tokens", &both).await).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let nobody = json!({"name": "x", "user_id": 99999});
    let (_, p) = problem(app.send(Method::POST, &admin, "/api/v1/api_tokens", &nobody).await).await;
    assert_eq!(p["errors"][0]["field"], "user_id");
    // Never expiring only when asked.
    let forever = issue(&app, json!({"name": "永久", "never_expires": true})).await;
    assert!(forever["expires_at"].is_null());
}

async fn the_list_records_the_last_use_once_a_minute_and_never_shows_the_token(app: TestApp) {
    let issued = issue(&app, json!({"name": "统计", "scope": "read"})).await;
    let key = token(&issued);
    let id = issued["id"].as_i64().unwrap();
    assert!(listed(&app, id).await["last_used_at"].is_null());
    let start = app.clock.now();
    let use_key = || async {
        // Each use goes to the database, as on another node: this node's short look-up cache is emptied.
        app.state.forget_sessions();
        assert_eq!(app.get(&key, "/api/v1/registry/summary").await.status(), StatusCode::OK);
    };
    use_key().await;
    assert_eq!(time(&listed(&app, id).await["last_used_at"]), start);
    app.clock.advance(Duration::seconds(30));
    use_key().await;
    assert_eq!(time(&listed(&app, id).await["last_used_at"]), start, "not written again within the minute");
    app.clock.advance(Duration::seconds(31));
    use_key().await;
    assert_eq!(time(&listed(&app, id).await["last_used_at"]), start + Duration::seconds(61));

    let admin = app.token("admin").await;
    let list = app.get(&admin, "/api/v1/api_tokens").await.text().await.unwrap();
    assert!(!list.contains(&key) && !list.contains(&key[4..]), "the token is never listed");
    assert!(!list.contains("token"), "no token or token hash field: {list}");
    let page = app.browser("admin").await.get(app.url("/admin/api-keys")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("统计") && !page.contains(&key[4..]));
}

async fn a_stored_scope_code_that_names_no_scope_is_a_fault_not_a_default(app: TestApp) {
    let issued = issue(&app, json!({"name": "被改的", "scope": "read"})).await;
    let key = token(&issued);
    app.raw_sql(&format!("UPDATE api_tokens SET scope = 'superuser' WHERE id = {}", issued["id"])).await;
    app.state.forget_sessions();
    let (status, p) = problem(app.get(&key, "/api/v1/registry/summary").await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{p}");
    assert!(!p["detail"].as_str().unwrap().contains("superuser"), "internal text stays in the log");
    let admin = app.token("admin").await;
    assert_eq!(app.get(&admin, "/api/v1/api_tokens").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

async fn the_admin_page_lists_issues_and_revokes_keys(app: TestApp) {
    let browser = app.browser("admin").await;
    let page = browser.get(app.url("/admin/api-keys")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("API 密钥") && page.contains("value=\"open311\" checked"), "{page}");
    let csrf = hidden(&page, "csrf");

    let form = [("csrf", csrf.as_str()), ("name", "大屏看板"), ("scope", "read"), ("days", "30")];
    let res = browser.post(app.url("/admin/api-keys")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let start =
        page.find("<code id=\"new-token\">").expect("the token is shown once") + "<code id=\"new-token\">".len();
    let key = page[start..].split('<').next().unwrap().to_string();
    assert!(key.starts_with("wjt_"));
    assert!(page.contains("大屏看板"), "{page}");
    assert_eq!(app.get(&key, "/api/v1/registry/summary").await.status(), StatusCode::OK);
    let again = browser.get(app.url("/admin/api-keys")).send().await.unwrap().text().await.unwrap();
    assert!(!again.contains(&key), "shown once only");
    let admin = app.token("admin").await;
    let list = app.get_json(&admin, "/api/v1/api_tokens").await;
    let row = list.as_array().unwrap().iter().find(|k| k["name"] == "大屏看板").unwrap().clone();
    assert_eq!(row["scope"], "read");
    assert_eq!(time(&row["expires_at"]), app.clock.now() + Duration::days(30));
    assert!(again.contains(row["owner"].as_str().unwrap()), "the owner's name is listed");

    let bad = [("csrf", csrf.as_str()), ("name", "x"), ("scope", "root"), ("days", "30")];
    let res = browser.post(app.url("/admin/api-keys")).form(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("范围应为 open311、read 或 admin"));

    let revoke = format!("/admin/api-keys/{}/revoke", row["id"]);
    let res = browser.post(app.url(&revoke)).form(&[("csrf", "forged")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "CSRF is checked");
    assert_eq!(app.get(&key, "/api/v1/registry/summary").await.status(), StatusCode::OK);
    let res = browser.post(app.url(&revoke)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("密钥已吊销"));
    assert_eq!(app.get(&key, "/api/v1/registry/summary").await.status(), StatusCode::UNAUTHORIZED);

    browser.get(app.url("/lang/en")).send().await.unwrap();
    let page = browser.get(app.url("/admin/api-keys")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("API keys") && page.contains("Revoked") && page.contains("Last used"), "{page}");
    let staff = app.browser("zhangli").await;
    assert_eq!(staff.get(app.url("/admin/api-keys")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

async fn keys_issued_before_scopes_keep_working_as_admin_keys_with_an_expiry(app: TestApp) {
    // A key as migration 0019 left it: scope `api`, no expiry; then the data step of migration 0020.
    let key = "wjt_issued_before_scopes_existed";
    app.raw_sql(&format!(
        "INSERT INTO api_tokens (name, token_hash, user_id, created_at, scope) \
         VALUES ('老对接', '{}', (SELECT id FROM users WHERE username = 'admin'), '2024-01-01T00:00:00Z', 'api')",
        wujia_web::token_hash(key)
    ))
    .await;
    let migration = match app.backend {
        crate::common::Backend::Sqlite => include_str!("../../../store/migrations/sqlite/0020_api_key_scopes.sql"),
        crate::common::Backend::Postgres => include_str!("../../../store/migrations/postgres/0020_api_key_scopes.sql"),
    };
    let update = &migration[migration.find("UPDATE").unwrap()..];
    app.raw_sql(&update[..=update.find(';').unwrap()]).await;

    let admin = app.token("admin").await;
    let list = app.get_json(&admin, "/api/v1/api_tokens").await;
    let old = list.as_array().unwrap().iter().find(|k| k["name"] == "老对接").unwrap().clone();
    assert_eq!((old["scope"].as_str(), old["status"].as_str()), (Some("admin"), Some("active")), "{old}");
    assert!(time(&old["expires_at"]) > time(&old["created_at"]) + Duration::days(90), "{old}");
    assert_eq!(app.get(key, "/api/v1/api_tokens").await.status(), StatusCode::OK, "still an admin key");
}
