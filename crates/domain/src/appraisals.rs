//! Study and appraisal (学习、考核制度, manual §3.2.5, §3.2.6, §2.4): each person is appraised
//! per period (a quarter or a month) on an exam and on the period's work — first-time fix,
//! the schools' satisfaction, the service levels met, trainings attended — less the
//! penalty events the manager confirmed, weighed by weights the manager sets; the manager
//! decides the outcome. Periods, weights, the total, who may do what. Pure.

use crate::Role;
use crate::validation::{FieldErrors, optional, required};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

string_enum!(
    /// The manager's decision (DESIGN.md §5; fixed).
    AppraisalOutcome {
        /// 提升薪资
        Raise = "raise",
        /// 岗位提升
        Promote = "promote",
        /// 保持
        Keep = "keep",
        /// 需改进
        Improve = "improve",
    }
);

/// Who appraises and decides: the manager (and the admin).
pub fn may_appraise(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Manager | Role::Admin))
}

/// A period: `2026-Q4` (a quarter) or `2026-12` (a month); its first day and the day after
/// its last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub until: NaiveDate,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        let s = s.trim();
        let (y, rest) = s.split_once('-')?;
        let year: i32 = y.parse().ok().filter(|y| crate::validation::YEARS.contains(y))?;
        let (first_month, months) = if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
            let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
            (3 * (q - 1) + 1, 3)
        } else {
            let m: u32 = rest.parse().ok().filter(|m| (1..=12).contains(m))?;
            if rest.len() != 2 {
                return None;
            }
            (m, 1)
        };
        let from = NaiveDate::from_ymd_opt(year, first_month, 1)?;
        let until = from.checked_add_months(chrono::Months::new(months))?;
        Some(Period { from, until })
    }

    /// `2026-Q4` or `2026-12`, as it was given (normalised).
    pub fn label(&self) -> String {
        let months = (self.until.year() - self.from.year()) * 12 + self.until.month() as i32 - self.from.month() as i32;
        if months == 3 {
            format!("{}-Q{}", self.from.year(), (self.from.month() - 1) / 3 + 1)
        } else {
            self.from.format("%Y-%m").to_string()
        }
    }
}

/// How much each part weighs, and what one confirmed penalty event costs. Set by the
/// manager; the defaults follow the manual's stress on fixing it the first time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Weights {
    pub exam: f64,
    pub first_time_fix: f64,
    pub satisfaction: f64,
    pub sla: f64,
    pub trainings: f64,
    /// Points taken off the total per confirmed penalty event (repeat repair,
    /// misdiagnosis, missed call, unreported shortage).
    pub penalty_points: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            exam: 30.0,
            first_time_fix: 25.0,
            satisfaction: 20.0,
            sla: 15.0,
            trainings: 10.0,
            penalty_points: 5.0,
        }
    }
}

impl Weights {
    pub fn validate(&self) -> Result<Weights, FieldErrors> {
        let mut e = FieldErrors::default();
        for (name, w) in [
            ("exam", self.exam),
            ("first_time_fix", self.first_time_fix),
            ("satisfaction", self.satisfaction),
            ("sla", self.sla),
            ("trainings", self.trainings),
            ("penalty_points", self.penalty_points),
        ] {
            if !w.is_finite() || !(0.0..=100.0).contains(&w) {
                e.push(name, "out_of_range");
            }
        }
        if e.is_empty() && self.exam + self.first_time_fix + self.satisfaction + self.sla + self.trainings <= 0.0 {
            e.push("exam", "required");
        }
        e.in_area("appraisals").into_result(*self)
    }
}

/// Trainings attended that make the trainings part full (100).
pub const TRAININGS_FOR_FULL: i64 = 4;

/// What a period shows of a person. A part the period has nothing for (no visits, no
/// rating, no exam taken) is `None` and leaves the total, whose weights are shared by the
/// parts there are.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Parts {
    /// 0..=100.
    pub exam: Option<f64>,
    /// 0..=1.
    pub first_time_fix: Option<f64>,
    /// 1..=5.
    pub satisfaction: Option<f64>,
    /// 0..=1.
    pub sla: Option<f64>,
    pub trainings_attended: i64,
    pub penalties: i64,
}

/// The total, 0..=100, to the tenth: the weighted mean of the parts there are (each on
/// 0..=100), less the penalties. `None` when no weighed part is there.
pub fn total(p: &Parts, w: &Weights) -> Option<f64> {
    let trainings = Some((p.trainings_attended as f64 / TRAININGS_FOR_FULL as f64).min(1.0) * 100.0);
    let parts = [
        (p.exam, w.exam),
        (p.first_time_fix.map(|r| r * 100.0), w.first_time_fix),
        (p.satisfaction.map(|s| (s - 1.0) / 4.0 * 100.0), w.satisfaction),
        (p.sla.map(|r| r * 100.0), w.sla),
        (trainings, w.trainings),
    ];
    let (sum, weight) = parts
        .iter()
        .filter_map(|(v, w)| v.filter(|_| *w > 0.0).map(|v| (v.clamp(0.0, 100.0) * w, *w)))
        .fold((0.0, 0.0), |(s, n), (v, w)| (s + v, n + w));
    if weight <= 0.0 {
        return None;
    }
    let t = sum / weight - p.penalties as f64 * w.penalty_points;
    Some((t.clamp(0.0, 100.0) * 10.0).round() / 10.0)
}

