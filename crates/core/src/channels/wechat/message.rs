//! What a follower sends to the account, parsed from WeChat's XML into [`Incoming`], and the passive text reply.

use super::envelope::{AesKey, seal};
use super::signature::sign;
use serde::Deserialize;

/// Largest callback body WeChat sends (a text message holds at most 2,048 bytes of content).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A WeChat user as this account knows them. Personal data: shown masked, never logged.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OpenId(String);

impl OpenId {
    /// An openid as WeChat sends it: 1 to 64 letters, digits, `-` or `_`.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let ok =
            !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(t.to_string()))
    }

    /// The openid itself, for the database and for replies.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The openid as lists show it: the first four and last two characters.
    pub fn masked(&self) -> String {
        let head: String = self.0.chars().take(4).collect();
        let tail: String = self.0.chars().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect();
        format!("{head}****{tail}")
    }
}

impl std::fmt::Debug for OpenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpenId({})", self.masked())
    }
}

/// What a message carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Text.
    Text {
        /// What was written.
        content: String,
    },
    /// A photo, fetched through the media API.
    Image {
        /// The media id.
        media_id: String,
    },
    /// A voice message, fetched through the media API.
    Voice {
        /// The media id.
        media_id: String,
        /// `amr`, `speex` …
        format: String,
        /// WeChat's transcription, when the account has it switched on.
        recognition: Option<String>,
    },
    /// A location shared from the map.
    Location {
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
        /// The place's name as the map gave it.
        label: String,
    },
    /// An event (following, unfollowing, a menu click …).
    Event {
        /// `subscribe`, `unsubscribe`, `CLICK` …
        event: String,
    },
    /// A kind Wujia does not take in (video, link …).
    Other {
        /// WeChat's `MsgType`.
        msg_type: String,
    },
}

/// A message from a follower, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The account it was sent to (its original id, `gh_…`).
    pub to: String,
    /// Who sent it.
    pub from: OpenId,
    /// When WeChat received it (Unix seconds).
    pub created: i64,
    /// WeChat's message id; events have none.
    pub msg_id: Option<String>,
    /// What it carries.
    pub body: Body,
}

impl Incoming {
    /// What identifies the message across WeChat's retries: its `MsgId`, or for events the sender and time (as
    /// WeChat's documentation advises).
    pub fn dedupe_key(&self) -> String {
        match &self.msg_id {
            Some(id) => format!("msg:{id}"),
            None => format!("event:{}:{}", self.from.as_str(), self.created),
        }
    }
}

/// Why a callback body was refused.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Not well-formed XML of the expected shape.
    #[error("malformed callback XML")]
    Xml(#[source] quick_xml::DeError),
    /// A field the message kind needs is absent or unreadable.
    #[error("the message lacks a readable {0}")]
    Missing(&'static str),
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(rename = "ToUserName")]
    to: String,
    #[serde(rename = "FromUserName")]
    from: Option<String>,
    #[serde(rename = "CreateTime")]
    created: Option<String>,
    #[serde(rename = "MsgType")]
    msg_type: Option<String>,
    #[serde(rename = "MsgId", alias = "MsgID")]
    msg_id: Option<String>,
    #[serde(rename = "Content")]
    content: Option<String>,
    #[serde(rename = "MediaId")]
    media_id: Option<String>,
    #[serde(rename = "Format")]
    format: Option<String>,
    #[serde(rename = "Recognition")]
    recognition: Option<String>,
    #[serde(rename = "Location_X")]
    latitude: Option<String>,
    #[serde(rename = "Location_Y")]
    longitude: Option<String>,
    #[serde(rename = "Label")]
    label: Option<String>,
    #[serde(rename = "Event")]
    event: Option<String>,
    #[serde(rename = "Encrypt")]
    encrypt: Option<String>,
}

/// The outer body of a callback: in safe mode the addressee and the `Encrypt` text, in plain mode the message.
#[derive(Debug)]
pub struct Outer {
    /// The account it was sent to.
    pub to: String,
    /// The sealed message, in safe mode.
    pub encrypt: Option<String>,
    raw: String,
}

impl Outer {
    /// Parses a callback body.
    pub fn parse(xml: &str) -> Result<Self, MessageError> {
        let raw: RawMessage = quick_xml::de::from_str(xml).map_err(MessageError::Xml)?;
        Ok(Self { to: raw.to, encrypt: raw.encrypt.filter(|e| !e.trim().is_empty()), raw: xml.to_string() })
    }

