//! Message catalogues: Chinese first, English available. Both catalogues hold exactly the same keys.

use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The language cookie.
pub const LANG_COOKIE: &str = "wujia_lang";

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文, the default.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// From the language cookie; Chinese unless English was chosen.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        match CookieJar::from_headers(headers).get(LANG_COOKIE).map(|c| c.value()) {
            Some("en") => Self::En,
            _ => Self::Zh,
        }
    }

    /// BCP 47 tag for the `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }

    /// Short code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::En => "en",
        }
    }

    /// Looks up a message; a missing key shows itself (the catalogue test keeps that from happening).
    pub fn t(self, key: &str) -> &str {
        let cat = match self {
            Self::Zh => &*ZH,
            Self::En => &*EN,
        };
        cat.get(key).map_or(key, String::as_str)
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

fn load(text: &str) -> BTreeMap<String, String> {
    let table: toml::Table = text.parse().expect("message catalogue is valid TOML");
    let mut out = BTreeMap::new();
    flatten("", &table, &mut out);
    out
}

static ZH: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| load(include_str!("../i18n/zh.toml")));
static EN: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| load(include_str!("../i18n/en.toml")));

/// The keys of a catalogue, for completeness tests.
pub fn catalogue_keys(lang: Lang) -> Vec<String> {
    match lang {
        Lang::Zh => ZH.keys().cloned().collect(),
        Lang::En => EN.keys().cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let zh = catalogue_keys(Lang::Zh);
        let en = catalogue_keys(Lang::En);
        let only_zh: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "only in zh: {only_zh:?}; only in en: {only_en:?}");
        assert!(zh.len() > 50);
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let keys = catalogue_keys(Lang::Zh);
        let dirs =
            [concat!(env!("CARGO_MANIFEST_DIR"), "/templates"), concat!(env!("CARGO_MANIFEST_DIR"), "/src/pages")];
        let mut missing = Vec::new();
        for dir in dirs {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                for part in text.split(".t(\"").skip(1) {
                    let key = part.split('"').next().unwrap();
                    if !keys.iter().any(|k| k == key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "missing catalogue keys: {missing:#?}");
    }
}
