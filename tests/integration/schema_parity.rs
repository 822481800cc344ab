//! Schema parity: a fresh SQLite and a fresh PostgreSQL database, both migrated, must hold the
//! same tables; per table the same columns (name, nullability, a mapped type class), the same
//! indexes by name (columns, unique, partial), the same CHECK constraints by name and
//! expression, and the same foreign keys. Every difference is printed at once.
//!
//! What the two cannot share is in `ALLOWED`, each with its reason.

use crate::common::{Backend, drop_database, fresh_database};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// A column's type as both backends can agree on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Integer,
    Text,
    Boolean,
    Timestamp,
    /// `timestamp without time zone`: never wanted here (every instant is UTC with its zone).
    NaiveTimestamp,
    Date,
    Real,
    Blob,
    Json,
    Other,
}

#[derive(Debug, PartialEq, Eq)]
struct Column {
    nullable: bool,
    class: Class,
    declared: String,
}

#[derive(Debug, PartialEq, Eq)]
struct Index {
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

#[derive(Debug, Default)]
struct Table {
    columns: BTreeMap<String, Column>,
    indexes: BTreeMap<String, Index>,
    /// name → expression, normalised (no parentheses, casts, spaces or case).
    checks: BTreeMap<String, String>,
    /// `col[,col] -> table(col[,col]) on delete <action>`
    foreign_keys: BTreeSet<String>,
}

type Schema = BTreeMap<String, Table>;

/// SQLite's foreign key while it is read: referenced table, on delete, from and to columns.
type ForeignKey = (String, String, Vec<String>, Vec<String>);

/// Differences that are inherent to the two engines, each with its reason.
/// (what, table, name): `what` is `table`, `column`, `index`.
const ALLOWED: &[(&str, &str, &str)] = &[
    // Full-text search: SQLite indexes `search_docs.body` with an FTS5 external-content table
    // (and FTS5's own shadow tables); PostgreSQL keeps the lexemes in a `tsvector` column
    // with a GIN index on the same row. See docs/ARCHITECTURE.md, "Two databases".
    ("table", "search_fts", ""),
    ("table", "search_fts_config", ""),
    ("table", "search_fts_data", ""),
    ("table", "search_fts_docsize", ""),
    ("table", "search_fts_idx", ""),
    ("column", "search_docs", "tsv"),
    // …and the tokens only there: FTS5 reads them from `body`, which PostgreSQL dropped.
    ("column", "search_docs", "body"),
    ("index", "search_docs", "search_docs_tsv"),
    // SQLite's documents waiting for FTS5 (migration 0026); PostgreSQL's GIN index keeps
    // its own pending list.
    ("table", "search_pending", ""),
];

fn allowed(what: &str, table: &str, name: &str) -> bool {
    ALLOWED.iter().any(|&(w, t, n)| w == what && t == table && n == name)
}

/// SQLite's declared type → class, by SQLite's own affinity rules plus the names we use.
fn sqlite_class(declared: &str) -> Class {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        Class::Integer
    } else if t.contains("BOOL") {
        Class::Boolean
    } else if t.contains("JSON") {
        Class::Json
    } else if t.contains("TIMESTAMP") || t.contains("DATETIME") {
        Class::Timestamp
    } else if t == "DATE" {
        Class::Date
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        Class::Text
    } else if t.contains("BLOB") || t.is_empty() {
        Class::Blob
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") || t.contains("NUMERIC") {
        Class::Real
    } else {
        Class::Other
    }
}

/// PostgreSQL's `information_schema.columns.data_type` → class.
fn pg_class(data_type: &str) -> Class {
    match data_type {
        "bigint" | "integer" | "smallint" => Class::Integer,
        "text" | "character varying" | "character" => Class::Text,
        "boolean" => Class::Boolean,
        "timestamp with time zone" => Class::Timestamp,
        "timestamp without time zone" => Class::NaiveTimestamp,
        "date" => Class::Date,
        "real" | "double precision" | "numeric" => Class::Real,
        "bytea" => Class::Blob,
        "json" | "jsonb" => Class::Json,
        _ => Class::Other,
    }
}