/// `POST /api/v1/appraisals`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppraisalInput {
    pub user_id: Option<i64>,
    /// `2026-Q4` or `2026-12`.
    pub period: Option<String>,
    /// 0..=100.
    pub exam_score: Option<f64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAppraisal {
    pub user_id: i64,
    pub period: Period,
    pub exam_score: Option<f64>,
    pub note: Option<String>,
}

fn exam(e: &mut FieldErrors, s: Option<f64>) -> Option<f64> {
    if let Some(s) = s
        && (!s.is_finite() || !(0.0..=100.0).contains(&s))
    {
        e.push("exam_score", "out_of_range");
    }
    s
}

impl AppraisalInput {
    pub fn validate(&self) -> Result<NewAppraisal, FieldErrors> {
        let mut e = FieldErrors::default();
        if self.user_id.is_none() {
            e.push("user_id", "required");
        }
        let raw = required(&mut e, "period", self.period.as_deref(), 10);
        let period = Period::parse(&raw);
        if period.is_none() && !raw.is_empty() {
            e.push("period", "invalid");
        }
        let exam_score = exam(&mut e, self.exam_score);
        let note = optional(&mut e, "note", self.note.as_deref(), 2_000);
        let (Some(user_id), Some(period)) = (self.user_id, period) else { return Err(e.in_area("appraisals")) };
        e.in_area("appraisals").into_result(NewAppraisal { user_id, period, exam_score, note })
    }
}

/// `POST /api/v1/appraisals/{id}/decide`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecideInput {
    /// `raise`, `promote`, `keep` or `improve`.
    pub outcome: Option<String>,
    pub note: Option<String>,
    /// The exam score, if it came in with the decision.
    pub exam_score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: AppraisalOutcome,
    pub note: Option<String>,
    pub exam_score: Option<f64>,
}

impl DecideInput {
    pub fn validate(&self) -> Result<Decision, FieldErrors> {
        let mut e = FieldErrors::default();
        let outcome = match self.outcome.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push("outcome", "required");
                None
            }
            Some(s) => {
                let o = AppraisalOutcome::parse(s);
                if o.is_none() {
                    e.push("outcome", "unknown_value");
                }
                o
            }
        };
        let note = optional(&mut e, "note", self.note.as_deref(), 2_000);
        let exam_score = exam(&mut e, self.exam_score);
        let Some(outcome) = outcome else { return Err(e.in_area("appraisals")) };
        e.in_area("appraisals").into_result(Decision { outcome, note, exam_score })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_quarters_or_months() {
        let q = Period::parse("2026-Q4").unwrap();
        assert_eq!((q.from.to_string(), q.until.to_string()), ("2026-10-01".into(), "2027-01-01".into()));
        assert_eq!(q.label(), "2026-Q4");
        let m = Period::parse("2026-02").unwrap();
        assert_eq!((m.from.to_string(), m.until.to_string()), ("2026-02-01".into(), "2026-03-01".into()));
        assert_eq!(m.label(), "2026-02");
        for bad in ["2026-Q5", "2026-13", "2026-2", "26-Q1", "0-01", "9999-01", "2026", "2026-Q", ""] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_total_weighs_the_parts_there_are_less_the_penalties() {
        let w = Weights::default();
        let all = Parts {
            exam: Some(90.0),
            first_time_fix: Some(0.8),
            satisfaction: Some(5.0),
            sla: Some(1.0),
            trainings_attended: 2,
            penalties: 0,
        };
        // (90·30 + 80·25 + 100·20 + 100·15 + 50·10) / 100 = 87.
        assert_eq!(total(&all, &w), Some(87.0));
        assert_eq!(total(&Parts { penalties: 2, ..all }, &w), Some(77.0));
        // No exam taken and no visits: the rest share the weight.
        let some = Parts { exam: None, first_time_fix: None, ..all };
        // (100·20 + 100·15 + 50·10) / 45 = 88.9.
        assert_eq!(total(&some, &w), Some(88.9));
        // Penalties never take it below zero; a part weighed 0 does not count.
        assert_eq!(total(&Parts { penalties: 100, ..all }, &w), Some(0.0));
        let only_exam = Weights { first_time_fix: 0.0, satisfaction: 0.0, sla: 0.0, trainings: 0.0, ..w };
        assert_eq!(total(&all, &only_exam), Some(90.0));
        assert_eq!(total(&Parts { exam: None, ..all }, &only_exam), None);
        let e = Weights { exam: -1.0, sla: f64::NAN, ..w }.validate().unwrap_err();
        assert!(e.has("exam") && e.has("sla"));
    }

    #[test]
    fn an_appraisal_names_its_person_period_and_a_score_in_range() {
        let e = AppraisalInput { period: Some("2026-Q9".into()), exam_score: Some(101.0), ..Default::default() }
            .validate()
            .unwrap_err();
        for f in ["user_id", "period", "exam_score"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        let ok = AppraisalInput { user_id: Some(3), period: Some("2026-Q4".into()), ..Default::default() }
            .validate()
            .unwrap();
        assert_eq!(ok.period.label(), "2026-Q4");
        let e = DecideInput { outcome: Some("fire".into()), ..Default::default() }.validate().unwrap_err();
        assert!(e.has("outcome"));
        assert!(may_appraise(&[Role::Manager]) && !may_appraise(&[Role::Engineer]));
    }
}
