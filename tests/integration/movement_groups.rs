//! Stock movements written in groups (`store::parts::post_many`): a movement short of
//! stock, or naming an unknown part, is answered alone while the rest of its group is written; a stocktake's group is
//! all or nothing; the reserve-quota check runs inside the group's transaction; and a part
//! catalogued with a min but never stocked is short in the depot.

use crate::both;
use crate::common::TestApp;
use aftercare_domain::parts::{MovementInput, NewMovement};
use aftercare_store::parts::{MovementWrite, Posted, post_many};
use aftercare_store::{Db, StoreError, Writer};
use chrono::{SubsecRound, Utc};
use reqwest::StatusCode;
use serde_json::json;

async fn part(app: &TestApp, t: &str, code: &str, min: i64) -> i64 {
    let body = json!({"code": code, "name": format!("{code} 备件"), "unit": "个", "unit_cost": 12.5, "min_qty": min});
    let (s, v) = app.post_json(t, "/api/v1/parts", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn depot(app: &TestApp, t: &str, code: &str) -> i64 {
    let (s, v) = app.post_json(t, "/api/v1/warehouses", &json!({"code": code, "name": format!("{code} 总库")})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

fn movement(kind: &str, part: i64, wh: i64, qty: i64, direction: Option<&str>) -> MovementWrite {
    let input = MovementInput {
        kind: Some(kind.into()),
        part_id: Some(part),
        warehouse_id: Some(wh),
        qty: Some(qty),
        direction: direction.map(Into::into),
        note: direction.map(|_| "盘点差异".into()),
        ..Default::default()
    };
    let m: NewMovement = input.validate().unwrap();
    MovementWrite { movement: m, now: Utc::now().trunc_subsecs(6), expect_on_hand: None }
}

fn store_writer() -> Writer {
    Writer { user_id: None, name: "test".into(), tz: aftercare_store::DEFAULT_TZ }
}

async fn on_hand(app: &TestApp, part: i64, wh: i64) -> i64 {
    let sql = format!("SELECT COALESCE(MAX(on_hand), 0) FROM stock WHERE part_id = {part} AND warehouse_id = {wh}");
    match &app.db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
    }
}

both!(a_short_movement_is_answered_alone_and_the_group_is_written, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "GRP-1", 0).await;
    let w = depot(&app, &t, "GD").await;
    let first = post_many(&app.db, &[(store_writer(), movement("receipt", p, w, 10, None))], false).await.unwrap();
    assert!(matches!(first[0], Posted::Done(..)));
    let group = [
        (store_writer(), movement("issue", p, w, 6, None)),
        (store_writer(), movement("issue", p, w, 5, None)),
        (store_writer(), movement("receipt", p, w, 3, None)),
        (store_writer(), movement("issue", p, w, 7, None)),
        (store_writer(), movement("issue", 999_999, w, 1, None)),
    ];
    let out = post_many(&app.db, &group, false).await.unwrap();
    // In order: 10 − 6 = 4; 5 more is short (4 left); +3 = 7; 7 taken → 0.
    let balances: Vec<String> = out
        .iter()
        .map(|p| match p {
            Posted::Done(row, _) => format!("ok:{}", row.balance_after),
            Posted::Short { part, warehouse, on_hand } => format!("short:{on_hand}:{part}:{warehouse}"),
            Posted::Missing(field) => format!("missing:{field}"),
        })
        .collect();
    // The short one names the part and the warehouse; an unknown part fails only itself.
    assert_eq!(balances, ["ok:4", "short:4:GRP-1 GRP-1 备件:GD 总库", "ok:7", "ok:0", "missing:part_id"]);
    assert_eq!(on_hand(&app, p, w).await, 0);
    assert_eq!(app.count("stock_movements").await, 4, "the short one wrote nothing");
    // The answers are the rows as read back, numbered in order without gaps.
    let Posted::Done(row, _) = &out[3] else { panic!("{out:?}") };
    let (s, v) = app.get_json(&t, &format!("/api/v1/stock/movements?part_id={p}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let stored = v["items"].as_array().unwrap().iter().find(|m| m["id"] == row.id).cloned().unwrap();
    assert_eq!(stored["movement_no"], row.movement_no.as_str());
    assert_eq!(stored["balance_after"], 0);
    assert_eq!(stored["at"], json!(row.at), "the answer's time equals the stored one");
    assert_eq!(stored["part_code"], row.part_code.as_str());
    assert_eq!(stored["warehouse_name"], row.warehouse_name.as_str());
    let numbers: Vec<String> = out
        .iter()
        .filter_map(|p| match p {
            Posted::Done(r, _) => Some(r.movement_no.clone()),
            _ => None,
        })
        .collect();
    let tail: Vec<i64> = numbers.iter().map(|n| n[n.len() - 5..].parse().unwrap()).collect();
    assert_eq!(tail, [2, 3, 4]);
    // Every audit entry of the group is there.
    assert_eq!(app.count("audit_log WHERE entity = 'stock_movement'").await, 4);
});

both!(an_atomic_group_writes_nothing_when_one_is_short, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "GRP-2", 0).await;
    let q = part(&app, &t, "GRP-3", 0).await;
    let w = depot(&app, &t, "GA").await;
    post_many(&app.db, &[(store_writer(), movement("receipt", p, w, 5, None))], false).await.unwrap();
    let before = app.count("stock_movements").await;
    let group = [
        (store_writer(), movement("adjustment", q, w, 2, Some("increase"))),
        (store_writer(), movement("adjustment", p, w, 9, Some("decrease"))),
    ];
    let err = post_many(&app.db, &group, true).await.unwrap_err();
    assert!(matches!(err, StoreError::Insufficient { on_hand: 5, .. }), "{err:?}");
    assert_eq!(app.count("stock_movements").await, before);
    assert_eq!((on_hand(&app, p, w).await, on_hand(&app, q, w).await), (5, 0));
});

both!(the_group_checks_reserve_quotas_before_it_commits, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "GRP-4", 4).await;
    let w = depot(&app, &t, "GQ").await;
    post_many(&app.db, &[(store_writer(), movement("receipt", p, w, 6, None))], false).await.unwrap();
    assert_eq!(app.count("shortage_alerts").await, 0);
    // Two issues in one group take it below min: one alert, owned by the later movement.
    let group =
        [(store_writer(), movement("issue", p, w, 1, None)), (store_writer(), movement("issue", p, w, 2, None))];
    let out = post_many(&app.db, &group, false).await.unwrap();
    let raised: Vec<usize> = out
        .iter()
        .map(|p| match p {
            Posted::Done(_, raised) => raised.len(),
            _ => 99,
        })
        .collect();
    assert_eq!(raised, [0, 1]);
    assert_eq!(app.count("shortage_alerts WHERE closed_at IS NULL").await, 1);
    assert_eq!(app.count("notifications WHERE kind = 'shortage'").await, 2, "the manager and the storekeeper are told");
    // Through the API a receipt back to min closes it in the same transaction.
    let (s, v) = app
        .post_json(
            &t,
            "/api/v1/stock/movements",
            &json!({"kind": "receipt", "part_id": p, "warehouse_id": w, "qty": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(app.count("shortage_alerts WHERE closed_at IS NULL").await, 0);
});

both!(a_catalogued_min_never_stocked_is_short_in_the_depot, |app: TestApp| async move {
    let t = app.token("store").await;
    let w = depot(&app, &t, "GM").await;
    let p = part(&app, &t, "GRP-5", 3).await;
    let none = part(&app, &t, "GRP-6", 0).await;
    assert_eq!(app.count(&format!("stock WHERE part_id = {p}")).await, 0);
    let svc = aftercare_service::Services::new(app.db.clone());
    let run = svc.check_shortages(Utc::now()).await.unwrap();
    assert_eq!(run.raised, 1);
    let (s, v) = app.get_json(&t, "/api/v1/stock/shortages").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!((items[0]["part_id"].as_i64(), items[0]["warehouse_id"].as_i64()), (Some(p), Some(w)));
    assert_eq!(items[0]["current_on_hand"], 0);
    // A part without a min gets no row; the sweep is idempotent.
    assert_eq!(app.count(&format!("stock WHERE part_id = {none}")).await, 0);
    assert_eq!(svc.check_shortages(Utc::now()).await.unwrap().raised, 0);
});

both!(a_short_transfer_leaves_no_stock_row_behind, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "GRP-7", 2).await;
    let from = depot(&app, &t, "GT").await;
    let to = depot(&app, &t, "GU").await;
    let body = json!({"kind": "transfer", "part_id": p, "warehouse_id": from, "to_warehouse_id": to, "qty": 1});
    let (s, v) = app.post_json(&t, "/api/v1/stock/movements", &body).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(app.count(&format!("stock WHERE warehouse_id = {to}")).await, 0, "nothing of it was written");
    assert_eq!(app.count("stock_movements").await, 0);
});

