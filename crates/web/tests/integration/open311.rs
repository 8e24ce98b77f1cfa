//! Open311 GeoReport v2 as its clients speak it: three published Python clients (georeport, open311, three) drive
//! a real server; reads need no key and show no one's personal data; a community may keep reads to its keys.

use crate::common::{TestApp, hidden, python, test_now};
use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wujia_web::urlencode;

on_both!(
    three_published_clients_pass_every_check,
    a_phone_that_is_not_chinese_is_kept_and_never_refuses_the_request,
    an_api_key_in_the_query_string_takes_a_request_in,
    the_post_answer_gives_the_request_id_and_no_token,
    anyone_reads_without_a_key_and_sees_no_names_phones_or_homes,
    a_key_that_is_not_valid_is_refused_on_reads_too,
    a_community_can_keep_reads_to_its_keys_through_the_api,
    the_admin_page_turns_public_reads_off_and_on,
    unknown_ids_are_404_and_malformed_dates_400_as_error_lists_in_json_and_xml,
);

/// An Open311 key for the community's dispatcher, as an admin issues it.
async fn key(app: &TestApp) -> String {
    let admin = app.token("admin").await;
    let zhangli = app.user_id_of("zhangli").await;
    let issued =
        app.send(Method::POST, &admin, "/api/v1/api_tokens", &json!({"name": "12345", "user_id": zhangli})).await;
    assert_eq!(issued.status(), StatusCode::CREATED);
    issued.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
}

/// Posts a form to `path` (query string included) and returns the status and the body.
async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
    let res = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"))
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn read(app: &TestApp, path: &str) -> (StatusCode, String) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

const ELEVATOR: &str = "property.repair.elevator";

/// The clients exactly as published. `three` 0.8.0 and `open311` 1.1 were written for Python 2: they install on
/// Python 3 but do not import. The shims below give them the Python 2 names they use (`itertools.ifilter`,
/// implicit relative imports, `Element.getchildren`, `str` request bodies); every request they build and every
/// answer they parse is their own code.
const CLIENTS: &str = r#"
import sys
sys.modules["_elementtree"] = None  # the pure-Python ElementTree, which a shim can extend
import xml.etree.ElementTree as ET
ET.Element.getchildren = lambda self: list(self)
import importlib, importlib.util, itertools, os, types, urllib.error, urllib.request
itertools.ifilter = filter

base, key, start, end, three_start, three_end = sys.argv[1:7]
endpoint = base + "/open311/v2"
results = []

def check(name, f):
    try:
        ok, detail = f()
    except Exception as e:  # a client raising where the spec says it should not is a failed check
        ok, detail = False, repr(e)
    ok = bool(ok)
    results.append(ok)
    print("PASS" if ok else "FAIL", name, "" if ok else detail)

def http_error(f, status):
    try:
        f()
        return False, "no error"
    except urllib.error.HTTPError as e:
        return e.code == status, (e.code, e.read()[:300])
    except Exception as e:
        r = getattr(e, "response", None)
        if r is None:
            raise
        return r.status_code == status, (r.status_code, r.text[:300])

def has_elevator(services):
    return any(s["service_code"] == "property.repair.elevator" for s in services), services[:2]

