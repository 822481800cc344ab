//! Demo county: a seeded, deterministic 青阳县 (8 towns, 30 schools, ~740 pieces of equipment).
//!
//! Pure data: no I/O, no clock, no randomness from outside. The school list is fixed; the
//! seed drives everything else (people, phones, counts, models, serials, dates, statuses).
//! All names, numbers and serials are invented for demonstrations and tests.

use aftercare_domain::customers::{ContactInput, CustomerInput};
use aftercare_domain::equipment::EquipmentInput;
use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use std::collections::HashSet;

/// The county every demo school belongs to.
pub const COUNTY: &str = "青阳县";
const AREA_CODE: &str = "0566";
const COUNTY_CODE: &str = "QY";

/// One school and the equipment installed there. `equipment[*].customer_id` is `None`:
/// the caller fills it in after inserting the school.
#[derive(Debug, Clone)]
pub struct DemoSchool {
    pub customer: CustomerInput,
    pub equipment: Vec<EquipmentInput>,
}

/// The whole demo county for `seed`. `today` anchors install and warranty dates: installs
/// fall between 2016 and a month before `today`, with a realistic share of warranties
/// expired, ending within 90 days, and still valid.
pub fn demo_county(seed: u64, today: NaiveDate) -> Vec<DemoSchool> {
    let mut g = Gen::new(seed, today);
    let mut per_town = [0usize; 8];
    let mut out = Vec::with_capacity(SCHOOLS.len());
    for def in SCHOOLS.iter() {
        let n = per_town.get(def.town).copied().unwrap_or(0) + 1;
        if let Some(c) = per_town.get_mut(def.town) {
            *c = n;
        }
        let customer = g.customer(def, n);
        let equipment = g.equipment(def);
        out.push(DemoSchool { customer, equipment });
    }
    out
}

// ---------------------------------------------------------------------------------------
// The fixed geography
// ---------------------------------------------------------------------------------------

struct Town {
    name: &'static str,
    code: &'static str,
    /// Shortest drive from the county-seat depot; schools of the town add 0–8 minutes.
    minutes: i32,
}

/// Ordered by distance from the county seat (城关镇).
static TOWNS: [Town; 8] = [
    Town { name: "城关镇", code: "CG", minutes: 10 },
    Town { name: "蓉城镇", code: "RC", minutes: 20 },
    Town { name: "新河镇", code: "XH", minutes: 30 },
    Town { name: "木镇镇", code: "MZ", minutes: 40 },
    Town { name: "庙前镇", code: "MQ", minutes: 50 },
    Town { name: "杨田镇", code: "YT", minutes: 60 },
    Town { name: "陵阳镇", code: "LY", minutes: 70 },
    Town { name: "酉华镇", code: "YH", minutes: 81 },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// 县直高中
    High,
    /// 初级中学 / 九年一贯制
    Middle,
    /// 中心小学 / 实验小学
    Central,
    /// 村小学
    Village,
    /// 教学点
    Point,
}

struct SchoolDef {
    town: usize,
    name: &'static str,
    kind: Kind,
    /// ASCII short name, used for the school's mail domain.
    slug: &'static str,
    /// Street (town schools) or village (村小, 教学点).
    place: &'static str,
}

const fn s(town: usize, name: &'static str, kind: Kind, slug: &'static str, place: &'static str) -> SchoolDef {
    SchoolDef { town, name, kind, slug, place }
}

static SCHOOLS: [SchoolDef; 30] = [
    s(0, "青阳县第一中学", Kind::High, "qyyz", "九华路"),
    s(0, "青阳县第二中学", Kind::High, "qyez", "长江路"),
    s(0, "城关镇初级中学", Kind::Middle, "qycgcz", "文化路"),
    s(0, "城关镇中心小学", Kind::Central, "qycgxx", "人民路"),
    s(0, "城关镇实验小学", Kind::Central, "qysyxx", "育才路"),
    s(0, "城关镇东山村小学", Kind::Village, "qydsxx", "东山村"),
    s(1, "蓉城镇中心小学", Kind::Central, "qyrcxx", "新华街"),
    s(1, "蓉城镇初级中学", Kind::Middle, "qyrccz", "学府路"),
    s(1, "蓉城镇五星村小学", Kind::Village, "qywxxx", "五星村"),
    s(1, "蓉城镇长垅教学点", Kind::Point, "qycljxd", "长垅村"),
    s(2, "新河镇中心小学", Kind::Central, "qyxhxx", "中心街"),
    s(2, "新河镇初级中学", Kind::Middle, "qyxhcz", "振兴路"),
    s(2, "新河镇青山村小学", Kind::Village, "qyqsxx", "青山村"),
    s(3, "青阳县第三中学", Kind::High, "qysz", "学府路"),
    s(3, "木镇镇中心小学", Kind::Central, "qymzxx", "老街"),
    s(3, "木镇镇初级中学", Kind::Middle, "qymzcz", "团结路"),
    s(3, "木镇镇双河村小学", Kind::Village, "qyshxx", "双河村"),
    s(3, "木镇镇杨林教学点", Kind::Point, "qyyljxd", "杨林村"),
    s(4, "庙前镇中心小学", Kind::Central, "qymqxx", "中心街"),
    s(4, "庙前镇初级中学", Kind::Middle, "qymqcz", "建设路"),
    s(4, "庙前镇联合村小学", Kind::Village, "qylhxx", "联合村"),
    s(5, "杨田镇中心小学", Kind::Central, "qyytxx", "新街"),
    s(5, "杨田镇初级中学", Kind::Middle, "qyytcz", "文化路"),
    s(5, "杨田镇栗山村小学", Kind::Village, "qylsxx", "栗山村"),
    s(6, "陵阳镇中心小学", Kind::Central, "qylyxx", "古镇路"),
    s(6, "陵阳镇初级中学", Kind::Middle, "qylycz", "振兴路"),
    s(6, "陵阳镇沙济村小学", Kind::Village, "qysjxx", "沙济村"),
    s(7, "酉华镇中心小学", Kind::Central, "qyyhxx", "中心街"),
    s(7, "酉华镇九年一贯制学校", Kind::Middle, "qyyhjy", "育才路"),
    s(7, "酉华镇二酉教学点", Kind::Point, "qyeyjxd", "二酉村"),
];

// ---------------------------------------------------------------------------------------
// People
// ---------------------------------------------------------------------------------------

/// Surnames common around 池州, with the pinyin used in personal mail addresses.
static SURNAMES: [(&str, &str); 24] = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("汪", "wang"),
    ("方", "fang"),
    ("程", "cheng"),
    ("章", "zhang"),
    ("檀", "tan"),
    ("胡", "hu"),
    ("朱", "zhu"),
    ("钱", "qian"),
    ("查", "zha"),
    ("柯", "ke"),
    ("江", "jiang"),
    ("叶", "ye"),
    ("何", "he"),
    ("孙", "sun"),
];

static GIVEN: [&str; 40] = [
    "建国", "志强", "海峰", "小燕", "丽", "敏", "伟", "明华", "春生", "文斌", "国庆", "红梅", "晓东", "俊", "秀英",
    "立新", "德胜", "玉兰", "光辉", "静", "磊", "婷", "宏", "卫东", "长青", "和平", "金水", "少华", "雪芳", "永红",
    "海燕", "家宝", "勇", "芳", "峰", "丹", "振华", "晓梅", "春燕", "志刚",
];

