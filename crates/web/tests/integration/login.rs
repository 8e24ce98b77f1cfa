//! Logging in as an attacker would: guessing one known account, spraying many, faking addresses, and choosing
//! weak passwords; and adding a resident to learn where else a person is registered.

use crate::common::{NEW_PASSWORD, PASSWORD, TestApp, hidden, problem};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

/// The test servers sit behind a proxy at 127.0.0.1 that the operator trusts, so each request may say which
/// client it comes from in `X-Forwarded-For`.
fn behind_a_proxy(config: &mut wujia_web::Config) {
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
}

mod proxied {
    use super::*;
    on_both!(configure = crate::login::behind_a_proxy;
        an_attacker_who_knows_a_username_cannot_keep_its_owner_out,
        one_address_spraying_many_accounts_waits_longer_and_longer,
        a_throttled_address_may_try_again_once_its_wait_has_passed,
        many_addresses_slow_an_account_but_not_at_its_owners_usual_address,
        the_login_page_answers_a_throttled_attempt_with_its_wait,
    );
}

on_both!(
    a_forged_forwarded_for_header_does_not_escape_the_throttle,
    weak_passwords_are_refused_wherever_one_is_set_naming_the_field,
    adding_a_resident_does_not_reveal_another_communitys_registry,
);

const ATTACKER: &str = "203.0.113.66";
const OWNER: &str = "198.51.100.7";

async fn login_from(app: &TestApp, address: &str, username: &str, password: &str) -> Response {
    app.client
        .post(app.url("/api/v1/sessions"))
        .header("x-forwarded-for", address)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

fn retry_after(res: &Response) -> i64 {
    let header = res.headers().get("retry-after").expect("a throttled answer says how long to wait");
    header.to_str().unwrap().parse().unwrap()
}

/// Makes `failures` wrong guesses on `username` from `address`, waiting out each throttle on the test clock as
/// a patient attacker would; returns the waits it was given.
async fn guess(app: &TestApp, address: &str, username: &str, failures: usize) -> Vec<i64> {
    let mut waits = Vec::new();
    let mut failed = 0;
    while failed < failures {
        let res = login_from(app, address, username, "guess-1234-abcd").await;
        match res.status() {
            StatusCode::UNAUTHORIZED => failed += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = retry_after(&res);
                waits.push(wait);
                app.clock.advance(chrono::Duration::seconds(wait));
            }
            other => panic!("a wrong password answered {other}"),
        }
    }
    waits
}

async fn an_attacker_who_knows_a_username_cannot_keep_its_owner_out(app: TestApp) {
    let waits = guess(&app, ATTACKER, "zhangli", 20).await;
    assert!(!waits.is_empty(), "twenty wrong guesses from one address are slowed");
    // The attacker's own address is made to wait, even with the right password …
    let res = login_from(&app, ATTACKER, "zhangli", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // … while the owner, from her own address, logs in at once.
    let res = login_from(&app, OWNER, "zhangli", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED, "the owner is not locked out by someone else's guesses");
}

async fn one_address_spraying_many_accounts_waits_longer_and_longer(app: TestApp) {
    let usernames = [
        "zhangli",
        "wangfang",
        "admin",
        "patrol_li",
        "wuye",
        "liuwei",
        "chenjing",
        "zhaolei",
        "sunmin",
        "zhouqiang",
        "wuxia",
        "zhengyu",
    ];
    let mut waits = Vec::new();
    for username in usernames {
        loop {
            let res = login_from(&app, ATTACKER, username, "Spring2024!").await;
            if res.status() == StatusCode::UNAUTHORIZED {
                break;
            }
            assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
            let wait = retry_after(&res);
            let (_, body) = problem(res).await;
            assert_eq!(body["type"], "/problems/too-many-requests");
            let detail = body["detail"].as_str().unwrap();
            assert!(detail.contains(&format!("{wait} 秒后再试")) && detail.contains("try again"), "{detail}");
            waits.push(wait);
            app.clock.advance(chrono::Duration::seconds(wait));
        }
    }
    assert!(waits.len() >= 6, "12 accounts from one address are slowed after a few: {waits:?}");
    assert!(waits.windows(2).all(|w| w[1] > w[0]), "each wait is longer than the last: {waits:?}");
    // Other addresses are not slowed by this one.
    assert_eq!(login_from(&app, OWNER, "vol_wang", PASSWORD).await.status(), StatusCode::CREATED);
}

async fn a_throttled_address_may_try_again_once_its_wait_has_passed(app: TestApp) {
    guess(&app, ATTACKER, "zhangli", 8).await;
    let res = login_from(&app, ATTACKER, "zhangli", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&res);
    assert!(wait > 1, "after eight failures the wait is more than a second: {wait}");
    app.clock.advance(chrono::Duration::seconds(wait - 1));
    let res = login_from(&app, ATTACKER, "zhangli", PASSWORD).await;
    assert_eq!(
        (res.status(), retry_after(&res)),
        (StatusCode::TOO_MANY_REQUESTS, 1),
        "attempts while waiting count for nothing"
    );
    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(login_from(&app, ATTACKER, "zhangli", PASSWORD).await.status(), StatusCode::CREATED);
    // A success forgets this address's failures on the account: a later typo is not made to wait.
    assert_eq!(login_from(&app, ATTACKER, "zhangli", "typo").await.status(), StatusCode::UNAUTHORIZED);
}

async fn many_addresses_slow_an_account_but_not_at_its_owners_usual_address(app: TestApp) {
    // The owner logged in from her office last week.
    assert_eq!(login_from(&app, OWNER, "zhangli", PASSWORD).await.status(), StatusCode::CREATED);
    app.clock.advance(chrono::Duration::days(7));
    // A botnet spends its free guesses from many addresses.
    for n in 1..=12 {
        let address = format!("192.0.2.{n}");
        for _ in 0..5 {
            let res = login_from(&app, &address, "zhangli", "guess-1234-abcd").await;
            assert!(matches!(res.status(), StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS));
        }
    }
    let res = login_from(&app, "192.0.2.200", "zhangli", "guess-1234-abcd").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "a fresh address is slowed once the account is");
    // Her usual address is not.
    assert_eq!(login_from(&app, OWNER, "zhangli", PASSWORD).await.status(), StatusCode::CREATED);
}

