//! The paper forms of a ticket (§2.4(8) 《故障分析表》, §2.6 《上门维修记录表》): what they
//! print, gathered in one call so that the page only lays it out.

use crate::customers::CustomerDetail;
use crate::tickets::TicketDetail;
use crate::{Actor, Result, Services, require};
use aftercare_domain::CustomerId;
use aftercare_store::equipment::EquipmentRow;
use aftercare_store::taxonomy::SubcategoryRow;
use aftercare_store::tickets::{self as store};

/// A ticket with everything its paper forms show.
#[derive(Debug, Clone)]
pub struct Paperwork {
    pub detail: TicketDetail,
    pub customer: CustomerDetail,
    pub equipment: Vec<EquipmentRow>,
    pub subcategory: Option<SubcategoryRow>,
    /// The number of the earlier ticket this one repeats.
    pub repeat_of_number: Option<String>,
    /// Display names of everyone the forms name (engineer, analyst, technicians), by user id.
    pub names: Vec<(i64, String)>,
    /// Photos taken on the visits: (visit id, photo id).
    pub photos: Vec<(i64, i64)>,
    /// What the school said on the callback (客户意见).
    pub customer_comment: Option<String>,
    /// Parts fitted and broken parts brought back on the visits, oldest first.
    pub parts: Vec<aftercare_store::visits::EquipmentPartRow>,
    /// 判断是否正确: once the ticket is resolved, whether the first diagnosis held (no
    /// misdiagnosis was found on the way); `None` while it is still open.
    pub diagnosis_held: Option<bool>,
    /// When the (last) diagnosis was written: the analysis form's date.
    pub analysed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Paperwork {
    pub fn name(&self, id: i64) -> Option<&str> {
        self.names.iter().find(|(u, _)| *u == id).map(|(_, n)| n.as_str())
    }
}

impl Services {
    /// The forms of a ticket: staff only; a ticket the actor may not see is "not found".
    pub async fn paperwork(&self, by: &Actor, id: aftercare_domain::TicketId) -> Result<Paperwork> {
        let detail = self.get_ticket(by, id).await?;
        require(by.is_staff())?;
        let t = &detail.ticket;
        let customer = self.get_customer(by, CustomerId(t.customer_id)).await?;
        let equipment = aftercare_store::equipment::of_ticket(&self.db, t.id).await?;
        let photos = aftercare_store::visits::photos_of(&self.db, t.id).await?;
        let events = store::events(&self.db, t.id).await?;
        let misdiagnosed = events.iter().any(|e| e.kind == aftercare_domain::tickets::EventKind::Misdiagnosis);
        let diagnosis_held = (t.fault_type.is_some() && t.resolved_at.is_some()).then_some(!misdiagnosed);
        let analysed_at =
            events.iter().rev().find(|e| e.kind == aftercare_domain::tickets::EventKind::Diagnosis).map(|e| e.at);
        let parts = aftercare_store::visits::parts_of_ticket(&self.db, t.id).await?;
        let customer_comment = events
            .iter()
            .rev()
            .filter(|e| e.kind == aftercare_domain::tickets::EventKind::Action)
            .find(|e| {
                e.data_json
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                    .is_some_and(|d| d["action"] == "callback")
            })
            .and_then(|e| e.note.clone());
        let subcategory = match &t.fault_subcategory {
            Some(code) => aftercare_store::taxonomy::subcategory(&self.db, code).await?,
            None => None,
        };
        let repeat_of_number = match t.repeat_of {
            Some(r) => Some(store::get(&self.db, r).await?.number),
            None => None,
        };
        let mut ids: Vec<i64> = [t.diagnosed_by, t.engineer_id].into_iter().flatten().collect();
        ids.extend(&detail.technician_ids);
        ids.extend(detail.visits.iter().filter_map(|v| v.reviewed_by));
        for v in &detail.visits {
            ids.extend(v.technician_ids.split(',').filter_map(|x| x.parse::<i64>().ok()));
        }
        ids.sort_unstable();
        ids.dedup();
        let names = aftercare_store::users::names(&self.db, &ids).await?;
        Ok(Paperwork {
            detail,
            customer,
            equipment,
            subcategory,
            repeat_of_number,
            names,
            photos,
            customer_comment,
            parts,
            diagnosis_held,
            analysed_at,
        })
    }
}

/// Minutes as hours for forms and pages: `1.5`, `2`, `0.25`.
pub fn hours_text(minutes: i64) -> String {
    let h = minutes as f64 / 60.0;
    let s = format!("{h:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hours_read_like_a_person_writes_them() {
        assert_eq!(super::hours_text(90), "1.5");
        assert_eq!(super::hours_text(120), "2");
        assert_eq!(super::hours_text(15), "0.25");
        assert_eq!(super::hours_text(0), "0");
    }
}