    /// The message of a plain-mode callback.
    pub fn plain(&self) -> Result<Incoming, MessageError> {
        Incoming::parse(&self.raw)
    }
}

fn required(value: Option<String>, field: &'static str) -> Result<String, MessageError> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).ok_or(MessageError::Missing(field))
}

fn number(value: Option<String>, field: &'static str) -> Result<f64, MessageError> {
    required(value, field)?.parse().map_err(|_| MessageError::Missing(field))
}

impl Incoming {
    /// Parses a message (a plain-mode body, or what a safe-mode envelope holds).
    pub fn parse(xml: &str) -> Result<Self, MessageError> {
        let raw: RawMessage = quick_xml::de::from_str(xml).map_err(MessageError::Xml)?;
        let from = OpenId::parse(&required(raw.from, "FromUserName")?).ok_or(MessageError::Missing("FromUserName"))?;
        let created = required(raw.created, "CreateTime")?.parse().map_err(|_| MessageError::Missing("CreateTime"))?;
        let msg_type = required(raw.msg_type, "MsgType")?;
        let body = match msg_type.as_str() {
            "text" => Body::Text { content: raw.content.unwrap_or_default() },
            "image" => Body::Image { media_id: required(raw.media_id, "MediaId")? },
            "voice" => Body::Voice {
                media_id: required(raw.media_id, "MediaId")?,
                format: raw.format.unwrap_or_default(),
                recognition: raw.recognition.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()),
            },
            "location" => Body::Location {
                latitude: number(raw.latitude, "Location_X")?,
                longitude: number(raw.longitude, "Location_Y")?,
                label: raw.label.unwrap_or_default(),
            },
            "event" => Body::Event { event: required(raw.event, "Event")? },
            _ => Body::Other { msg_type },
        };
        let msg_id = raw.msg_id.map(|m| m.trim().to_string()).filter(|m| !m.is_empty());
        if msg_id.is_none() && !matches!(body, Body::Event { .. }) {
            return Err(MessageError::Missing("MsgId"));
        }
        Ok(Self { to: raw.to, from, created, msg_id, body })
    }
}

/// Writes `<tag><![CDATA[value]]></tag>`; a `]]>` inside the value is split across two sections.
fn cdata(out: &mut String, tag: &str, value: &str) {
    out.push('<');
    out.push_str(tag);
    out.push_str("><![CDATA[");
    out.push_str(&value.replace("]]>", "]]]]><![CDATA[>"));
    out.push_str("]]></");
    out.push_str(tag);
    out.push('>');
}

fn element(out: &mut String, tag: &str, value: &str) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
    out.push_str(value);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

/// The passive text reply to `to` from the account `from` (the `ToUserName` of the message answered).
pub fn reply_text(to: &OpenId, from: &str, created: i64, content: &str) -> String {
    let mut out = String::from("<xml>");
    cdata(&mut out, "ToUserName", to.as_str());
    cdata(&mut out, "FromUserName", from);
    element(&mut out, "CreateTime", &created.to_string());
    cdata(&mut out, "MsgType", "text");
    cdata(&mut out, "Content", content);
    out.push_str("</xml>");
    out
}