# ---- three (JSON) -----------------------------------------------------------------------------------------
import three
t = three.Three(endpoint, format="json", api_key=key)
check("three: discovery names GeoReport v2 and both formats", lambda: (
    (lambda d: (d["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
                and set(d["endpoints"][0]["formats"]) == {"application/json", "text/xml"}
                and d["endpoints"][0]["url"].endswith("/open311/v2"), d))(t.discovery())))
check("three: service list", lambda: has_elevator(t.services()))
check("three: service definition", lambda: (lambda d: (d["service_code"] == "property.repair.elevator" and d["attributes"][0]["code"] == "q1", d))(t.services("property.repair.elevator")))
posted = {}
def three_post():
    d = t.post("property.repair.elevator", address="琉璃井路3号院7号楼1单元电梯", name="Zach Williams",
               phone="+1 617-555-0100", description="The lift is stuck on the third floor")
    posted["three"] = d[0]["service_request_id"]
    return t.post_response.status_code == 200 and "token" not in d[0] and posted["three"].startswith("WT-"), d
check("three: post with a non-Chinese phone", three_post)
check("three: get it back", lambda: (lambda d: (d[0]["service_request_id"] == posted["three"] and d[0]["status"] == "open", d))(t.request(posted["three"])))
check("three: get by token", lambda: (lambda d: (d[0]["service_request_id"] == posted["three"], d))(t.token(posted["three"])))
check("three: list between dates", lambda: (lambda d: (any(r["service_request_id"] == posted["three"] for r in d), d))(t.requests(between=(three_start, three_end))))
check("three: unknown id is 404 with an error list", lambda: (lambda d: (t._request.status_code == 404 and d[0]["code"] == 404 and d[0]["description"], d))(t.request("WT-1999-000009")))
check("three: bad date is 400 with an error list", lambda: (lambda d: (t._request.status_code == 400 and d[0]["code"] == 400, d))(t.requests(start_date="2024-13-45")))

# ---- open311 (XML) ----------------------------------------------------------------------------------------
site = os.path.dirname(importlib.util.find_spec("open311").origin)
api_dir = os.path.join(site, "api")
sys.path[:0] = [api_dir, os.path.join(api_dir, "xml2dict")]
api = types.ModuleType("api")
api.__path__ = [api_dir]
sys.modules["api"] = api
impl = importlib.import_module("api.api")
api.API, api.urlopen, api.urlencode = impl.API, impl.urlopen, impl.urlencode
spec = importlib.util.spec_from_file_location("open311_client", os.path.join(site, "open311.py"))
client = importlib.util.module_from_spec(spec)
spec.loader.exec_module(client)
client.urlopen = lambda url, data=None: urllib.request.urlopen(url, data.encode() if isinstance(data, str) else data)
o = client.Open311(endpoint=endpoint, api_key=key, format="xml")
check("open311: discovery", lambda: (lambda d: ("GeoReport_v2" in d["discovery"]["endpoints"]["endpoint"]["specification"], d))(o._format_data("xml", urllib.request.urlopen(endpoint + "/discovery.xml").read())))
check("open311: service list", lambda: has_elevator(o.service_list()))
def first_attribute(d):
    a = d["service_definition"]["attributes"]["attribute"]
    return (a if isinstance(a, list) else [a])[0]
check("open311: service definition", lambda: (lambda d: (first_attribute(d)["code"] == "q1", d))(o.service_definition("property.repair.elevator")))
def open311_post():
    d = o.post_service_request(service_code="property.repair.elevator", address_string="琉璃井路3号院7号楼",
                               description="Lift door will not close", phone="(617) 555-0199 ext 4",
                               first_name="Ada", last_name="Lovelace")
    r = d["service_requests"]["request"]
    posted["open311"] = r["service_request_id"]
    return posted["open311"].startswith("WT-") and "token" not in r, d
check("open311: post with api_key in the query string and a non-Chinese phone", open311_post)
check("open311: get it back", lambda: (lambda d: (d["service_requests"]["request"]["service_request_id"] == posted["open311"], d))(o.get_service_request(posted["open311"])))
check("open311: get by token", lambda: (lambda d: (d["service_request_id"] == posted["open311"], d))(o.request_id_from_token(posted["open311"])))
check("open311: list between dates", lambda: (lambda d: ({r["service_request_id"] for r in (d if isinstance(d, list) else [d])} >= {posted["three"], posted["open311"]}, d))(o.service_requests(start_date=start, end_date=end)))
check("open311: unknown id is 404", lambda: http_error(lambda: o.get_service_request("WT-1999-000009"), 404))
check("open311: bad date is 400", lambda: http_error(lambda: o.service_requests(start_date="not-a-date"), 400))

# ---- georeport (JSON and XML) -----------------------------------------------------------------------------
from georeport import GeoReport
for fmt in ("json", "xml"):
    g = GeoReport(endpoint, output_format=fmt)  # no key: reads are public
    one = lambda d: d if isinstance(d, list) else [d]
    check(f"georeport {fmt}: service list", lambda: has_elevator(one(g.get_service_list())))
    check(f"georeport {fmt}: service definition", lambda: (lambda d: (d["service_code"] == "property.repair.elevator", d))(g.get_service_definition("property.repair.elevator")))
    check(f"georeport {fmt}: get it back without a key", lambda: (lambda d: (d["service_request_id"] == posted["three"] and d["service_code"] == "property.repair.elevator", d))(g.get_service_request(posted["three"])))
    check(f"georeport {fmt}: the public record has no name or phone", lambda: (lambda d: ("Zach" not in str(d) and "617" not in str(d) and "单元" not in str(d), d))(g.get_service_request(posted["three"])))
    check(f"georeport {fmt}: list with date filters", lambda: (lambda d: ({r["service_request_id"] for r in one(d)} >= {posted["three"], posted["open311"]}, d))(g.get_service_requests(start_date=start, end_date=end)))
    check(f"georeport {fmt}: by ids, the others overridden", lambda: (lambda d: ([r["service_request_id"] for r in one(d)] == [posted["open311"]], d))(g.get_service_requests(service_request_id=posted["open311"] + ",WT-1999-000009", status="closed")))
    check(f"georeport {fmt}: only open", lambda: (lambda d: (all(r["status"] == "open" for r in one(d)), d))(g.get_service_requests(status="open", start_date=start, end_date=end)))
    check(f"georeport {fmt}: unknown id is 404", lambda: http_error(lambda: g.get_service_request("WT-1999-000009"), 404))
    check(f"georeport {fmt}: bad date is 400", lambda: http_error(lambda: g.get_service_requests(start_date="2024-02-30T00:00:00Z"), 400))

print(f"passed {sum(results)} of {len(results)}")
"#;

async fn three_published_clients_pass_every_check(app: TestApp) {
    let key = key(&app).await;
    let day = |d: i64| test_now() + Duration::days(d);
    let args = [
        app.url(""),
        key,
        day(-1).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        day(1).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        day(-1).format("%m-%d-%Y").to_string(),
        day(1).format("%m-%d-%Y").to_string(),
    ];
    let out =
        tokio::task::spawn_blocking(move || python(CLIENTS, &args.iter().map(String::as_str).collect::<Vec<_>>()))
            .await
            .unwrap();
    let last = out.lines().last().unwrap_or_default();
    assert_eq!(last, "passed 36 of 36", "{out}");
    // What the clients sent arrived as sent: the free-text phones are kept, the names as written.
    let staff = app.token("zhangli").await;
    let inside = app.get_json(&staff, "/api/v1/requests?channel=open311").await;
    let names: Vec<&str> = inside.as_array().unwrap().iter().map(|r| r["contact_name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Zach Williams") && names.contains(&"Ada Lovelace"), "{inside}");
}

async fn a_phone_that_is_not_chinese_is_kept_and_never_refuses_the_request(app: TestApp) {
    let key = key(&app).await;
    for (phone, kept) in [
        ("+1 617-555-0100", "+1 617-555-0100"),
        ("555-5555 ext. 12", "555-5555 ext. 12"),
        ("call me after six", "call me after six"),
        ("+86 138-0013-8000", "13800138000"),
    ] {
        let form = [
            ("api_key", key.as_str()),
            ("service_code", ELEVATOR),
            ("address_string", "琉璃井路3号院7号楼"),
            ("description", "电梯门关不上"),
            ("phone", phone),
        ];
        let (status, body) = post(&app, "/open311/v2/requests.json", &form).await;
        assert_eq!(status, StatusCode::OK, "{phone}: {body}");
        let number = json_of(&body)[0]["service_request_id"].as_str().unwrap().to_string();
        let staff = app.token("zhangli").await;
        let list = app.get_json(&staff, "/api/v1/requests?channel=open311").await;
        let id = list.as_array().unwrap().iter().find(|r| r["number"] == number.as_str()).unwrap()["id"].clone();
        let stored = app.get_json(&staff, &format!("/api/v1/requests/{id}")).await["contact_phone"].clone();
        assert_eq!(stored, json!(kept), "{phone}");
    }
    // Staff channels still check the number: a typo there is caught while the resident is on the line.
    let staff = app.token("zhangli").await;
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let elevator = cats.as_array().unwrap().iter().find(|c| c["code"] == ELEVATOR).unwrap()["id"].clone();
    let body = json!({"category_id": elevator, "description": "电梯门关不上", "location": "7号楼", "contact_phone": "+1 617-555-0100"});
    assert_eq!(
        app.send(Method::POST, &staff, "/api/v1/requests", &body).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

async fn an_api_key_in_the_query_string_takes_a_request_in(app: TestApp) {
    let key = key(&app).await;
    let form = [("service_code", ELEVATOR), ("address_string", "7号楼"), ("description", "电梯异响")];
    let (status, body) = post(&app, &format!("/open311/v2/requests.json?api_key={key}"), &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(json_of(&body)[0]["service_request_id"].as_str().unwrap().starts_with("WT-"));
    // Without it anywhere, the answer is the spec's 403 with an error list.
    let (status, body) = post(&app, "/open311/v2/requests.json?jurisdiction_id=", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json_of(&body)[0]["code"], 403);
    let (status, _) = post(&app, "/open311/v2/requests.json?api_key=wjt_forged", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn the_post_answer_gives_the_request_id_and_no_token(app: TestApp) {
    let key = key(&app).await;
    let form = [
        ("api_key", key.as_str()),
        ("service_code", ELEVATOR),
        ("address_string", "7号楼"),
        ("description", "电梯异响"),
    ];
    let (_, body) = post(&app, "/open311/v2/requests.json", &form).await;
    let created = json_of(&body);
    let record = created[0].as_object().unwrap();
    assert!(record.contains_key("service_request_id") && !record.contains_key("token"), "{created}");
    assert!(record["service_notice"].as_str().unwrap().contains("已受理"), "{created}");
    let (_, xml) = post(&app, "/open311/v2/requests.xml", &form).await;
    assert!(
        xml.contains("<service_request_id>WT-2024-000002</service_request_id>") && !xml.contains("<token>"),
        "{xml}"
    );
}

async fn anyone_reads_without_a_key_and_sees_no_names_phones_or_homes(app: TestApp) {
    // A request for a household, taken in by staff with the resident's name and phone, and one whose text holds
    // a phone and an e-mail address.
    let staff = app.token("zhangli").await;
    let hits = app.get_json(&staff, "/api/v1/households?q=3-7-1-102").await;
    let household = hits[0]["household_id"].as_i64().unwrap();
    let address =
        app.get_json(&staff, &format!("/api/v1/households/{household}")).await["address"].as_str().unwrap().to_string();
    assert!(address.contains("单元"), "{hits}");
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let elevator = cats.as_array().unwrap().iter().find(|c| c["code"] == ELEVATOR).unwrap()["id"].clone();
    let body = json!({"category_id": elevator, "household_id": household, "contact_name": "胡桂兰",
        "contact_phone": "13800138000", "description": "电梯坏了,请回电 13912345678 或发邮件 hu.guilan@example.com"});
    let res = app.send(Method::POST, &staff, "/api/v1/requests", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let number = res.json::<Value>().await.unwrap()["number"].as_str().unwrap().to_string();

    for path in [
        format!("/open311/v2/requests/{number}.json"),
        format!("/open311/v2/requests/{number}.xml"),
        "/open311/v2/requests.json".to_string(),
        "/open311/v2/requests.xml".to_string(),
        format!("/open311/v2/requests.json?service_request_id={number}"),
    ] {
        let (status, text) = read(&app, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {text}");
        assert!(text.contains(&number), "{path}: {text}");
        for secret in ["胡桂兰", "13800138000", "13912345678", "hu.guilan", "example.com", "单元", "张丽"] {
            assert!(!text.contains(secret), "{path} shows {secret}: {text}");
        }
        let building = &address[..address.find("号楼").unwrap() + "号楼".len()];
        assert!(text.contains(building), "{path}: the building is shown: {text}");
    }
    // A key changes who may read, not what is shown.
    let key = key(&app).await;
    let (_, text) = read(&app, &format!("/open311/v2/requests/{number}.json?api_key={key}")).await;
    assert!(!text.contains("13800138000") && !text.contains("胡桂兰"), "{text}");
    let (status, text) = read(&app, &format!("/open311/v2/tokens/{number}.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&text)[0]["token"], number.as_str());
}

async fn a_key_that_is_not_valid_is_refused_on_reads_too(app: TestApp) {
    let (status, text) = read(&app, "/open311/v2/requests.json?api_key=wjt_guessed").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert_eq!(json_of(&text)[0]["code"], 403);
}

/// Turns public reads of community 1 on or off as `who`, returning the status.
async fn set_public_reads(app: &TestApp, who: &str, open: bool) -> StatusCode {
    let token = app.token(who).await;
    app.send(Method::PUT, &token, "/api/v1/open311/public_reads/1", &json!({"public_reads": open})).await.status()
}

async fn a_community_can_keep_reads_to_its_keys_through_the_api(app: TestApp) {
    let admin = app.token("admin").await;
    let settings = app.get_json(&admin, "/api/v1/open311/public_reads").await;
    assert_eq!(settings[0]["community_id"], 1);
    assert_eq!(settings[0]["public_reads"], true, "on by default: {settings}");
    let key = key(&app).await;
    let form = [
        ("api_key", key.as_str()),
        ("service_code", ELEVATOR),
        ("address_string", "7号楼"),
        ("description", "电梯异响"),
    ];
    let (_, body) = post(&app, "/open311/v2/requests.json", &form).await;
    let number = json_of(&body)[0]["service_request_id"].as_str().unwrap().to_string();

    // Staff who do not administer accounts cannot change it.
    assert_eq!(set_public_reads(&app, "zhangli", false).await, StatusCode::FORBIDDEN);
    assert_eq!(set_public_reads(&app, "admin", false).await, StatusCode::OK);
    assert_eq!(app.get_json(&admin, "/api/v1/open311/public_reads").await[0]["public_reads"], false);
    for path in [
        "/open311/v2/requests.json".to_string(),
        format!("/open311/v2/requests/{number}.json"),
        format!("/open311/v2/tokens/{number}.json"),
        "/open311/v2/requests.json?jurisdiction_id=1".to_string(),
    ] {
        let (status, text) = read(&app, &path).await;
        if path == "/open311/v2/requests.json" {
            // Without a jurisdiction, the communities that keep their reads are simply not listed.
            assert_eq!((status, json_of(&text)), (StatusCode::OK, json!([])), "{path}");
        } else if path.contains("jurisdiction_id") {
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {text}");
            assert!(json_of(&text)[0]["description"].as_str().unwrap().contains("不公开"), "{text}");
        } else {
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {text}");
        }
        let (status, text) =
            read(&app, &format!("{path}{}api_key={key}", if path.contains('?') { '&' } else { '?' })).await;
        assert_eq!(status, StatusCode::OK, "a key of the community still reads: {path}: {text}");
        assert!(text.contains(&number), "{path}: {text}");
    }
    // The change is on the record, and the setting is stored.
    let events = app.get_json(&admin, "/api/v1/audit/events?limit=20").await;
    assert!(events.as_array().unwrap().iter().any(|e| e["action"] == "community.open311_public_reads"), "{events}");
    assert_eq!(set_public_reads(&app, "admin", true).await, StatusCode::OK);
    assert_eq!(read(&app, &format!("/open311/v2/requests/{number}.json")).await.0, StatusCode::OK);
    let token = app.token("admin").await;
    let res = app.send(Method::PUT, &token, "/api/v1/open311/public_reads/1", &json!({"public_reads": "yes"})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(set_public_reads_of(&app, 9999).await, StatusCode::FORBIDDEN);
}

async fn set_public_reads_of(app: &TestApp, community: i64) -> StatusCode {
    let token = app.token("zhangli").await;
    let path = format!("/api/v1/open311/public_reads/{community}");
    app.send(Method::PUT, &token, &path, &json!({"public_reads": false})).await.status()
}

async fn the_admin_page_turns_public_reads_off_and_on(app: TestApp) {
    let browser = app.browser("admin").await;
    let page = browser.get(app.url("/admin/api-keys")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Open311 公开查询") && page.contains("value=\"on\" checked"), "{page}");
    let csrf = hidden(&page, "csrf");
    let res = browser
        .post(app.url("/admin/api-keys/open311"))
        .form(&[("csrf", csrf.as_str()), ("community_id", "1"), ("public_reads", "off")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("公开查询设置已保存") && page.contains("value=\"off\" checked"), "{page}");
    let (status, _) = read(&app, "/open311/v2/requests.json?jurisdiction_id=1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let forged = [("csrf", "forged"), ("community_id", "1"), ("public_reads", "on")];
    let res = browser.post(app.url("/admin/api-keys/open311")).form(&forged).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "CSRF is checked");
    let bad = [("csrf", csrf.as_str()), ("community_id", "1"), ("public_reads", "maybe")];
    let res = browser.post(app.url("/admin/api-keys/open311")).form(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let on = [("csrf", csrf.as_str()), ("community_id", "1"), ("public_reads", "on")];
    let res = browser.post(app.url("/admin/api-keys/open311")).form(&on).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(read(&app, "/open311/v2/requests.json?jurisdiction_id=1").await.0, StatusCode::OK);
}

async fn unknown_ids_are_404_and_malformed_dates_400_as_error_lists_in_json_and_xml(app: TestApp) {
    for (path, status) in [
        ("/open311/v2/requests/WT-1999-000009", StatusCode::NOT_FOUND),
        ("/open311/v2/tokens/WT-1999-000009", StatusCode::NOT_FOUND),
        ("/open311/v2/services/nope", StatusCode::NOT_FOUND),
        ("/open311/v2/requests?start_date=yesterday", StatusCode::BAD_REQUEST),
        ("/open311/v2/requests?end_date=2024-02-30", StatusCode::BAD_REQUEST),
        ("/open311/v2/requests?start_date=2024-02-20T00:00:00Z&end_date=2024-02-01T00:00:00Z", StatusCode::BAD_REQUEST),
        ("/open311/v2/requests?status=pending", StatusCode::BAD_REQUEST),
        ("/open311/v2/requests?jurisdiction_id=9999", StatusCode::NOT_FOUND),
        ("/open311/v2/requests?jurisdiction_id=wangtan", StatusCode::NOT_FOUND),
        ("/open311/v2/nothing", StatusCode::NOT_FOUND),
    ] {
        let (json_path, xml_path) = match path.split_once('?') {
            Some((p, q)) => (format!("{p}.json?{q}"), format!("{p}.xml?{q}")),
            None => (format!("{path}.json"), format!("{path}.xml")),
        };
        let (got, text) = read(&app, &json_path).await;
        assert_eq!(got, status, "{json_path}: {text}");
        let error = &json_of(&text)[0];
        assert_eq!(error["code"], status.as_u16(), "{json_path}: {text}");
        assert!(!error["description"].as_str().unwrap().is_empty());
        let (got, text) = read(&app, &xml_path).await;
        assert_eq!(got, status, "{xml_path}: {text}");
        assert!(
            text.contains(&format!("<errors><error><code>{}</code><description>", status.as_u16())),
            "{xml_path}: {text}"
        );
    }
    // Which field is at fault, in the client's language.
    let res = app
        .client
        .get(app.url("/open311/v2/requests.json?start_date=yesterday"))
        .header("accept-language", "en-US,en;q=0.8")
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(text.contains("start_date") && text.contains("W3C format"), "{text}");
}
