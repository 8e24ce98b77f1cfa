//! The published contract: the OpenAPI document is valid, kept as a reviewed snapshot, and names exactly the
//! routes the server answers; problem bodies are snapshots too.

use crate::common::{Backend, TestApp, python};
use serde_json::Value;

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

async fn document(app: &TestApp) -> Value {
    let res = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    res.json().await.unwrap()
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