/// Whether a SQLite column of class `s` carries what a PostgreSQL column of class `p` does.
/// SQLite has no date, time or JSON storage class: sqlx writes chrono values as ISO-8601 TEXT
/// and the store writes JSON as TEXT, so a SQLite TEXT column matches those three.
fn compatible(s: Class, p: Class) -> bool {
    s == p || (s == Class::Text && matches!(p, Class::Timestamp | Class::Date | Class::Json))
}

/// Lower-cased, without parentheses, spaces and `::type` casts: `CHECK ((qty > 0))` and
/// `CHECK (qty > 0)` read the same.
fn normalise(expr: &str) -> String {
    let mut out = String::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            while chars.peek().is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == ' ') {
                // A cast's type may be two words (`character varying`); stop at an operator.
                if *chars.peek().unwrap_or(&' ') == ' ' {
                    let rest: String = chars.clone().skip(1).take_while(|c| c.is_alphanumeric()).collect();
                    if !matches!(rest.as_str(), "varying" | "precision" | "zone") {
                        break;
                    }
                }
                chars.next();
            }
            continue;
        }
        if !c.is_whitespace() && c != '(' && c != ')' {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// PostgreSQL's name for an unnamed CHECK: `<table>_<column>_check` when the expression names
/// one column, `<table>_check` otherwise; a number is appended on a clash; 63 bytes at most.
fn pg_check_name(table: &str, expr: &str, columns: &BTreeSet<String>, taken: &BTreeMap<String, String>) -> String {
    let idents: BTreeSet<String> = expr
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| columns.contains(*w))
        .map(str::to_string)
        .collect();
    let base = match idents.iter().collect::<Vec<_>>().as_slice() {
        [one] => format!("{table}_{one}_check"),
        _ => format!("{table}_check"),
    };
    let mut name = truncate63(&base);
    let mut n = 1;
    while taken.contains_key(&name) {
        name = truncate63(&format!("{base}{n}"));
        n += 1;
    }
    name
}

fn truncate63(s: &str) -> String {
    s.chars().take(63).collect()
}

/// The items of a `CREATE TABLE name (…)` body, split on top-level commas.
fn table_items(sql: &str) -> Vec<String> {
    let Some(start) = sql.find('(') else { return Vec::new() };
    let body = &sql[start + 1..];
    let mut items = Vec::new();
    let (mut depth, mut quote, mut cur) = (0i32, None::<char>, String::new());
    for c in body.chars() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') if depth == 0 => {
                items.push(cur.trim().to_string());
                return items;
            }
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                items.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    items
}

/// The CHECK constraints of one item: (explicit name, expression inside the parentheses).
fn checks_in(item: &str) -> Vec<(Option<String>, String)> {
    let upper = item.to_ascii_uppercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = upper[from..].find("CHECK") {
        let at = from + pos;
        let before_ok = at == 0 || !upper.as_bytes()[at - 1].is_ascii_alphanumeric();
        let rest = item[at + 5..].trim_start();
        if !before_ok || !rest.starts_with('(') {
            from = at + 5;
            continue;
        }
        let mut depth = 0;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let expr = rest[1..end].to_string();
        // `CONSTRAINT name CHECK (…)`: the two words before.
        let head: Vec<&str> = item[..at].split_whitespace().collect();
        let name = match head.as_slice() {
            [.., c, n] if c.eq_ignore_ascii_case("CONSTRAINT") => Some(n.trim_matches('"').to_string()),
            _ => None,
        };
        out.push((name, expr));
        from = at + 5;
    }
    out
}

