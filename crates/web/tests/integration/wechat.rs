//! The WeChat Official Account's callback against a third-party implementation: `wechatpy` (PyPI) plays WeChat's
//! server — it signs the URL verification, seals and signs each message in safe mode, and opens and checks
//! Wujia's sealed reply — while a local stand-in plays WeChat's API for access tokens and media.

use crate::common::{TestApp, plain_jpeg, python, test_now};
use axum::extract::Query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use wujia_web::{Config, WechatAccount};

const APPID: &str = "wx5823bf96d3bd56c7";
const TOKEN: &str = "QDG6eK";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const ORIGINAL_ID: &str = "gh_wangtan";
const HOUSEHOLD: &str = "琉璃井路3号院7号楼1单元102";

/// WeChat's side, through wechatpy: `sign TS NONCE`, `seal XML TS NONCE` (prints the callback body and its
/// `msg_signature`), `open XML` (checks the reply's signature and opens it; prints the message as JSON).
const WECHAT: &str = r#"
import json, sys
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner, check_signature
from wechatpy import parse_message
token, key, appid = sys.argv[1:4]
mode, args = sys.argv[4], sys.argv[5:]
crypto = WeChatCrypto(token, key, appid)
def sign(*parts):
    s = WeChatSigner()
    s.add_data(*parts)
    return s.signature
if mode == "sign":
    ts, nonce = args
    signature = sign(token, ts, nonce)
    check_signature(token, signature, ts, nonce)
    print(signature)
elif mode == "seal":
    message, ts, nonce = args
    sealed = xmltodict.parse(crypto.encrypt_message(message, nonce, ts))["xml"]
    to = xmltodict.parse(message)["xml"]["ToUserName"]
    body = "<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>" % (to, sealed["Encrypt"])
    print(json.dumps({"body": body, "msg_signature": sealed["MsgSignature"], "signature": sign(token, ts, nonce)}))
