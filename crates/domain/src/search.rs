//! The global search: which kinds of record it finds, and where each one is read.

string_enum!(
    /// The kind of a search hit (a school user finds only its own customer, equipment and
    /// tickets; contacts are staff only).
    SearchKind {
        Customer = "customer",
        Equipment = "equipment",
        Ticket = "ticket",
        Contact = "contact",
        /// Spare parts of the catalogue (staff only).
        Part = "part",
        /// Inspections (巡检单), by number or by school.
        Inspection = "inspection",
        /// Published know-how (维护心得, staff only).
        Article = "article",
    }
);

impl SearchKind {
    /// The page of a hit of this kind is `{path}/{id}`.
    pub fn path(self) -> &'static str {
        match self {
            SearchKind::Customer => "/customers",
            SearchKind::Equipment => "/equipment",
            SearchKind::Ticket => "/tickets",
            SearchKind::Contact => "/contacts",
            SearchKind::Part => "/parts",
            SearchKind::Inspection => "/inspections",
            SearchKind::Article => "/articles",
        }
    }

    /// The order the groups of a search are shown in: what the desk looks for most first.
    pub const SHOWN: &'static [SearchKind] = &[
        SearchKind::Ticket,
        SearchKind::Customer,
        SearchKind::Equipment,
        SearchKind::Inspection,
        SearchKind::Article,
        SearchKind::Contact,
        SearchKind::Part,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_page() {
        let paths: std::collections::HashSet<_> = SearchKind::ALL.iter().map(|k| k.path()).collect();
        assert_eq!(paths.len(), SearchKind::ALL.len());
        assert_eq!(SearchKind::Ticket.path(), "/tickets");
    }
}
