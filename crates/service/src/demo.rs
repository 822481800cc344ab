//! Loads the demo county: its schools and equipment, and one user per role.

use crate::{Result, Services};
use aftercare_domain::CustomerId;
use aftercare_domain::users::UserInput;
use aftercare_store::Writer;

/// A demo account: username, password, roles.
pub struct DemoUser {
    pub username: &'static str,
    pub password: &'static str,
    pub display_name: &'static str,
    pub roles: &'static [&'static str],
}

pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser { username: "admin", password: "admin-2026", display_name: "系统管理员", roles: &["admin"] },
    DemoUser { username: "manager", password: "manager-2026", display_name: "陈经理", roles: &["manager"] },
    DemoUser { username: "agent", password: "agent-2026", display_name: "李客服", roles: &["agent"] },
    DemoUser { username: "engineer", password: "engineer-2026", display_name: "王工程师", roles: &["engineer"] },
    DemoUser { username: "tech", password: "tech-2026", display_name: "张师傅", roles: &["technician"] },
    DemoUser { username: "store", password: "store-2026", display_name: "刘库管", roles: &["storekeeper"] },
    DemoUser {
        username: "school",
        password: "school-2026",
        display_name: "城关镇中心小学 信息中心",
        roles: &["customer"],
    },
];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub customers: usize,
    pub equipment: usize,
    pub users: usize,
    /// Nothing was loaded: the database already had schools.
    pub skipped: bool,
}

impl Services {
    /// Loads the demo county into an empty database; does nothing if schools exist.
    pub async fn load_demo(&self, seed: u64) -> Result<DemoSummary> {
        if aftercare_store::customers::count(&self.db).await? > 0 {
            return Ok(DemoSummary { skipped: true, ..Default::default() });
        }
        let w = Writer { user_id: None, name: "demo".into() };
        let schools = crate::demo_data::demo_county(seed, chrono::Utc::now().date_naive());
        let mut customers = Vec::new();
        for s in &schools {
            customers.push(s.customer.validate()?);
        }
        let ids = aftercare_store::customers::create_many(&self.db, &w, &customers).await?;
        let mut equipment = Vec::new();
        for (s, id) in schools.iter().zip(&ids) {
            for e in &s.equipment {
                let mut e = e.clone();
                e.customer_id = Some(CustomerId(*id));
                equipment.push(e.validate()?);
            }
        }
        aftercare_store::equipment::create_many(&self.db, &w, &equipment).await?;
        // The school account belongs to 城关镇中心小学 (or the first school).
        let school_id = customers
            .iter()
            .zip(&ids)
            .find(|(c, _)| c.name.contains("城关镇中心小学"))
            .or_else(|| customers.iter().zip(&ids).next())
            .map(|(_, id)| CustomerId(*id));
        let mut users = 0;
        for u in DEMO_USERS {
            if aftercare_store::users::by_username(&self.db, u.username).await?.is_some() {
                continue;
            }
            let customer_id = if u.roles.contains(&"customer") { school_id } else { None };
            let input = UserInput {
                username: Some(u.username.into()),
                password: Some(u.password.into()),
                display_name: Some(u.display_name.into()),
                roles: Some(u.roles.iter().map(|r| r.to_string()).collect()),
                customer_id,
                ..Default::default()
            };
            self.create_user(None, &input).await?;
            users += 1;
        }
        Ok(DemoSummary { customers: customers.len(), equipment: equipment.len(), users, skipped: false })
    }
}
