//! Spare parts: catalogue, warehouses, the stock ledger (on-hand always equals the sum of
//! the ledger, never negative under concurrency), moving-average cost, bad input, roles.

use crate::both;
use crate::common::TestApp;
use aftercare_domain::defective::Outcome;
use aftercare_domain::parts::{AdjustDirection, LedgerEntry, MovementKind, ledger_on_hand};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn part(app: &TestApp, t: &str, code: &str, name: &str, cost: f64) -> i64 {
    let (s, v) = app
        .post_json(
            t,
            "/api/v1/parts",
            &json!({"code": code, "name": name, "unit": "台", "unit_cost": cost, "min_qty": 2, "max_qty": 10}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn warehouse(app: &TestApp, t: &str, code: &str, name: &str) -> i64 {
    let (s, v) = app.post_json(t, "/api/v1/warehouses", &json!({"code": code, "name": name})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn post(app: &TestApp, t: &str, body: Value) -> (StatusCode, Value) {
    app.post_json(t, "/api/v1/stock/movements", &body).await
}

async fn on_hand(app: &TestApp, t: &str, part: i64, wh: i64) -> (i64, i64, f64) {
    let (s, v) = app.get_json(t, &format!("/api/v1/stock?part_id={part}&warehouse_id={wh}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    match v["items"].as_array().unwrap().first() {
        Some(r) => (r["on_hand"].as_i64().unwrap(), r["defective"].as_i64().unwrap(), r["avg_cost"].as_f64().unwrap()),
        None => (0, 0, 0.0),
    }
}

/// What the ledger of `part` adds up to at `wh`.
async fn ledger(app: &TestApp, t: &str, part: i64, wh: i64) -> i64 {
    let (s, v) = app.get_json(t, &format!("/api/v1/stock/movements?part_id={part}&per_page=500")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let rows = v["items"].as_array().unwrap().iter().map(|m| LedgerEntry {
        kind: MovementKind::parse(m["kind"].as_str().unwrap()).unwrap(),
        direction: m["direction"].as_str().and_then(AdjustDirection::parse),
        outcome: m["outcome"].as_str().and_then(Outcome::parse),
        qty: m["qty"].as_i64().unwrap(),
        warehouse_id: m["warehouse_id"].as_i64().unwrap(),
        to_warehouse_id: m["to_warehouse_id"].as_i64(),
    });
    ledger_on_hand(rows.collect::<Vec<_>>(), wh)
}

both!(parts_catalogue_and_warehouses, |app: TestApp| async move {
    let t = app.token("store").await;
    let (s, p) = app
        .post_json(&t, "/api/v1/parts", &json!({"code": "poe-sw-8", "name": "8口PoE交换机", "unit": "台", "unit_cost": 399.9, "critical": true, "spec": "TL-SF1008P"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["code"], "POE-SW-8");
    assert_eq!(p["unit_cost"], 399.9);
    assert_eq!(p["unit_cost_fen"], 39990);
    assert_eq!(p["critical"], true);
    let id = p["id"].as_i64().unwrap();
    // The code is unique whatever its case.
    let (s, e) = app.post_json(&t, "/api/v1/parts", &json!({"code": "POE-SW-8", "name": "重复", "unit": "台"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "code");
    let (s, e) =
        app.post_json(&t, "/api/v1/parts", &json!({"code": "X 1", "name": "", "unit": "个", "unit_cost": -1})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let fields: Vec<_> =
        e["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["code", "name", "unit_cost"]);
    assert_eq!(app.count("parts").await, 1);

    // PATCH changes only the fields given; a stale version is 409.
    let (s, u) = app
        .send_json(
            Method::PATCH,
            &t,
            &format!("/api/v1/parts/{id}"),
            &json!({"name": "8口千兆PoE交换机", "version": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(u["name"], "8口千兆PoE交换机");
    assert_eq!(u["spec"], "TL-SF1008P");
    assert_eq!(u["unit_cost"], 399.9);
    assert_eq!(u["version"], 2);
    let (s, _) =
        app.send_json(Method::PATCH, &t, &format!("/api/v1/parts/{id}"), &json!({"name": "旧", "version": 1})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, g) = app.get_json(&t, &format!("/api/v1/parts/{id}")).await;
    assert_eq!((s, g["name"].as_str()), (StatusCode::OK, Some("8口千兆PoE交换机")));
    let (s, l) = app.get_json(&t, "/api/v1/parts?q=poe").await;
    assert_eq!((s, l["total"].as_i64()), (StatusCode::OK, Some(1)));
    let (s, _) = app.get_json(&t, "/api/v1/parts/999999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Warehouses: the depot and a technician's vehicle stock.
    warehouse(&app, &t, "dep", "县城备件库").await;
    let (s, me) = app.get_json(&app.token("tech").await, "/api/v1/me").await;
    assert_eq!(s, StatusCode::OK);
    let tech_id = me["id"].as_i64().or(me["user"]["id"].as_i64()).unwrap();
    let (s, v) = app
        .post_json(
            &t,
            "/api/v1/warehouses",
            &json!({"code": "car-1", "name": "随车备件 1", "kind": "vehicle", "holder_user_id": tech_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["holder_user_id"], tech_id);
    let (s, e) = app
        .post_json(
            &t,
            "/api/v1/warehouses",
            &json!({"code": "car-2", "name": "随车备件 2", "kind": "vehicle", "holder_user_id": 987654}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "holder_user_id");
    let (s, e) = app.post_json(&t, "/api/v1/warehouses", &json!({"code": "DEP", "name": "又一个"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, l) = app.get_json(&t, "/api/v1/warehouses").await;
    assert_eq!((s, l["total"].as_i64()), (StatusCode::OK, Some(2)));
    let vid = v["id"].as_i64().unwrap();
    let (s, v) =
        app.send_json(Method::PATCH, &t, &format!("/api/v1/warehouses/{vid}"), &json!({"name": "张工随车备件"})).await;
    assert_eq!((s, v["name"].as_str(), v["kind"].as_str()), (StatusCode::OK, Some("张工随车备件"), Some("vehicle")));
    // Every change is in the audit trail.
    let (s, a) = app.get_json(&app.token("admin").await, "/api/v1/audit?entity=part").await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["total"], 2, "{a}");
});

both!(stock_ledger_and_moving_average, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "HDD-4T", "4TB 监控硬盘", 500.0).await;
    let dep = warehouse(&app, &t, "DEP", "县城备件库").await;
    let car = warehouse(&app, &t, "CAR1", "随车备件").await;

    // Two receipts at different prices: 10 at ¥100, 30 at ¥120 → average ¥115.
    let (s, m) =
        post(&app, &t, json!({"kind": "receipt", "part_id": p, "warehouse_id": dep, "qty": 10, "unit_cost": 100}))
            .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["balance_after"], 10);
    assert_eq!(m["unit_cost"], 100.0);
    assert!(m["movement_no"].as_str().unwrap().starts_with("KC"), "{m}");
    let (s, m) =
        post(&app, &t, json!({"kind": "receipt", "part_id": p, "warehouse_id": dep, "qty": 30, "unit_cost": 120}))
            .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["balance_after"], 40);
    assert_eq!(on_hand(&app, &t, p, dep).await, (40, 0, 115.0));

    // An issue goes out at the average and leaves it as it is.
    let (s, m) =
        post(&app, &t, json!({"kind": "issue", "part_id": p, "warehouse_id": dep, "qty": 5, "note": "城关小学 NVR"}))
            .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!((m["balance_after"].as_i64(), m["unit_cost"].as_f64()), (Some(35), Some(115.0)));
    // A transfer to the vehicle stock: −4 here, +4 there at the same average.
    let (s, m) = post(
        &app,
        &t,
        json!({"kind": "transfer", "part_id": p, "warehouse_id": dep, "to_warehouse_id": car, "qty": 4}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["balance_after"], 31);
    assert_eq!(m["to_warehouse_id"], car);
    assert_eq!(on_hand(&app, &t, p, car).await, (4, 0, 115.0));
    // Stocktake: one missing at the depot, with its reason.
    let (s, m) = post(&app, &t, json!({"kind": "adjustment", "direction": "decrease", "part_id": p, "warehouse_id": dep, "qty": 1, "note": "盘亏"})).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["direction"], "decrease");
    let (s, _) = post(&app, &t, json!({"kind": "adjustment", "direction": "increase", "part_id": p, "warehouse_id": car, "qty": 2, "note": "盘盈"})).await;
    assert_eq!(s, StatusCode::CREATED);
    // One unused back and one broken one from a repair, booked by the storekeeper.
    let (s, m) = post(&app, &t, json!({"kind": "return", "part_id": p, "warehouse_id": dep, "qty": 1})).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let (s, m) = post(
        &app,
        &t,
        json!({"kind": "defective_return", "part_id": p, "warehouse_id": dep, "qty": 1, "old_serial_no": "wd-123"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["old_serial_no"], "WD-123");
    assert_eq!(m["balance_after"], 1, "the defective count");
    let (s, _) =
        post(&app, &t, json!({"kind": "scrap", "part_id": p, "warehouse_id": car, "qty": 1, "note": "运输损坏"})).await;
    assert_eq!(s, StatusCode::CREATED);

    // Depot: 40 − 5 − 4 − 1 + 1 = 31 usable, 1 defective; vehicle: 4 + 2 − 1 = 5.
    assert_eq!(on_hand(&app, &t, p, dep).await, (31, 1, 115.0));
    assert_eq!(on_hand(&app, &t, p, car).await.0, 5);
    assert_eq!(ledger(&app, &t, p, dep).await, 31);
    assert_eq!(ledger(&app, &t, p, car).await, 5);

    // Taking more than is there: 409 naming the part and what is left; nothing written.
    let before = app.count("stock_movements").await;
    let (s, e) = post(&app, &t, json!({"kind": "issue", "part_id": p, "warehouse_id": car, "qty": 6})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "insufficient_stock");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("HDD-4T") && msg.contains("4TB 监控硬盘") && msg.contains("仅剩 5"), "{msg}");
    let (s, _) = post(
        &app,
        &t,
        json!({"kind": "transfer", "part_id": p, "warehouse_id": car, "to_warehouse_id": dep, "qty": 6}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = post(&app, &t, json!({"kind": "adjustment", "direction": "decrease", "part_id": p, "warehouse_id": car, "qty": 6, "note": "x"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(app.count("stock_movements").await, before);
    assert_eq!(on_hand(&app, &t, p, car).await.0, 5);

    // The ledger lists by warehouse, both ways, newest first.
    let (s, l) = app.get_json(&t, &format!("/api/v1/stock/movements?warehouse_id={car}")).await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<_> = l["items"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["scrap", "adjustment", "transfer"]);
    // The ledger is append-only in the database itself.
    let upd = match &app.db {
        aftercare_store::Db::Sqlite(p) => sqlx::query("UPDATE stock_movements SET qty = 99").execute(p).await.is_err(),
        aftercare_store::Db::Postgres(p) => {
            sqlx::query("UPDATE stock_movements SET qty = 99").execute(p).await.is_err()
        }
    };
    assert!(upd, "stock_movements must refuse updates");
});

both!(concurrent_issues_never_go_negative, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "LAMP-EB", "投影机灯泡", 260.0).await;
    let dep = warehouse(&app, &t, "DEP", "县城备件库").await;
    let (s, _) = post(&app, &t, json!({"kind": "receipt", "part_id": p, "warehouse_id": dep, "qty": 10})).await;
    assert_eq!(s, StatusCode::CREATED);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (app, t) = (app.clone(), t.clone());
        tasks.push(tokio::spawn(async move {
            post(&app, &t, json!({"kind": "issue", "part_id": p, "warehouse_id": dep, "qty": 1})).await
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        let (s, v) = task.await.unwrap();
        match s {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => {
                let msg = v["error"]["message"].as_str().unwrap();
                assert!(msg.contains("LAMP-EB") && msg.contains("投影机灯泡") && msg.contains("仅剩 0"), "{msg}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!((ok, refused), (10, 40));
    assert_eq!(on_hand(&app, &t, p, dep).await.0, 0);
    assert_eq!(ledger(&app, &t, p, dep).await, 0);
    assert_eq!(app.count("stock_movements").await, 11);
    // Balances after each issue are 9, 8, … 0: each exactly once.
    let (_, l) = app.get_json(&t, &format!("/api/v1/stock/movements?part_id={p}&kind=issue&per_page=100")).await;
    let mut balances: Vec<i64> =
        l["items"].as_array().unwrap().iter().map(|m| m["balance_after"].as_i64().unwrap()).collect();
    balances.sort_unstable();
    assert_eq!(balances, (0..10).collect::<Vec<_>>());
});

both!(bad_movements_change_nothing, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "AP-1", "吸顶 AP", 300.0).await;
    let dep = warehouse(&app, &t, "DEP", "县城备件库").await;
    let (s, _) = post(&app, &t, json!({"kind": "receipt", "part_id": p, "warehouse_id": dep, "qty": 3})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (movements, audit) = (app.count("stock_movements").await, app.count("audit_log").await);
    let cases = [
        (json!({"kind": "issue", "part_id": p, "warehouse_id": dep, "qty": 0}), "qty"),
        (json!({"kind": "receipt", "part_id": p, "warehouse_id": dep, "qty": -2}), "qty"),
        (json!({"kind": "issue", "part_id": 987654, "warehouse_id": dep, "qty": 1}), "part_id"),
        (json!({"kind": "receipt", "part_id": p, "warehouse_id": 987654, "qty": 1}), "warehouse_id"),
        (
            json!({"kind": "transfer", "part_id": p, "warehouse_id": dep, "to_warehouse_id": dep, "qty": 1}),
            "to_warehouse_id",
        ),
        (
            json!({"kind": "transfer", "part_id": p, "warehouse_id": dep, "to_warehouse_id": 987654, "qty": 1}),
            "to_warehouse_id",
        ),
        (json!({"kind": "transfer", "part_id": p, "warehouse_id": dep, "qty": 1}), "to_warehouse_id"),
        (json!({"kind": "adjustment", "part_id": p, "warehouse_id": dep, "qty": 1, "note": "盘点"}), "direction"),
        (json!({"kind": "adjustment", "direction": "increase", "part_id": p, "warehouse_id": dep, "qty": 1}), "note"),
        (json!({"kind": "borrow", "part_id": p, "warehouse_id": dep, "qty": 1}), "kind"),
        (json!({"kind": "receipt", "part_id": p, "warehouse_id": dep, "qty": 1, "unit_cost": -5}), "unit_cost"),
        (json!({"kind": "issue", "part_id": p, "warehouse_id": dep, "qty": 1, "ticket_id": 987654}), "ticket_id"),
    ];
    for (body, field) in cases {
        let (s, e) = post(&app, &t, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {e}");
        assert_eq!(e["error"]["fields"][0]["field"], field, "{body} → {e}");
    }
    // The same-warehouse transfer says why, in the user's language.
    let (_, e) = post(
        &app,
        &t,
        json!({"kind": "transfer", "part_id": p, "warehouse_id": dep, "to_warehouse_id": dep, "qty": 1}),
    )
    .await;
    assert_eq!(e["error"]["fields"][0]["code"], "same_warehouse");
    assert!(e["error"]["message"].as_str().unwrap().contains("调入仓库"), "{e}");
    // A quantity that is not a whole number is not the right shape: 400.
    let (s, _) = post(&app, &t, json!({"kind": "issue", "part_id": p, "warehouse_id": dep, "qty": 1.5})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(app.count("stock_movements").await, movements);
    assert_eq!(app.count("audit_log").await, audit);
    assert_eq!(on_hand(&app, &t, p, dep).await.0, 3);
});

both!(stock_permissions_per_role, |app: TestApp| async move {
    let store = app.token("store").await;
    let p = part(&app, &store, "CAT6", "六类网线", 1.5).await;
    let dep = warehouse(&app, &store, "DEP", "县城备件库").await;
    let (s, _) = post(&app, &store, json!({"kind": "receipt", "part_id": p, "warehouse_id": dep, "qty": 100})).await;
    assert_eq!(s, StatusCode::CREATED);

    // The manager keeps the catalogue and posts any movement too.
    let manager = app.token("manager").await;
    let (s, _) =
        app.post_json(&manager, "/api/v1/parts", &json!({"code": "RJ45", "name": "水晶头", "unit": "盒"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = post(&app, &manager, json!({"kind": "issue", "part_id": p, "warehouse_id": dep, "qty": 10})).await;
    assert_eq!(s, StatusCode::CREATED);

    // A technician sees stock and brings parts back, but receives, issues and edits nothing.
    let tech = app.token("tech").await;
    let (s, v) = app.get_json(&tech, "/api/v1/stock").await;
    assert_eq!((s, v["total"].as_i64()), (StatusCode::OK, Some(1)));
    // Nothing was issued to him and he fitted nothing: he has nothing to bring back.
    for (kind, field) in [("return", "qty"), ("defective_return", "ticket_id")] {
        let (s, v) = post(&app, &tech, json!({"kind": kind, "part_id": p, "warehouse_id": dep, "qty": 1})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: {v}");
        assert_eq!(v["error"]["fields"][0]["field"], field, "{kind}: {v}");
        let (s, v) = post(&app, &store, json!({"kind": kind, "part_id": p, "warehouse_id": dep, "qty": 1})).await;
        assert_eq!(s, StatusCode::CREATED, "{kind}: {v}");
    }
    for kind in ["receipt", "issue", "scrap"] {
        let (s, _) = post(&app, &tech, json!({"kind": kind, "part_id": p, "warehouse_id": dep, "qty": 1})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{kind}");
    }
    let (s, _) = app.post_json(&tech, "/api/v1/parts", &json!({"code": "X", "name": "X", "unit": "个"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.post_json(&tech, "/api/v1/warehouses", &json!({"code": "X", "name": "X"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.send_json(Method::PATCH, &tech, &format!("/api/v1/parts/{p}"), &json!({"name": "改"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Other staff read; they post nothing.
    for user in ["agent", "engineer"] {
        let tk = app.token(user).await;
        for path in ["/api/v1/parts", "/api/v1/warehouses", "/api/v1/stock", "/api/v1/stock/movements"] {
            let (s, _) = app.get_json(&tk, path).await;
            assert_eq!(s, StatusCode::OK, "{user} {path}");
        }
        let (s, _) = post(&app, &tk, json!({"kind": "return", "part_id": p, "warehouse_id": dep, "qty": 1})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
    }

    // A school sees none of it.
    let school = app.token("school1").await;
    for path in [
        "/api/v1/parts",
        &format!("/api/v1/parts/{p}"),
        "/api/v1/warehouses",
        "/api/v1/stock",
        "/api/v1/stock/movements",
    ] {
        let (s, _) = app.get_json(&school, path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let (s, _) = post(&app, &school, json!({"kind": "return", "part_id": p, "warehouse_id": dep, "qty": 1})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(on_hand(&app, &store, p, dep).await, (91, 1, 1.5));
});

both!(opposite_transfers_race_without_deadlock, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "UPS-BAT", "UPS 蓄电池", 180.0).await;
    let a = warehouse(&app, &t, "A", "县城备件库").await;
    let b = warehouse(&app, &t, "B", "乡镇备件点").await;
    for wh in [a, b] {
        let (s, _) = post(&app, &t, json!({"kind": "receipt", "part_id": p, "warehouse_id": wh, "qty": 20})).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    // 30 transfers each way at once: on PostgreSQL each locks both rows in the same order.
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (app, t) = (app.clone(), t.clone());
        let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
        tasks.push(tokio::spawn(async move {
            post(
                &app,
                &t,
                json!({"kind": "transfer", "part_id": p, "warehouse_id": from, "to_warehouse_id": to, "qty": 1}),
            )
            .await
        }));
    }
    for task in tasks {
        let (s, v) = task.await.unwrap();
        assert!(s == StatusCode::CREATED || s == StatusCode::CONFLICT, "{s}: {v}");
    }
    let (qa, qb) = (on_hand(&app, &t, p, a).await.0, on_hand(&app, &t, p, b).await.0);
    assert_eq!(qa + qb, 40);
    assert_eq!(ledger(&app, &t, p, a).await, qa);
    assert_eq!(ledger(&app, &t, p, b).await, qb);
    // The OpenAPI document names the fixed paths of this area.
    let (_, doc) = app.get_json(&t, "/api/v1/openapi.json").await;
    for path in
        ["/api/v1/parts", "/api/v1/parts/{id}", "/api/v1/warehouses", "/api/v1/stock", "/api/v1/stock/movements"]
    {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
});

both!(parts_and_stock_pages, |app: TestApp| async move {
    let t = app.token("store").await;
    let p = part(&app, &t, "NVR-16", "16路硬盘录像机", 1200.0).await;
    let dep = warehouse(&app, &t, "DEP", "县城备件库").await;
    let (s, _) =
        post(&app, &t, json!({"kind": "receipt", "part_id": p, "warehouse_id": dep, "qty": 1, "unit_cost": 1180.5}))
            .await;
    assert_eq!(s, StatusCode::CREATED);
    let (c, _) = app.browser("tech").await;
    let r = c.get(app.url("/parts?q=nvr")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("备件目录") && html.contains("NVR-16") && html.contains("16路硬盘录像机"), "{html}");
    assert!(html.contains("¥1,200.00"), "amounts grouped by thousands");
    let r = c.get(app.url(&format!("/stock?warehouse_id={dep}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("县城备件库") && html.contains("¥1,180.50"), "{html}");
    // One on hand against the catalogue's minimum of 2: flagged.
    assert!(html.contains("低于下限"), "{html}");
    assert!(html.contains("href=\"/stock\""), "nav link");
    let (school, _) = app.browser("school1").await;
    let r = school.get(app.url("/stock")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
});
