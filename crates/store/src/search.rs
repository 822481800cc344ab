//! Chinese-aware search: our own tokenizer and the search index on both backends.
//!
//! Latin words and numbers are lower-cased whole words (matched by prefix, so part of a
//! serial number or phone finds it); each run of CJK characters is indexed as its
//! overlapping bigrams plus its last character, and queried as its bigrams, so 监控 finds
//! 校门口监控立杆 while 网监 does not find 网络监控. A single character is queried as a
//! prefix: every character of a run starts a bigram or ends the run. SQLite keeps the
//! tokens in FTS5, PostgreSQL in a tsvector built with `array_to_tsvector` (its own parser
//! never sees them).

use crate::db::{Conn, WritePool};
use crate::{Db, Result, on_conn, on_db};
use aftercare_domain::search::SearchKind;
use serde::Serialize;

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

#[derive(Debug, PartialEq, Eq)]
enum Run {
    Latin(String),
    Cjk(Vec<char>),
}

fn runs(text: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut latin = String::new();
    let mut cjk: Vec<char> = Vec::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !latin.is_empty() {
                out.push(Run::Latin(std::mem::take(&mut latin)));
            }
            cjk.push(c);
        } else if c.is_alphanumeric() {
            if !cjk.is_empty() {
                out.push(Run::Cjk(std::mem::take(&mut cjk)));
            }
            latin.extend(c.to_lowercase());
        } else {
            if !latin.is_empty() {
                out.push(Run::Latin(std::mem::take(&mut latin)));
            }
            if !cjk.is_empty() {
                out.push(Run::Cjk(std::mem::take(&mut cjk)));
            }
        }
    }
    if !latin.is_empty() {
        out.push(Run::Latin(latin));
    }
    if !cjk.is_empty() {
        out.push(Run::Cjk(cjk));
    }
    out
}