both!(a_stocktake_is_refused_when_its_stock_moved_since_the_books_were_read, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "GRP-8", 0).await;
    let w = depot(&app, &t, "GS").await;
    post_many(&app.db, &[(store_writer(), movement("receipt", p, w, 5, None))], false).await.unwrap();
    let before = app.count("stock_movements").await;
    // Counted 4 against books of 6: but 5 are there now.
    let mut m = movement("adjustment", p, w, 2, Some("decrease"));
    m.expect_on_hand = Some(6);
    let err = post_many(&app.db, &[(store_writer(), m.clone())], true).await.unwrap_err();
    assert!(matches!(err, StoreError::Stale), "{err:?}");
    assert_eq!((app.count("stock_movements").await, on_hand(&app, p, w).await), (before, 5));
    m.expect_on_hand = Some(5);
    let out = post_many(&app.db, &[(store_writer(), m)], true).await.unwrap();
    assert!(matches!(&out[0], Posted::Done(row, _) if row.balance_after == 3), "{out:?}");
});

both!(a_stocktake_of_thousands_of_lines_is_written_in_one_transaction, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "GRP-9", 0).await;
    let w = depot(&app, &t, "GK").await;
    // More rows than one statement could bind on SQLite (16 values × 2,100 > 32,766).
    let group: Vec<_> = (0..2_100).map(|_| (store_writer(), movement("receipt", p, w, 1, None))).collect();
    let out = post_many(&app.db, &group, true).await.unwrap();
    assert_eq!(out.iter().filter(|p| matches!(p, Posted::Done(..))).count(), 2_100);
    assert_eq!(on_hand(&app, p, w).await, 2_100);
    assert_eq!(app.count("stock_movements").await, 2_100);
    assert_eq!(app.count("audit_log WHERE entity = 'stock_movement'").await, 2_100);
});