async fn sqlite_schema(pool: &sqlx::SqlitePool) -> Schema {
    use sqlx::Row;
    let mut schema = Schema::new();
    let tables = sqlx::query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for t in tables {
        let name: String = t.get("name");
        let sql: String = t.get("sql");
        let mut table = Table::default();
        // An INTEGER PRIMARY KEY is the rowid and never NULL; SQLite still reports notnull = 0
        // for every primary key (a TEXT PRIMARY KEY may even hold NULL, a known SQLite quirk:
        // the store never writes one).
        for c in
            sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA table_info(\"{name}\")"))).fetch_all(pool).await.unwrap()
        {
            let declared: String = c.get("type");
            let notnull: i64 = c.get("notnull");
            let pk: i64 = c.get("pk");
            table.columns.insert(
                c.get("name"),
                Column { nullable: notnull == 0 && pk == 0, class: sqlite_class(&declared), declared },
            );
        }
        let column_names: BTreeSet<String> = table.columns.keys().cloned().collect();
        if !sql.to_ascii_uppercase().starts_with("CREATE VIRTUAL") {
            for item in table_items(&sql) {
                for (explicit, expr) in checks_in(&item) {
                    // PostgreSQL names an unnamed CHECK by the columns its expression reads,
                    // whether it was written on a column or on the table.
                    let n = explicit.unwrap_or_else(|| pg_check_name(&name, &expr, &column_names, &table.checks));
                    table.checks.insert(n, normalise(&expr));
                }
            }
        }
        for i in
            sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA index_list(\"{name}\")"))).fetch_all(pool).await.unwrap()
        {
            let index: String = i.get("name");
            let origin: String = i.get("origin");
            let unique: i64 = i.get("unique");
            let partial: i64 = i.get("partial");
            if origin == "pk" {
                continue; // PostgreSQL's `<table>_pkey` is skipped likewise.
            }
            let mut columns = Vec::new();
            for c in sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA index_info(\"{index}\")")))
                .fetch_all(pool)
                .await
                .unwrap()
            {
                let col: Option<String> = c.get("name");
                columns.push(col.unwrap_or_else(|| "<expr>".into()));
            }
            // A UNIQUE constraint: SQLite's `sqlite_autoindex_<table>_<n>`, PostgreSQL's
            // `<table>_<columns>_key`.
            let index = if origin == "u" { truncate63(&format!("{name}_{}_key", columns.join("_"))) } else { index };
            table.indexes.insert(index, Index { columns, unique: unique == 1, partial: partial == 1 });
        }
        // id → (referenced table, on delete, from columns, to columns)
        let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        for f in sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA foreign_key_list(\"{name}\")")))
            .fetch_all(pool)
            .await
            .unwrap()
        {
            let id: i64 = f.get("id");
            let e = fks
                .entry(id)
                .or_insert_with(|| (f.get("table"), f.get::<String, _>("on_delete").to_lowercase(), vec![], vec![]));
            e.2.push(f.get("from"));
            // `REFERENCES t` without a column means t's primary key, `id` everywhere here.
            e.3.push(f.get::<Option<String>, _>("to").unwrap_or_else(|| "id".into()));
        }
        for (_, (to, on_delete, from, cols)) in fks {
            table.foreign_keys.insert(format!("{} -> {to}({}) on delete {on_delete}", from.join(","), cols.join(",")));
        }
        schema.insert(name, table);
    }
    schema
}

async fn postgres_schema(pool: &sqlx::PgPool) -> Schema {
    use sqlx::Row;
    let mut schema = Schema::new();
    for t in sqlx::query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        schema.insert(t.get("name"), Table::default());
    }
    for c in sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, is_nullable::text AS n, data_type::text AS d \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        let d: String = c.get("d");
        let n: String = c.get("n");
        if let Some(table) = schema.get_mut(&c.get::<String, _>("t")) {
            table.columns.insert(c.get("c"), Column { nullable: n == "YES", class: pg_class(&d), declared: d });
        }
    }
    for i in sqlx::query(
        "SELECT t.relname::text AS t, i.relname::text AS i, x.indisunique AS u, x.indpred IS NOT NULL AS p, \
                COALESCE(c.contype::text, '') AS k, \
                ARRAY(SELECT COALESCE(a.attname::text, '<expr>') \
                      FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(n, o) \
                      LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n \
                      ORDER BY k.o) AS cols \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace ns ON ns.oid = t.relnamespace \
         LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u') \
         WHERE ns.nspname = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        if i.get::<String, _>("k") == "p" {
            continue;
        }
        if let Some(table) = schema.get_mut(&i.get::<String, _>("t")) {
            table.indexes.insert(i.get("i"), Index { columns: i.get("cols"), unique: i.get("u"), partial: i.get("p") });
        }
    }
    for c in sqlx::query(
        "SELECT r.relname::text AS t, c.conname::text AS n, c.contype::text AS k, pg_get_constraintdef(c.oid) AS d, \
                f.relname::text AS ft, c.confdeltype::text AS del, \
                ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o) \
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS fc, \
                ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(n, o) \
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS tc \
         FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace ns ON ns.oid = r.relnamespace \
         LEFT JOIN pg_class f ON f.oid = c.confrelid \
         WHERE ns.nspname = 'public' AND c.contype IN ('c', 'f')",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        let Some(table) = schema.get_mut(&c.get::<String, _>("t")) else { continue };
        if c.get::<String, _>("k") == "c" {
            let d: String = c.get("d");
            let expr = d.trim_start_matches("CHECK").trim();
            table.checks.insert(c.get("n"), normalise(expr));
        } else {
            let on_delete = match c.get::<String, _>("del").as_str() {
                "c" => "cascade",
                "n" => "set null",
                "d" => "set default",
                "r" => "restrict",
                _ => "no action",
            };
            let from: Vec<String> = c.get("fc");
            let to: Vec<String> = c.get("tc");
            let ft: String = c.get("ft");
            table.foreign_keys.insert(format!("{} -> {ft}({}) on delete {on_delete}", from.join(","), to.join(",")));
        }
    }
    schema
}

