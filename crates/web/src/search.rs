//! Chinese full-text search (jieba segmentation in a tantivy index) over requests, patrol findings, reception
//! visits, joint-meeting minutes, deliberation topics and activities. The index is fed from the event log: each
//! node reads the events after the last one it indexed and re-indexes the records they touched; `wujia reindex`
//! rebuilds it from the records.

use crate::error::ApiError;
use jieba_rs::{Jieba, TokenizeMode};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value as _,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, IndexWriter, TantivyDocument, Term, doc};
use wujia_store::Store;

/// Splits Chinese text into words with jieba (search mode, so 电梯故障 also finds 电梯).
#[derive(Clone)]
struct JiebaTokenizer(Arc<Jieba>);

/// The words of one text.
struct Words {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for Words {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = Words;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Words {
        // jieba counts characters; tantivy's offsets are bytes.
        let bytes: Vec<usize> = text.char_indices().map(|(b, _)| b).chain(std::iter::once(text.len())).collect();
        let tokens = self
            .0
            .tokenize(text, TokenizeMode::Search, true)
            .into_iter()
            .filter(|t| t.word.chars().any(char::is_alphanumeric))
            .enumerate()
            .map(|(i, t)| Token {
                offset_from: bytes[t.start.min(bytes.len() - 1)],
                offset_to: bytes[t.end.min(bytes.len() - 1)],
                position: i,
                text: t.word.to_lowercase(),
                position_length: 1,
            })
            .collect();
        Words { tokens, next: 0 }
    }
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    kind: Field,
    community: Field,
    building: Field,
    household: Field,
    title: Field,
    body: Field,
    at: Field,
    link: Field,
    status: Field,
}

/// What a search is limited to.
#[derive(Debug, Clone, Default)]
pub struct Filters<'a> {
    /// Communities (those the searcher works in).
    pub communities: &'a [i64],
    /// Kinds of record; empty for all.
    pub kinds: &'a [&'a str],
    /// Status codes; empty for all.
    pub statuses: &'a [&'a str],
    /// One building.
    pub building: Option<i64>,
}

/// One hit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit {
    /// `request`, `finding`, `visit`, `meeting`, `topic`, `activity`.
    pub kind: String,
    /// Record id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Building, when the record is in one.
    pub building_id: Option<i64>,
    /// Household, when the record concerns one.
    pub household_id: Option<i64>,
    /// Title.
    pub title: String,
    /// The matching passage with the words marked `<b>`…`</b>` (the rest escaped).
    pub snippet: String,
    /// When (Unix seconds).
    pub at: i64,
    /// The page.
    pub link: String,
    /// Status code of the record (open or closed, published …).
    pub status: String,
}

/// A record as the index holds it.
struct Doc {
    kind: &'static str,
    id: i64,
    community: i64,
    building: Option<i64>,
    household: Option<i64>,
    title: String,
    body: String,
    at: i64,
    link: String,
    status: String,
}

/// The search index of this node.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    seq: AtomicI64,
    dir: Option<PathBuf>,
    catching_up: tokio::sync::Mutex<()>,
}

fn err(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("search index: {e}"))
}

