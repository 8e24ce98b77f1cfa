//! GeoReport v2's two formats: JSON, and XML with a root element naming the list and one element per record
//! (`<service_requests><request>…</request></service_requests>`, `<errors><error>…</error></errors>`).

use super::fault::Answer;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Response format, from the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fmt {
    /// `.json`
    Json,
    /// `.xml`
    Xml,
}

/// `name.json` or `name.xml`: the name and its format.
pub(super) fn split(file: &str) -> Option<(&str, Fmt)> {
    match file.rsplit_once('.') {
        Some((name, "json")) => Some((name, Fmt::Json)),
        Some((name, "xml")) => Some((name, Fmt::Xml)),
        _ => None,
    }
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

fn xml_response(status: StatusCode, xml: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
}

/// A list of records: a JSON array, or `<outer><inner>…</inner>…</outer>`.
pub(super) fn list(fmt: Fmt, outer: &str, inner: &str, items: Vec<Value>) -> Response {
    match fmt {
        Fmt::Json => axum::Json(Value::Array(items)).into_response(),
        Fmt::Xml => {
            let mut xml = format!("{XML_DECLARATION}<{outer}>");
            for item in &items {
                xml.push_str(&format!("<{inner}>"));
                fields(&mut xml, item);
                xml.push_str(&format!("</{inner}>"));
            }
            xml.push_str(&format!("</{outer}>"));
            xml_response(StatusCode::OK, xml)
        }
    }
}

/// One document: a JSON object, or `<root>…</root>`.
pub(super) fn document(fmt: Fmt, root: &str, v: Value) -> Response {
    match fmt {
        Fmt::Json => axum::Json(v).into_response(),
        Fmt::Xml => {
            let mut xml = format!("{XML_DECLARATION}<{root}>");
            fields(&mut xml, &v);
            xml.push_str(&format!("</{root}>"));
            xml_response(StatusCode::OK, xml)
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let status = self.fault.status();
        let error = json!({"code": status.as_u16(), "description": self.fault.description(self.lang)});
        match self.fmt {
            Fmt::Json => (status, axum::Json(json!([error]))).into_response(),
            Fmt::Xml => {
                let mut xml = format!("{XML_DECLARATION}<errors><error>");
                fields(&mut xml, &error);
                xml.push_str("</error></errors>");
                xml_response(status, xml)
            }
        }
    }
}

/// An object's fields as elements; a list `things` holds one `<thing>` per item.
fn fields(xml: &mut String, v: &Value) {
    if let Value::Object(map) = v {
        for (k, v) in map {
            match v {
                Value::Null => xml.push_str(&format!("<{k}/>")),
                Value::Array(items) => {
                    xml.push_str(&format!("<{k}>"));
                    let singular = k.strip_suffix('s').unwrap_or(k);
                    for item in items {
                        xml.push_str(&format!("<{singular}>"));
                        match item {
                            Value::Object(_) => fields(xml, item),
                            other => xml.push_str(&escape(&scalar(other))),
                        }
                        xml.push_str(&format!("</{singular}>"));
                    }
                    xml.push_str(&format!("</{k}>"));
                }
                Value::Object(_) => {
                    xml.push_str(&format!("<{k}>"));
                    fields(xml, v);
                    xml.push_str(&format!("</{k}>"));
                }
                other => xml.push_str(&format!("<{k}>{}</{k}>", escape(&scalar(other)))),
            }
        }
    }
}

/// Text as XML 1.0 character data: markup escaped, and the characters XML cannot carry at all (control
/// characters other than tab and line breaks, U+FFFE, U+FFFF) left out. Intake refuses them; text stored before
/// it did must still not make the document one that parsers reject.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