/// The tokens stored for a document: Latin words, CJK bigrams and each run's last
/// character; deduplicated. Unigrams of every character (as until session 13) were 40% of
/// a ticket's tokens and of its search-index writes, and a single-character query finds
/// the same documents without them (see [`query_terms`]); documents indexed with them
/// still match every query.
pub fn index_tokens(text: &str) -> Vec<String> {
    let mut toks = Vec::new();
    for run in runs(text) {
        match run {
            Run::Latin(w) => toks.push(w),
            Run::Cjk(cs) => {
                toks.extend(cs.windows(2).map(|w| w.iter().collect::<String>()));
                if let Some(last) = cs.last() {
                    toks.push(last.to_string());
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    toks.retain(|t| seen.insert(t.clone()));
    toks
}

/// One term of a query: a whole token, or a prefix (Latin words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Exact(String),
    Prefix(String),
}

/// The terms a query must all match: a Latin word by prefix, a CJK run by its bigrams,
/// a single character by prefix (the bigrams it starts, or itself ending a run).
pub fn query_terms(q: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    for run in runs(q) {
        match run {
            Run::Latin(w) => terms.push(Term::Prefix(w)),
            Run::Cjk(cs) if cs.len() == 1 => terms.push(Term::Prefix(cs[0].to_string())),
            Run::Cjk(cs) => {
                for w in cs.windows(2) {
                    terms.push(Term::Exact(w.iter().collect()));
                }
            }
        }
    }
    terms.dedup();
    terms
}

/// The match expression for the backend, or `None` when the query has no terms.
/// PostgreSQL: a tsquery. SQLite: a JSON list of what each term looks like inside a
/// document's body padded with spaces (` word ` whole, ` wor` as a prefix), which
/// [`fts_match`] turns into the FTS5 expression and [`pending_match`] looks for in the
/// documents not yet indexed. Tokens hold only letters and digits, so quoting them is safe.
pub fn match_expr(db: &Db, q: &str) -> Option<String> {
    let terms = query_terms(q);
    if terms.is_empty() {
        return None;
    }
    Some(match db {
        Db::Sqlite(_) => {
            let needles: Vec<String> = terms
                .iter()
                .map(|t| match t {
                    Term::Exact(w) => format!(" {w} "),
                    Term::Prefix(w) => format!(" {w}"),
                })
                .collect();
            serde_json::Value::from(needles).to_string()
        }
        Db::Postgres(_) => terms
            .iter()
            .map(|t| match t {
                Term::Exact(w) => format!("'{w}'"),
                Term::Prefix(w) => format!("'{w}':*"),
            })
            .collect::<Vec<_>>()
            .join(" & "),
    })
}

/// SQLite: the FTS5 expression of the terms bound at `placeholder` (see [`match_expr`]):
/// `"监控" AND "ds"*`. Evaluated once per statement.
fn fts_match(placeholder: &str) -> String {
    format!(
        "(SELECT group_concat('\"' || trim(value) || '\"' || CASE WHEN substr(value, -1) = ' ' THEN '' ELSE '*' END, \
            ' AND ') FROM json_each({placeholder}))"
    )
}

/// SQLite: the condition that the pending document `d` holds every term bound at
/// `placeholder`, the way FTS5 would match it (see [`match_expr`]).
fn pending_match(placeholder: &str) -> String {
    format!("NOT EXISTS (SELECT 1 FROM json_each({placeholder}) WHERE instr(' ' || d.body || ' ', value) = 0)")
}

/// A SQL condition `<id_expr> IN (ids of documents of `kind` matching placeholder)`.
pub fn in_clause(db: &Db, kind: &str, id_expr: &str, placeholder: &str) -> String {
    match db {
        // On SQLite a document's rowid encodes its record (see `KIND_CODES`), so the match
        // needs no lookup in search_docs: a common word matching 50,000 documents stays cheap.
        // Documents still waiting for the index (see [`FLUSH_AT`]) are read beside it.
        Db::Sqlite(_) => {
            let code = kind_code(kind);
            format!(
                "{id_expr} IN (SELECT rowid >> 4 FROM search_fts WHERE search_fts MATCH {} AND (rowid & 15) = {code} \
                 UNION ALL SELECT d.id >> 4 FROM search_pending sp CROSS JOIN search_docs d WHERE d.id = sp.id \
                 AND (sp.id & 15) = {code} AND {})",
                fts_match(placeholder),
                pending_match(placeholder)
            )
        }
        Db::Postgres(_) => format!(
            "{id_expr} IN (SELECT d.ref_id FROM search_docs d WHERE d.tsv @@ {placeholder}::tsquery AND d.kind = \
                '{kind}')"
        ),
    }
}

/// SQLite: up to 16 pages of merging of the full-text index's segments, run inside each group
/// of new tickets. FTS5's own automatic merging (off since migration 0013) did the same work
/// in steps of 64 × levels pages, one every 64 leaves written: at 300,000 tickets a step of
/// ~450 pages inside one group commit every quarter second under continuous creates, which
/// was much of the p99. Levels still crisis-merge at 16 segments when nothing merges them.
pub const MERGE_STEP_SQLITE: &str = "INSERT INTO search_fts (search_fts, rank) VALUES ('merge', 16)";

/// SQLite: new documents wait in `search_pending` (migration 0026) until a group of new
/// tickets finds this many there and puts them into the full-text index together, as one
/// segment: FTS5 writes a segment for every transaction that touches it, and eight
/// documents a segment (one group commit's worth) cost five times the pages of 64, before
/// the merging of all those small segments. Searches read the pending ones beside the index.
pub const FLUSH_AT: i64 = 64;

/// SQLite: at most this many pending documents go into the index in one transaction of
/// the upkeep (a bulk import's backlog is indexed in steps, letting other writers in).
const FLUSH_MOST: i64 = 2_000;

/// SQLite: puts up to `most` pending documents into the full-text index; how many it did.
async fn flush_sqlite(c: &mut sqlx::SqliteConnection, most: i64) -> Result<u64> {
    sqlx::query(
        "INSERT INTO search_fts (rowid, body) SELECT d.id, d.body FROM search_docs d \
         WHERE d.id IN (SELECT id FROM search_pending ORDER BY id LIMIT $1)",
    )
    .bind(most)
    .execute(&mut *c)
    .await?;
    let done =
        sqlx::query("DELETE FROM search_pending WHERE id IN (SELECT id FROM search_pending ORDER BY id LIMIT $1)")
            .bind(most)
            .execute(&mut *c)
            .await?;
    Ok(done.rows_affected())
}

/// SQLite, inside a group of new tickets (after their documents), as statements of the
/// group's own text: indexes the pending documents once [`FLUSH_AT`] (64) are waiting — at
/// most twice that (128), so a backlog is spread over the next groups — and takes a merge
/// step ([`MERGE_STEP_SQLITE`]). The count reads at most 64 ids, however long a bulk import's
/// backlog is; it is the same in both statements, since the first does not change the
/// pending list.
pub const INDEX_WITH_GROUP_SQLITE: &str = "\
    INSERT INTO search_fts (rowid, body) SELECT d.id, d.body FROM search_docs d \
        WHERE d.id IN (SELECT id FROM search_pending ORDER BY id LIMIT 128) \
        AND EXISTS (SELECT 1 FROM search_pending LIMIT 1 OFFSET 63); \
    DELETE FROM search_pending WHERE id IN (SELECT id FROM search_pending ORDER BY id LIMIT 128) \
        AND EXISTS (SELECT 1 FROM search_pending LIMIT 1 OFFSET 63); \
    INSERT INTO search_fts (search_fts, rank) VALUES ('merge', 16);";

/// SQLite: indexes the documents that have waited `waited` or more — from the upkeep,
/// a second: the last few creates of a burst, an edit, an import — a transaction of at most
/// [`FLUSH_MOST`] at a time, each taking the writer's turn. Under continuous creates the
/// groups index them first, and this finds nothing to do.
pub async fn index_pending(db: &Db, waited: std::time::Duration) -> Result<()> {
    let Db::Sqlite(p) = db else { return Ok(()) };
    loop {
        let waiting: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM search_pending WHERE at <= julianday('now') - $1)")
                .bind(waited.as_secs_f64() / 86_400.0)
                .fetch_one(p)
                .await?;
        if !waiting {
            return Ok(());
        }
        let mut tx = p.begin_write().await?;
        let done = flush_sqlite(&mut tx, FLUSH_MOST).await?;
        sqlx::query(MERGE_STEP_SQLITE).execute(&mut *tx).await?;
        tx.commit().await?;
        if done < FLUSH_MOST as u64 {
            return Ok(());
        }
    }
}

/// The searchable kinds and their codes: on SQLite a document's id is `ref_id * 16 + code`
/// (migration 0004 keeps the SQL below and this list in step).
pub const KIND_CODES: [(&str, i64); 5] =
    [("customer", 1), ("equipment", 2), ("ticket", 3), ("contact", 4), ("article", 5)];

fn kind_code(kind: &str) -> i64 {
    KIND_CODES.iter().find(|(k, _)| *k == kind).map(|(_, c)| *c).unwrap_or(0)
}

const UPSERT_SQLITE: &str = "INSERT INTO search_docs (id, kind, ref_id, customer_id, body) \
     VALUES ($2 * 16 + CASE $1 WHEN 'customer' THEN 1 WHEN 'equipment' THEN 2 WHEN 'ticket' THEN 3 WHEN \
     'contact' THEN 4 WHEN 'article' THEN 5 ELSE 0 END, $1, $2, $3, $4) \
     ON CONFLICT (kind, ref_id) DO UPDATE SET customer_id = excluded.customer_id, body = excluded.body";

const UPSERT_POSTGRES: &str = "INSERT INTO search_docs (kind, ref_id, customer_id, tsv) \
     VALUES ($1, $2, $3, array_to_tsvector(string_to_array($4, ' '))) \
     ON CONFLICT (kind, ref_id) DO UPDATE SET customer_id = excluded.customer_id, tsv = excluded.tsv";

/// The statement that writes (or rewrites) one record's document; bind kind, ref_id,
/// customer_id and the tokens joined by spaces ([`index_body`]).
pub fn upsert_sql(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => UPSERT_SQLITE,
        Db::Postgres(_) => UPSERT_POSTGRES,
    }
}

/// Writes (or rewrites) one record's search document on an open transaction; `text` is
/// the record's text before [`index_body`].
pub async fn index_doc<'c>(
    conn: impl Into<Conn<'c>>,
    kind: &str,
    ref_id: i64,
    customer_id: i64,
    text: &str,
) -> Result<()> {
    let body = index_body(text);
    let mut conn = conn.into();
    let sql = match conn {
        Conn::Sqlite(_) => UPSERT_SQLITE,
        Conn::Postgres(_) => UPSERT_POSTGRES,
    };
    on_conn!(&mut conn, |c| {
        sqlx::query(sql).bind(kind).bind(ref_id).bind(customer_id).bind(&body).execute(&mut **c).await?;
    });
    Ok(())
}

