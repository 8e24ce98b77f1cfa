//! The published contract: the OpenAPI document is valid, kept as a reviewed snapshot, and names exactly the
//! routes the server answers; the problems clients see are snapshots too, and their `type` pages explain them.

use crate::common::{Backend, TestApp, python};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    a_malformed_path_id_is_a_problem_naming_the_parameter,
    a_malformed_query_is_a_problem_naming_the_parameter,
    a_json_field_of_the_wrong_type_is_a_problem_naming_the_field,
    an_invalid_value_is_a_problem_naming_the_field,
    a_missing_record_or_route_is_a_not_found_problem,
    a_missing_login_is_an_unauthorized_problem,
);

/// Prints every error openapi-spec-validator finds in the document at `argv[1]`, then their count.
const VALIDATE: &str = r#"
import json, sys
from jsonschema_path import SchemaPath
from openapi_spec_validator.shortcuts import get_validator_cls
spec = json.load(open(sys.argv[1]))
errors = list(get_validator_cls(spec)(SchemaPath.from_dict(spec)).iter_errors())
for e in errors:
    print("-", "/".join(str(p) for p in e.absolute_path), e.message[:200])
print(len(errors))
"#;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document(app: &TestApp) -> Value {
    let res = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Every operation of the document: method, path and the operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_string(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_passes_openapi_spec_validator() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let doc = document(&app).await;
    let path = std::env::temp_dir().join(format!("wujia-openapi-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    let out = python(VALIDATE, &[path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.lines().last(), Some("0"), "openapi-spec-validator:\n{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_the_reviewed_contract() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    insta::assert_json_snapshot!("openapi", document(&app).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_a_success_and_declares_its_problems() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let doc = document(&app).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 141, "{} operations", ops.len());
    for (method, path, op) in &ops {
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|k| k.starts_with('2')), "{method} {path} declares no success");
        let problems: Vec<_> = responses.iter().filter(|(k, _)| k.starts_with('4') || k.starts_with('5')).collect();
        assert!(!problems.is_empty(), "{method} {path} declares no problem");
        for (status, r) in problems {
            let r = match r["$ref"].as_str() {
                Some(name) => &doc["components"]["responses"][name.rsplit('/').next().unwrap()],
                None => r,
            };
            let content = &r["content"]["application/problem+json"];
            assert_eq!(content["schema"]["$ref"], "#/components/schemas/Problem", "{method} {path} {status}");
        }
    }
    // Every example's `type` is a page that explains it.
    for (name, r) in doc["components"]["responses"].as_object().unwrap() {
        let example = &r["content"]["application/problem+json"]["example"];
        let kind = example["type"].as_str().unwrap_or_else(|| panic!("{name} has no example"));
        let res = app.client.get(app.url(kind)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{kind}");
    }
}

/// A path of the document with each `{parameter}` filled in.
fn concrete(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { "1" } else { s }).collect::<Vec<_>>().join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_answers_exactly_the_operations_of_the_document() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let doc = document(&app).await;
    let ops = operations(&doc);
    for (method, path, _) in &ops {
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = app.client.request(m, app.url(&concrete(path))).send().await.unwrap();
        assert_ne!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
    // The metrics name each request's matched route: every operation was routed to its own pattern.
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(crate::common::METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut routed: Vec<(String, String)> = metrics
        .lines()
        .filter(|l| l.starts_with("wujia_http_requests_total{"))
        .filter_map(|l| {
            let method = l.split("method=\"").nth(1)?.split('"').next()?.to_lowercase();
            let route = l.split("route=\"").nth(1)?.split('"').next()?.to_string();
            // The document itself is served beside the operations it describes.
            (route.starts_with("/api/v1/") && route != "/api/v1/openapi.json").then_some((method, route))
        })
        .collect();
    routed.sort();
    routed.dedup();
    let mut documented: Vec<(String, String)> = ops.into_iter().map(|(m, p, _)| (m, p)).collect();
    documented.sort();
    let unrouted: Vec<_> = documented.iter().filter(|o| !routed.contains(o)).collect();
    let undocumented: Vec<_> = routed.iter().filter(|o| !documented.contains(o)).collect();
    assert!(unrouted.is_empty() && undocumented.is_empty(), "unrouted {unrouted:?}; undocumented {undocumented:?}");
}

/// The problem a response carries, asserting its content type and that its status is the body's.
async fn problem(res: reqwest::Response) -> Value {
    let status = res.status();
    let ct = res.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_string();
    assert_eq!(ct, "application/problem+json", "{status}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    body
}

async fn a_malformed_path_id_is_a_problem_naming_the_parameter(app: TestApp) {
    let token = app.token("zhangli").await;
    let p = problem(app.get(&token, "/api/v1/households/abc").await).await;
    assert_eq!(p["errors"][0]["field"], "id", "{p}");
    insta::assert_json_snapshot!("malformed_path_id", p);
    // Of two parameters, the one at fault is named.
    let path = "/api/v1/zones/1/members/x";
    let p = problem(app.send(reqwest::Method::PUT, &token, path, &json!({"leader": false})).await).await;
    assert_eq!(p["errors"][0]["field"], "user_id", "{p}");
    // A method the route does not have is a problem too.
    let p = problem(app.get(&token, path).await).await;
    assert_eq!(p["status"], 405, "{p}");
}

async fn a_malformed_query_is_a_problem_naming_the_parameter(app: TestApp) {
    let token = app.token("zhangli").await;
    let p = problem(app.get(&token, "/api/v1/households?q=3&limit=x").await).await;
    assert_eq!(p["errors"][0]["field"], "limit", "{p}");
    insta::assert_json_snapshot!("malformed_query", p);
    let p = problem(app.get(&token, "/api/v1/households").await).await;
    assert_eq!((p["status"].as_u64(), &p["errors"][0]["field"]), (Some(400), &json!("q")), "{p}");
}

async fn a_json_field_of_the_wrong_type_is_a_problem_naming_the_field(app: TestApp) {
    let body = json!({"username": 1, "password": "x"});
    let res = app.client.post(app.url("/api/v1/sessions")).json(&body).send().await.unwrap();
    let p = problem(res).await;
    assert_eq!(p["errors"][0]["field"], "username", "{p}");
    insta::assert_json_snapshot!("json_field_of_wrong_type", p);
}

async fn an_invalid_value_is_a_problem_naming_the_field(app: TestApp) {
    let token = app.token("zhangli").await;
    let long = "楼".repeat(101);
    let p = problem(app.get(&token, &format!("/api/v1/households?q={long}")).await).await;
    assert_eq!(p["errors"][0]["field"], "q", "{p}");
    insta::assert_json_snapshot!("invalid_value", p);
}

async fn a_missing_record_or_route_is_a_not_found_problem(app: TestApp) {
    let token = app.token("zhangli").await;
    let p = problem(app.get(&token, "/api/v1/residents/999999").await).await;
    insta::assert_json_snapshot!("not_found", p);
    assert_eq!(problem(app.get(&token, "/api/v1/no-such-thing").await).await, p);
}

async fn a_missing_login_is_an_unauthorized_problem(app: TestApp) {
    let p = problem(app.client.get(app.url("/api/v1/me")).send().await.unwrap()).await;
    insta::assert_json_snapshot!("unauthorized", p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problem_pages_explain_each_kind_in_both_languages() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let res = app.client.get(app.url("/problems/validation")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let zh = res.text().await.unwrap();
    assert!(zh.contains("输入有误") && zh.contains("errors"), "{zh}");
    let res = app
        .client
        .get(app.url("/problems/validation"))
        .header(reqwest::header::COOKIE, "wujia_lang=en")
        .send()
        .await
        .unwrap();
    let en = res.text().await.unwrap();
    assert!(en.contains("Invalid input") && en.contains("/problems/not-found"), "{en}");
    let res = app.client.get(app.url("/problems/no-such-kind")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
