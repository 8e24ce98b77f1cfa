//! Codes of the register in people's words, in the page's language.

use crate::i18n::Lang;
use wujia_core::registry::Relation;

/// Label of a relation code in a language.
pub fn relation_label(code: &str, lang: Lang) -> String {
    match lang {
        Lang::Zh => Relation::parse(code).map_or(code, |r| r.zh()).to_string(),
        Lang::En => lang.t(&format!("relation.{code}")).to_string(),
    }
}
