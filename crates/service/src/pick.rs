//! Pickers: a record named the way a person knows it (a school by name, code or phone; a
//! ticket by its number), never by an internal id. One match is the record; none, or
//! several the words cannot tell apart, are an error at the form's field.

use crate::{Actor, Result, Services};
use aftercare_domain::PartId;
use aftercare_domain::search::SearchKind;
use aftercare_domain::{CustomerId, FieldErrors, TicketId};
use aftercare_store::Page;
use aftercare_store::parts::PartQuery;

impl Services {
    /// The school `text` names, for the form field `field`: a code or a name exactly, else
    /// the one school the words (a name's part, a contact's name or phone) find. An `id` the
    /// picker chose wins when the text still names that school (or is empty). Empty is none.
    pub async fn pick_school(
        &self,
        by: &Actor,
        field: &str,
        text: &str,
        id: Option<i64>,
    ) -> Result<Option<CustomerId>> {
        let text = text.trim();
        if let Some(id) = id
            && let Ok(c) = aftercare_store::customers::get(&self.db, id).await
            && by.can_see_customer(CustomerId(id))
            && (text.is_empty() || text == c.name || text == c.code)
        {
            return Ok(Some(CustomerId(id)));
        }
        if text.is_empty() {
            return Ok(None);
        }
        let groups = self.search(by, text, 20).await?;
        let schools: Vec<_> =
            groups.into_iter().filter(|g| g.kind == SearchKind::Customer).flat_map(|g| g.hits).collect();
        let exact: Vec<_> = schools
            .iter()
            .filter(|h| h.title == text || h.number.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(text)))
            .collect();
        let one = match (exact.as_slice(), schools.as_slice()) {
            ([one], _) => one.id,
            ([], [one]) => one.id,
            ([], []) => return Err(FieldErrors::single(field, "no_match").into()),
            _ => return Err(FieldErrors::single(field, "ambiguous").into()),
        };
        Ok(Some(CustomerId(one)))
    }

    /// The ticket `text` names: its number (`GD20261206-0022`, any case). Empty is none.
    pub async fn pick_ticket(&self, by: &Actor, field: &str, text: &str) -> Result<Option<TicketId>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let found = aftercare_store::tickets::by_number(&self.db, &text.to_uppercase()).await?;
        match found {
            Some(id) if self.get_ticket(by, TicketId(id)).await.is_ok() => Ok(Some(TicketId(id))),
            _ => Err(FieldErrors::single(field, "no_match").into()),
        }
    }

    /// The catalogue part `text` names: its code (what the picker's options begin with, so
    /// `SP-HDD-4T 监控硬盘 4TB` is taken by its code), else a name or code only one active
    /// part contains. Empty is none.
    pub async fn pick_part(&self, by: &Actor, field: &str, text: &str) -> Result<Option<PartId>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let code = text.split_whitespace().next().unwrap_or(text).to_uppercase();
        let q = |s: &str| PartQuery { q: Some(s.to_owned()), active: Some(true), ..Default::default() };
        let by_code = self.list_parts(by, &q(&code), Page::new(Some(1), Some(50))).await?.items;
        if let Some(p) = by_code.iter().find(|p| p.code.eq_ignore_ascii_case(&code)) {
            return Ok(Some(PartId(p.id)));
        }
        let found = self.list_parts(by, &q(text), Page::new(Some(1), Some(20))).await?.items;
        let exact: Vec<_> = found.iter().filter(|p| p.name == text).collect();
        match (exact.as_slice(), found.as_slice()) {
            ([one], _) => Ok(Some(PartId(one.id))),
            ([], [one]) => Ok(Some(PartId(one.id))),
            ([], []) => Err(FieldErrors::single(field, "no_match").into()),
            _ => Err(FieldErrors::single(field, "ambiguous").into()),
        }
    }
}
