//! The demo's spare-parts warehouse: a catalogue across the six systems (DOMAIN.md §1.5
//! categories), the county depot and each technician's vehicle stock, receipts at real
//! prices, parts sent out to the vehicles, one part below its reserve quota, and the
//! technician's requisitions for open tickets at each step: issued (a 领条 to print),
//! approved and waiting at the counter, waiting for the manager, and a tool lent to him.

use crate::{Result, Services, demo_actor};
use aftercare_domain::RequisitionId;
use aftercare_domain::parts::{MovementInput, PartInput, WarehouseInput};
use aftercare_domain::requisitions::{IssueType, ReqAction, RequisitionInput, RequisitionLineInput};
use aftercare_service::requisitions::ActionInput;

/// (code, name, spec, unit, category, critical, supplier, unit cost yuan, lead days, min, max, depot stock)
type DemoPart =
    (&'static str, &'static str, &'static str, &'static str, &'static str, bool, &'static str, f64, i64, i64, i64, i64);

const PARTS: &[DemoPart] = &[
    ("NET-SW24", "24口千兆交换机", "S1730S-L24T", "台", "网络", true, "华为", 1280.0, 7, 2, 6, 4),
    ("NET-AP", "吸顶无线AP", "AP4050DN", "台", "网络", false, "华为", 860.0, 7, 3, 10, 6),
    ("NET-SFP", "千兆单模光模块", "SFP-GE-LX", "个", "网络", false, "华为", 95.0, 5, 5, 20, 12),
    ("CAB-CAT6", "六类网线", "305米/箱", "箱", "线材", false, "安普", 520.0, 3, 2, 6, 3),
    ("CAB-RJ45", "六类水晶头", "100个/盒", "盒", "线材", false, "安普", 45.0, 3, 5, 20, 9),
    ("CCTV-HDD4T", "监控硬盘 4TB", "WD40PURX", "块", "监控", true, "西部数据", 620.0, 5, 4, 12, 7),
    ("CCTV-CAM", "半球网络摄像机", "DS-2CD3326", "台", "监控", false, "海康威视", 380.0, 7, 3, 10, 5),
    ("CCTV-PSU", "摄像机电源适配器", "12V 2A", "个", "监控", false, "海康威视", 28.0, 3, 10, 30, 8),
    ("BBT-LAMP", "投影机灯泡", "ELPLP96", "个", "班班通", true, "爱普生", 450.0, 10, 4, 12, 5),
    ("BBT-PEN", "电子白板笔", "通用", "支", "班班通", false, "鸿合", 35.0, 3, 10, 40, 22),
    ("BBT-OPS", "一体机OPS电脑模块", "i5/8G/256G", "台", "班班通", true, "希沃", 2100.0, 14, 1, 3, 2),
    ("CLD-TERM", "云终端", "RK3568", "台", "云终端", false, "锐捷", 690.0, 10, 3, 10, 4),
    ("BC-AMP", "广播功放", "250W", "台", "广播", true, "ITC", 1350.0, 10, 1, 3, 1),
    ("ROOM-BATT", "UPS蓄电池", "12V 100Ah", "块", "机房", true, "山特", 780.0, 7, 4, 16, 0),
    ("TOOL-CRIMP", "网线压线钳", "RJ45", "把", "工具", false, "世达", 85.0, 3, 2, 4, 3),
];

