//! The department's KPIs (DOMAIN.md §5) from a period's counts: the formulas, pure, with
//! no rate where there is nothing to divide by.

use crate::analysis::rate;
use serde::Serialize;

string_enum!(
    /// A KPI of DOMAIN.md §5 the data supports.
    Kpi {
        /// 响应及时率: responded without breaching the response time / responded.
        ResponseOnTime = "response_on_time",
        /// 到场及时率.
        ArrivalOnTime = "arrival_on_time",
        /// 按时解决率.
        ResolvedInSla = "resolved_in_sla",
        /// 平均修复时长 (report to resolution), hours.
        MeanHoursToFix = "mean_hours_to_fix",
        /// 一次修复率: the first visit fixed it / tickets visited.
        FirstTimeFix = "first_time_fix",
        /// 返修率.
        RepeatRepair = "repeat_repair",
        /// 误判率: misdiagnoses (not dismissed) / tickets.
        Misdiagnosis = "misdiagnosis",
        /// 回访率: called back / resolved.
        Callback = "callback",
        /// 回访满意度, the mean of 1..5.
        Satisfaction = "satisfaction",
        /// 满意率: 4 or 5 / called back.
        Satisfied = "satisfied",
        /// 投诉率: complaints / tickets.
        ComplaintRate = "complaint_rate",
        /// 漏接率: inbound calls not answered / inbound calls.
        MissedCall = "missed_call",
        /// 巡检完成率.
        InspectionCompletion = "inspection_completion",
        /// 备件满足率: requisition lines issued in full / lines issued.
        PartsFill = "parts_fill",
        /// 出勤核实率: stops verified by phone / stops of the trips back.
        OutingsVerified = "outings_verified",
    }
);

impl Kpi {
    /// `%`, `h` or `/5`.
    pub fn unit(self) -> &'static str {
        match self {
            Kpi::MeanHoursToFix => "h",
            Kpi::Satisfaction => "/5",
            _ => "%",
        }
    }
    /// Whether a higher value is better (the arrow's colour).
    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Kpi::MeanHoursToFix | Kpi::RepeatRepair | Kpi::Misdiagnosis | Kpi::ComplaintRate | Kpi::MissedCall
        )
    }
}

/// What a period counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KpiCounts {
    pub tickets: i64,
    pub responded: i64,
    pub responded_late: i64,
    pub arrived: i64,
    pub arrived_late: i64,
    pub resolved: i64,
    pub resolved_late: i64,
    pub hours_to_fix: f64,
    pub visited: i64,
    pub fixed_first: i64,
    pub repeat: i64,
    pub misdiagnoses: i64,
    pub called_back: i64,
    pub satisfaction_sum: i64,
    pub satisfied: i64,
    pub complaints: i64,
    pub calls_in: i64,
    pub calls_missed: i64,
    pub rounds_planned: i64,
    pub rounds_done: i64,
    pub lines_issued: i64,
    pub lines_full: i64,
    pub stops: i64,
    pub stops_verified: i64,
}

fn mean(sum: f64, n: i64) -> Option<f64> {
    (n > 0).then(|| (sum * 10.0 / n as f64).round() / 10.0)
}

/// Every KPI of the counts, in the order of DOMAIN.md §5.
pub fn kpis(c: &KpiCounts) -> Vec<(Kpi, Option<f64>)> {
    vec![
        (Kpi::ResponseOnTime, rate(c.responded - c.responded_late, c.responded)),
        (Kpi::ArrivalOnTime, rate(c.arrived - c.arrived_late, c.arrived)),
        (Kpi::ResolvedInSla, rate(c.resolved - c.resolved_late, c.resolved)),
        (Kpi::MeanHoursToFix, mean(c.hours_to_fix, c.resolved)),
        (Kpi::FirstTimeFix, rate(c.fixed_first, c.visited)),
        (Kpi::RepeatRepair, rate(c.repeat, c.tickets)),
        (Kpi::Misdiagnosis, rate(c.misdiagnoses, c.tickets)),
        (Kpi::Callback, rate(c.called_back, c.resolved)),
        (Kpi::Satisfaction, mean(c.satisfaction_sum as f64, c.called_back)),
        (Kpi::Satisfied, rate(c.satisfied, c.called_back)),
        (Kpi::ComplaintRate, rate(c.complaints, c.tickets)),
        (Kpi::MissedCall, rate(c.calls_missed, c.calls_in)),
        (Kpi::InspectionCompletion, rate(c.rounds_done, c.rounds_planned)),
        (Kpi::PartsFill, rate(c.lines_full, c.lines_issued)),
        (Kpi::OutingsVerified, rate(c.stops_verified, c.stops)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(v: &[(Kpi, Option<f64>)], k: Kpi) -> Option<f64> {
        v.iter().find(|(x, _)| *x == k).and_then(|(_, v)| *v)
    }

    #[test]
    fn an_empty_period_has_no_rates_at_all() {
        let v = kpis(&KpiCounts::default());
        assert_eq!(v.len(), Kpi::ALL.len(), "every KPI, once");
        assert!(v.iter().all(|(_, x)| x.is_none()), "nothing divided by zero: {v:?}");
    }

    #[test]
    fn each_formula_on_a_small_month() {
        let c = KpiCounts {
            tickets: 20,
            responded: 19,
            responded_late: 1,
            arrived: 10,
            arrived_late: 2,
            resolved: 16,
            resolved_late: 1,
            hours_to_fix: 100.0,
            visited: 10,
            fixed_first: 9,
            repeat: 1,
            misdiagnoses: 2,
            called_back: 12,
            satisfaction_sum: 55,
            satisfied: 11,
            complaints: 1,
            calls_in: 50,
            calls_missed: 1,
            rounds_planned: 8,
            rounds_done: 6,
            lines_issued: 40,
            lines_full: 38,
            stops: 0,
            stops_verified: 0,
        };
        let v = kpis(&c);
        assert_eq!(get(&v, Kpi::ResponseOnTime), Some(94.7));
        assert_eq!(get(&v, Kpi::ArrivalOnTime), Some(80.0));
        assert_eq!(get(&v, Kpi::ResolvedInSla), Some(93.8));
        assert_eq!(get(&v, Kpi::MeanHoursToFix), Some(6.3));
        assert_eq!(get(&v, Kpi::FirstTimeFix), Some(90.0));
        assert_eq!(get(&v, Kpi::RepeatRepair), Some(5.0));
        assert_eq!(get(&v, Kpi::Misdiagnosis), Some(10.0));
        assert_eq!(get(&v, Kpi::Callback), Some(75.0));
        assert_eq!(get(&v, Kpi::Satisfaction), Some(4.6));
        assert_eq!(get(&v, Kpi::Satisfied), Some(91.7));
        assert_eq!(get(&v, Kpi::ComplaintRate), Some(5.0));
        assert_eq!(get(&v, Kpi::MissedCall), Some(2.0));
        assert_eq!(get(&v, Kpi::InspectionCompletion), Some(75.0));
        assert_eq!(get(&v, Kpi::PartsFill), Some(95.0));
        assert_eq!(get(&v, Kpi::OutingsVerified), None, "no trips, no rate");
        assert!(!Kpi::MissedCall.higher_is_better() && Kpi::FirstTimeFix.higher_is_better());
    }
}
