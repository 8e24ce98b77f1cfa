//! Photos as an attacker sends them: a decompression bomb, a JPEG that is also a web page, a JPEG cut short, a
//! "motion photo" with a second picture and its location behind the first. Every photo is decoded and kept
//! re-encoded, within phone size, with a small preview, and served as exactly what it is.

use crate::api::category_id;
use crate::common::{TestApp, hidden, jpeg, plain_jpeg, problem, with_location};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    a_decompression_bomb_is_refused_before_it_is_decoded,
    a_jpeg_cut_short_is_refused_and_nothing_is_kept,
    a_jpeg_that_is_also_a_web_page_is_kept_as_a_picture_only,
    a_motion_photo_loses_its_second_picture_and_its_location,
    a_photo_is_kept_within_phone_size_with_a_small_preview_and_safe_headers,
    a_photo_kept_before_re_encoding_is_still_served_as_it_was,
);

/// A request of the resident's, and a way to post photos to it.
async fn request_of_hu(app: &TestApp) -> (String, i64) {
    let hu = app.token("jumin_hu").await;
    let pipe = category_id(app, &hu, "property.repair.pipe").await;
    let r: Value = app.create_request(&hu, &json!({"category_id": pipe, "description": "厨房水管漏水"})).await;
    (hu, r["id"].as_i64().unwrap())
}

async fn post_photo(app: &TestApp, token: &str, request: i64, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/requests/{request}/photos")))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn photo_count(app: &TestApp, token: &str, request: i64) -> usize {
    app.get_json(token, &format!("/api/v1/requests/{request}/photos")).await.as_array().unwrap().len()
}

/// The problem of a refused photo: its status, and the message on the field `photo`.
async fn refused(res: reqwest::Response) -> (StatusCode, String) {
    let (status, p) = problem(res).await;
    assert_eq!(p["errors"][0]["field"], "photo", "{p}");
    (status, p["errors"][0]["message"].as_str().unwrap().to_string())
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for b in bytes {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// Bits of a deflate stream, least significant first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, len: u32) {
        for i in 0..len {
            self.acc |= ((value >> i) & 1) << self.n;
            self.n += 1;
            if self.n == 8 {
                self.out.push(self.acc as u8);
                (self.acc, self.n) = (0, 0);
            }
        }
    }

    /// A Huffman code, written most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        for i in (0..len).rev() {
            self.put((code >> i) & 1, 1);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A real PNG of `side`×`side` black grey pixels, as an attacker builds a decompression bomb: every byte of the
/// picture is zero, so one literal zero and then copies of 258 bytes at distance 1 (fixed Huffman codes) describe
/// it in a thousandth of its size.
fn bomb_png(side: u32) -> Vec<u8> {
    let raw = u64::from(side) * (u64::from(side) + 1); // per row a filter byte and `side` grey bytes
    let mut bits = Bits::default();
    bits.put(1, 1); // the last block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0x30, 8); // literal 0
    for _ in 0..(raw - 1) / 258 {
        bits.code(0xC5, 8); // length 258
        bits.code(0, 5); // distance 1
    }
    for _ in 0..(raw - 1) % 258 {
        bits.code(0x30, 8);
    }
    bits.code(0, 7); // end of block
    let mut zlib = vec![0x78, 0x01];
    zlib.extend(bits.finish());
    // Adler-32 of zeros: a stays 1, b adds it once per byte.
    zlib.extend((((raw % 65_521) as u32) << 16 | 1).to_be_bytes());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend(side.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]); // 8-bit grey, no interlace
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        png.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        png.extend(&body);
        png.extend(crc32(&body).to_be_bytes());
    }
    png
}