/// Loads the warehouse; returns how many movements it posted.
pub(crate) async fn demo_parts(svc: &Services) -> Result<usize> {
    let store = demo_actor(svc, "store").await?;
    let mut parts = Vec::new();
    for (code, name, spec, unit, category, critical, supplier, cost, lead, min, max, _) in PARTS {
        let p = svc
            .create_part(
                &store,
                &PartInput {
                    code: Some((*code).into()),
                    name: Some((*name).into()),
                    spec: Some((*spec).into()),
                    unit: Some((*unit).into()),
                    category: Some((*category).into()),
                    critical: Some(*critical),
                    supplier: Some((*supplier).into()),
                    unit_cost: Some(*cost),
                    lead_time_days: Some(*lead),
                    min_qty: Some(*min),
                    max_qty: Some(*max),
                    ..Default::default()
                },
            )
            .await?;
        parts.push(p.id);
    }
    let depot = svc
        .create_warehouse(
            &store,
            &WarehouseInput {
                code: Some("DEPOT".into()),
                name: Some("县城备件库".into()),
                kind: Some("depot".into()),
                ..Default::default()
            },
        )
        .await?;
    let mut vehicles = Vec::new();
    for (username, name) in [("tech", "张师傅随车库"), ("tech2", "赵师傅随车库")] {
        let holder = demo_actor(svc, username).await?;
        let w = svc
            .create_warehouse(
                &store,
                &WarehouseInput {
                    code: Some(format!("CAR-{}", username.to_uppercase())),
                    name: Some(name.into()),
                    kind: Some("vehicle".into()),
                    holder_user_id: Some(holder.id.0),
                    ..Default::default()
                },
            )
            .await?;
        vehicles.push(w.id);
    }
    let mut posted = 0;
    let post = |kind: &str, part: i64, wh: i64, qty: i64, to: Option<i64>| MovementInput {
        kind: Some(kind.into()),
        part_id: Some(part),
        warehouse_id: Some(wh),
        qty: Some(qty),
        to_warehouse_id: to,
        ..Default::default()
    };
    for (i, (.., stock)) in PARTS.iter().enumerate() {
        if *stock > 0 {
            svc.post_movement(&store, &post("receipt", parts[i], depot.id, *stock, None)).await?;
            posted += 1;
        }
    }
    // The technicians carry the everyday parts in their vehicles.
    for (i, (code, ..)) in PARTS.iter().enumerate() {
        if ["CCTV-PSU", "BBT-PEN", "CAB-RJ45", "NET-SFP"].contains(code) {
            for v in &vehicles {
                // A vehicle carries a small kit: at most 4 of each, no minimum.
                let quota = aftercare_domain::shortages::QuotaInput {
                    part_id: Some(parts[i]),
                    warehouse_id: Some(*v),
                    min_qty: Some(0),
                    max_qty: Some(4),
                };
                svc.set_quota(&store, &quota).await?;
                svc.post_movement(&store, &post("transfer", parts[i], depot.id, 2, Some(*v))).await?;
                posted += 1;
            }
        }
    }
    posted += demo_requisitions(svc, depot.id, &parts).await?;
    Ok(posted)
}

/// 张师傅's requisitions from the depot for the open demo tickets: one issued, one
/// approved, one waiting for the manager. Returns the movements the issue posted.
async fn demo_requisitions(svc: &Services, depot: i64, parts: &[i64]) -> Result<usize> {
    let (tech, manager, store) =
        (demo_actor(svc, "tech").await?, demo_actor(svc, "manager").await?, demo_actor(svc, "store").await?);
    let open = svc
        .list_tickets(
            &tech,
            aftercare_service::tickets::TicketQuery {
                statuses: vec!["scheduled".into(), "in_progress".into(), "diagnosed".into()],
                ..Default::default()
            },
            aftercare_service::Page::new(Some(1), Some(3)),
        )
        .await?
        .items;
    let part = |code: &str| PARTS.iter().position(|p| p.0 == code).map(|i| parts[i]);
    // (part, qty, purpose, lent?, the last step it has had: none is waiting for the manager)
    let wanted = [
        ("NET-SW24", 1, "更换故障交换机", false, Some(ReqAction::Issue)),
        ("BBT-LAMP", 1, "更换投影机灯泡", false, Some(ReqAction::Approve)),
        ("CCTV-HDD4T", 2, "更换录像机硬盘", false, None),
        ("TOOL-CRIMP", 1, "借用工具：布线整改", true, Some(ReqAction::Issue)),
    ];
    let mut posted = 0;
    for ((code, qty, purpose, lent, upto), ticket) in
        wanted.iter().zip(open.iter().map(|t| Some(t.id)).chain(std::iter::repeat(None)))
    {
        let Some(part_id) = part(code) else { continue };
        let input = RequisitionInput {
            warehouse_id: Some(depot),
            ticket_id: ticket,
            purpose: Some((*purpose).into()),
            issue_type: lent.then(|| IssueType::Borrow.as_str().into()),
            lines: Some(vec![RequisitionLineInput { part_id: Some(part_id), qty: Some(*qty), serial_no: None }]),
        };
        let r = svc.create_requisition(&tech, &input).await?;
        let id = RequisitionId(r.requisition.id);
        if upto.is_some() {
            let note = ActionInput { note: Some("同意".into()), ..Default::default() };
            svc.act_requisition(&manager, id, ReqAction::Approve, &note).await?;
        }
        if *upto == Some(ReqAction::Issue) {
            svc.act_requisition(&store, id, ReqAction::Issue, &ActionInput::default()).await?;
            posted += 1;
        }
    }
    Ok(posted)
}