elif mode == "open":
    reply = args[0]
    outer = xmltodict.parse(reply)["xml"]
    inner = crypto.decrypt_message(reply, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
    m = xmltodict.parse(inner)["xml"]
    print(json.dumps({"to": m["ToUserName"], "from": m["FromUserName"], "type": m["MsgType"], "content": m["Content"],
                      "nonce": outer["Nonce"]}, ensure_ascii=False))
"#;

fn wechat(mode: &str, args: &[&str]) -> String {
    let mut all = vec![TOKEN, AES_KEY, APPID, mode];
    all.extend_from_slice(args);
    python(WECHAT, &all).trim().to_string()
}

fn now() -> String {
    test_now().timestamp().to_string()
}

/// WeChat's API, played locally: tokens `tok-1`, `tok-2` …; media refuses `tok-1` as expired (42001), so the
/// first media fetch must fetch a new token once.
fn stand_in() -> String {
    use axum::routing::get;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let issued = Arc::new(AtomicU32::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .route(
            "/cgi-bin/token",
            get(move |Query(q): Query<HashMap<String, String>>| {
                let issued = issued.clone();
                async move {
                    assert_eq!((q["appid"].as_str(), q["secret"].as_str()), (APPID, "the-secret"));
                    let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                    axum::Json(json!({"access_token": format!("tok-{n}"), "expires_in": 7200}))
                }
            }),
        )
        .route(
            "/cgi-bin/media/get",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                use axum::response::IntoResponse;
                if q["access_token"] == "tok-1" {
                    return ([("content-type", "text/plain")], r#"{"errcode":42001,"errmsg":"access_token expired"}"#)
                        .into_response();
                }
                match q["media_id"].as_str() {
                    "photo-1" => ([("content-type", "image/jpeg")], plain_jpeg(640, 480)).into_response(),
                    "voice-1" => ([("content-type", "audio/amr")], b"#!AMR\n voice".to_vec()).into_response(),
                    _ => ([("content-type", "text/plain")], r#"{"errcode":40007,"errmsg":"invalid media_id"}"#)
                        .into_response(),
                }
            }),
        );
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

fn configure(c: &mut Config) {
    let base = stand_in();
    c.wechat = Some(WechatAccount::new(APPID, "the-secret", TOKEN, Some(AES_KEY), Some(&base)).unwrap());
}

on_both!(
    configure = super::configure;
    wechat_verifies_the_callback_url_signed_by_wechatpy,
    a_bound_resident_writes_from_wechat_and_wechatpy_opens_the_sealed_reply,
    wechat_retries_arriving_together_are_answered_once_with_the_same_reply,
    an_unbound_follower_is_answered_politely_and_staff_attach_the_enquiry,
    bad_callbacks_are_refused_and_nothing_is_written,
    binding_codes_cannot_be_guessed_by_a_follower,
    a_binding_code_expires_after_seven_days,
    a_message_left_half_answered_by_a_stopped_node_is_answered_on_a_later_delivery,
);

/// An account without an EncodingAESKey: plain mode only (明文模式).
mod plain {
    use super::*;

    fn configure(c: &mut Config) {
        let base = stand_in();
        c.wechat = Some(WechatAccount::new(APPID, "the-secret", TOKEN, None, Some(&base)).unwrap());
    }

    on_both!(
        configure = super::configure;
        a_plain_mode_account_verifies_its_url_and_answers_in_plain_xml,
    );

    async fn a_plain_mode_account_verifies_its_url_and_answers_in_plain_xml(app: TestApp) {
        let ts = now();
        let signature = wechat("sign", &[&ts, "77"]);
        let verify = format!("/wechat/callback?signature={signature}&timestamp={ts}&nonce=77&echostr=plain-echo");
        let res = app.client.get(app.url(&verify)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.text().await.unwrap(), "plain-echo");
        // A plain message is answered in plain XML, to the sender, from the account.
        let query = format!("signature={signature}&timestamp={ts}&nonce=77&openid=oPlain");
        let res = post(&app, &query, &text("oPlain", "6001", "路灯不亮")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let reply = res.text().await.unwrap();
        assert!(!reply.contains("<Encrypt>"), "{reply}");
        assert!(reply.contains("<ToUserName><![CDATA[oPlain]]></ToUserName>"), "{reply}");
        assert!(reply.contains(&format!("<FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName>")), "{reply}");
        assert!(reply.contains("绑定 123456"), "an unbound follower is told how to bind: {reply}");
        // A sealed message cannot be opened without the key: refused, nothing kept.
        let sealed = seal(&text("oPlain", "6002", "hi"), "78");
        assert_eq!(post(&app, &sealed.query, &sealed.body).await.status(), StatusCode::BAD_REQUEST);
        let staff = app.token("zhangli").await;
        let kept = app.get_json(&staff, "/api/v1/wechat/enquiries").await;
        assert_eq!(kept.as_array().unwrap().len(), 1, "{kept}");
    }
}

fn text(from: &str, msg_id: &str, content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>\
         <MsgId>{msg_id}</MsgId></xml>",
        now()
    )
}

fn media(from: &str, msg_id: &str, kind: &str, media_id: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType><MediaId><![CDATA[{media_id}]]></MediaId>\
         <Format>amr</Format><MsgId>{msg_id}</MsgId></xml>",
        now()
    )
}

/// A message sealed by wechatpy: the body and the query WeChat would send.
struct Sealed {
    body: String,
    query: String,
}

fn seal(message: &str, nonce: &str) -> Sealed {
    seal_at(message, nonce, &now())
}

/// Sealed as WeChat would at `ts` (seconds since the epoch).
fn seal_at(message: &str, nonce: &str, ts: &str) -> Sealed {
    let out: Value = serde_json::from_str(&wechat("seal", &[message, ts, nonce])).unwrap();
    let query = format!(
        "signature={}&timestamp={ts}&nonce={nonce}&openid=x&encrypt_type=aes&msg_signature={}",
        out["signature"].as_str().unwrap(),
        out["msg_signature"].as_str().unwrap()
    );
    Sealed { body: out["body"].as_str().unwrap().to_string(), query }
}

async fn post(app: &TestApp, query: &str, body: &str) -> reqwest::Response {
    app.client.post(app.url(&format!("/wechat/callback?{query}"))).body(body.to_string()).send().await.unwrap()
}

/// Sends a message sealed by wechatpy and opens Wujia's reply with wechatpy; returns the reply's text.
async fn say(app: &TestApp, message: &str, nonce: &str) -> Value {
    say_sealed(app, seal(message, nonce), nonce).await
}

async fn say_sealed(app: &TestApp, sealed: Sealed, nonce: &str) -> Value {
    let res = post(app, &sealed.query, &sealed.body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let reply = res.text().await.unwrap();
    let opened: Value = serde_json::from_str(&wechat("open", &[&reply])).unwrap();
    assert_eq!(opened["type"], "text");
    assert_eq!(opened["from"], ORIGINAL_ID);
    assert_eq!(opened["nonce"], nonce);
    opened
}

async fn household(app: &TestApp, token: &str) -> i64 {
    let q: String = HOUSEHOLD.bytes().map(|b| format!("%{b:02X}")).collect();
    app.get_json(token, &format!("/api/v1/households?q={q}")).await[0]["household_id"].as_i64().unwrap()
}

async fn code_for(app: &TestApp, staff: &str, household: i64) -> String {
    let res = app
        .send(reqwest::Method::POST, staff, &format!("/api/v1/households/{household}/wechat_codes"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let code: Value = res.json().await.unwrap();
    assert_eq!(code["household_id"], household);
    let code = code["code"].as_str().unwrap().to_string();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    code
}

async fn wechat_requests(app: &TestApp, staff: &str) -> Vec<Value> {
    app.get_json(staff, "/api/v1/requests?channel=wechat").await.as_array().unwrap().clone()
}

async fn wechat_verifies_the_callback_url_signed_by_wechatpy(app: TestApp) {
    let ts = now();
    let signature = wechat("sign", &[&ts, "1372623149"]);
    let url = format!("/wechat/callback?signature={signature}&timestamp={ts}&nonce=1372623149&echostr=4112037870");
    let res = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "4112037870");
    // Another token's signature, a stale timestamp and a missing one are refused.
    let wrong = url.replace(&signature, &"0".repeat(40));
    assert_eq!(app.client.get(app.url(&wrong)).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let old = (test_now().timestamp() - 3600).to_string();
    let stale_signature = wechat("sign", &[&old, "1"]);
    let stale = format!("/wechat/callback?signature={stale_signature}&timestamp={old}&nonce=1&echostr=e");
    assert_eq!(app.client.get(app.url(&stale)).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let bare = app.client.get(app.url("/wechat/callback?echostr=e")).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::BAD_REQUEST);
}

async fn a_bound_resident_writes_from_wechat_and_wechatpy_opens_the_sealed_reply(app: TestApp) {
    let staff = app.token("zhangli").await;
    let hu = household(&app, &staff).await;
    let code = code_for(&app, &staff, hu).await;
    let bound = say(&app, &text("oResident_hu", "1001", &format!("绑定 {code}")), "n1").await;
    assert_eq!(bound["to"], "oResident_hu");
    assert!(bound["content"].as_str().unwrap().contains(HOUSEHOLD), "{bound}");
    // Her first message becomes a request of her household with channel wechat; the reply names it and its limit.
    let taken = say(&app, &text("oResident_hu", "1002", "楼道的灯坏了,晚上看不见台阶"), "n2").await;
    let requests = wechat_requests(&app, &staff).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!((request["household_id"].as_i64(), request["channel"].as_str()), (Some(hu), Some("wechat")));
    assert_eq!(request["description"], "楼道的灯坏了,晚上看不见台阶");
    let number = request["number"].as_str().unwrap();
    let content = taken["content"].as_str().unwrap();
    assert!(content.contains(number) && content.contains("前办好"), "{content}");
    // A photo sent after it joins the same request: fetched through the media API (the stand-in's first token
    // is refused as expired, so a new one is fetched once) and kept re-encoded.
    let photo = say(&app, &media("oResident_hu", "1003", "image", "photo-1"), "n3").await;
    assert!(photo["content"].as_str().unwrap().contains(number), "{photo}");
    assert!(!photo["content"].as_str().unwrap().contains("没能保存"), "{photo}");
    let id = request["id"].as_i64().unwrap();
    let photos = app.get_json(&staff, &format!("/api/v1/requests/{id}/photos")).await;
    assert_eq!(photos.as_array().unwrap().len(), 1, "{photos}");
    // A voice message is kept on the request's history; media WeChat cannot give is recorded as missing.
    say(&app, &media("oResident_hu", "1004", "voice", "voice-1"), "n4").await;
    let gone = say(&app, &media("oResident_hu", "1005", "image", "expired-media"), "n5").await;
    assert!(gone["content"].as_str().unwrap().contains("没能保存"), "{gone}");
    let detail = app.get_json(&staff, &format!("/api/v1/requests/{id}")).await;
    let actions: Vec<&str> =
        detail["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"request.voice") && actions.contains(&"request.media_missing"), "{actions:?}");
    assert_eq!(wechat_requests(&app, &staff).await.len(), 1);
    // The binding is audited without the openid.
    let audit = app.get_json(&app.token("admin").await, "/api/v1/audit/events?limit=200").await.to_string();
    assert!(audit.contains("wechat.bind") && !audit.contains("oResident_hu"), "the openid reached the audit trail");
}

async fn wechat_retries_arriving_together_are_answered_once_with_the_same_reply(app: TestApp) {
    let staff = app.token("zhangli").await;
    let hu = household(&app, &staff).await;
    let code = code_for(&app, &staff, hu).await;
    say(&app, &text("oRetry", "2001", &format!("绑定{code}")), "r1").await;
    let sealed = seal(&text("oRetry", "2002", "电梯停了"), "r2");
    let deliveries = (0..4).map(|_| post(&app, &sealed.query, &sealed.body));
    let replies = futures_util::future::join_all(deliveries).await;
    let mut contents = Vec::new();
    for res in replies {
        assert_eq!(res.status(), StatusCode::OK);
        let reply = res.text().await.unwrap();
        contents.push(serde_json::from_str::<Value>(&wechat("open", &[&reply])).unwrap()["content"].clone());
    }
    assert!(contents.iter().all(|c| *c == contents[0]), "{contents:?}");
    let requests = wechat_requests(&app, &staff).await;
    assert_eq!(requests.len(), 1, "one message, one request: {requests:?}");
    assert!(contents[0].as_str().unwrap().contains(requests[0]["number"].as_str().unwrap()));
    // A retry long after gets the same answer again.
    let again = post(&app, &sealed.query, &sealed.body).await.text().await.unwrap();
    assert_eq!(serde_json::from_str::<Value>(&wechat("open", &[&again])).unwrap()["content"], contents[0]);
}

async fn an_unbound_follower_is_answered_politely_and_staff_attach_the_enquiry(app: TestApp) {
    let staff = app.token("zhangli").await;
    // Plain mode: signed, not sealed.
    let ts = now();
    let query = format!("signature={}&timestamp={ts}&nonce=p1&openid=oStranger42", wechat("sign", &[&ts, "p1"]));
    let res = post(&app, &query, &text("oStranger42", "3001", "小区门口的井盖丢了")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let reply = res.text().await.unwrap();
    assert!(
        reply.contains("<ToUserName><![CDATA[oStranger42]]></ToUserName>") && reply.contains("绑定 123456"),
        "{reply}"
    );
    assert!(wechat_requests(&app, &staff).await.is_empty());
    let enquiries = app.get_json(&staff, "/api/v1/wechat/enquiries").await;
    let list = enquiries.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0]["content"].as_str(), list[0]["from"].as_str()),
        (Some("小区门口的井盖丢了"), Some("oStr****42"))
    );
    assert!(!enquiries.to_string().contains("oStranger42"), "the openid is shown masked only");
    // A resident may not read them.
    assert_eq!(app.get(&app.token("jumin_hu").await, "/api/v1/wechat/enquiries").await.status(), StatusCode::FORBIDDEN);
    let hu = household(&app, &staff).await;
    let id = list[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/wechat/enquiries/{id}/request");
    // A household that does not exist is named as the field to correct, and the enquiry stays open.
    let nowhere = app.send(reqwest::Method::POST, &staff, &path, &json!({"household_id": 999_999})).await;
    assert_eq!(nowhere.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let nowhere: Value = nowhere.json().await.unwrap();
    assert_eq!(nowhere["errors"][0]["field"], "household_id");
    assert_eq!(
        nowhere["errors"][0]["message"],
        "没有这户,请从住户名册中重新选择 / There is no such household; choose it again from the register"
    );
    assert_eq!(app.get_json(&staff, "/api/v1/wechat/enquiries").await.as_array().unwrap().len(), 1);
    let res = app.send(reqwest::Method::POST, &staff, &path, &json!({"household_id": hu})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let request: Value = res.json().await.unwrap();
    assert_eq!((request["channel"].as_str(), request["household_id"].as_i64()), (Some("wechat"), Some(hu)));
    assert_eq!(
        app.send(reqwest::Method::POST, &staff, &path, &json!({"household_id": hu})).await.status(),
        StatusCode::CONFLICT
    );
    assert!(app.get_json(&staff, "/api/v1/wechat/enquiries").await.as_array().unwrap().is_empty());
    assert_eq!(app.get_json(&staff, "/api/v1/wechat/enquiries?open=false").await.as_array().unwrap().len(), 1);
}

async fn bad_callbacks_are_refused_and_nothing_is_written(app: TestApp) {
    let staff = app.token("zhangli").await;
    let good = seal(&text("oMallory", "4001", "hello"), "b1");
    // A wrong msg_signature, a tampered envelope, a body that is not XML, and a stale timestamp.
    let wrong_signature = good.query.replace("msg_signature=", "msg_signature=0");
    assert_eq!(post(&app, &wrong_signature, &good.body).await.status(), StatusCode::FORBIDDEN);
    let tampered = good.body.replacen("<![CDATA[", "<![CDATA[A", 2);
    assert!(post(&app, &good.query, &tampered).await.status().is_client_error());
    assert_eq!(post(&app, &good.query, "<xml><ToUserName>").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(post(&app, &good.query, "{\"not\": \"xml\"}").await.status(), StatusCode::BAD_REQUEST);
    let ts = now();
    let plain_query = format!("signature={}&timestamp={ts}&nonce=b2", wechat("sign", &[&ts, "b2"]));
    assert_eq!(
        post(&app, &plain_query, "<xml><ToUserName>gh</ToUserName></xml>").await.status(),
        StatusCode::BAD_REQUEST
    );
    // Sealed for another account (another AppID under the same key): refused by the appid check.
    let other = {
        let out: Value = serde_json::from_str(&python(
            WECHAT,
            &[TOKEN, AES_KEY, "wx0000000000000000", "seal", &text("oMallory", "4002", "hi"), &ts, "b3"],
        ))
        .unwrap();
        let q = format!(
            "signature={}&timestamp={ts}&nonce=b3&encrypt_type=aes&msg_signature={}",
            out["signature"].as_str().unwrap(),
            out["msg_signature"].as_str().unwrap()
        );
        post(&app, &q, out["body"].as_str().unwrap()).await
    };
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    // A replay an hour later is stale even though wechatpy signed it.
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(post(&app, &good.query, &good.body).await.status(), StatusCode::FORBIDDEN);
    // None of them left a trace.
    assert!(app.get_json(&staff, "/api/v1/wechat/enquiries?open=false").await.as_array().unwrap().is_empty());
    assert!(wechat_requests(&app, &staff).await.is_empty());
}

async fn binding_codes_cannot_be_guessed_by_a_follower(app: TestApp) {
    let staff = app.token("zhangli").await;
    let hu = household(&app, &staff).await;
    let code = code_for(&app, &staff, hu).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for i in 0..5 {
        let r = say(&app, &text("oGuesser", &format!("50{i}"), &format!("绑定 {wrong}")), &format!("g{i}")).await;
        assert!(r["content"].as_str().unwrap().contains("不对"), "{r}");
    }
    // The sixth try, even with the right code, is refused for today: guessing 10⁶ codes is out of reach.
    let r = say(&app, &text("oGuesser", "510", &format!("绑定 {code}")), "g6").await;
    assert!(r["content"].as_str().unwrap().contains("次数太多"), "{r}");
    say(&app, &text("oGuesser", "511", "我是这户的"), "g7").await;
    assert!(wechat_requests(&app, &staff).await.is_empty(), "the guesser is not bound");
    // The code still binds the resident it was meant for, once.
    let bound = say(&app, &text("oRightful", "520", &format!("绑定 {code}")), "g8").await;
    assert!(bound["content"].as_str().unwrap().contains(HOUSEHOLD), "{bound}");
    let reused = say(&app, &text("oSecond", "530", &format!("绑定 {code}")), "g9").await;
    assert!(reused["content"].as_str().unwrap().contains("不对"), "{reused}");
    // Unbinding is audited and ends her writing as the household.
    let unbound = say(&app, &text("oRightful", "540", "解除绑定"), "g10").await;
    assert!(unbound["content"].as_str().unwrap().contains("已解除"), "{unbound}");
    say(&app, &text("oRightful", "541", "还在吗"), "g11").await;
    assert!(wechat_requests(&app, &staff).await.is_empty());
    let audit = app.get_json(&app.token("admin").await, "/api/v1/audit/events?limit=200").await.to_string();
    assert!(audit.contains("wechat.unbind"), "unbinding is audited");
}

async fn a_binding_code_expires_after_seven_days(app: TestApp) {
    let staff = app.token("zhangli").await;
    let hu = household(&app, &staff).await;
    let code = code_for(&app, &staff, hu).await;
    // Eight days later WeChat's messages carry that day's timestamp; the code no longer binds anyone.
    app.clock.advance(chrono::Duration::days(8));
    let staff = app.token("zhangli").await;
    let later = (test_now() + chrono::Duration::days(8)).timestamp().to_string();
    let message = text("oLate", "7001", &format!("绑定 {code}"));
    let r = say_sealed(&app, seal_at(&message, "e1", &later), "e1").await;
    assert!(r["content"].as_str().unwrap().contains("过期"), "{r}");
    let written = say_sealed(&app, seal_at(&text("oLate", "7002", "楼下有积水"), "e2", &later), "e2").await;
    assert!(written["content"].as_str().unwrap().contains("绑定 123456"), "still unbound: {written}");
    assert!(wechat_requests(&app, &staff).await.is_empty(), "an expired code binds nobody");
    // A fresh code binds her.
    let fresh = code_for(&app, &staff, hu).await;
    let message = text("oLate", "7003", &format!("绑定 {fresh}"));
    let bound = say_sealed(&app, seal_at(&message, "e3", &later), "e3").await;
    assert!(bound["content"].as_str().unwrap().contains(HOUSEHOLD), "{bound}");
}

async fn a_message_left_half_answered_by_a_stopped_node_is_answered_on_a_later_delivery(app: TestApp) {
    // A node claimed the message and stopped before answering: its claim stays, with no answer.
    let store = &app.state.store;
    let claimed = store.claim_wechat_message("msg:8001", test_now(), test_now()).await.unwrap();
    assert_eq!(claimed, wujia_store::MessageClaim::Ours);
    let sealed = seal(&text("oAfterCrash", "8001", "消防通道被堵了"), "c1");
    // WeChat's second delivery, 5 s later, waits for that answer, gets none and is told "success" (no reply):
    // the claim may still be answered by a slow node.
    app.clock.advance(chrono::Duration::seconds(5));
    let waiting = post(&app, &sealed.query, &sealed.body).await;
    assert_eq!(waiting.status(), StatusCode::OK);
    assert_eq!(waiting.text().await.unwrap(), "success");
    // The third, 10 s after the first, takes the abandoned claim over and answers it, once.
    app.clock.advance(chrono::Duration::seconds(5));
    let reply = say_sealed(&app, sealed, "c1").await;
    assert!(reply["content"].as_str().unwrap().contains("绑定 123456"), "{reply}");
    let staff = app.token("zhangli").await;
    let kept = app.get_json(&staff, "/api/v1/wechat/enquiries").await;
    let kept = kept.as_array().unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["content"], "消防通道被堵了");
}