async fn the_login_page_answers_a_throttled_attempt_with_its_wait(app: TestApp) {
    let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let mut last = None;
    for _ in 0..6 {
        let page = browser.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let csrf = hidden(&page, "csrf");
        let res = browser
            .post(app.url("/login"))
            .header("x-forwarded-for", ATTACKER)
            .form(&[("username", "zhangli"), ("password", "guess-1234-abcd"), ("csrf", &csrf), ("next", "/")])
            .send()
            .await
            .unwrap();
        last = Some(res);
    }
    let res = last.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&res), 1);
    let html = res.text().await.unwrap();
    assert!(html.contains("登录失败次数太多") && html.contains("请 1 秒后再试"), "{html}");
}

async fn a_forged_forwarded_for_header_does_not_escape_the_throttle(app: TestApp) {
    // No proxy is trusted here: the header is the client's own claim and changes nothing.
    for n in 0..5 {
        let res = login_from(&app, &format!("192.0.2.{n}"), "zhangli", "guess-1234-abcd").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&app, "192.0.2.99", "zhangli", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

fn field_message(body: &Value, field: &str) -> String {
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("no field errors: {body}"));
    let e = errors.iter().find(|e| e["field"] == field).unwrap_or_else(|| panic!("no error on {field}: {body}"));
    e["message"].as_str().unwrap().to_string()
}

async fn weak_passwords_are_refused_wherever_one_is_set_naming_the_field(app: TestApp) {
    let admin = app.token("admin").await;
    let staff = app.token("zhangli").await;
    // An account created with a common password.
    let body = json!({"username": "wuye3", "display_name": "物业三", "role": "property", "password": "password123"});
    let (status, p) = problem(app.send(Method::POST, &admin, "/api/v1/users", &body).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = field_message(&p, "password");
    assert!(message.contains("太常见或太容易猜到"), "{message}");
    assert!(!message.chars().any(|c| c.is_ascii_alphabetic()), "no English feedback for a Chinese reader: {message}");
    // Its own username, though long and mixed.
    let body = json!({"username": "wuye3", "display_name": "物业三", "role": "property", "password": "Wuye3-2024-ok"});
    let (_, p) = problem(app.send(Method::POST, &admin, "/api/v1/users", &body).await).await;
    assert!(field_message(&p, "password").contains("用户名或姓名"), "{p}");
    // An admin's reset of someone else's password, to a keyboard walk.
    let id = app.user_id_of("vol_wang").await;
    let (status, p) = problem(
        app.send(Method::PATCH, &admin, &format!("/api/v1/users/{id}"), &json!({"password": "1qaz2wsx3edc"})).await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_message(&p, "password").contains("太常见"), "{p}");
    // The owner's own change, to her name and a year.
    let body = json!({"current_password": PASSWORD, "new_password": "zhangli2024"});
    let (status, p) = problem(app.send(Method::POST, &staff, "/api/v1/me/password", &body).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_message(&p, "new_password").contains("用户名或姓名"), "{p}");
    // In English when the reader chose English, in our own words.
    let res = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&staff)
        .header("cookie", "wujia_lang=en")
        .json(&json!({"current_password": PASSWORD, "new_password": "iloveyou2023"}))
        .send()
        .await
        .unwrap();
    let (_, p) = problem(res).await;
    assert!(field_message(&p, "new_password").contains("too common or too easy to guess"), "{p}");
    // A strong one is taken, and works.
    let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    assert_eq!(app.send(Method::POST, &staff, "/api/v1/me/password", &body).await.status(), StatusCode::NO_CONTENT);
    let res =
        app.send(Method::POST, "", "/api/v1/sessions", &json!({"username": "zhangli", "password": NEW_PASSWORD})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

async fn adding_a_resident_does_not_reveal_another_communitys_registry(app: TestApp) {
    let admin = app.token("admin").await;
    let zhangli = app.token("zhangli").await;
    // A number registered in 望坛新苑.
    let hits = app
        .get_json(&zhangli, "/api/v1/households?q=3%E5%8F%B7%E9%99%A27%E5%8F%B7%E6%A5%BC1%E5%8D%95%E5%85%83102")
        .await;
    let wang_household = hits[0]["household_id"].as_i64().unwrap();
    let resident =
        app.get_json(&zhangli, &format!("/api/v1/households/{wang_household}")).await["residents"][0].clone();
    let res =
        app.send(Method::POST, &zhangli, &format!("/api/v1/residents/{}/id_card", resident["id"]), &json!({})).await;
    let number = res.json::<Value>().await.unwrap()["id_card"].as_str().unwrap().to_string();
    // A second community, with its own staff member and an empty household.
    let body = json!({"name": "安乐林新苑", "code": "ALL", "street": "永外街道", "district": "东城区", "origins": ["安乐林社区"]});
    let res = app.send(Method::POST, &admin, "/api/v1/communities", &body).await;
    let community = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app
        .send(
            Method::POST,
            &admin,
            &format!("/api/v1/communities/{community}/compounds"),
            &json!({"number": 1, "name": "安乐林路1号院"}),
        )
        .await;
    let compound = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app
        .send(
            Method::POST,
            &admin,
            &format!("/api/v1/compounds/{compound}/buildings"),
            &json!({"number": 1, "floors": 6, "units": 1}),
        )
        .await;
    let building = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let unit =
        app.get_json(&admin, &format!("/api/v1/buildings/{building}/units")).await["units"][0]["id"].as_i64().unwrap();
    let res =
        app.send(Method::POST, &admin, &format!("/api/v1/units/{unit}/households"), &json!({"room": "601"})).await;
    let household = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let body = json!({"username": "anle_staff", "display_name": "安乐林社工", "role": "staff", "password": NEW_PASSWORD, "communities": [community]});
    assert_eq!(app.send(Method::POST, &admin, "/api/v1/users", &body).await.status(), StatusCode::CREATED);
    let other = {
        let res = app
            .send(Method::POST, "", "/api/v1/sessions", &json!({"username": "anle_staff", "password": NEW_PASSWORD}))
            .await;
        res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
    };
    let person = |id_card: &str| json!({"name": "林三", "id_card": id_card, "relation": "户主"});

    // Staff of the other community learn nothing of 望坛新苑: the answer is a correction on the field.
    let (status, p) = problem(
        app.send(Method::POST, &other, &format!("/api/v1/households/{household}/residents"), &person(&number)).await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let message = field_message(&p, "id_card");
    assert!(message.contains("请核对号码") && message.contains("街道管理员"), "{message}");
    let text = p.to_string();
    for secret in ["望坛", "已登记", "registered to", resident["name"].as_str().unwrap()] {
        assert!(!text.contains(secret), "the answer names {secret}: {text}");
    }
    // Staff of the same community are told where to look.
    let (status, p) = problem(
        app.send(Method::POST, &zhangli, &format!("/api/v1/households/{wang_household}/residents"), &person(&number))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("本社区"), "{p}");
    // And the number stays with its one resident.
    let res =
        app.send(Method::POST, &other, &format!("/api/v1/households/{household}/residents"), &person(&number)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
