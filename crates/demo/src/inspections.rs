//! The demo county's inspections (巡检): the town of the school account planned over the
//! coming weeks for both technicians, and one round done today at that school — a fault
//! that became a ticket, a hazard on the hazard list, a replacement suggested, the school's
//! question answered, signed — waiting for the desk's callback.

use crate::{DEMO_SIGNATURE, demo_actor};
use aftercare_domain::inspections::{
    CompleteInput, InspectionAction, InspectionInput, LineResultInput, PlanInput, QuestionInput, ResultsInput,
};
use aftercare_domain::tickets::SignatureInput;
use aftercare_domain::{CustomerId, InspectionId};
use aftercare_service::{Result, Services};
use chrono::{Duration, Utc};

/// Plans and walks the demo rounds; returns how many were planned.
pub(crate) async fn demo_inspections(svc: &Services, school: CustomerId) -> Result<usize> {
    let eng = demo_actor(svc, "engineer").await?;
    let tech = demo_actor(svc, "tech").await?;
    let tech2 = demo_actor(svc, "tech2").await?;
    let now = Utc::now();
    let today = svc.today();
    // The school's own town over the next four weeks, the phase proposed from its systems' age.
    let town = svc.get_customer(&eng, school).await?.customer.town;
    let plan = PlanInput {
        phase: None,
        systems: Some(vec!["network".into(), "surveillance".into(), "classroom".into()]),
        planned_from: Some((today + Duration::days(1)).to_string()),
        planned_until: Some((today + Duration::days(28)).to_string()),
        town: Some(town),
        customer_ids: None,
        technician_ids: Some(vec![tech.id.0, tech2.id.0]),
    };
    let planned = svc.plan_inspections(&eng, &plan, now).await?.len();
    // Today's round at the school, done on the spot.
    let one = InspectionInput {
        customer_id: Some(school.0),
        phase: Some("mid".into()),
        systems: Some(vec!["surveillance".into(), "server_room".into()]),
        planned_on: Some(today.to_string()),
        technician_ids: Some(vec![tech.id.0]),
    };
    let d = svc.plan_inspection(&eng, &one, now).await?;
    let id = InspectionId(d.inspection.id);
    svc.inspection_action(&tech, id, InspectionAction::Start, None, now).await?;
    let lines: Vec<LineResultInput> = d
        .items
        .iter()
        .enumerate()
        .map(|(n, l)| {
            let (result, note, replace) = match (l.code.as_str(), n) {
                ("nvr_disk_status", _) if l.equipment_id.is_some() => {
                    ("fault", Some("2 号盘 SMART 告警，录像缺失两天"), false)
                }
                ("room_temp_c", _) => ("ok", None, false),
                (_, 3) => ("hazard", Some("立杆底座锈蚀，雷雨季前需加固"), true),
                _ => ("ok", None, false),
            };
            LineResultInput {
                item_id: Some(l.id),
                result: Some(result.into()),
                value: (l.code == "room_temp_c").then_some(24.5),
                note: note.map(str::to_owned),
                suggest_replace: Some(replace),
            }
        })
        .collect();
    svc.record_results(&tech, id, &ResultsInput { items: Some(lines) }, now).await?;
    let q = QuestionInput {
        question: Some("监控录像能保存多久？".into()),
        answer: Some("按教育局要求保存 30 天以上，硬盘满后自动覆盖最早的录像".into()),
    };
    svc.add_inspection_question(&tech, id, &q, now).await?;
    let done = CompleteInput {
        signature: Some(SignatureInput {
            signer_name: Some("王老师".into()),
            image_png_base64: Some(DEMO_SIGNATURE.into()),
        }),
        summary: Some("监控一处硬盘故障已转工单，立杆锈蚀列入隐患".into()),
        handled_on_site: Some("机柜除尘，紧固 NVR 电源线".into()),
    };
    svc.complete_inspection(&tech, id, &done, now).await?;
    Ok(planned + 1)
}
