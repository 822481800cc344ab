//! Languages: zh-CN by default, English complete. The locale is chosen per request (the
//! user's setting, else a cookie, else `Accept-Language`), never globally.

use aftercare_domain::FieldError;

pub const DEFAULT_LOCALE: &str = "zh-CN";
pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

tokio::task_local! {
    /// The language of the request being answered: the caller's before sign-in
    /// ([`request_locale`] middleware), the user's once an extractor knows him. Errors
    /// converted with `?` are translated in it, so no handler passes a translator around.
    static REQUEST_TR: std::cell::Cell<Tr>;
}

/// The current request's translator (the default language outside a request).
pub fn current() -> Tr {
    REQUEST_TR.try_with(std::cell::Cell::get).unwrap_or(Tr(DEFAULT_LOCALE))
}

/// Makes `tr` the current request's language (the signed-in user's setting).
pub fn set_current(tr: Tr) {
    let _ = REQUEST_TR.try_with(|c| c.set(tr));
}

/// Middleware: runs the request with the anonymous caller's language as the current one.
pub async fn request_locale(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let tr = crate::auth::anonymous_tr(req.headers());
    REQUEST_TR.scope(std::cell::Cell::new(tr), next.run(req)).await
}

/// A translator bound to one locale; templates call `c.t("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub &'static str);

impl Tr {
    pub fn new(locale: &str) -> Tr {
        Tr(LOCALES.into_iter().find(|l| l.eq_ignore_ascii_case(locale)).unwrap_or(DEFAULT_LOCALE))
    }

    pub fn t(&self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.0).into_owned()
    }

    /// Translates `key` and fills `%{name}` placeholders.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.t(key);
        for (k, v) in args {
            s = s.replace(&format!("%{{{k}}}"), v);
        }
        s
    }

    /// The colon after a label: full-width in Chinese (`解决方案：`), `: ` in English.
    pub fn colon(&self) -> &'static str {
        if self.is_en() { ": " } else { "：" }
    }

    pub fn is_en(&self) -> bool {
        self.0 == "en"
    }

    /// Between the items of a list of names: 、 in Chinese, `, ` in English.
    pub fn list_sep(&self) -> &'static str {
        if self.is_en() { ", " } else { "、" }
    }

    /// Between the parts of a line that are lists of their own: ； in Chinese, `; ` in English.
    pub fn part_sep(&self) -> &'static str {
        if self.is_en() { "; " } else { "；" }
    }

    /// `a（b）` in Chinese, `a (b)` in English.
    pub fn paren(&self, a: &str, b: &str) -> String {
        if self.is_en() { format!("{a} ({b})") } else { format!("{a}（{b}）") }
    }

    /// The label of an API field name (`contacts[1].phone` → "联系人 2 电话").
    pub fn field(&self, field: &str) -> String {
        self.field_in(None, field)
    }

    /// The label of one name: `field.<area>.<name>` where the area has its own word for
    /// it (a part's `category` is 分类, a contact's 问题类型), else `field.<name>`.
    fn label(&self, area: Option<&str>, name: &str) -> String {
        if let Some(a) = area
            && let Some(s) = crate::_rust_i18n_try_translate(self.0, format!("field.{a}.{name}"))
        {
            return s.into_owned();
        }
        self.t(&format!("field.{name}"))
    }

    /// [`Tr::field`] in the sense of `area` (`parts`, `stock`, `requisitions` …; see
    /// [`FieldError::area`]).
    pub fn field_in(&self, area: Option<&str>, field: &str) -> String {
        if let Some(rest) = field.strip_prefix("contacts[")
            && let Some((i, name)) = rest.split_once("].")
        {
            let n = i.parse::<usize>().map(|n| n + 1).unwrap_or(0).to_string();
            // A contact's `name` is a person's name (姓名), not a school's (名称).
            let label = match name {
                "name" | "title" => self.t(&format!("field.contact_{name}")),
                _ => self.label(area, name),
            };
            return self.tf("field.contact_n", &[("n", &n), ("field", &label)]);
        }
        // A visit's part lines (`parts_used[0].part_id`): "使用备件第 1 行备件".
        for (list, key) in [("parts_used[", "field.parts_used_n"), ("defective_parts[", "field.defective_n")] {
            if let Some(rest) = field.strip_prefix(list)
                && let Some((i, name)) = rest.split_once("].")
            {
                let n = i.parse::<usize>().map(|n| n + 1).unwrap_or(0).to_string();
                return self.tf(key, &[("n", &n), ("field", &self.label(area, name))]);
            }
        }
        // A trip's stops (`stops[0].customer_id`, `stops[1].ticket_ids[0]`) and costs: "第 1 站学校".
        for (list, key) in [("stops[", "field.stop_n"), ("costs[", "field.cost_n")] {
            if let Some(rest) = field.strip_prefix(list)
                && let Some((i, name)) = rest.split_once("].")
            {
                let n = i.parse::<usize>().map(|n| n + 1).unwrap_or(0).to_string();
                return self.tf(key, &[("n", &n), ("field", &self.field_in(area, name))]);
            }
        }
        // A requisition's lines (`lines[0].qty`), an inspection's (`items[0].result`): "第 1 行数量".
        for list in ["lines[", "items["] {
            if let Some(rest) = field.strip_prefix(list)
                && let Some((i, name)) = rest.split_once("].")
            {
                let n = i.parse::<usize>().map(|n| n + 1).unwrap_or(0).to_string();
                return self.tf("field.line_n", &[("n", &n), ("field", &self.label(area, name))]);
            }
        }
        // One entry of a list (`systems[1]`, `technician_ids[0]`): "系统第 2 项".
        if let Some((name, rest)) = field.split_once('[')
            && let Some(i) = rest.strip_suffix(']')
            && let Ok(i) = i.parse::<usize>()
        {
            let n = (i + 1).to_string();
            return self.tf("field.item_n", &[("n", &n), ("field", &self.label(area, name))]);
        }
        self.label(area, field)
    }

    /// A field error as a sentence: "序列号: 已存在", the field named in its area's sense.
    pub fn field_error(&self, e: &FieldError) -> String {
        format!(
            "{}{}{}",
            self.field_in(e.area, &e.field),
            if self.is_en() { ": " } else { "：" },
            self.rule(e.area, e.code)
        )
    }

    /// A rule's words, in the area's sense where it has its own (`date_order` is "before the
    /// installation date" for equipment, "before the start" for a period).
    fn rule(&self, area: Option<&str>, code: &str) -> String {
        if let Some(a) = area
            && let Some(s) = crate::_rust_i18n_try_translate(self.0, format!("rule.{a}.{code}"))
        {
            return s.into_owned();
        }
        self.t(&format!("rule.{code}"))
    }

    /// A system's name; takes the enum or its stored name.
    pub fn system(&self, s: impl AsRef<str>) -> String {
        self.t(&format!("system.{}", s.as_ref()))
    }

    pub fn status(&self, s: impl AsRef<str>) -> String {
        self.t(&format!("status.{}", s.as_ref()))
    }

    pub fn role(&self, s: &str) -> String {
        self.t(&format!("role.{s}"))
    }
}