async fn a_decompression_bomb_is_refused_before_it_is_decoded(app: TestApp) {
    let (hu, id) = request_of_hu(&app).await;
    // The generator makes real pictures: a small one decodes, and is taken.
    let small = bomb_png(64);
    assert_eq!(image::load_from_memory(&small).unwrap().width(), 64);
    assert_eq!(post_photo(&app, &hu, id, small).await.status(), StatusCode::CREATED);
    // 20000×20000: 400 MB of pixels in under 3 MB on the wire, within the upload limit, over the side limit.
    let bomb = bomb_png(20_000);
    assert!(bomb.len() < wujia_core::media::MAX_PHOTO_BYTES, "{} bytes", bomb.len());
    let started = std::time::Instant::now();
    let (status, message) = refused(post_photo(&app, &hu, id, bomb).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("像素") && message.contains("pixels"), "{message}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "refused before decoding: {:?}", started.elapsed());
    // 11000×11000: each side within the limit, 121 megapixels over it.
    let (status, _) = refused(post_photo(&app, &hu, id, bomb_png(11_000)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(photo_count(&app, &hu, id).await, 1, "only the small picture is kept");
    // The resident's form refuses it too, naming its field, and takes in no request.
    let before = app.get_json(&hu, "/api/v1/requests").await.as_array().unwrap().len();
    let browser = app.browser("jumin_hu").await;
    let page = browser.get(app.url("/requests/new")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let pipe = category_id(&app, &hu, "property.repair.pipe").await.to_string();
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("category_id", pipe)
        .text("description", "楼道积水,附照片")
        .part("photos", reqwest::multipart::Part::bytes(bomb_png(11_000)).file_name("water.png"));
    let res = browser.post(app.url("/requests/new")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("像素太多"));
    assert_eq!(app.get_json(&hu, "/api/v1/requests").await.as_array().unwrap().len(), before);
}

async fn a_jpeg_cut_short_is_refused_and_nothing_is_kept(app: TestApp) {
    let (hu, id) = request_of_hu(&app).await;
    let whole = plain_jpeg(200, 150);
    for cut in [whole.len() * 2 / 3, whole.len() - 2] {
        let (status, message) = refused(post_photo(&app, &hu, id, whole[..cut].to_vec()).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message.contains("没有传完整") && message.contains("did not arrive whole"), "{message}");
    }
    assert_eq!(photo_count(&app, &hu, id).await, 0);
    assert_eq!(post_photo(&app, &hu, id, whole).await.status(), StatusCode::CREATED);
}

async fn a_jpeg_that_is_also_a_web_page_is_kept_as_a_picture_only(app: TestApp) {
    let (hu, id) = request_of_hu(&app).await;
    let page = b"<html><body><script>fetch('/api/v1/households').then(r=>r.text()).then(alert)</script></body></html>";
    // The page in a comment segment right after the start, and again after the end: a browser that sniffs runs it.
    let mut polyglot = plain_jpeg(32, 32);
    let mut comment = vec![0xFF, 0xFE];
    comment.extend(u16::try_from(page.len() + 2).unwrap().to_be_bytes());
    comment.extend(page);
    polyglot.splice(2..2, comment);
    polyglot.extend(page);
    let res = post_photo(&app, &hu, id, polyglot).await;
    assert_eq!(res.status(), StatusCode::CREATED, "it is a picture too");
    let url = res.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_string();
    let res = app.get(&hu, &url).await;
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("inline; filename=\"photo-"));
    let kept = res.bytes().await.unwrap();
    assert_eq!(count(&kept, b"<script"), 0, "the page is gone");
    assert_eq!(count(&kept, b"<html"), 0);
    assert_eq!(image::load_from_memory(&kept).unwrap().width(), 32);
    // A page behind a JPEG's first bytes is not a picture at all.
    let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    fake.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    fake.extend(page);
    let (status, message) = refused(post_photo(&app, &hu, id, fake).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("损坏") && message.contains("damaged"), "{message}");
    let (status, message) = refused(post_photo(&app, &hu, id, page.to_vec()).await).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(message.contains("JPEG、PNG 或 WebP"), "{message}");
    assert_eq!(photo_count(&app, &hu, id).await, 1);
}

async fn a_motion_photo_loses_its_second_picture_and_its_location(app: TestApp) {
    let (hu, id) = request_of_hu(&app).await;
    // As phones lay out a motion photo: the still (with its EXIF location), then a second picture, then more data.
    let mut motion = jpeg();
    motion.extend(with_location(&plain_jpeg(16, 16)));
    motion.extend(b"MotionPhoto_Data GPS 39.9042,116.4074");
    assert_eq!(count(&motion, b"Exif"), 2);
    let res = post_photo(&app, &hu, id, motion).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let url = res.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_string();
    let kept = app.get(&hu, &url).await.bytes().await.unwrap();
    assert_eq!(count(&kept, &[0xFF, 0xD8, 0xFF]), 1, "one picture, nothing behind it");
    assert!(kept.ends_with(&[0xFF, 0xD9]));
    assert_eq!(count(&kept, b"Exif"), 0, "no EXIF block, so no location");
    assert_eq!(count(&kept, &[0xFF, 0xE1]), 0, "no APP1 segment at all");
    assert_eq!((count(&kept, b"GPS"), count(&kept, b"116.4074")), (0, 0));
    let picture = image::load_from_memory(&kept).unwrap();
    assert_eq!((picture.width(), picture.height()), (64, 48), "the still, not the second picture");
}

async fn a_photo_is_kept_within_phone_size_with_a_small_preview_and_safe_headers(app: TestApp) {
    let (hu, id) = request_of_hu(&app).await;
    let sent = plain_jpeg(3000, 2000);
    let res = post_photo(&app, &hu, id, sent.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let photo: Value = res.json().await.unwrap();
    assert_eq!(photo["media_type"], "image/jpeg");
    let url = photo["url"].as_str().unwrap().to_string();
    assert_eq!(photo["preview_url"].as_str().unwrap(), format!("{url}?size=preview"));
    let blob = url.rsplit('/').next().unwrap().to_string();
    let res = app.get(&hu, &url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["content-disposition"], format!("inline; filename=\"photo-{}.jpg\"", &blob[..12]));
    let full = res.bytes().await.unwrap();
    let picture = image::load_from_memory(&full).unwrap();
    assert_eq!((picture.width(), picture.height()), (2048, 1365));
    let res = app.get(&hu, &format!("{url}?size=preview")).await;
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["content-disposition"], format!("inline; filename=\"photo-{}-preview.jpg\"", &blob[..12]));
    let preview = res.bytes().await.unwrap();
    let small = image::load_from_memory(&preview).unwrap();
    assert_eq!((small.width(), small.height()), (320, 213));
    assert!(preview.len() * 10 < full.len(), "preview {} bytes, photo {}", preview.len(), full.len());
    // The preview is the photo's: who may not see the photo may not see its preview.
    let other = app.token("wuye").await;
    assert_eq!(app.get(&other, &format!("{url}?size=preview")).await.status(), StatusCode::NOT_FOUND);
    let (status, p) = problem(app.get(&hu, &format!("{url}?size=huge")).await).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("size")));
    // The request's page shows the preview and links to the photo.
    let page = app.browser("jumin_hu").await.get(app.url(&format!("/requests/{id}"))).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains(&format!("<a href=\"{url}\"><img src=\"{url}?size=preview\"")), "{page}");
}

async fn a_photo_kept_before_re_encoding_is_still_served_as_it_was(app: TestApp) {
    let (hu, id) = request_of_hu(&app).await;
    // A PNG kept as uploaded, before photos were re-encoded, with no preview.
    let png = wujia_core::media::banded_png(40, 30, &[[200, 30, 30], [30, 30, 200]]);
    let blob = wujia_store::BlobStore::local(&app.state.config.blob_dir).put(&png).unwrap();
    app.raw_sql(&format!(
        "INSERT INTO request_photos (request_id, blob, media_type, size, stage, created_at) \
         VALUES ({id}, '{blob}', 'image/png', {}, 'intake', '2024-03-01 08:00:00+00:00')",
        png.len()
    ))
    .await;
    for path in [format!("/api/v1/photos/{blob}"), format!("/api/v1/photos/{blob}?size=preview")] {
        let res = app.get(&hu, &path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["content-type"], "image/png");
        assert_eq!(res.headers()["content-disposition"], format!("inline; filename=\"photo-{}.png\"", &blob[..12]));
        assert_eq!(res.bytes().await.unwrap().as_ref(), png.as_slice());
    }
}
