//! Penalty events (§3.2.7–3.2.9): what the rules propose against a person, and the
//! manager's verdict on each.

string_enum!(
    /// Which rule proposed the event.
    PenaltyKind {
        /// The same fault on the same equipment again inside the repeat window.
        RepeatRepair = "repeat_repair",
        /// The fault type or plan changed after a visit that did not fix it.
        Misdiagnosis = "misdiagnosis",
        /// An inbound call nobody called back in time.
        MissedCall = "missed_call",
        /// A storekeeper let a part run below its reserve quota without reporting it.
        UnreportedShortage = "unreported_shortage",
    }
);

string_enum!(
    /// Where the manager's review stands.
    PenaltyStatus {
        Proposed = "proposed",
        Confirmed = "confirmed",
        Dismissed = "dismissed",
    }
);

impl PenaltyStatus {
    /// The manager's verdict as a status: `confirm` or `dismiss` (or the status itself).
    pub fn from_verdict(verdict: &str) -> Option<PenaltyStatus> {
        match verdict.trim() {
            "confirm" | "confirmed" => Some(PenaltyStatus::Confirmed),
            "dismiss" | "dismissed" => Some(PenaltyStatus::Dismissed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_is_confirm_or_dismiss() {
        assert_eq!(PenaltyStatus::from_verdict("confirm"), Some(PenaltyStatus::Confirmed));
        assert_eq!(PenaltyStatus::from_verdict(" dismissed "), Some(PenaltyStatus::Dismissed));
        assert_eq!(PenaltyStatus::from_verdict("proposed"), None);
    }
}