/// [`upsert_sql`] for `n` records of one kind at once; bind ref_id, customer_id and body
/// for each, in order, the first as `${first}`.
pub fn upsert_many_sql(sqlite: bool, kind: &str, n: usize, first: usize) -> String {
    let code = kind_code(kind);
    let rows = (0..n)
        .map(|i| {
            let (r, c, b) = (3 * i + first, 3 * i + first + 1, 3 * i + first + 2);
            if sqlite {
                format!("(${r} * 16 + {code}, '{kind}', ${r}, ${c}, ${b})")
            } else {
                format!("('{kind}', ${r}, ${c}, array_to_tsvector(string_to_array(${b}, ' ')))")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    if sqlite {
        format!(
            "INSERT INTO search_docs (id, kind, ref_id, customer_id, body) VALUES {rows} \
             ON CONFLICT (kind, ref_id) DO UPDATE SET customer_id = excluded.customer_id, body = excluded.body"
        )
    } else {
        format!(
            "INSERT INTO search_docs (kind, ref_id, customer_id, tsv) VALUES {rows} \
             ON CONFLICT (kind, ref_id) DO UPDATE SET customer_id = excluded.customer_id, tsv = excluded.tsv"
        )
    }
}

pub fn index_body(text: &str) -> String {
    index_tokens(text).join(" ")
}

/// One hit of the global search.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Hit {
    #[sqlx(try_from = "String")]
    pub kind: SearchKind,
    pub id: i64,
    /// Name (customer), kind + location (equipment), title (ticket), the first words of a
    /// contact, a part's name.
    pub title: String,
    /// Customer code, equipment serial, ticket number, contact record number, part code.
    pub number: Option<String>,
    pub model: Option<String>,
    /// The school a hit belongs to.
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    /// How many hits of this kind there are in all (see [`MATCH_CAP`]).
    #[serde(skip)]
    pub kind_total: i64,
}

/// At most this many index entries are read for one search; a kind's total is then "at
/// least".
pub const MATCH_CAP: i64 = 2000;

/// The grouped search: for each kind its best `per_kind` hits (open and recent first) and
/// its total. The FTS hits (at most [`MATCH_CAP`]) drive every branch and each record is
/// then fetched by its primary key; `CROSS JOIN` pins that order on SQLite. Left to the
/// statistics, the planner chose differently after the `ANALYZE` at start-up — scanning
/// the 5,000 schools and their 200,000 pieces of equipment and probing the hits — which
/// made a search 500× slower after a restart. PostgreSQL reads `CROSS JOIN … WHERE` as the
/// plain join it is. Parts are few (a catalogue) and are matched by code, name or spec.
///
/// Binds: the match expression, the scope (a customer id, -1 for every school), hits per
/// kind, the code pattern and the name pattern of parts. An article has a document only
/// while it is published (`articles::review` and `update` write or remove it), so its
/// branch is a lookup by primary key like the others.
pub fn search_sql(db: &Db) -> String {
    let matched = match db {
        Db::Sqlite(_) => {
            let kind = |id: &str| {
                format!(
                    "CASE {id} & 15 WHEN 1 THEN 'customer' WHEN 2 THEN 'equipment' WHEN 3 THEN 'ticket' WHEN 4 THEN \
                     'contact' WHEN 5 THEN 'article' END AS kind, {id} >> 4 AS ref_id"
                )
            };
            format!(
                "SELECT * FROM (SELECT {} FROM search_fts WHERE search_fts MATCH {} LIMIT 2000) \
                 UNION ALL SELECT * FROM (SELECT {} FROM search_pending sp CROSS JOIN search_docs d \
                 WHERE d.id = sp.id AND {} LIMIT 2000)",
                kind("rowid"),
                fts_match("$1"),
                kind("sp.id"),
                pending_match("$1")
            )
        }
        Db::Postgres(_) => {
            "SELECT d.kind, d.ref_id FROM search_docs d WHERE d.tsv @@ $1::tsquery LIMIT 2000".to_owned()
        }
    };
    format!(
        "WITH m AS MATERIALIZED ({matched}), \
         hits AS ( \
           SELECT 'customer' AS kind, c.id, c.name AS title, c.code AS number, CAST(NULL AS TEXT) AS model, c.id AS \
           customer_id, c.name AS customer_name, 0 AS closed \
             FROM m CROSS JOIN customers c WHERE m.kind = 'customer' AND c.id = m.ref_id AND ($2 < 0 OR c.id = $2) \
           UNION ALL \
           SELECT 'equipment' AS kind, e.id, e.kind || COALESCE(' · ' || e.location, '') AS title, e.serial_no AS \
           number, e.model, c.id AS customer_id, c.name AS customer_name, \
           CASE WHEN e.status = 'retired' THEN 1 ELSE 0 END AS closed \
             FROM m CROSS JOIN equipment e CROSS JOIN customers c WHERE m.kind = 'equipment' AND e.id = m.ref_id \
             AND c.id = e.customer_id AND ($2 < 0 OR e.customer_id = $2) \
           UNION ALL \
           SELECT 'ticket' AS kind, t.id, t.title, t.number, CAST(NULL AS TEXT) AS model, c.id AS customer_id, \
           c.name AS customer_name, CASE WHEN t.status IN ('closed', 'cancelled') THEN 1 ELSE 0 END AS closed \
             FROM m CROSS JOIN tickets t CROSS JOIN customers c WHERE m.kind = 'ticket' AND t.id = m.ref_id AND \
             c.id = t.customer_id AND ($2 < 0 OR t.customer_id = $2) \
           UNION ALL \
           SELECT 'contact' AS kind, k.id, SUBSTR(k.content, 1, 60) AS title, k.record_no AS number, CAST(NULL AS \
           TEXT) AS model, c.id AS customer_id, c.name AS customer_name, 0 AS closed \
             FROM m CROSS JOIN contacts k LEFT JOIN customers c ON c.id = k.customer_id WHERE m.kind = 'contact' \
             AND k.id = m.ref_id AND $2 < 0 \
           UNION ALL \
           SELECT 'inspection' AS kind, i.id, c.name || ' ' || CAST(i.planned_on AS TEXT) AS title, i.number, \
           CAST(NULL AS TEXT) AS model, c.id AS customer_id, c.name AS customer_name, \
           CASE WHEN i.status IN ('completed', 'cancelled') THEN 1 ELSE 0 END AS closed \
             FROM m CROSS JOIN inspections i CROSS JOIN customers c WHERE m.kind = 'customer' \
             AND i.customer_id = m.ref_id AND c.id = i.customer_id AND ($2 < 0 OR i.customer_id = $2) \
           UNION ALL \
           SELECT 'inspection' AS kind, i.id, c.name || ' ' || CAST(i.planned_on AS TEXT) AS title, i.number, \
           CAST(NULL AS TEXT) AS model, c.id AS customer_id, c.name AS customer_name, \
           CASE WHEN i.status IN ('completed', 'cancelled') THEN 1 ELSE 0 END AS closed \
             FROM inspections i CROSS JOIN customers c WHERE i.number = SUBSTR($4, 2, LENGTH($4) - 2) \
             AND c.id = i.customer_id AND ($2 < 0 OR i.customer_id = $2) \
           UNION ALL \
           SELECT 'article' AS kind, a.id, a.title, CAST(NULL AS TEXT) AS number, a.model, CAST(NULL AS BIGINT) AS \
           customer_id, CAST(NULL AS TEXT) AS customer_name, 0 AS closed \
             FROM m CROSS JOIN articles a WHERE m.kind = 'article' AND a.id = m.ref_id AND $2 < 0 \
           UNION ALL \
           SELECT 'part' AS kind, p.id, p.name AS title, p.code AS number, p.spec AS model, CAST(NULL AS BIGINT) AS \
           customer_id, CAST(NULL AS TEXT) AS customer_name, CASE WHEN p.active THEN 0 ELSE 1 END AS closed \
             FROM parts p WHERE $2 < 0 AND (p.code LIKE $4 ESCAPE '\\' OR p.name LIKE $5 ESCAPE '\\' OR p.spec LIKE $5 ESCAPE '\\') \
         ) \
         SELECT kind, id, title, number, model, customer_id, customer_name, kind_total FROM ( \
           SELECT hits.*, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY closed, id DESC) AS n, \
           COUNT(*) OVER (PARTITION BY kind) AS kind_total FROM hits \
         ) ranked WHERE n <= $3 ORDER BY kind, n"
    )
}

/// One kind's part of a search: its best hits and how many there are.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub kind: SearchKind,
    /// Hits of this kind in all (at least, when `capped`).
    pub total: i64,
    /// The index was read up to its cap: there may be more.
    pub capped: bool,
    pub hits: Vec<Hit>,
}

/// Searches every kind; `scope` limits hits to one customer (and leaves out contacts and
/// parts). Groups come in [`SearchKind::SHOWN`] order, only the kinds with hits.
pub async fn search(db: &Db, q: &str, scope: Option<i64>, per_kind: i64) -> Result<Vec<Group>> {
    let Some(expr) = match_expr(db, q) else {
        return Ok(Vec::new());
    };
    let sql = search_sql(db);
    let scope = scope.unwrap_or(-1);
    let phrase = q.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let hits = on_db!(db, |p| sqlx::query_as::<_, Hit>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&expr)
        .bind(scope)
        .bind(per_kind)
        .bind(format!("%{}%", phrase.to_uppercase()))
        .bind(format!("%{phrase}%"))
        .fetch_all(p)
        .await?);
    let mut groups: Vec<Group> = Vec::new();
    for h in hits {
        match groups.iter_mut().find(|g| g.kind == h.kind) {
            Some(g) => g.hits.push(h),
            None => groups.push(Group { kind: h.kind, total: h.kind_total, capped: false, hits: vec![h] }),
        }
    }
    let capped = groups.iter().filter(|g| g.kind != SearchKind::Part).map(|g| g.total).sum::<i64>() >= MATCH_CAP;
    for g in groups.iter_mut().filter(|g| g.kind != SearchKind::Part) {
        g.capped = capped;
    }
    groups.sort_by_key(|g| SearchKind::SHOWN.iter().position(|k| *k == g.kind));
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_groups_index_step_flushes_at_flush_at_and_merges_as_the_upkeep_does() {
        let s = INDEX_WITH_GROUP_SQLITE;
        assert_eq!(s.matches(&format!("LIMIT {}", 2 * FLUSH_AT)).count(), 2, "{s}");
        assert_eq!(s.matches(&format!("OFFSET {}", FLUSH_AT - 1)).count(), 2, "{s}");
        assert!(s.trim_end().ends_with(&format!("{MERGE_STEP_SQLITE};")), "{s}");
    }

    #[test]
    fn cjk_runs_become_bigrams_and_their_last_character_latin_is_lower_cased() {
        assert_eq!(
            index_tokens("校门口监控 DS-2CD3T46 网"),
            vec!["校门", "门口", "口监", "监控", "控", "ds", "2cd3t46", "网"]
        );
    }

    #[test]
    fn queries_use_bigrams_and_prefixes() {
        assert_eq!(query_terms("监控"), vec![Term::Exact("监控".into())]);
        assert_eq!(
            query_terms("网络监控"),
            vec![Term::Exact("网络".into()), Term::Exact("络监".into()), Term::Exact("监控".into())]
        );
        assert_eq!(query_terms("网"), vec![Term::Prefix("网".into())]);
        assert_eq!(query_terms("SN-12ab"), vec![Term::Prefix("sn".into()), Term::Prefix("12ab".into())]);
        assert!(query_terms(" ,。\"' ").is_empty());
    }

    #[test]
    fn two_character_words_match_only_contiguous_text() {
        let doc: std::collections::HashSet<_> = index_tokens("网络监控中心").into_iter().collect();
        let matches = |q: &str| {
            query_terms(q).iter().all(|t| match t {
                Term::Exact(w) => doc.contains(w),
                Term::Prefix(w) => doc.iter().any(|d| d.starts_with(w.as_str())),
            })
        };
        assert!(matches("监控"));
        assert!(matches("网络"));
        assert!(matches("网络监控"));
        assert!(!matches("网监"));
        assert!(!matches("广播"));
        // Every character alone: the first of a bigram, or the last of the run.
        for c in ["网", "络", "监", "控", "中", "心"] {
            assert!(matches(c), "{c}");
        }
        assert!(!matches("播"));
    }

    #[test]
    fn quotes_and_operators_cannot_break_the_match_expression() {
        let q = "a\" OR b* NEAR(c) 'd' & !e";
        for t in query_terms(q) {
            let (Term::Exact(w) | Term::Prefix(w)) = t;
            assert!(w.chars().all(char::is_alphanumeric), "{w}");
        }
    }
}