/// Every difference between the two, one line each.
fn differences(sqlite: &Schema, pg: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = sqlite.keys().chain(pg.keys()).collect();
    for name in names {
        let (s, p) = match (sqlite.get(name), pg.get(name)) {
            (Some(s), Some(p)) => (s, p),
            (s, _) => {
                if !allowed("table", name, "") {
                    let side = if s.is_some() { "SQLite" } else { "PostgreSQL" };
                    out.push(format!("table {name}: only in {side}"));
                }
                continue;
            }
        };
        let cols: BTreeSet<&String> = s.columns.keys().chain(p.columns.keys()).collect();
        for col in cols {
            match (s.columns.get(col), p.columns.get(col)) {
                (Some(a), Some(b)) => {
                    if a.nullable != b.nullable {
                        let n = |x: bool| if x { "NULL" } else { "NOT NULL" };
                        out.push(format!(
                            "column {name}.{col}: {} on SQLite, {} on PostgreSQL",
                            n(a.nullable),
                            n(b.nullable)
                        ));
                    }
                    if !compatible(a.class, b.class) {
                        out.push(format!(
                            "column {name}.{col}: type {} ({:?}) on SQLite, {} ({:?}) on PostgreSQL",
                            a.declared, a.class, b.declared, b.class
                        ));
                    }
                }
                (a, _) if !allowed("column", name, col) => {
                    let side = if a.is_some() { "SQLite" } else { "PostgreSQL" };
                    out.push(format!("column {name}.{col}: only in {side}"));
                }
                _ => {}
            }
        }
        let idx: BTreeSet<&String> = s.indexes.keys().chain(p.indexes.keys()).collect();
        for i in idx {
            match (s.indexes.get(i), p.indexes.get(i)) {
                (Some(a), Some(b)) if a != b => {
                    out.push(format!("index {name}.{i}: {a:?} on SQLite, {b:?} on PostgreSQL"))
                }
                (Some(_), Some(_)) => {}
                (a, _) if !allowed("index", name, i) => {
                    let side = if a.is_some() { "SQLite" } else { "PostgreSQL" };
                    let def = s.indexes.get(i).or(p.indexes.get(i));
                    out.push(format!("index {name}.{i}: only in {side} {def:?}"));
                }
                _ => {}
            }
        }
        let checks: BTreeSet<&String> = s.checks.keys().chain(p.checks.keys()).collect();
        for c in checks {
            match (s.checks.get(c), p.checks.get(c)) {
                (Some(a), Some(b)) if a != b => {
                    out.push(format!("check {name}.{c}: `{a}` on SQLite, `{b}` on PostgreSQL"))
                }
                (Some(_), Some(_)) => {}
                (a, b) => {
                    let side = if a.is_some() { "SQLite" } else { "PostgreSQL" };
                    out.push(format!("check {name}.{c}: only in {side} `{}`", a.or(b).map_or("", |s| s.as_str())));
                }
            }
        }
        for fk in s.foreign_keys.symmetric_difference(&p.foreign_keys) {
            let side = if s.foreign_keys.contains(fk) { "SQLite" } else { "PostgreSQL" };
            out.push(format!("foreign key {name}: {fk} only in {side}"));
        }
    }
    out
}