both!(groups_of_two_nodes_crossing_the_same_rows_never_deadlock, |app: TestApp| async move {
    let t = app.token("store").await;
    let parts = [part(&app, &t, "GRP-10", 0).await, part(&app, &t, "GRP-11", 0).await];
    let (a, b) = (depot(&app, &t, "GX").await, depot(&app, &t, "GY").await);
    for p in parts {
        for w in [a, b] {
            post_many(&app.db, &[(store_writer(), movement("receipt", p, w, 50, None))], false).await.unwrap();
        }
    }
    // Two nodes: each its own group commit on the same database.
    let nodes = [aftercare_service::Services::new(app.db.clone()), aftercare_service::Services::new(app.db.clone())];
    let (actor, _) = nodes[0].authenticate(&t, aftercare_service::auth::SessionKind::Api).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..80_usize {
        let svc = nodes[i % 2].clone();
        let actor = actor.clone();
        // Each node moves both parts in opposite directions and orders.
        let (p, from, to) = match i % 4 {
            0 => (parts[0], a, b),
            1 => (parts[1], b, a),
            2 => (parts[1], a, b),
            _ => (parts[0], b, a),
        };
        tasks.push(tokio::spawn(async move {
            let input = MovementInput {
                kind: Some("transfer".into()),
                part_id: Some(p),
                warehouse_id: Some(from),
                to_warehouse_id: Some(to),
                qty: Some(1),
                ..Default::default()
            };
            svc.post_movement(&actor, &input).await
        }));
    }
    for task in tasks {
        let r = task.await.unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
    for p in parts {
        assert_eq!(on_hand(&app, p, a).await + on_hand(&app, p, b).await, 100);
    }
    assert_eq!(app.count("stock_movements WHERE kind = 'transfer'").await, 80);
});

both!(movement_numbers_carry_the_departments_day, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "GRP-12", 0).await;
    let w = depot(&app, &t, "GN").await;
    // 16:30 UTC is already the next day (00:30) in Shanghai.
    let mut m = movement("receipt", p, w, 1, None);
    m.now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, 16, 30, 0).unwrap();
    let out = post_many(&app.db, &[(store_writer(), m)], false).await.unwrap();
    let Posted::Done(row, _) = &out[0] else { panic!("{out:?}") };
    assert_eq!(row.movement_no, "KC20261125-00001");
});

both!(the_catalogue_quota_is_the_depots_a_vehicle_has_only_its_own, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "GRP-13", 5).await;
    let d = depot(&app, &t, "GV").await;
    let tech_id = crate::tickets::user_id(&app, "tech").await;
    let (s, v) = app
        .post_json(
            &t,
            "/api/v1/warehouses",
            &json!({"code": "VAN-Q", "name": "张师傅随车库", "kind": "vehicle", "holder_user_id": tech_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let van = v["id"].as_i64().unwrap();
    post_many(&app.db, &[(store_writer(), movement("receipt", p, d, 8, None))], false).await.unwrap();
    let body = json!({"kind": "transfer", "part_id": p, "warehouse_id": d, "to_warehouse_id": van, "qty": 2});
    let (s, v) = app.post_json(&t, "/api/v1/stock/movements", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // The depot (6 of min 5) and the vehicle (2, no quota of its own) are both fine.
    let svc = aftercare_service::Services::new(app.db.clone());
    svc.check_shortages(Utc::now()).await.unwrap();
    assert_eq!(app.count("shortage_alerts").await, 0);
    let (_, v) = app.get_json(&t, &format!("/api/v1/stock?part_id={p}&warehouse_id={van}")).await;
    assert_eq!((v["items"][0]["min_qty"].as_i64(), v["items"][0]["max_qty"].as_i64()), (Some(0), None));
    // A quota set for the vehicle is its own: below it, an alert for the vehicle.
    let q = json!({"part_id": p, "warehouse_id": van, "min_qty": 3, "max_qty": 4});
    let (s, v) = app.send_json(reqwest::Method::PUT, &t, "/api/v1/stock/quotas", &q).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(app.count(&format!("shortage_alerts WHERE warehouse_id = {van} AND closed_at IS NULL")).await, 1);
    assert_eq!(app.count(&format!("shortage_alerts WHERE warehouse_id = {d}")).await, 0);
});
