//! E-mail over SMTP on SQLite and PostgreSQL: an e-mail channel gets the emergencies, through a real SMTP dialogue
//! with a small server in the test; a server that cannot be reached leaves the delivery to be retried.

use crate::common::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use wujia_web::mail::SmtpConfig;

/// The messages an SMTP server received: (envelope recipients, raw message).
type Inbox = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP server that accepts every message.
async fn smtp_server() -> (u16, Inbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox: Inbox = Arc::default();
    let seen = inbox.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let seen = seen.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read);
                write.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let (mut rcpt, mut data, mut in_data) = (Vec::new(), String::new(), false);
                let mut line = String::new();
                while lines.read_line(&mut line).await.unwrap_or(0) > 0 {
                    if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            seen.lock().unwrap().push((std::mem::take(&mut rcpt), std::mem::take(&mut data)));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                        }
                    } else {
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") {
                            b"250-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            rcpt.push(line[8..].trim().trim_matches(['<', '>']).to_string());
                            b"250 ok\r\n"
                        } else if upper.starts_with("DATA") {
                            in_data = true;
                            b"354 go ahead\r\n"
                        } else if upper.starts_with("QUIT") {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        } else {
                            b"250 ok\r\n"
                        };
                        write.write_all(reply).await.unwrap();
                    }
                    line.clear();
                }
            });
        }
    });
    (port, inbox)
}

fn smtp(port: u16) -> SmtpConfig {
    SmtpConfig { url: format!("smtp://127.0.0.1:{port}"), from: "吾家 <wujia@wangtan.example>".into() }
}

async fn emergency(app: &TestApp) -> Value {
    let hu = app.token("jumin_hu").await;
    let cats = app.get_json(&hu, "/api/v1/categories").await;
    let pipe = cats.as_array().unwrap().iter().find(|c| c["code"] == "property.repair.pipe").unwrap()["id"].clone();
    let res = app
        .send(Method::POST, &hu, "/api/v1/requests", &json!({"category_id": pipe, "description": "地下车库喷淋管爆裂"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn an_emergency_is_mailed_to_the_duty_mailboxes(backend: Backend) {
    let (port, inbox) = smtp_server().await;
    let Some(app) = TestApp::spawn_with(backend, |c| c.smtp = Some(smtp(port))).await else {
        eprintln!("WUJIA_TEST_DATABASE_URL is not set: PostgreSQL variant not run here");
        return;
    };
    let staff = app.token("zhangli").await;
    let channel = |target: &str| json!({"name": "值班邮箱", "kind": "email", "target": target, "purpose": "duty"});
    let res = app.send(Method::POST, &staff, "/api/v1/notification_channels", &channel("not an address")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json::<Value>().await.unwrap()["errors"][0]["field"], "target");
    let targets = "社区值班 <duty@wangtan.example>, wuye-duty@wangtan.example";
    let res = app.send(Method::POST, &staff, "/api/v1/notification_channels", &channel(targets)).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let r = emergency(&app).await;
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, vec!["duty@wangtan.example", "wuye-duty@wangtan.example"]);
    let mail = mailparse::parse_mail(got[0].1.as_bytes()).unwrap();
    let subject = mail.headers.iter().find(|h| h.get_key() == "Subject").unwrap().get_value();
    assert_eq!(subject, format!("紧急诉求 {}", r["number"].as_str().unwrap()));
    assert!(mail.get_body().unwrap().contains("地下车库喷淋管爆裂"));
    let deliveries = app.get_json(&staff, "/api/v1/deliveries").await;
    assert_eq!((deliveries[0]["status"].as_str(), deliveries[0]["attempts"].as_i64()), (Some("sent"), Some(1)));
    // The same Message-ID on every attempt at this delivery lets a mailbox drop a duplicate.
    let message_id = mail.headers.iter().find(|h| h.get_key() == "Message-ID").unwrap().get_value();
    assert_eq!(message_id, format!("<wujia-outbox-{}@wangtan.example>", deliveries[0]["id"]));
}

async fn an_unreachable_mail_server_leaves_the_delivery_to_be_retried(backend: Backend) {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let Some(app) = TestApp::spawn_with(backend, |c| c.smtp = Some(smtp(port))).await else { return };
    let staff = app.token("zhangli").await;
    let body = json!({"name": "值班邮箱", "kind": "email", "target": "duty@wangtan.example", "purpose": "duty"});
    assert_eq!(
        app.send(Method::POST, &staff, "/api/v1/notification_channels", &body).await.status(),
        StatusCode::CREATED
    );
    emergency(&app).await;
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!((report.delivered, report.retried), (0, 1));
    let d = &app.get_json(&staff, "/api/v1/deliveries").await[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("pending"), Some(1)));
    assert!(d["last_error"].as_str().unwrap().contains("SMTP"), "{d}");
}

async fn without_an_smtp_server_e_mail_channels_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.token("zhangli").await;
    let body = json!({"name": "值班邮箱", "kind": "email", "target": "duty@wangtan.example", "purpose": "duty"});
    let res = app.send(Method::POST, &staff, "/api/v1/notification_channels", &body).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "kind");
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("WUJIA_SMTP_URL"));
}

macro_rules! both {
    ($($name:ident),*) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Postgres).await })*
        }
    };
}

both!(
    an_emergency_is_mailed_to_the_duty_mailboxes,
    an_unreachable_mail_server_leaves_the_delivery_to_be_retried,
    without_an_smtp_server_e_mail_channels_are_refused
);
