//! The global search box: every kind the user may see, grouped by kind.

use crate::{Actor, Result, Services};
pub use aftercare_store::search::{Group, Hit};

impl Services {
    /// The best `per_kind` hits of each kind (open and recent first) with each kind's total.
    /// A school user finds only its own schools, equipment and tickets.
    pub async fn search(&self, by: &Actor, q: &str, per_kind: i64) -> Result<Vec<Group>> {
        let scope = by.customer_scope().map(|c| c.0);
        let q = bounded(q);
        Ok(aftercare_store::search::search(&self.db, &q, scope, per_kind.clamp(1, 100)).await?)
    }
}

/// The most characters and words of a search that are used: nobody types more into a search
/// box, and every word is one more condition of one query (a 16 MB form would be millions).
pub const MAX_QUERY_CHARS: usize = 100;
pub const MAX_QUERY_WORDS: usize = 16;

/// The query cut to what is searched for.
pub fn bounded(q: &str) -> String {
    let head: String = q.chars().take(MAX_QUERY_CHARS).collect();
    head.split_whitespace().take(MAX_QUERY_WORDS).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_search_is_cut_to_a_hundred_characters_and_sixteen_words() {
        assert_eq!(super::bounded("  监控  NVR "), "监控 NVR");
        assert_eq!(super::bounded(&"校".repeat(5_000)).chars().count(), 100);
        assert_eq!(super::bounded(&"a ".repeat(50)).split(' ').count(), 16);
    }
}