/// A reply sealed for safe mode: the envelope, its `MsgSignature`, `TimeStamp` and `Nonce`.
pub fn sealed_reply(
    key: &AesKey,
    appid: &str,
    token: &str,
    reply: &str,
    timestamp: i64,
    nonce: &str,
    random: [u8; 16],
) -> String {
    let encrypt = seal(key, appid, reply, random);
    let stamp = timestamp.to_string();
    let signature = sign(&[token, &stamp, nonce, &encrypt]);
    let mut out = String::from("<xml>");
    cdata(&mut out, "Encrypt", &encrypt);
    cdata(&mut out, "MsgSignature", &signature);
    element(&mut out, "TimeStamp", &stamp);
    cdata(&mut out, "Nonce", nonce);
    out.push_str("</xml>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::wechat::open;

    fn message(kind: &str, inner: &str) -> String {
        format!(
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser_1-a]]></FromUserName>\
             <CreateTime>1700000000</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{inner}<MsgId>42</MsgId></xml>"
        )
    }

    #[test]
    fn each_kind_of_message_parses_into_its_variant() {
        let text = Incoming::parse(&message("text", "<Content><![CDATA[楼道灯坏了 <b>]]></Content>")).unwrap();
        assert_eq!(text.body, Body::Text { content: "楼道灯坏了 <b>".into() });
        assert_eq!((text.to.as_str(), text.from.as_str(), text.created), ("gh_1", "oUser_1-a", 1_700_000_000));
        assert_eq!(text.dedupe_key(), "msg:42");
        let image = Incoming::parse(&message("image", "<PicUrl>http://x</PicUrl><MediaId>m1</MediaId>")).unwrap();
        assert_eq!(image.body, Body::Image { media_id: "m1".into() });
        let voice = Incoming::parse(&message(
            "voice",
            "<MediaId>v1</MediaId><Format>amr</Format><Recognition>漏水</Recognition>",
        ))
        .unwrap();
        assert_eq!(
            voice.body,
            Body::Voice { media_id: "v1".into(), format: "amr".into(), recognition: Some("漏水".into()) }
        );
        let place = Incoming::parse(&message(
            "location",
            "<Location_X>39.87</Location_X><Location_Y>116.41</Location_Y><Scale>15</Scale><Label><![CDATA[东门]]></Label>",
        ))
        .unwrap();
        assert_eq!(place.body, Body::Location { latitude: 39.87, longitude: 116.41, label: "东门".into() });
        let video = Incoming::parse(&message("video", "<MediaId>x</MediaId>")).unwrap();
        assert_eq!(video.body, Body::Other { msg_type: "video".into() });
        let event = Incoming::parse(
            "<xml><ToUserName>gh_1</ToUserName><FromUserName>oU</FromUserName><CreateTime>5</CreateTime>\
             <MsgType>event</MsgType><Event>subscribe</Event></xml>",
        )
        .unwrap();
        assert_eq!(
            (event.body.clone(), event.dedupe_key()),
            (Body::Event { event: "subscribe".into() }, "event:oU:5".into())
        );
    }

    #[test]
    fn malformed_messages_are_refused_with_the_reason() {
        assert!(matches!(Incoming::parse("<xml><ToUserName>gh"), Err(MessageError::Xml(_))));
        assert!(matches!(Incoming::parse("not xml"), Err(MessageError::Xml(_))));
        assert!(matches!(Incoming::parse(&message("image", "")), Err(MessageError::Missing("MediaId"))));
        assert!(matches!(
            Incoming::parse(&message("location", "<Location_X>north</Location_X><Location_Y>1</Location_Y>")),
            Err(MessageError::Missing("Location_X"))
        ));
        let no_id = "<xml><ToUserName>gh</ToUserName><FromUserName>oU</FromUserName><CreateTime>5</CreateTime>\
                     <MsgType>text</MsgType><Content>x</Content></xml>";
        assert!(matches!(Incoming::parse(no_id), Err(MessageError::Missing("MsgId"))));
        let bad_sender = message("text", "<Content>x</Content>").replace("oUser_1-a", "o u<");
        assert!(Incoming::parse(&bad_sender).is_err());
    }

    #[test]
    fn replies_escape_their_text_and_seal_for_safe_mode() {
        let to = OpenId::parse("oUser").unwrap();
        let reply = reply_text(&to, "gh_1", 9, "a ]]> b <c>");
        assert_eq!(
            reply,
            "<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_1]]></FromUserName>\
             <CreateTime>9</CreateTime><MsgType><![CDATA[text]]></MsgType>\
             <Content><![CDATA[a ]]]]><![CDATA[> b <c>]]></Content></xml>"
        );
        let key = AesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
        let sealed = sealed_reply(&key, "wx1", "tok", &reply, 9, "n1", [1; 16]);
        #[derive(Deserialize)]
        struct Sealed {
            #[serde(rename = "Encrypt")]
            encrypt: String,
            #[serde(rename = "MsgSignature")]
            signature: String,
        }
        let s: Sealed = quick_xml::de::from_str(&sealed).unwrap();
        assert_eq!(s.signature, sign(&["tok", "9", "n1", &s.encrypt]));
        assert_eq!(open(&key, "wx1", &s.encrypt).unwrap(), reply);
        assert_eq!(to.masked(), "oUse****er");
        assert_eq!(format!("{to:?}"), "OpenId(oUse****er)");
    }
}