/// The best of our locales for an `Accept-Language` header.
pub fn negotiate(accept_language: Option<&str>) -> &'static str {
    let Some(h) = accept_language else {
        return DEFAULT_LOCALE;
    };
    let mut best: Option<(f32, &'static str)> = None;
    for part in h.split(',') {
        let mut it = part.trim().split(';');
        let tag = it.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = it.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse::<f32>().ok())).unwrap_or(1.0);
        let loc = if tag.starts_with("zh") {
            Some("zh-CN")
        } else if tag.starts_with("en") {
            Some("en")
        } else {
            None
        };
        if let Some(l) = loc
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, l));
        }
    }
    best.map(|(_, l)| l).unwrap_or(DEFAULT_LOCALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_known_locale() {
        assert_eq!(negotiate(None), "zh-CN");
        assert_eq!(negotiate(Some("en-US,en;q=0.9")), "en");
        assert_eq!(negotiate(Some("fr, en;q=0.5, zh-CN;q=0.8")), "zh-CN");
        assert_eq!(negotiate(Some("de")), "zh-CN");
    }

    #[test]
    fn messages_exist_in_both_languages() {
        let zh = Tr::new("zh-CN");
        let en = Tr::new("en");
        assert_eq!(zh.t("nav.customers"), "学校");
        assert_eq!(en.t("nav.customers"), "Schools");
        assert_eq!(en.field("contacts[1].phone"), "Contact 2 phone");
        let e = FieldError { field: "serial_no".into(), code: "duplicate", area: None };
        assert_eq!(zh.field_error(&e), "序列号：已存在");
    }

    #[test]
    fn labels_read_in_their_areas_sense() {
        let zh = Tr::new("zh-CN");
        let en = Tr::new("en");
        // Without an area, the shared word.
        assert_eq!(zh.field("category"), "问题类型");
        assert_eq!(zh.field_in(Some("parts"), "category"), "分类");
        assert_eq!(en.field_in(Some("parts"), "category"), "Category");
        assert_eq!(zh.field_in(Some("stock"), "direction"), "调整方向");
        assert_eq!(en.field_in(Some("stock"), "direction"), "Adjustment direction");
        // An area without a word of its own falls back to the shared one.
        assert_eq!(zh.field_in(Some("stock"), "part_id"), "备件");
        assert_eq!(zh.field_in(Some("nowhere"), "serial_no"), "序列号");
        // Inside a list too.
        assert_eq!(zh.field_in(Some("requisitions"), "lines[0].qty"), "第 1 行领用数量");
        let e = FieldError { field: "kind".into(), code: "unknown_value", area: Some("warehouses") };
        assert!(zh.field_error(&e).starts_with("仓库类型"), "{}", zh.field_error(&e));
    }

    /// Every key of every catalogue file has both languages (a missing one would show its key).
    #[test]
    fn catalogue_is_complete() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let mut files = 0;
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            files += 1;
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            catalogue_file_is_complete(&text);
        }
        assert!(files > 0);
    }

    /// A key defined in two files would read as whichever loads last: the portal's
    /// "文件太大" became an import's "数据量过大" that way.
    #[test]
    fn no_key_is_defined_twice() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let mut seen = std::collections::HashMap::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for line in text.lines() {
                let Some(key) = line.strip_suffix(':') else { continue };
                if key.starts_with([' ', '#', '_']) || key.contains(' ') {
                    continue;
                }
                if let Some(first) = seen.insert(key.to_owned(), name.clone()) {
                    panic!("{key} is in {first} and {name}");
                }
            }
        }
        assert!(seen.len() > 100);
    }

    fn catalogue_file_is_complete(text: &str) {
        let mut key: Option<&str> = None;
        let mut langs = Vec::new();
        let check = |key: Option<&str>, langs: &mut Vec<String>| {
            if let Some(k) = key {
                langs.sort();
                assert_eq!(langs.as_slice(), ["en", "zh-CN"], "key {k}");
            }
            langs.clear();
        };
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() || line.starts_with("_version") {
                continue;
            }
            if !line.starts_with(' ') {
                check(key, &mut langs);
                key = Some(line.trim_end_matches(':'));
            } else if let Some((l, _)) = line.trim().split_once(':') {
                langs.push(l.to_string());
            }
        }
        check(key, &mut langs);
    }
}