static MOBILE_PREFIXES: [&str; 18] = [
    "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "158", "159", "177", "180", "182", "187",
    "188", "189",
];

// ---------------------------------------------------------------------------------------
// Equipment catalogue
// ---------------------------------------------------------------------------------------

/// Serial patterns: `#` a digit, `@` a letter (no I or O), `*` either; anything else is
/// literal. `HIK` derives a 海康威视-style serial from the model.
#[derive(Debug, Clone, Copy)]
struct Model {
    brand: &'static str,
    model: &'static str,
    sn: &'static str,
}

const fn m(brand: &'static str, model: &'static str, sn: &'static str) -> Model {
    Model { brand, model, sn }
}

const SN_HUAWEI: &str = "2102####@@##@#######";
const SN_H3C: &str = "219801A*****##@#####";
const SN_RUIJIE: &str = "G1@@##@######";
const SN_TPLINK: &str = "2############";
const SN_INSPUR: &str = "21########";
const SN_LENOVO_SRV: &str = "J30@****";
const SN_LENOVO_PC: &str = "PC1*****";
const SN_SANTAK: &str = "83##@########";
const SN_VERTIV: &str = "10#######@@#@#";
const SN_EMERSON: &str = "EM##@#######";
const SN_GREE: &str = "###@@#########";
const SN_MIDEA: &str = "34######@#####";
const SN_TOTEN: &str = "TT##@######";
const SN_HIK: &str = "HIK";
const SN_DAHUA: &str = "#@##***@@*#####";
const SN_UNIVIEW: &str = "210235C***@#########";
const SN_SEAGATE: &str = "ZW6#****";
const SN_WD: &str = "WX##@##*****";
const SN_SEEWO: &str = "SW##@@@#######";
const SN_HITE: &str = "HV##@########";
const SN_EPSON: &str = "@#@@#######";
const SN_BENQ: &str = "PD@@@#####SL0";
const SN_DFZY: &str = "DF##@#######";
const SN_SANGFOR: &str = "SF##@#########";
const SN_DSPPA: &str = "DSP##@#######";
const SN_ITC: &str = "ITC##@######";

struct NetLine {
    core: Model,
    access: Model,
    poe: Model,
    router: Model,
    firewall: Model,
    ap: Model,
}

static NET: [NetLine; 3] = [
    NetLine {
        core: m("华为", "S5735-S24T4X", SN_HUAWEI),
        access: m("华为", "S5735-L24T4S-A", SN_HUAWEI),
        poe: m("华为", "S5735-L24P4S-A", SN_HUAWEI),
        router: m("华为", "AR6120", SN_HUAWEI),
        firewall: m("华为", "USG6510E", SN_HUAWEI),
        ap: m("华为", "AirEngine 5761-11", SN_HUAWEI),
    },
    NetLine {
        core: m("H3C", "S5560X-30C-EI", SN_H3C),
        access: m("H3C", "LS-S5130S-28S-EI", SN_H3C),
        poe: m("H3C", "LS-S5120V3-28P-PWR-LI", SN_H3C),
        router: m("H3C", "ER3260G2", SN_H3C),
        firewall: m("H3C", "F1000-AK125", SN_H3C),
        ap: m("H3C", "WA6320", SN_H3C),
    },
    NetLine {
        core: m("锐捷", "RG-S5750C-28GT4XS-H", SN_RUIJIE),
        access: m("锐捷", "RG-S2910-24GT4XS-E", SN_RUIJIE),
        poe: m("锐捷", "RG-S2910-24GT4SFP-UP-H", SN_RUIJIE),
        router: m("锐捷", "RG-EG3000XE", SN_RUIJIE),
        firewall: m("锐捷", "RG-WALL 1600-Z3200-S", SN_RUIJIE),
        ap: m("锐捷", "RG-AP720-L", SN_RUIJIE),
    },
];

const TP_ACCESS: Model = m("TP-LINK", "TL-SG1024DT", SN_TPLINK);
const TP_POE: Model = m("TP-LINK", "TL-SL1226P", SN_TPLINK);
const TP_ROUTER: Model = m("TP-LINK", "TL-ER3220G", SN_TPLINK);
const TP_AP: Model = m("TP-LINK", "TL-AP1202GC-PoE/DC", SN_TPLINK);
const TP_FIBER_B: Model = m("TP-LINK", "TL-FC311B-20", SN_TPLINK);

static SERVERS: [Model; 4] = [
    m("浪潮", "NF5280M6", SN_INSPUR),
    m("浪潮", "NF5270M6", SN_INSPUR),
    m("联想", "ThinkSystem SR650", SN_LENOVO_SRV),
    m("华为", "FusionServer 2288H V5", SN_HUAWEI),
];
static STORAGE: [Model; 2] =
    [m("华为", "OceanStor 2200 V3", SN_HUAWEI), m("联想", "ThinkSystem DE2000H", SN_LENOVO_SRV)];
static UPS_BIG: [Model; 3] =
    [m("山特", "C10KS", SN_SANTAK), m("华为", "UPS2000-G-10KRTL", SN_HUAWEI), m("维谛", "UHA1R-0100L", SN_VERTIV)];
static UPS_MID: [Model; 3] =
    [m("山特", "C6KS", SN_SANTAK), m("山特", "C3KS", SN_SANTAK), m("华为", "UPS2000-A-3KTTS", SN_HUAWEI)];
static UPS_SMALL: [Model; 2] = [m("山特", "C1KS", SN_SANTAK), m("山特", "C2KS", SN_SANTAK)];
const AC_PRECISION_OLD: Model = m("艾默生", "DataMate3000 DME12MHP1", SN_EMERSON);
const AC_PRECISION: Model = m("维谛", "DataMate3000 DME12MHP5", SN_VERTIV);
static AC_SPLIT: [Model; 2] =
    [m("格力", "KFR-72LW/(72555)FNhAa-B3", SN_GREE), m("美的", "KFR-51LW/BDN8Y-PA401(3)A", SN_MIDEA)];
const CABINET: Model = m("图腾", "G36042", SN_TOTEN);
const CABINET_WALL: Model = m("图腾", "W26612", SN_TOTEN);
static ENV_MONITOR: [Model; 2] = [m("维谛", "RDU-A G2", SN_VERTIV), m("华为", "ECC800-Pro", SN_HUAWEI)];

struct CctvLine {
    bullet: Model,
    ptz: Model,
    turret: Model,
    nvr_big: Model,
    nvr_mid: Model,
    nvr_small: Model,
    monitor: Model,
    wall: Model,
}

