//! The demo county's week: Friday's technical meeting with its agenda, a rectification the
//! engineer proposed from the hot spots waiting for the manager, and next week's plan with
//! a maintenance item added by hand.

use crate::demo_actor;
use aftercare_domain::CustomerId;
use aftercare_domain::analysis::RectificationInput;
use aftercare_domain::meetings::{AgendaInput, MeetingInput};
use aftercare_domain::work_plan::{PlanItemInput, monday_of};
use aftercare_service::{Result, Services};
use chrono::{Datelike, Duration, Utc};

pub(crate) async fn demo_week(svc: &Services, school: CustomerId) -> Result<()> {
    let eng = demo_actor(svc, "engineer").await?;
    let tech = demo_actor(svc, "tech").await?;
    let now = Utc::now();
    let today = svc.today();
    let friday = monday_of(today) + Duration::days(4);
    let friday = if friday < today { friday + Duration::days(7) } else { friday };
    let meeting = MeetingInput {
        held_on: Some(friday.to_string()),
        attendee_ids: Some(vec![eng.id.0, tech.id.0]),
        agenda: Some(vec![
            AgendaInput {
                title: Some("本周监控故障回顾".into()), presenter_id: Some(eng.id.0), ..Default::default()
            },
            AgendaInput { title: Some("城关片区巡检隐患整改".into()), ..Default::default() },
        ]),
        ..Default::default()
    };
    let m = svc.plan_meeting(&eng, &meeting, now).await?;
    let rect = RectificationInput {
        title: Some("城关镇中心小学监控系统整改：NVR 硬盘更换、立杆加固".into()),
        detail: Some("本月 NVR 硬盘告警与立杆锈蚀多次出现，建议统一更换硬盘并加固立杆".into()),
        source: Some("meeting".into()),
        meeting_id: Some(m.meeting.id),
        customer_id: Some(school.0),
        system: Some("surveillance".into()),
        owner_id: Some(tech.id.0),
        due_on: Some((today + Duration::days(21)).to_string()),
        ..Default::default()
    };
    svc.propose_rectification(&eng, &rect, now).await?;
    let next_monday = monday_of(today) + Duration::days(7);
    let item = PlanItemInput {
        user_id: Some(tech.id.0),
        day: Some((next_monday + Duration::days(i64::from(today.weekday().num_days_from_monday() % 5))).to_string()),
        kind: Some("maintenance".into()),
        title: Some("城关片区接入交换机除尘、检查供电".into()),
        customer_id: Some(school.0),
    };
    svc.add_plan_item(&eng, &item, now).await?;
    Ok(())
}