/// A record that may be gone: absent is `None`; any other failure stays an error.
fn present<T>(read: Result<T, wujia_store::StoreError>) -> Result<Option<T>, ApiError> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(wujia_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl SearchIndex {
    /// Opens the index kept in `dir`, creating it, or one in memory.
    pub fn open(dir: Option<&Path>) -> Result<Self, ApiError> {
        let mut schema = Schema::builder();
        let text = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("jieba")
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored();
        let fields = Fields {
            key: schema.add_text_field("key", STRING | STORED),
            kind: schema.add_text_field("kind", STRING | STORED),
            community: schema.add_i64_field("community", INDEXED | STORED),
            building: schema.add_i64_field("building", INDEXED | STORED),
            household: schema.add_i64_field("household", INDEXED | STORED),
            title: schema.add_text_field("title", text.clone()),
            body: schema.add_text_field("body", text),
            at: schema.add_i64_field("at", INDEXED | STORED),
            link: schema.add_text_field("link", STORED),
            status: schema.add_text_field("status", STRING | STORED),
        };
        let schema = schema.build();
        let index = match dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(err)?;
                let directory = tantivy::directory::MmapDirectory::open(d).map_err(err)?;
                match Index::open_or_create(directory, schema.clone()) {
                    Ok(index) => index,
                    // The index is derived data: one written by an older version is rebuilt from the records.
                    Err(_) => {
                        std::fs::remove_dir_all(d).map_err(err)?;
                        std::fs::create_dir_all(d).map_err(err)?;
                        Index::create_in_dir(d, schema).map_err(err)?
                    }
                }
            }
            None => Index::create_in_ram(schema),
        };
        index.tokenizers().register("jieba", JiebaTokenizer(Arc::new(Jieba::new())));
        // One indexing thread with a small arena: the feed adds a few documents at a time, and each extra thread
        // would hold its own arena for the life of the process.
        let writer = index.writer_with_num_threads(1, 20_000_000).map_err(err)?;
        let reader = index.reader().map_err(err)?;
        let seq = dir
            .and_then(|d| std::fs::read_to_string(d.join("seq")).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            seq: AtomicI64::new(seq),
            dir: dir.map(Path::to_path_buf),
            catching_up: tokio::sync::Mutex::new(()),
        })
    }

    /// The last event indexed.
    pub fn seq(&self) -> i64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// The document for a record now; `None` when the record is gone. A failed read is an error, so that the
    /// catch-up stops before it and tries again, instead of deleting the document.
    async fn record(store: &Store, kind: &str, id: i64) -> Result<Option<Doc>, ApiError> {
        let found = match kind {
            "request" => present(store.request(id).await)?.map(|r| Doc {
                kind: "request",
                id,
                community: r.community_id,
                building: r.building_id,
                household: r.household_id,
                title: format!("{} {}", r.number, r.location),
                body: format!("{} {}", r.description, r.resolution.unwrap_or_default()),
                at: r.received_at.timestamp(),
                link: format!("/requests/{id}"),
                status: r.status.clone(),
            }),
            "finding" => present(store.finding(id).await)?.map(|f| Doc {
                kind: "finding",
                id,
                community: f.community_id,
                building: f.building_id,
                household: f.household_id,
                title: f.place_text.clone(),
                body: format!(
                    "{} {}",
                    wujia_core::patrol::FindingType::parse(&f.kind).map_or(f.kind.as_str(), |k| k.name_zh()),
                    f.note
                ),
                at: f.recorded_at.timestamp(),
                link: f.case_id.map_or_else(|| "/patrol/board".into(), |c| format!("/patrol/cases/{c}")),
                status: if f.fixed_on_spot { "fixed_on_spot".into() } else { "case".into() },
            }),
            "visit" => match present(store.visit(id).await)? {
                Some(v) => {
                    let demands: Vec<String> = store
                        .demands(id)
                        .await?
                        .into_iter()
                        .map(|d| format!("{} {}", d.text, d.answer.unwrap_or_default()))
                        .collect();
                    let building = match v.household_id {
                        Some(h) => present(store.household(h, v.arrived_at.date_naive()).await)?.map(|h| h.building_id),
                        None => None,
                    };
                    Some(Doc {
                        kind: "visit",
                        id,
                        community: v.community_id,
                        building,
                        household: v.household_id,
                        title: format!("接待日来访 {}", v.name),
                        body: demands.join("；"),
                        at: v.arrived_at.timestamp(),
                        link: format!("/reception/{}", v.session_id),
                        status: "visited".into(),
                    })
                }
                None => None,
            },
            "meeting" => present(store.meeting(id).await)?.map(|m| Doc {
                kind: "meeting",
                id,
                community: m.community_id,
                building: None,
                household: None,
                title: m.title.clone(),
                body: m.minutes.clone(),
                at: m.starts_at.timestamp(),
                link: format!("/patrol/meetings/{id}"),
                status: m.status.clone(),
            }),
            "topic" => present(store.topic(id).await)?.map(|t| Doc {
                kind: "topic",
                id,
                community: t.community_id,
                building: None,
                household: None,
                title: t.title.clone(),
                body: format!("{} {}", t.body, t.minutes.clone().unwrap_or_default()),
                at: t.created_at.timestamp(),
                link: format!("/topics/{id}"),
                status: t.status.clone(),
            }),
            "activity" => present(store.activity(id).await)?.map(|a| Doc {
                kind: "activity",
                id,
                community: a.community_id,
                building: None,
                household: None,
                title: a.title.clone(),
                body: format!("{} {} {} {}", a.theme, a.series, a.place, a.summary),
                at: a.starts_at.timestamp(),
                link: format!("/activities/{id}"),
                status: String::new(),
            }),
            _ => None,
        };
        Ok(found)
    }

    fn put(&self, writer: &mut IndexWriter, kind: &str, id: i64, d: Option<Doc>) -> Result<(), ApiError> {
        let f = self.fields;
        writer.delete_term(Term::from_field_text(f.key, &format!("{kind}:{id}")));
        if let Some(d) = d {
            let mut document = doc!(
                f.key => format!("{}:{}", d.kind, d.id), f.kind => d.kind, f.community => d.community,
                f.title => d.title, f.body => d.body, f.at => d.at, f.link => d.link, f.status => d.status,
            );
            if let Some(b) = d.building {
                document.add_i64(f.building, b);
            }
            if let Some(h) = d.household {
                document.add_i64(f.household, h);
            }
            writer.add_document(document).map_err(err)?;
        }
        Ok(())
    }

    fn commit(&self, writer: &mut IndexWriter, seq: i64) -> Result<(), ApiError> {
        writer.commit().map_err(err)?;
        self.reader.reload().map_err(err)?;
        self.seq.store(seq, Ordering::SeqCst);
        if let Some(d) = &self.dir {
            std::fs::write(d.join("seq"), seq.to_string()).map_err(err)?;
        }
        Ok(())
    }

    /// Indexes the records touched by events since the last one indexed; returns how many were (re)indexed.
    pub async fn catch_up(&self, store: &Store) -> Result<usize, ApiError> {
        let _one = self.catching_up.lock().await;
        let mut total = 0;
        loop {
            let from = self.seq();
            let touched = store.touched_since(from, 5000).await?;
            let Some(last) = touched.last().map(|t| t.0) else { return Ok(total) };
            let mut keys: Vec<(String, i64)> = Vec::new();
            for (_, entity, id) in &touched {
                let Ok(id) = id.parse::<i64>() else { continue };
                // A case's steps change what its finding links to; index the finding.
                let key = if entity == "case" {
                    match present(store.case(id).await)? {
                        Some(c) => ("finding".to_string(), c.finding_id),
                        None => continue,
                    }
                } else {
                    (entity.clone(), id)
                };
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            let mut docs = Vec::with_capacity(keys.len());
            for (kind, id) in &keys {
                docs.push((kind.clone(), *id, Self::record(store, kind, *id).await?));
            }
            let mut writer = self.writer.lock().map_err(err)?;
            for (kind, id, d) in docs {
                self.put(&mut writer, &kind, id, d)?;
            }
            self.commit(&mut writer, last)?;
            total += keys.len();
        }
    }

    /// Rebuilds the index from the records; returns how many were indexed.
    pub async fn rebuild(&self, store: &Store) -> Result<usize, ApiError> {
        let _one = self.catching_up.lock().await;
        let seq = store.last_event_seq().await?;
        let mut docs = Vec::new();
        for (kind, _) in wujia_store::SEARCHABLE {
            for id in store.searchable_ids(kind).await? {
                if let Some(d) = Self::record(store, kind, id).await? {
                    docs.push(d);
                }
            }
        }
        let n = docs.len();
        let mut writer = self.writer.lock().map_err(err)?;
        writer.delete_all_documents().map_err(err)?;
        for d in docs {
            let (kind, id) = (d.kind, d.id);
            self.put(&mut writer, kind, id, Some(d))?;
        }
        self.commit(&mut writer, seq)?;
        Ok(n)
    }

    /// Searches `text` within `communities`, optionally of some kinds, statuses and one building, most relevant first;
    /// `allowed` decides each hit against the searcher's rights.
    pub fn search(
        &self,
        text: &str,
        filters: &Filters<'_>,
        allowed: &dyn Fn(&Hit) -> bool,
        limit: usize,
    ) -> Result<Vec<Hit>, ApiError> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let mut parser = QueryParser::for_index(&self.index, vec![f.title, f.body]);
        parser.set_conjunction_by_default();
        let (text_query, _) = parser.parse_query_lenient(text);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query.box_clone())];
        let any = |terms: Vec<Term>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                terms
                    .into_iter()
                    .map(|t| (Occur::Should, Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>))
                    .collect(),
            ))
        };
        clauses.push((
            Occur::Must,
            any(filters.communities.iter().map(|c| Term::from_field_i64(f.community, *c)).collect()),
        ));
        if !filters.kinds.is_empty() {
            clauses.push((Occur::Must, any(filters.kinds.iter().map(|k| Term::from_field_text(f.kind, k)).collect())));
        }
        if !filters.statuses.is_empty() {
            clauses.push((
                Occur::Must,
                any(filters.statuses.iter().map(|x| Term::from_field_text(f.status, x)).collect()),
            ));
        }
        if let Some(b) = filters.building {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_i64(f.building, b), IndexRecordOption::Basic)),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let top = searcher.search(&query, &TopDocs::with_limit(limit * 4 + 20)).map_err(err)?;
        let mut snippets = SnippetGenerator::create(&searcher, &*text_query, f.body).map_err(err)?;
        snippets.set_max_num_chars(120);
        let mut out = Vec::new();
        for (_, address) in top {
            let d: TantivyDocument = searcher.doc(address).map_err(err)?;
            let str_of = |field: Field| d.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let int_of = |field: Field| d.get_first(field).and_then(|v| v.as_i64());
            let key = str_of(f.key);
            let snippet = snippets.snippet_from_doc(&d);
            let html = snippet.to_html();
            let hit = Hit {
                kind: str_of(f.kind),
                id: key.split(':').nth(1).and_then(|x| x.parse().ok()).unwrap_or_default(),
                community_id: int_of(f.community).unwrap_or_default(),
                building_id: int_of(f.building),
                household_id: int_of(f.household),
                title: str_of(f.title),
                snippet: if html.is_empty() { tantivy::snippet::Snippet::empty().to_html() } else { html },
                at: int_of(f.at).unwrap_or_default(),
                link: str_of(f.link),
                status: str_of(f.status),
            };
            if allowed(&hit) {
                out.push(hit);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_is_split_into_words_with_byte_offsets() {
        let mut t = JiebaTokenizer(Arc::new(Jieba::new()));
        let text = "3号院电梯困人";
        let mut s = t.token_stream(text);
        let mut words = Vec::new();
        while s.advance() {
            let tok = s.token();
            assert_eq!(&text[tok.offset_from..tok.offset_to], tok.text);
            words.push(tok.text.clone());
        }
        assert!(words.contains(&"电梯".to_string()), "{words:?}");
    }
}