static CCTV: [CctvLine; 3] = [
    CctvLine {
        bullet: m("海康威视", "DS-2CD3T46WDV3-I3", SN_HIK),
        ptz: m("海康威视", "DS-2DE4423IW-D", SN_HIK),
        turret: m("海康威视", "DS-2CD3326WDV3-I", SN_HIK),
        nvr_big: m("海康威视", "DS-7932N-R4", SN_HIK),
        nvr_mid: m("海康威视", "DS-7816N-R2", SN_HIK),
        nvr_small: m("海康威视", "DS-7808N-K2", SN_HIK),
        monitor: m("海康威视", "DS-D5043FL", SN_HIK),
        wall: m("海康威视", "DS-D2055NL-B/G", SN_HIK),
    },
    CctvLine {
        bullet: m("大华", "DH-IPC-HFW2433M-I1", SN_DAHUA),
        ptz: m("大华", "DH-SD49425XB-HNR", SN_DAHUA),
        turret: m("大华", "DH-IPC-HDW2433C-A", SN_DAHUA),
        nvr_big: m("大华", "DH-NVR4432-HDS2", SN_DAHUA),
        nvr_mid: m("大华", "DH-NVR4216-HDS2", SN_DAHUA),
        nvr_small: m("大华", "DH-NVR2108HS-HDS3", SN_DAHUA),
        monitor: m("大华", "DH-LM43-F200", SN_DAHUA),
        wall: m("大华", "DH-LS550UCM-EF", SN_DAHUA),
    },
    CctvLine {
        bullet: m("宇视", "IPC2124LB-SF40-A", SN_UNIVIEW),
        ptz: m("宇视", "IPC6424SR-X33U", SN_UNIVIEW),
        turret: m("宇视", "IPC322LB-SF28-A", SN_UNIVIEW),
        nvr_big: m("宇视", "NVR304-32E-B", SN_UNIVIEW),
        nvr_mid: m("宇视", "NVR302-16E-B", SN_UNIVIEW),
        nvr_small: m("宇视", "NVR301-08E2-P8", SN_UNIVIEW),
        monitor: m("宇视", "MW5243-E", SN_UNIVIEW),
        wall: m("宇视", "MW5255-LE", SN_UNIVIEW),
    },
];

static DISKS: [Model; 4] = [
    m("希捷", "ST4000VX015", SN_SEAGATE),
    m("希捷", "ST6000VX001", SN_SEAGATE),
    m("西部数据", "WD40PURZ", SN_WD),
    m("西部数据", "WD60PURZ", SN_WD),
];

struct ClassLine {
    panel: Model,
    blackboard: Model,
    visualizer: Model,
}

static CLASS: [ClassLine; 2] = [
    ClassLine {
        panel: m("希沃", "F86EA", SN_SEEWO),
        blackboard: m("希沃", "BG86EB", SN_SEEWO),
        visualizer: m("希沃", "SV3", SN_SEEWO),
    },
    ClassLine {
        panel: m("鸿合", "HD-I8677E", SN_HITE),
        blackboard: m("鸿合", "HB-86S2", SN_HITE),
        visualizer: m("东方中原", "DM-V2000", SN_DFZY),
    },
];
static PROJECTORS: [Model; 3] =
    [m("爱普生", "CB-X50", SN_EPSON), m("爱普生", "CB-X49", SN_EPSON), m("明基", "MX611", SN_BENQ)];
static WHITEBOARDS: [Model; 2] = [m("鸿合", "HV-I782", SN_HITE), m("东方中原", "DM-IWB82", SN_DFZY)];
const TEACHER_PC: Model = m("联想", "启天 M430", SN_LENOVO_PC);
static CONTROLLERS: [Model; 2] = [m("东方中原", "DM-ZK80", SN_DFZY), m("鸿合", "HV-ZK60", SN_HITE)];
const CLASS_AMP: Model = m("鸿合", "HV-AMP60", SN_HITE);

struct CloudLine {
    server: Model,
    terminal: Model,
}

static CLOUD: [CloudLine; 3] = [
    CloudLine { server: m("锐捷", "RG-CT7800", SN_RUIJIE), terminal: m("锐捷", "RG-Rain400W", SN_RUIJIE) },
    CloudLine { server: m("深信服", "aDesk-2200", SN_SANGFOR), terminal: m("深信服", "aDesk-T520", SN_SANGFOR) },
    CloudLine { server: m("华为", "FusionServer 2288H V5", SN_HUAWEI), terminal: m("华为", "CT5100", SN_HUAWEI) },
];

struct BroadcastLine {
    host: Model,
    amp: Model,
    column: Model,
    outdoor: Model,
    terminal: Model,
}

static BROADCAST: [BroadcastLine; 3] = [
    BroadcastLine {
        host: m("迪士普", "MAG6182", SN_DSPPA),
        amp: m("迪士普", "MP1000U", SN_DSPPA),
        column: m("迪士普", "DSP405", SN_DSPPA),
        outdoor: m("迪士普", "DSP158", SN_DSPPA),
        terminal: m("迪士普", "MAG6812", SN_DSPPA),
    },
    BroadcastLine {
        host: m("ITC", "T-6700", SN_ITC),
        amp: m("ITC", "T-6350", SN_ITC),
        column: m("ITC", "T-702", SN_ITC),
        outdoor: m("ITC", "T-202W", SN_ITC),
        terminal: m("ITC", "T-7705", SN_ITC),
    },
    BroadcastLine {
        host: m("大华", "DH-PA9100", SN_DAHUA),
        amp: m("大华", "DH-PA350", SN_DAHUA),
        column: m("大华", "DH-PS410", SN_DAHUA),
        outdoor: m("大华", "DH-PS615W", SN_DAHUA),
        terminal: m("大华", "DH-PA301", SN_DAHUA),
    },
];

/// Camera spots, most important first. `操场`/`道路`/`停车场` get a 球机, indoor spots a 半球.
static CAMERA_SPOTS_BIG: [&str; 30] = [
    "校门口",
    "校门口外侧道路",
    "门卫室",
    "操场东侧立杆",
    "操场西侧立杆",
    "围墙东北角",
    "围墙西南角",
    "食堂入口",
    "食堂操作间",
    "教学楼 1 楼 大厅",
    "教学楼 2 楼 走廊",
    "教学楼 3 楼 走廊",
    "教学楼 东楼梯口",
    "行政楼 1 楼 大厅",
    "财务室",
    "宿舍楼 大门",
    "宿舍楼 1 楼 走廊",
    "宿舍楼 2 楼 走廊",
    "车棚",
    "停车场",
    "围墙西北角",
    "围墙东南角",
    "实验楼 走廊",
    "图书馆 阅览室",
    "食堂 就餐区",
    "配电房",
    "后门",
    "教学楼 西楼梯口",
    "教学楼 4 楼 走廊",
    "宿舍楼 3 楼 走廊",
];

static CAMERA_SPOTS_POINT: [&str; 3] = ["校门口", "教学楼 1 楼 走廊", "操场东侧立杆"];

static CAMERA_SPOTS_SMALL: [&str; 12] = [
    "校门口",
    "门卫室",
    "操场东侧立杆",
    "教学楼 1 楼 走廊",
    "食堂入口",
    "围墙东北角",
    "教学楼 2 楼 走廊",
    "围墙西南角",
    "食堂操作间",
    "车棚",
    "办公室",
    "后门",
];

// ---------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------

/// splitmix64: tiny, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A whole number in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo { lo } else { lo + self.below((hi - lo + 1) as u64) as i64 }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        let i = self.index(xs.len());
        xs[i]
    }
}

