//! What every request's text must be before any handler sees it: UTF-8 (a form in another
//! encoding would otherwise be stored as U+FFFD), free of control characters other than tab
//! and line breaks (PostgreSQL refuses NUL with a 500, SQLite would keep it), with dates
//! between 1970 and 2100, and within the body size limit (413, not a 400). Checked once
//! here for query strings, form bodies and JSON bodies alike, so no area can forget it;
//! a refusal names the field, in the caller's language, and nothing reaches the handler.

use crate::auth::anonymous_tr;
use crate::error::{ApiError, ErrorBody, FieldMessage, PageError};
use crate::i18n::Tr;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The years a date or time may fall in (DESIGN.md §5).
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=2100;

/// Why a value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    ControlChars,
    InvalidEncoding,
    OutOfRange,
}

impl Bad {
    fn code(self) -> &'static str {
        match self {
            Bad::ControlChars => "control_chars",
            Bad::InvalidEncoding => "invalid_encoding",
            Bad::OutOfRange => "out_of_range",
        }
    }
}

/// A control character other than tab, line feed and carriage return (a textarea sends CRLF).
fn is_forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// A value that is a date or a date-time (`YYYY-MM-DD…`, or a year of more digits) whose
/// year lies outside [`YEARS`]. Text that merely contains a date is not looked at.
fn bad_year(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits < 4 || b.get(digits) != Some(&b'-') {
        return false;
    }
    let rest = &b[digits..];
    let date_like = rest.len() >= 6
        && rest[1..3].iter().all(u8::is_ascii_digit)
        && rest[3] == b'-'
        && rest[4..6].iter().all(u8::is_ascii_digit)
        && (rest.len() == 6 || matches!(rest[6], b'T' | b't' | b' '));
    if !date_like {
        return false;
    }
    match s[..digits].parse::<i32>() {
        Ok(y) => !YEARS.contains(&y),
        Err(_) => true,
    }
}

/// The first thing wrong with one text value.
pub fn check_text(s: &str) -> Option<Bad> {
    if s.chars().any(is_forbidden) {
        Some(Bad::ControlChars)
    } else if bad_year(s) {
        Some(Bad::OutOfRange)
    } else {
        None
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => match (s.get(i + 1).copied().and_then(hex), s.get(i + 2).copied().and_then(hex)) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// The first bad pair of an `application/x-www-form-urlencoded` text (a body or a query).
pub fn check_urlencoded(raw: &[u8]) -> Option<(String, Bad)> {
    for pair in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut kv = pair.splitn(2, |b| *b == b'=');
        let key = percent_decode(kv.next().unwrap_or_default());
        let value = percent_decode(kv.next().unwrap_or_default());
        let name = String::from_utf8_lossy(&key).chars().filter(|c| !c.is_control()).take(60).collect::<String>();
        let (Ok(k), Ok(v)) = (std::str::from_utf8(&key), std::str::from_utf8(&value)) else {
            return Some((name, Bad::InvalidEncoding));
        };
        if let Some(bad) = check_text(k).or_else(|| check_text(v)) {
            return Some((name, bad));
        }
    }
    None
}

/// Could this JSON text hold a forbidden character or an out-of-range date? A quick look
/// at the bytes, so the common body is not parsed twice: an escape (`\u…`), DEL, a C1
/// control in UTF-8 (C2 80–9F), or a string starting with a digit.
fn json_suspect(b: &[u8]) -> bool {
    b.windows(2).any(|w| {
        (w[0] == b'\\' && w[1] == b'u')
            || w[0] == 0x7f
            || (w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1]))
            || (w[0] == b'"' && w[1].is_ascii_digit())
    })
}

/// The path (`contacts[0].name`) and fault of the first bad string in a JSON value.
pub fn check_json(v: &Value) -> Option<(String, Bad)> {
    fn walk(v: &Value, path: &mut String) -> Option<(String, Bad)> {
        match v {
            Value::String(s) => check_text(s).map(|b| (path.clone(), b)),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let r = walk(x, path);
                path.truncate(len);
                r
            }),
            Value::Object(m) => m.iter().find_map(|(k, x)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                let r = check_text(k).map(|b| (path.clone(), b)).or_else(|| walk(x, path));
                path.truncate(len);
                r
            }),
            _ => None,
        }
    }
    walk(v, &mut String::new())
}

/// One text part of a multipart form: UTF-8 and clean, or the reason it is not (the code
/// of a field error).
pub fn multipart_text(bytes: &[u8]) -> Result<String, &'static str> {
    let s = std::str::from_utf8(bytes).map_err(|_| Bad::InvalidEncoding.code())?;
    match check_text(s) {
        Some(bad) => Err(bad.code()),
        None => Ok(s.to_owned()),
    }
}

/// A refusal of one field on a page, as the middleware answers it.
pub fn refuse_page(tr: Tr, field: &str, code: &'static str) -> PageError {
    let f = aftercare_domain::FieldError { field: field.to_owned(), code, area: None };
    PageError::Page { tr, status: StatusCode::UNPROCESSABLE_ENTITY, message: tr.field_error(&f) }
}

