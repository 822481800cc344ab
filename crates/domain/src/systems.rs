//! The six systems the department maintains (DESIGN.md, manual §2.1(2)).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum System {
    Network,
    ServerRoom,
    Surveillance,
    Classroom,
    Cloud,
    Broadcast,
}

impl System {
    pub const ALL: [System; 6] = [
        System::Network,
        System::ServerRoom,
        System::Surveillance,
        System::Classroom,
        System::Cloud,
        System::Broadcast,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            System::Network => "network",
            System::ServerRoom => "server_room",
            System::Surveillance => "surveillance",
            System::Classroom => "classroom",
            System::Cloud => "cloud",
            System::Broadcast => "broadcast",
        }
    }

    pub fn parse(s: &str) -> Option<System> {
        let s = s.trim();
        System::ALL.into_iter().find(|x| x.as_str() == s || x.zh() == s)
    }

    /// The Chinese name, also accepted on import so a spreadsheet can say 校园监控.
    pub fn zh(self) -> &'static str {
        match self {
            System::Network => "校园网络",
            System::ServerRoom => "中心机房",
            System::Surveillance => "校园监控",
            System::Classroom => "班班通",
            System::Cloud => "云主机/云终端",
            System::Broadcast => "校园广播",
        }
    }
}

impl std::fmt::Display for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_and_chinese_names() {
        for s in System::ALL {
            assert_eq!(System::parse(s.as_str()), Some(s));
            assert_eq!(System::parse(s.zh()), Some(s));
        }
        assert_eq!(System::parse("lighting"), None);
    }
}
try_from_string!(System);