/// The system codes `EquipmentInput::system` takes.
const NETWORK: &str = "network";
const SERVER_ROOM: &str = "server_room";
const SURVEILLANCE: &str = "surveillance";
const CLASSROOM: &str = "classroom";
const CLOUD_SYS: &str = "cloud";
const BROADCAST_SYS: &str = "broadcast";

/// An installation project: the items of one tender went in together and share a warranty.
#[derive(Clone, Copy)]
struct Project {
    date: NaiveDate,
    years: u32,
}

struct Gen {
    rng: Rng,
    today: NaiveDate,
    /// Earliest and latest install date.
    lo: NaiveDate,
    hi: NaiveDate,
    serials: HashSet<String>,
    phones: HashSet<String>,
    qqs: HashSet<String>,
    mails: HashSet<String>,
}

fn ymd(y: i32, mo: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, mo, d).unwrap_or(NaiveDate::MIN)
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(TimeDelta::days(n)).unwrap_or(d)
}

fn sub_years(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(12 * years)).unwrap_or(d)
}

/// Last day of a warranty of `years` starting on `installed`.
fn warranty_end(installed: NaiveDate, years: u32) -> NaiveDate {
    let end = installed.checked_add_months(Months::new(12 * years)).unwrap_or(installed);
    end.pred_opt().unwrap_or(end).max(installed)
}

impl Gen {
    fn new(seed: u64, today: NaiveDate) -> Self {
        let hi = add_days(today, -30);
        let mut lo = ymd(2016, 1, 1);
        if lo > add_days(hi, -365) {
            lo = add_days(hi, -3650);
        }
        Gen {
            rng: Rng(seed ^ 0x51AD_C0DE_2016_0566),
            today,
            lo,
            hi,
            serials: HashSet::new(),
            phones: HashSet::new(),
            qqs: HashSet::new(),
            mails: HashSet::new(),
        }
    }

    fn date_between(&mut self, a: NaiveDate, b: NaiveDate) -> NaiveDate {
        let span = (b - a).num_days().max(0);
        add_days(a, self.rng.range(0, span))
    }

    /// Pattern to text: `#` digit, `@` letter, `*` either.
    fn pattern(&mut self, pat: &str) -> String {
        const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
        const ALNUM: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
        pat.chars()
            .map(|c| match c {
                '#' => char::from(b'0' + self.rng.below(10) as u8),
                '@' => char::from(self.rng.pick(LETTERS)),
                '*' => char::from(self.rng.pick(ALNUM)),
                other => other,
            })
            .collect()
    }

    fn serial(&mut self, model: &Model) -> String {
        for _ in 0..50 {
            let sn = if model.sn == SN_HIK {
                // DS-2CD3T46WDV3-I3 → DS2CD3T46-E12345678
                let stem: String = model.model.chars().filter(char::is_ascii_alphanumeric).take(9).collect();
                let tail = self.pattern("@########");
                format!("{}-{tail}", stem.to_ascii_uppercase())
            } else {
                self.pattern(model.sn)
            };
            if self.serials.insert(sn.clone()) {
                return sn;
            }
        }
        // Practically unreachable: fall back to a counter, which cannot collide.
        let sn = format!("DEMO{:08}", self.serials.len());
        self.serials.insert(sn.clone());
        sn
    }

    // ----- dates ---------------------------------------------------------------------

    /// A project date picked so that, with the older first-phase installs, about half of
    /// all warranties have expired, ~10% end within 90 days and a third are still valid.
    fn project(&mut self, five_year_percent: u64) -> Project {
        let years = if self.rng.chance(five_year_percent) { 5 } else { 3 };
        let back = sub_years(self.today, years);
        let r = self.rng.below(100);
        let (a, b) = if r < 15 {
            // warranty ends today + 0..=84, leaving room for a few days of install jitter
            (add_days(back, 1), add_days(back, 85))
        } else if r < 60 {
            (self.lo, add_days(back, -10))
        } else {
            (add_days(back, 95), self.hi)
        };
        let (a, b) = (a.max(self.lo), b.min(self.hi));
        let (a, b) = if a <= b { (a, b) } else { (self.lo, self.hi) };
        let mut date = self.date_between(a, b);
        if (15..60).contains(&r) && self.rng.chance(60) {
            // big installs happen in the summer holiday
            let summer = ymd(date.year(), if self.rng.chance(50) { 7 } else { 8 }, self.rng.range(1, 28) as u32);
            if summer >= a && summer <= b {
                date = summer;
            }
        }
        Project { date, years }
    }

    /// A project that happened before `year` ended (old projector rooms, first cameras).
    fn old_project(&mut self, last_year: i32) -> Project {
        let b = ymd(last_year, 12, 31).min(self.hi);
        let a = self.lo.min(b);
        let mut date = self.date_between(a, b);
        let summer = ymd(date.year(), 8, self.rng.range(1, 28) as u32);
        if summer >= a && summer <= b {
            date = summer;
        }
        Project { date, years: 3 }
    }

    // ----- customers -----------------------------------------------------------------

    fn mobile(&mut self) -> String {
        loop {
            let p = format!("{}{}", self.rng.pick(&MOBILE_PREFIXES), self.pattern("########"));
            if self.phones.insert(p.clone()) {
                return p;
            }
        }
    }

    fn landline(&mut self) -> String {
        loop {
            let p = format!("{AREA_CODE}-5{}", self.pattern("######"));
            if self.phones.insert(p.clone()) {
                return p;
            }
        }
    }

    fn qq(&mut self) -> String {
        loop {
            let len = self.rng.range(8, 10);
            let first = if len == 10 { self.rng.range(1, 3) } else { self.rng.range(1, 9) };
            let rest = self.pattern(&"#".repeat(len as usize - 1));
            let q = format!("{first}{rest}");
            if self.qqs.insert(q.clone()) {
                return q;
            }
        }
    }

    fn mail(&mut self, wanted: String, fallback_user: &str, domain: &str) -> String {
        if self.mails.insert(wanted.clone()) {
            return wanted;
        }
        loop {
            let m = format!("{fallback_user}{}@{domain}", self.rng.range(10, 99));
            if self.mails.insert(m.clone()) {
                return m;
            }
        }
    }

    fn contact(&mut self, school: &SchoolDef, title: &'static str) -> ContactInput {
        let (surname, py) = self.rng.pick(&SURNAMES);
        let given = self.rng.pick(&GIVEN);
        let name = format!("{surname}{given}");
        let domain = format!("{}.edu.cn", school.slug);
        let qq = if self.rng.chance(85) { Some(self.qq()) } else { None };
        let landline = matches!(title, "总务主任" | "信息中心主任") && self.rng.chance(35);
        let phone = if landline { self.landline() } else { self.mobile() };
        let email = match title {
            "信息中心主任" => Some(self.mail(format!("xxzx@{domain}"), "xxzx", &domain)),
            "电教管理员" if self.rng.chance(75) => {
                Some(self.mail(format!("dianjiao@{domain}"), "dianjiao", &domain))
            }
            "副校长" if self.rng.chance(60) => {
                let year = self.rng.range(1968, 1990);
                Some(self.mail(format!("{py}{year}@163.com"), py, "163.com"))
            }
            "教学点负责人" if self.rng.chance(70) => None,
            _ => qq.as_ref().filter(|_| self.rng.chance(55)).map(|q| format!("{q}@qq.com")),
        };
        ContactInput { name: Some(name), title: Some(title.to_owned()), phone: Some(phone), email, im: qq }
    }