/// "标题：含有不可见的控制字符"; a name the catalogue does not know (any JSON key can be
/// sent) is quoted as sent, cleaned, rather than shown as a catalogue key.
fn field_message(tr: Tr, field: &str, bad: Bad) -> String {
    let label = tr.field(field);
    let label = if label.starts_with("field.") {
        let clean: String = field.chars().filter(|c| !c.is_control()).take(60).collect();
        format!("“{clean}”")
    } else {
        label
    };
    format!("{label}{}{}", if tr.is_en() { ": " } else { "：" }, tr.t(&format!("rule.{}", bad.code())))
}

fn refuse(tr: Tr, api: bool, field: &str, bad: Bad) -> Response {
    let message = field_message(tr, field, bad);
    if api {
        let fields = vec![FieldMessage { field: field.to_owned(), code: bad.code().into(), message: message.clone() }];
        let body = ErrorBody { code: "invalid".into(), message, fields, rows: Vec::new() };
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, body, retry_after: None }.into_response()
    } else {
        PageError::Page { tr, status: StatusCode::UNPROCESSABLE_ENTITY, message }.into_response()
    }
}

fn too_large(tr: Tr, api: bool) -> Response {
    let message = tr.tf("error.too_large", &[("mb", &(crate::MAX_BODY_BYTES / (1024 * 1024)).to_string())]);
    if api {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message).into_response()
    } else {
        PageError::Page { tr, status: StatusCode::PAYLOAD_TOO_LARGE, message }.into_response()
    }
}

pub async fn check_input(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let tr = anonymous_tr(req.headers());
    if let Some(q) = req.uri().query()
        && let Some((field, bad)) = check_urlencoded(q.as_bytes())
    {
        return refuse(tr, api, &field, bad);
    }
    let ctype = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let form = ctype.starts_with("application/x-www-form-urlencoded");
    let json = ctype.starts_with("application/json");
    if !form && !json {
        return next.run(req).await;
    }
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > crate::MAX_BODY_BYTES) {
        return too_large(tr, api);
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return too_large(tr, api),
    };
    let found = if form {
        check_urlencoded(&bytes)
    } else if json_suspect(&bytes) {
        // Not JSON at all is the extractor's 400; only well-formed values are judged here.
        serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| check_json(&v))
    } else {
        None
    };
    if let Some((field, bad)) = found {
        return refuse(tr, api, &field, bad);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_but_tab_and_line_breaks() {
        assert_eq!(check_text("a\u{0}b"), Some(Bad::ControlChars));
        assert_eq!(check_text("a\u{7f}"), Some(Bad::ControlChars));
        assert_eq!(check_text("a\u{85}"), Some(Bad::ControlChars));
        assert_eq!(check_text("a\u{1b}[31m"), Some(Bad::ControlChars));
        assert_eq!(check_text("第一行\r\n第二行\t制表"), None);
        assert_eq!(check_text("温度 25°C · 正常"), None);
    }

    #[test]
    fn an_unknown_field_is_quoted_not_shown_as_a_key() {
        let zh = Tr::new("zh-CN");
        assert_eq!(field_message(zh, "title", Bad::ControlChars), "标题：含有不可见的控制字符");
        assert_eq!(field_message(zh, "x\u{3}y", Bad::ControlChars), "“xy”：含有不可见的控制字符");
    }

    #[test]
    fn dates_outside_1970_to_2100() {
        for bad in ["0000-01-01", "10000-01-01", "9999-12-31T10:00:00Z", "1900-01-01", "1969-12-31 23:59"] {
            assert_eq!(check_text(bad), Some(Bad::OutOfRange), "{bad}");
        }
        for good in ["2026-12-06", "1970-01-01T00:00:00Z", "2100-12-31", "1900年的老楼", "1234-5", "13905661111"] {
            assert_eq!(check_text(good), None, "{good}");
        }
    }

    #[test]
    fn forms_must_be_utf8_and_clean() {
        assert_eq!(check_urlencoded(b"title=%E7%BD%91%E7%BB%9C&x=1"), None);
        assert_eq!(check_urlencoded(b"title=%C4%E3%BA%C3"), Some(("title".into(), Bad::InvalidEncoding)));
        assert_eq!(check_urlencoded(b"note=a%00b"), Some(("note".into(), Bad::ControlChars)));
        assert_eq!(check_urlencoded(b"installed_on=0000-01-01"), Some(("installed_on".into(), Bad::OutOfRange)));
        assert_eq!(check_urlencoded(b"q=100%25&bad=%zz"), None);
    }

    #[test]
    fn json_names_the_path_of_the_bad_string() {
        let v: Value = serde_json::json!({"name": "ok", "contacts": [{"name": "a"}, {"phone": "1\u{0}"}]});
        assert_eq!(check_json(&v), Some(("contacts[1].phone".into(), Bad::ControlChars)));
        let body = br#"{"title":"a\u0000b"}"#;
        assert!(json_suspect(body));
        assert!(!json_suspect("{\"title\":\"网络 · 中断\"}".as_bytes()));
    }
}