#[test]
fn the_comparison_reports_every_drift() {
    let mut s = Schema::new();
    let mut p = Schema::new();
    let mut a = Table::default();
    a.columns.insert("id".into(), Column { nullable: false, class: Class::Integer, declared: "INTEGER".into() });
    a.columns.insert("at".into(), Column { nullable: false, class: Class::Text, declared: "TEXT".into() });
    a.checks.insert("t_qty_check".into(), normalise("qty > 0"));
    let mut b = Table::default();
    b.columns.insert("id".into(), Column { nullable: false, class: Class::Integer, declared: "bigint".into() });
    b.columns.insert("at".into(), Column { nullable: true, class: Class::Timestamp, declared: "timestamptz".into() });
    b.columns.insert("n".into(), Column { nullable: true, class: Class::Integer, declared: "bigint".into() });
    b.checks.insert("t_qty_check".into(), normalise("((qty >= 0))"));
    s.insert("t".into(), a);
    p.insert("t".into(), b);
    p.insert("only_pg".into(), Table::default());
    let d = differences(&s, &p);
    assert_eq!(d.len(), 4, "{d:#?}");
    assert_eq!(
        normalise("CHECK (((qty_issued >= 0) AND (qty_issued <= qty_requested)))"),
        normalise("CHECK (qty_issued >= 0 AND qty_issued <= qty_requested)")
    );
    assert_eq!(normalise("(kind = 'a'::text)"), "kind='a'");
    let items = table_items(
        "CREATE TABLE x (a BIGINT CHECK (a > 0), b TEXT, CONSTRAINT b_ok CHECK (length(b) > 1), CHECK (a < 9))",
    );
    assert_eq!(items.len(), 4, "{items:?}");
    assert_eq!(checks_in(&items[2]), vec![(Some("b_ok".to_string()), "length(b) > 1".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set AFTERCARE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres and run `cargo test --test integration -- --ignored`"]
async fn both_backends_have_the_same_schema() {
    let (sqlite_url, _) = fresh_database(Backend::Sqlite).await;
    let (pg_url, pg) = fresh_database(Backend::Postgres).await;
    let sdb = aftercare_store::Db::connect(&sqlite_url).await.unwrap();
    sdb.migrate().await.unwrap();
    let pdb = aftercare_store::Db::connect(&pg_url).await.unwrap();
    pdb.migrate().await.unwrap();
    let s = match &sdb {
        aftercare_store::Db::Sqlite(p) => sqlite_schema(p).await,
        aftercare_store::Db::Postgres(_) => unreachable!("a sqlite:// URL"),
    };
    let p = match &pdb {
        aftercare_store::Db::Postgres(p) => postgres_schema(p).await,
        aftercare_store::Db::Sqlite(_) => unreachable!("a postgres:// URL"),
    };
    sdb.close().await;
    pdb.close().await;
    if let Some((admin, name)) = pg {
        drop_database(&admin, &name).await;
    }
    if let Some(dir) = sqlite_url.strip_prefix("sqlite://").and_then(|f| std::path::Path::new(f).parent()) {
        let _ = std::fs::remove_dir_all(dir);
    }
    assert!(s.len() > 10 && p.len() > 10, "both schemas read ({} / {} tables)", s.len(), p.len());
    let count = |x: &Schema| {
        let n = |f: fn(&Table) -> usize| x.values().map(f).sum::<usize>();
        (x.len(), n(|t| t.columns.len()), n(|t| t.indexes.len()), n(|t| t.checks.len()), n(|t| t.foreign_keys.len()))
    };
    eprintln!(
        "compared (tables, columns, indexes, checks, foreign keys): SQLite {:?}, PostgreSQL {:?}",
        count(&s),
        count(&p)
    );
    let diffs = differences(&s, &p);
    let mut msg = String::new();
    for d in &diffs {
        let _ = writeln!(msg, "  {d}");
    }
    assert!(diffs.is_empty(), "{} schema differences between SQLite and PostgreSQL:\n{msg}", diffs.len());
}