    fn customer(&mut self, school: &SchoolDef, n: usize) -> CustomerInput {
        let town = TOWNS.get(school.town).unwrap_or(&TOWNS[0]);
        let address = match school.kind {
            Kind::Village | Kind::Point => {
                format!("{}{} {} 组", town.name, school.place, self.rng.range(1, 12))
            }
            _ => format!("{}{} {} 号", town.name, school.place, self.rng.range(1, 60) * 2 + 6),
        };
        let extra = match school.kind {
            Kind::High | Kind::Middle | Kind::Central => self.rng.range(0, 4),
            Kind::Village | Kind::Point => self.rng.range(4, 8),
        };
        let travel = (town.minutes + extra as i32).clamp(10, 90);
        let titles: Vec<&'static str> = match school.kind {
            Kind::High => vec!["信息中心主任", "电教管理员", if self.rng.chance(50) { "副校长" } else { "总务主任" }],
            Kind::Middle | Kind::Central => {
                let n = self.rng.range(2, 3);
                let mut t = vec!["电教管理员", if self.rng.chance(50) { "总务主任" } else { "副校长" }];
                if n == 3 {
                    t.push(if t.contains(&"总务主任") { "副校长" } else { "总务主任" });
                }
                t
            }
            Kind::Village => {
                if self.rng.chance(60) {
                    vec!["校长", "电教管理员"]
                } else {
                    vec!["校长"]
                }
            }
            Kind::Point => vec!["教学点负责人"],
        };
        let contacts = titles.into_iter().map(|t| self.contact(school, t)).collect();
        CustomerInput {
            name: Some(school.name.to_owned()),
            code: Some(format!("{COUNTY_CODE}-{}-{n:02}", town.code)),
            county: Some(COUNTY.to_owned()),
            town: Some(town.name.to_owned()),
            address: Some(address),
            travel_minutes: Some(travel),
            contacts: Some(contacts),
        }
    }

    // ----- equipment -----------------------------------------------------------------

    /// One item of `project`: installed within a week of it; now and then a later
    /// replacement with its own fresh three-year warranty.
    fn item(&mut self, out: &mut Vec<EquipmentInput>, p: Project, spec: Item) {
        let (mut installed, mut years) = (add_days(p.date, self.rng.range(0, 5)).min(self.hi), p.years);
        if let Some(y) = spec.years {
            years = y;
        }
        if self.rng.chance(5) {
            let a = add_days(p.date, 60);
            if a < self.hi {
                installed = self.date_between(a, self.hi);
                years = 3;
            }
        }
        let until = warranty_end(installed, years);
        let age_days = (self.today - installed).num_days();
        let r = self.rng.below(100);
        let status = if age_days > 6 * 365 && r < 7 {
            "retired"
        } else if r >= 96 {
            "faulty"
        } else if r >= 93 {
            "under_repair"
        } else {
            "in_service"
        };
        let serial = self.serial(&spec.model);
        out.push(EquipmentInput {
            customer_id: None,
            system: Some(spec.system.to_owned()),
            kind: Some(spec.kind.to_owned()),
            brand: Some(spec.model.brand.to_owned()),
            model: Some(spec.model.model.to_owned()),
            serial_no: Some(serial),
            location: Some(spec.location),
            installed_on: Some(installed.format("%Y-%m-%d").to_string()),
            warranty_until: Some(until.format("%Y-%m-%d").to_string()),
            critical: Some(spec.critical),
            status: Some(status.to_owned()),
        });
    }

    fn equipment(&mut self, school: &SchoolDef) -> Vec<EquipmentInput> {
        let mut out = Vec::new();
        let site = Site::of(school.kind);
        self.network(&mut out, school.kind, &site);
        self.server_room(&mut out, school.kind, &site);
        self.surveillance(&mut out, school.kind, &site);
        self.classroom(&mut out, school.kind, &site);
        self.cloud(&mut out, school.kind, &site);
        self.broadcast(&mut out, school.kind, &site);
        out
    }

    fn network(&mut self, out: &mut Vec<EquipmentInput>, kind: Kind, site: &Site) {
        let p = self.project(15);
        let line = &NET[self.rng.index(NET.len())];
        let small = matches!(kind, Kind::Village | Kind::Point);
        let (access, aps, fibers) = match kind {
            Kind::High => (self.rng.range(3, 4), self.rng.range(2, 3), 1),
            Kind::Middle => (2, self.rng.range(1, 2), self.rng.range(0, 1)),
            Kind::Central => (self.rng.range(1, 2), 1, 0),
            Kind::Village => (1, 0, self.rng.range(0, 1)),
            Kind::Point => (self.rng.range(0, 1), self.rng.range(0, 1), 0),
        };
        let room = site.server_room;
        let mut put = |g: &mut Gen, kind: &'static str, model: Model, location: String, critical: bool| {
            g.item(out, p, Item::new(NETWORK, kind, model, location, critical));
        };
        if !small {
            put(self, "核心交换机", line.core, room.to_owned(), true);
            if kind == Kind::High {
                put(self, "防火墙", line.firewall, room.to_owned(), true);
            }
        }
        let router = if small { TP_ROUTER } else { line.router };
        put(self, "路由器", router, room.to_owned(), kind == Kind::High);
        for i in 0..fibers {
            let at = if i == 0 { room.to_owned() } else { format!("{} 1 楼 {}", site.buildings[0], site.closet) };
            put(self, "光纤收发器", TP_FIBER_B, at, false);
        }
        let closets = site.closets();
        for i in 0..access as usize {
            let poe = i % 2 == 1 || small;
            let model = match (small, poe) {
                (true, true) => TP_POE,
                (true, false) => TP_ACCESS,
                (false, true) => line.poe,
                (false, false) => line.access,
            };
            let at = closets.get(i).cloned().unwrap_or_else(|| format!("{} 弱电箱 {}", room, i + 1));
            put(self, "接入交换机", model, at, false);
        }
        let ap_spots = site.ap_spots();
        for i in 0..aps as usize {
            let at = ap_spots.get(i).cloned().unwrap_or_else(|| format!("{} 走廊 AP-{:02}", site.buildings[0], i + 1));
            put(self, "无线AP", if small { TP_AP } else { line.ap }, at, false);
        }
    }

    fn server_room(&mut self, out: &mut Vec<EquipmentInput>, kind: Kind, site: &Site) {
        let has_room = match kind {
            Kind::High | Kind::Middle => true,
            Kind::Central => self.rng.chance(75),
            Kind::Village => self.rng.chance(40),
            Kind::Point => false,
        };
        if !has_room {
            return;
        }
        let p = self.project(30);
        let room = site.server_room;
        let big = matches!(kind, Kind::High | Kind::Middle);
        let mut put = |g: &mut Gen, kind: &'static str, model: Model, critical: bool| {
            g.item(out, p, Item::new(SERVER_ROOM, kind, model, room.to_owned(), critical));
        };
        let servers = match kind {
            Kind::High => self.rng.range(2, 3),
            Kind::Middle => 1,
            Kind::Central => self.rng.range(0, 1),
            _ => 0,
        };
        let server = self.rng.pick(&SERVERS);
        for _ in 0..servers {
            put(self, "服务器", server, big);
        }
        if kind == Kind::High {
            let storage = self.rng.pick(&STORAGE);
            put(self, "存储", storage, true);
        }
        let ups = match kind {
            Kind::High => self.rng.pick(&UPS_BIG),
            Kind::Middle | Kind::Central => self.rng.pick(&UPS_MID),
            _ => self.rng.pick(&UPS_SMALL),
        };
        put(self, "UPS", ups, big);
        match kind {
            Kind::High => {
                let ac = if p.date < ymd(2017, 1, 1) { AC_PRECISION_OLD } else { AC_PRECISION };
                put(self, "精密空调", ac, false);
            }
            Kind::Middle | Kind::Central => {
                let ac = self.rng.pick(&AC_SPLIT);
                put(self, "空调", ac, false);
            }
            _ => {}
        }
        let cabinets = if kind == Kind::High { 2 } else { 1 };
        for _ in 0..cabinets {
            put(self, "机柜", if big { CABINET } else { CABINET_WALL }, false);
        }
        if kind == Kind::High || (kind == Kind::Middle && self.rng.chance(40)) {
            let env = self.rng.pick(&ENV_MONITOR);
            put(self, "动环监控", env, false);
        }
    }

    fn surveillance(&mut self, out: &mut Vec<EquipmentInput>, kind: Kind, site: &Site) {
        let line = &CCTV[match self.rng.below(100) {
            0..60 => 0,
            60..90 => 1,
            _ => 2,
        }];
        let (cams, nvrs, disks_per_nvr) = match kind {
            Kind::High => (self.rng.range(7, 9), 2, 1),
            Kind::Middle => (self.rng.range(3, 5), 1, 1),
            Kind::Central => (self.rng.range(3, 4), 1, 0),
            Kind::Village => (self.rng.range(2, 3), 1, 0),
            Kind::Point => (2, 1, 0),
        };
        // The first cameras went in long ago; a second phase added more and the NVRs.
        let phase1 = self.old_project(2019);
        let phase2 = self.project(20);
        let spots: &[&str] = match kind {
            Kind::High | Kind::Middle => &CAMERA_SPOTS_BIG,
            Kind::Central | Kind::Village => &CAMERA_SPOTS_SMALL,
            Kind::Point => &CAMERA_SPOTS_POINT,
        };
        for i in 0..cams as usize {
            let spot = spots.get(i).copied().unwrap_or("校园");
            let location = if i < spots.len() {
                spot.to_owned()
            } else {
                format!("{} 走廊 {} 号点位", site.buildings[0], i + 1)
            };
            let (k, model) = if ["操场", "道路", "停车场"].iter().any(|w| spot.contains(w)) {
                ("球型网络摄像机", line.ptz)
            } else if ["楼", "室", "间", "厅", "区"].iter().any(|w| spot.contains(w)) {
                ("半球网络摄像机", line.turret)
            } else {
                ("枪型网络摄像机", line.bullet)
            };
            let p = if i < (cams as usize) / 2 { phase1 } else { phase2 };
            self.item(out, p, Item::new(SURVEILLANCE, k, model, location, false));
        }
        let monitor_room = site.monitor_room;
        for n in 0..nvrs {
            let model = match kind {
                Kind::High => line.nvr_big,
                Kind::Middle | Kind::Central => line.nvr_mid,
                _ => line.nvr_small,
            };
            let at = if nvrs > 1 { format!("{monitor_room} NVR-{}", n + 1) } else { monitor_room.to_owned() };
            let critical = matches!(kind, Kind::High | Kind::Middle);
            self.item(out, phase2, Item::new(SURVEILLANCE, "NVR", model, at.clone(), critical));
            let disk = self.rng.pick(&DISKS);
            for d in 0..disks_per_nvr {
                let mut spec = Item::new(SURVEILLANCE, "监控硬盘", disk, format!("{at} 盘位 {}", d + 1), false);
                spec.years = Some(3);
                self.item(out, phase2, spec);
            }
        }
        match kind {
            Kind::High => {
                for n in 0..2 {
                    let at = format!("{monitor_room} 电视墙 1-{}", n + 1);
                    self.item(out, phase2, Item::new(SURVEILLANCE, "拼接屏", line.wall, at, false));
                }
            }
            Kind::Middle => {
                let at = monitor_room.to_owned();
                self.item(out, phase2, Item::new(SURVEILLANCE, "监视器", line.monitor, at, false));
            }
            _ => {}
        }
    }

    fn classroom(&mut self, out: &mut Vec<EquipmentInput>, kind: Kind, site: &Site) {
        let line = &CLASS[self.rng.index(CLASS.len())];
        let (rooms, old_percent) = match kind {
            Kind::High => (self.rng.range(8, 10), 20),
            Kind::Middle => (self.rng.range(4, 5), 25),
            Kind::Central => (self.rng.range(4, 5), 25),
            Kind::Village => (self.rng.range(2, 3), 35),
            Kind::Point => (1, 0),
        };
        let old = self.old_project(2018);
        let new = self.project(50);
        let projector = self.rng.pick(&PROJECTORS);
        let board = self.rng.pick(&WHITEBOARDS);
        let controller = self.rng.pick(&CONTROLLERS);
        let classrooms = site.classrooms(&mut self.rng, rooms as usize);
        for at in classrooms {
            if self.rng.chance(old_percent) {
                self.item(out, old, Item::new(CLASSROOM, "投影机", projector, at.clone(), false));
                self.item(out, old, Item::new(CLASSROOM, "电子白板", board, at.clone(), false));
                if self.rng.chance(25) {
                    self.item(out, old, Item::new(CLASSROOM, "教师电脑", TEACHER_PC, at.clone(), false));
                }
                if self.rng.chance(10) {
                    self.item(out, old, Item::new(CLASSROOM, "中控", controller, at, false));
                }
            } else {
                let (k, model) = if self.rng.chance(30) {
                    ("智慧黑板", line.blackboard)
                } else {
                    ("交互式一体机", line.panel)
                };
                self.item(out, new, Item::new(CLASSROOM, k, model, at.clone(), false));
                if self.rng.chance(8) {
                    self.item(out, new, Item::new(CLASSROOM, "视频展台", line.visualizer, at, false));
                }
            }
        }
        if kind == Kind::High {
            let hall = site.hall;
            self.item(out, old, Item::new(CLASSROOM, "投影机", projector, hall.to_owned(), false));
            self.item(out, old, Item::new(CLASSROOM, "功放音响", CLASS_AMP, hall.to_owned(), false));
            self.item(out, old, Item::new(CLASSROOM, "中控", controller, hall.to_owned(), false));
        }
    }

    fn cloud(&mut self, out: &mut Vec<EquipmentInput>, kind: Kind, site: &Site) {
        let (has, server, terminals) = match kind {
            Kind::High => (true, true, self.rng.range(5, 7)),
            Kind::Middle => (self.rng.chance(45), true, self.rng.range(3, 4)),
            Kind::Central => (self.rng.chance(40), true, self.rng.range(3, 4)),
            // 村小 terminals connect to the county education cloud, no local server
            Kind::Village => (self.rng.chance(20), false, self.rng.range(2, 3)),
            Kind::Point => (false, false, 0),
        };
        if !has {
            return;
        }
        let p = self.project(25);
        let line = &CLOUD[self.rng.index(CLOUD.len())];
        if server {
            let spec =
                Item::new(CLOUD_SYS, "云桌面服务器", line.server, site.server_room.to_owned(), kind == Kind::High);
            self.item(out, p, spec);
        }
        for n in 0..terminals {
            let at = format!("{} {:02} 号机位", site.lab, n + 1);
            self.item(out, p, Item::new(CLOUD_SYS, "云终端", line.terminal, at, false));
        }
    }

    fn broadcast(&mut self, out: &mut Vec<EquipmentInput>, kind: Kind, site: &Site) {
        let has = match kind {
            Kind::High | Kind::Middle | Kind::Central => true,
            Kind::Village => self.rng.chance(35),
            Kind::Point => self.rng.chance(30),
        };
        if !has {
            return;
        }
        let p = self.project(20);
        let line = &BROADCAST[self.rng.index(BROADCAST.len())];
        let room = site.broadcast_room;
        let ip = matches!(kind, Kind::High | Kind::Middle | Kind::Central);
        if ip {
            let spec = Item::new(BROADCAST_SYS, "IP广播主机", line.host, room.to_owned(), kind == Kind::High);
            self.item(out, p, spec);
        }
        let amps = if kind == Kind::High { 2 } else { 1 };
        for _ in 0..amps {
            self.item(out, p, Item::new(BROADCAST_SYS, "功放", line.amp, room.to_owned(), false));
        }
        if kind == Kind::Point {
            return;
        }
        for at in ["操场主席台左侧", "操场主席台右侧"] {
            self.item(out, p, Item::new(BROADCAST_SYS, "音柱", line.column, at.to_owned(), false));
        }
        if kind == Kind::High {
            self.item(out, p, Item::new(BROADCAST_SYS, "室外音箱", line.outdoor, "操场东侧立杆".to_owned(), false));
        }
        if ip {
            let terminals = match kind {
                Kind::High => self.rng.range(1, 2),
                _ => 0,
            };
            let closets = site.closets();
            for n in 0..terminals as usize {
                let at = closets.get(n).map_or_else(|| format!("{room} {}", n + 1), |c| c.replace(site.closet, "走廊"));
                self.item(out, p, Item::new(BROADCAST_SYS, "IP网络广播终端", line.terminal, at, false));
            }
        }
    }
}

/// What `Gen::item` needs besides the project.
struct Item {
    system: &'static str,
    kind: &'static str,
    model: Model,
    location: String,
    critical: bool,
    /// Overrides the project's warranty length.
    years: Option<u32>,
}

impl Item {
    fn new(system: &'static str, kind: &'static str, model: Model, location: String, critical: bool) -> Self {
        Item { system, kind, model, location, critical, years: None }
    }
}

/// The buildings and rooms of a school, by kind.
struct Site {
    buildings: &'static [&'static str],
    floors: usize,
    /// Where a floor's access switch hangs: a 弱电间 in big schools, a wall box in small ones.
    closet: &'static str,
    server_room: &'static str,
    monitor_room: &'static str,
    broadcast_room: &'static str,
    hall: &'static str,
    lab: &'static str,
    extra_ap_spots: &'static [&'static str],
}

impl Site {
    fn of(kind: Kind) -> Site {
        match kind {
            Kind::High => Site {
                buildings: &["1 号教学楼", "2 号教学楼", "3 号教学楼", "实验楼"],
                floors: 5,
                closet: "弱电间",
                server_room: "行政楼 3 楼 中心机房",
                monitor_room: "行政楼 1 楼 监控室",
                broadcast_room: "行政楼 2 楼 广播室",
                hall: "行政楼 4 楼 多功能厅",
                lab: "综合楼 2 楼 电子阅览室",
                extra_ap_spots: &[
                    "行政楼 2 楼 会议室",
                    "图书馆 阅览室",
                    "行政楼 3 楼 教师办公室",
                    "学生宿舍 1 楼 大厅",
                ],
            },
            Kind::Middle => Site {
                buildings: &["教学楼", "综合楼"],
                floors: 4,
                closet: "弱电间",
                server_room: "综合楼 2 楼 网络机房",
                monitor_room: "门卫室 监控台",
                broadcast_room: "综合楼 1 楼 广播室",
                hall: "综合楼 3 楼 录播教室",
                lab: "综合楼 3 楼 计算机教室",
                extra_ap_spots: &["综合楼 2 楼 会议室", "教学楼 1 楼 教师办公室", "图书室"],
            },
            Kind::Central => Site {
                buildings: &["教学楼", "综合楼"],
                floors: 4,
                closet: "弱电间",
                server_room: "综合楼 2 楼 机房",
                monitor_room: "门卫室 监控台",
                broadcast_room: "综合楼 1 楼 广播室",
                hall: "综合楼 3 楼 多媒体教室",
                lab: "综合楼 3 楼 计算机教室",
                extra_ap_spots: &["综合楼 2 楼 教师办公室", "图书室"],
            },
            Kind::Village => Site {
                buildings: &["教学楼"],
                floors: 3,
                closet: "弱电箱",
                server_room: "教学楼 1 楼 办公室",
                monitor_room: "教学楼 1 楼 办公室",
                broadcast_room: "教学楼 1 楼 办公室",
                hall: "教学楼 1 楼 办公室",
                lab: "教学楼 2 楼 多媒体教室",
                extra_ap_spots: &["教学楼 1 楼 办公室"],
            },
            Kind::Point => Site {
                buildings: &["教学楼"],
                floors: 1,
                closet: "弱电箱",
                server_room: "教学点 办公室",
                monitor_room: "教学点 办公室",
                broadcast_room: "教学点 办公室",
                hall: "教学点 办公室",
                lab: "教学点 办公室",
                extra_ap_spots: &["教学点 办公室"],
            },
        }
    }

    /// Weak-current closets, one per floor per building, ground floor first.
    fn closets(&self) -> Vec<String> {
        let mut v = Vec::new();
        for f in 1..=self.floors {
            for b in self.buildings {
                v.push(format!("{b} {f} 楼 {}", self.closet));
            }
        }
        v
    }

    fn ap_spots(&self) -> Vec<String> {
        let mut v: Vec<String> = self.extra_ap_spots.iter().map(|s| (*s).to_owned()).collect();
        for f in 1..=self.floors {
            for b in self.buildings {
                v.push(format!("{b} {f} 楼 走廊"));
            }
        }
        v
    }

    /// `n` distinct classrooms, filled building by building with a few rooms skipped.
    fn classrooms(&self, rng: &mut Rng, n: usize) -> Vec<String> {
        let per_floor = if self.floors >= 4 { 4 } else { 2 };
        let mut all = Vec::new();
        for b in self.buildings {
            for f in 1..=self.floors {
                for r in 1..=per_floor {
                    all.push(format!("{b} {f} 楼 {f}{r:02} 教室"));
                }
            }
        }
        let mut v = Vec::with_capacity(n);
        let spare = all.len().saturating_sub(n);
        let mut skipped = 0;
        for room in all {
            if v.len() == n {
                break;
            }
            if skipped < spare && rng.chance(25) {
                skipped += 1;
                continue;
            }
            v.push(room);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aftercare_domain::CustomerId;
    use aftercare_domain::equipment::{WarrantyState, warranty_state};
    use std::collections::{BTreeMap, BTreeSet};

    fn today() -> NaiveDate {
        ymd(2026, 3, 15)
    }

    fn all_equipment(c: &[DemoSchool]) -> impl Iterator<Item = &EquipmentInput> {
        c.iter().flat_map(|s| s.equipment.iter())
    }

    #[test]
    fn the_county_has_eight_towns_and_thirty_schools_with_unique_codes() {
        let c = demo_county(7, today());
        assert_eq!(c.len(), 30);
        let towns: BTreeSet<_> = c.iter().filter_map(|s| s.customer.town.clone()).collect();
        assert_eq!(towns.len(), 8);
        let codes: BTreeSet<_> = c.iter().filter_map(|s| s.customer.code.clone()).collect();
        assert_eq!(codes.len(), 30);
        assert!(codes.contains("QY-CG-01"));
        assert!(c.iter().all(|s| s.customer.county.as_deref() == Some(COUNTY)));
    }

    #[test]
    fn travel_time_rises_with_the_towns_distance() {
        let c = demo_county(3, today());
        let mut by_town: BTreeMap<usize, (i32, i32)> = BTreeMap::new();
        for (def, s) in SCHOOLS.iter().zip(&c) {
            let t = s.customer.travel_minutes.unwrap_or(-1);
            assert!((10..=90).contains(&t), "{t}");
            let e = by_town.entry(def.town).or_insert((t, t));
            *e = (e.0.min(t), e.1.max(t));
        }
        let ranges: Vec<_> = by_town.values().copied().collect();
        for w in ranges.windows(2) {
            assert!(w[0].1 < w[1].0, "{ranges:?}");
        }
    }

    #[test]
    fn everything_validates() {
        for seed in [0, 1, 42, u64::MAX] {
            for s in demo_county(seed, today()) {
                let cust = s.customer.validate();
                assert!(cust.is_ok(), "{:?}: {:?}", s.customer.name, cust.err());
                let n = s.customer.contacts.as_ref().map_or(0, Vec::len);
                assert!((1..=3).contains(&n));
                for e in &s.equipment {
                    assert!(e.customer_id.is_none());
                    let mut e = e.clone();
                    e.customer_id = Some(CustomerId(1));
                    let v = e.validate();
                    assert!(v.is_ok(), "{e:?}: {:?}", v.err());
                }
            }
        }
    }

    #[test]
    fn any_today_gives_valid_dates() {
        for t in [ymd(2016, 2, 1), ymd(2019, 12, 31), ymd(2040, 6, 30)] {
            for s in demo_county(1, t) {
                for e in &s.equipment {
                    let mut e = e.clone();
                    e.customer_id = Some(CustomerId(1));
                    let v = e.validate();
                    assert!(v.is_ok(), "{t}: {e:?}: {:?}", v.err());
                    let installed = v.ok().and_then(|v| v.installed_on);
                    assert!(installed.is_some_and(|d| d <= add_days(t, -30)), "{t}: {e:?}");
                }
            }
        }
    }

    #[test]
    fn equipment_counts_and_all_six_systems() {
        for seed in 0..40 {
            let c = demo_county(seed, today());
            let total = all_equipment(&c).count();
            assert!((620..=800).contains(&total), "seed {seed}: {total}");
            let systems: BTreeSet<_> = all_equipment(&c).filter_map(|e| e.system.clone()).collect();
            assert_eq!(systems.len(), 6, "{systems:?}");
            for s in &c {
                let has = |sys: &str| s.equipment.iter().any(|e| e.system.as_deref() == Some(sys));
                assert!(has(CLASSROOM) && has(NETWORK), "{:?}", s.customer.name);
            }
            let critical = all_equipment(&c).filter(|e| e.critical == Some(true)).count();
            assert!(critical * 100 >= total * 6 && critical * 100 <= total * 15, "{critical}/{total}");
        }
    }

    #[test]
    fn serials_are_unique_uppercase_and_without_spaces() {
        let c = demo_county(11, today());
        let mut seen = HashSet::new();
        for e in all_equipment(&c) {
            let sn = e.serial_no.clone().unwrap_or_default();
            assert!(!sn.is_empty() && sn.len() <= 64);
            assert_eq!(sn, sn.to_uppercase());
            assert!(!sn.contains(char::is_whitespace));
            assert!(seen.insert(sn.clone()), "duplicate {sn}");
        }
    }

    #[test]
    fn phones_are_unique_across_the_county() {
        let c = demo_county(5, today());
        let mut seen = HashSet::new();
        for ct in c.iter().flat_map(|s| s.customer.contacts.iter().flatten()) {
            let p = ct.phone.clone().unwrap_or_default();
            assert!(seen.insert(p.clone()), "duplicate {p}");
        }
        assert!(seen.iter().any(|p| p.starts_with("0566-")));
        assert!(seen.iter().any(|p| p.len() == 11 && p.starts_with('1')));
    }

    #[test]
    fn dates_warranties_and_statuses_are_a_realistic_mix() {
        let t = today();
        let c = demo_county(9, t);
        let d = |s: &Option<String>| s.as_deref().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        let mut states: BTreeMap<&str, usize> = BTreeMap::new();
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        let total = all_equipment(&c).count();
        for e in all_equipment(&c) {
            let installed = d(&e.installed_on);
            assert!(installed.is_some_and(|i| i >= ymd(2016, 1, 1) && i <= add_days(t, -30)), "{e:?}");
            let state = match warranty_state(d(&e.warranty_until), t) {
                WarrantyState::Expired => "expired",
                WarrantyState::Expiring => "expiring",
                WarrantyState::Valid => "valid",
                WarrantyState::Unknown => "unknown",
            };
            *states.entry(state).or_default() += 1;
            *statuses.entry(e.status.clone().unwrap_or_default()).or_default() += 1;
        }
        let share = |n: Option<&usize>| n.copied().unwrap_or(0) * 100 / total;
        assert_eq!(states.get("unknown"), None);
        assert!((25..=70).contains(&share(states.get("expired"))), "{states:?}");
        assert!((4..=25).contains(&share(states.get("expiring"))), "{states:?}");
        assert!((20..=60).contains(&share(states.get("valid"))), "{states:?}");
        assert!(share(statuses.get("in_service")) >= 80, "{statuses:?}");
        for s in ["faulty", "under_repair", "retired"] {
            assert!(statuses.get(s).is_some_and(|n| *n > 0), "{statuses:?}");
        }
    }

    #[test]
    fn same_seed_same_county_other_seed_other_details() {
        let a = format!("{:?}", demo_county(2024, today()));
        let b = format!("{:?}", demo_county(2024, today()));
        let c = format!("{:?}", demo_county(2025, today()));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
