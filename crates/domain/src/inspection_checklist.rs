//! The checklist the department starts with (DOMAIN.md §2): per system, what is checked,
//! to which standard, how often, once or per device, with the measurable ranges. The
//! engineer edits the stored copy; this is only its first version.

use crate::System;
use crate::inspections::{ChecklistItem, Frequency, Phase};

/// One row: system, code, item, standard, frequency, per device, min, max, unit, phases
/// (`""` every phase, else letters `e`, `m`, `l`).
type Row = (
    System,
    &'static str,
    &'static str,
    &'static str,
    Frequency,
    bool,
    Option<f64>,
    Option<f64>,
    &'static str,
    &'static str,
);

use Frequency::{BeforeExam as X, EveryVisit as V, Quarterly as Q, Yearly as Y};
use System::{Broadcast as Bc, Classroom as Cl, Cloud as Cd, Network as Nw, ServerRoom as Sr, Surveillance as Sv};

const ROWS: &[Row] = &[
    (Nw, "sw_led_status", "设备运行指示灯（电源/系统/端口）", "无红灯、告警灯", V, true, None, None, "", ""),
    (Nw, "sw_cpu_pct", "交换机 CPU 利用率", "持续 < 70%（99% 疑似环路/广播风暴）", V, true, None, Some(70.0), "%", ""),
    (Nw, "sw_mem_pct", "交换机内存利用率", "< 80%", V, true, None, Some(80.0), "%", ""),
    (Nw, "sw_temp_fan", "设备温度 / 风扇", "风扇正常，无过热告警", V, true, None, None, "", ""),
    (Nw, "port_errors", "端口状态 / 错误包（CRC）", "上联口 up，错误包不增长", V, true, None, None, "", ""),
    (Nw, "optical_rx_dbm", "上联光纤链路光模块收光功率", "> -25 dBm", Q, true, Some(-25.0), None, "dBm", "ml"),
    (Nw, "log_alarms", "系统日志告警（环路、端口 flapping、IP 冲突）", "无异常", V, false, None, None, "", ""),
    (Nw, "dhcp_pool_pct", "DHCP 地址池使用率", "< 85%", Q, false, None, Some(85.0), "%", "ml"),
    (
        Nw,
        "ping_loss_pct",
        "出口带宽 / 外网连通（ping 网关、教育网/互联网）",
        "丢包 < 1%",
        V,
        false,
        None,
        Some(1.0),
        "%",
        "",
    ),
    (Nw, "rogue_device_found", "私接路由器/小交换机排查", "无私接设备", V, false, None, None, "", ""),
    (Nw, "rssi_dbm", "AP 在线率 / 终端数 / 信号强度", "信号 > -75 dBm", V, false, Some(-75.0), None, "dBm", ""),
    (Nw, "config_backed_up", "配置备份", "已备份且为最新", Q, false, None, None, "", "ml"),
    (
        Nw,
        "cabinet_clean",
        "弱电箱/机柜：除尘、理线、标签、门锁",
        "整洁，标签清楚，门锁完好",
        Q,
        false,
        None,
        None,
        "",
        "ml",
    ),
    (Nw, "cabling_ok", "水晶头/面板/跳线（氧化、松动、鼠咬）", "无氧化、松动、鼠咬", Q, false, None, None, "", "ml"),
    (
        Nw,
        "power_surge_ok",
        "交换机供电/防雷（插座、浪涌保护器）",
        "供电可靠，防雷器正常",
        Q,
        false,
        None,
        None,
        "",
        "ml",
    ),
    (Sr, "room_temp_c", "机房温度", "18–27 ℃（目标 23±2 ℃）", V, false, Some(18.0), Some(27.0), "℃", ""),
    (Sr, "room_rh_pct", "机房湿度", "40%–70%，无结露", V, false, Some(40.0), Some(70.0), "%", ""),
    (Sr, "ups_mode", "UPS 工作模式", "市电/在线，非旁路，无告警", V, true, None, None, "", ""),
    (Sr, "ups_in_v", "UPS 输入电压", "220V ±10%", V, true, Some(198.0), Some(242.0), "V", ""),
    (Sr, "ups_out_v", "UPS 输出电压", "220V ±2%", V, true, Some(215.6), Some(224.4), "V", ""),
    (Sr, "ups_load_pct", "UPS 负载率", "≤ 80%", V, true, None, Some(80.0), "%", ""),
    (
        Sr,
        "batt_cell_v",
        "单体电池电压（12V 电池）",
        "浮充 13.3–13.8V；< 10.5V 即欠压失效",
        Q,
        true,
        Some(13.3),
        Some(13.8),
        "V",
        "ml",
    ),
    (Sr, "batt_appearance_ok", "电池外观（鼓包、漏液、端子氧化）", "无鼓包、漏液、氧化", Q, true, None, None, "", "ml"),
    (Sr, "backup_minutes", "电池自检 / 后备时间", "后备时间不明显缩短", Y, true, None, None, "min", "l"),
    (Sr, "ac_running", "空调运行 / 设定温度 / 出风温度", "无告警代码", V, true, None, None, "", ""),
    (Sr, "ac_filter_clean", "空调滤网、冷凝水排水、漏水", "滤网干净，排水通畅，无漏水", Q, true, None, None, "", "ml"),
    (Sr, "ac_auto_restart", "空调来电自启动（停电后）", "来电自动恢复运行", Y, true, None, None, "", "l"),
    (Sr, "server_status_ok", "服务器/存储指示灯、硬盘告警", "无告警", V, true, None, None, "", ""),
    (Sr, "grounding_ok", "机柜 PDU / 电源线 / 接地", "连接可靠，接地良好", Q, false, None, None, "", "ml"),
    (Sr, "spd_ok", "防雷器状态窗口", "绿色（雷雨季前必查）", Q, false, None, None, "", "ml"),
    (Sr, "extinguisher_ok", "消防：灭火器压力、有效期", "指针绿区，在有效期内", Q, false, None, None, "", "ml"),
    (
        Sr,
        "room_security_ok",
        "门禁门锁、防鼠、无杂物、清洁、出入登记",
        "符合机房管理要求",
        V,
        false,
        None,
        None,
        "",
        "",
    ),
    (Sv, "cam_online_pct", "摄像机在线率", "≥ 98%", V, false, Some(98.0), None, "%", ""),
    (Sv, "image_ok", "图像质量（清晰、色彩，无雪花/条纹/抖动）", "画面清晰正常", V, true, None, None, "", ""),
    (Sv, "ir_ok", "夜视（红外）效果", "夜间画面可辨", Q, true, None, None, "", "ml"),
    (Sv, "lens_clean", "镜头清洁 / 遮挡（树枝、蛛网）", "无遮挡、无污渍", Q, true, None, None, "", "ml"),
    (
        Sv,
        "angle_ok",
        "角度/覆盖范围，外观/防水/立杆",
        "覆盖校门、围墙、楼道、食堂等重点区域",
        Q,
        true,
        None,
        None,
        "",
        "ml",
    ),
    (Sv, "nvr_disk_status", "NVR 硬盘状态", "全部正常（无休眠/异常/未格式化）", V, true, None, None, "", ""),
    (Sv, "nvr_retention_days", "录像保存天数（循环覆盖开启）", "≥ 30 天", V, true, Some(30.0), None, "天", ""),
    (Sv, "playback_ok", "录像完整性 / 抽查回放", "抽查 3–5 路无断档", V, true, None, None, "", ""),
    (Sv, "nvr_time_sync", "NVR 时间同步", "与北京时间误差 < 1 分钟", Q, true, None, None, "", "ml"),
    (Sv, "poe_v", "PoE 交换机供电电压", "48–52V；网线 ≤ 100m", Q, false, Some(48.0), Some(52.0), "V", "ml"),
    (Sv, "display_ok", "监控室显示墙 / 解码器", "显示正常", V, false, None, None, "", ""),
    (Sv, "platform_uplink_ok", "公安/教育平台联网状态", "在线", Q, false, None, None, "", "ml"),
    (Sv, "default_pwd_changed", "固件版本，默认密码已修改", "已修改默认密码", Y, false, None, None, "", "l"),
    (Cl, "power_on_ok", "开机/关机正常（含中控一键开关）", "正常", V, true, None, None, "", ""),
    (Cl, "proj_image_ok", "投影亮度 / 色彩 / 清晰度 / 梯形", "不拉窗帘可看清", V, true, None, None, "", ""),
    (
        Cl,
        "lamp_hours",
        "投影灯泡已用时数",
        "低于额定寿命（如 3000–5000 小时），接近时提前备灯",
        V,
        true,
        None,
        Some(3000.0),
        "小时",
        "",
    ),
    (Cl, "proj_filter_clean", "投影机滤网/散热口除尘", "无粉笔灰积尘", Q, true, None, None, "", "ml"),
    (Cl, "touch_ok", "白板/一体机触摸灵敏度、定位（四角+中心）", "定位准确，无需校准", V, true, None, None, "", ""),
    (Cl, "panel_ok", "一体机屏幕：亮点/暗区/闪屏/裂痕", "无", V, true, None, None, "", ""),
    (Cl, "pc_ok", "电脑/OPS：启动、系统、还原、杀毒", "正常", V, true, None, None, "", ""),
    (Cl, "teaching_sw_ok", "教学软件可用、授权", "可用，授权有效", V, true, None, None, "", "e"),
    (Cl, "audio_ok", "音箱/功放/麦克风：有声，无啸叫杂音", "正常", V, true, None, None, "", ""),
    (Cl, "ports_ok", "接口（HDMI/VGA/USB）松动", "无松动", V, true, None, None, "", ""),
    (Cl, "central_ctrl_ok", "中控面板按键、电动幕布、遥控器", "正常", V, true, None, None, "", ""),
    (Cl, "power_ok", "讲台电源插座、防雷、接地", "可靠", Q, true, None, None, "", "ml"),
    (Cl, "usage_log_ok", "设备使用记录表填写情况（学校侧）", "按班主任管理负责制填写", Q, false, None, None, "", "e"),
    (Cd, "host_disk_pct", "云服务器存储使用率", "< 80%", V, true, None, Some(80.0), "%", ""),
    (Cd, "raid_ok", "服务器 RAID / 硬盘告警", "无告警", V, true, None, None, "", ""),
    (Cd, "platform_ok", "管理平台服务状态、授权到期日", "服务正常，授权未过期", V, false, None, None, "", ""),
    (Cd, "client_online_pct", "终端在线率", "≥ 95%", V, false, Some(95.0), None, "%", ""),
    (Cd, "boot_seconds", "终端开机进入桌面时间", "≤ 90 秒", Q, false, None, Some(90.0), "秒", "ml"),
    (Cd, "desktop_smooth", "桌面流畅度（视频/课件播放）", "流畅", V, false, None, None, "", ""),
    (Cd, "restore_policy_ok", "镜像/模板版本，还原策略", "正常", Q, false, None, None, "", "ml"),
    (Cd, "peripherals_ok", "外设：键鼠、显示器、USB 映射、耳机", "正常", V, false, None, None, "", ""),
    (Bc, "bc_server_ok", "广播服务器/主机运行、软件服务", "正常", V, true, None, None, "", ""),
    (Bc, "bc_terminal_online", "终端（IP 音柱/解码终端）在线", "全部在线", V, false, None, None, "", ""),
    (
        Bc,
        "zone_test_ok",
        "各分区播音测试（教室、走廊、操场、宿舍）",
        "逐区有声，音质清晰",
        V,
        false,
        None,
        None,
        "",
        "",
    ),
    (Bc, "amp_ok", "功放：指示灯、温度、音量、保险", "正常", V, true, None, None, "", ""),
    (Bc, "speaker_loop_ok", "扬声器回路（断路/短路）", "无断路、短路", Q, false, None, None, "", "ml"),
    (
        Bc,
        "bell_schedule_ok",
        "定时打铃（作息表、冬夏季方案、时钟同步）",
        "与北京时间一致",
        V,
        false,
        None,
        None,
        "",
        "",
    ),
    (Bc, "exam_mode_ok", "英语听力考试功能 / 备份系统切换", "考前测试正常", X, false, None, None, "", ""),
    (Bc, "emergency_override_ok", "消防/应急广播联动（强切）", "联动正常", Y, false, None, None, "", "l"),
    (Bc, "outdoor_ok", "话筒/寻呼台；室外音柱防水、支架", "完好", Q, false, None, None, "", "ml"),
];

/// The starting checklist, in the order a round goes through it.
pub fn seed() -> Vec<ChecklistItem> {
    ROWS.iter()
        .map(|&(system, code, text, standard, frequency, per_device, min, max, unit, phases)| ChecklistItem {
            system,
            code: code.into(),
            text: text.into(),
            standard: standard.into(),
            frequency,
            per_device,
            min,
            max,
            unit: (!unit.is_empty()).then(|| unit.into()),
            phases: phases
                .chars()
                .filter_map(|c| match c {
                    'e' => Some(Phase::Early),
                    'm' => Some(Phase::Mid),
                    'l' => Some(Phase::Late),
                    _ => None,
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_has_a_checklist_with_unique_codes_and_sound_ranges() {
        let items = seed();
        for s in System::ALL {
            assert!(items.iter().filter(|i| i.system == s).count() >= 5, "{s:?}");
        }
        let mut codes: Vec<&str> = items.iter().map(|i| i.code.as_str()).collect();
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "codes are unique");
        for i in &items {
            if let (Some(a), Some(b)) = (i.min, i.max) {
                assert!(a < b, "{}", i.code);
            }
            if i.min.is_some() || i.max.is_some() {
                assert!(i.unit.is_some(), "{} has a range and so a unit", i.code);
            }
        }
        // Every phase gets something of every system.
        for p in [Phase::Early, Phase::Mid, Phase::Late] {
            for s in System::ALL {
                assert!(items.iter().any(|i| i.system == s && i.in_phase(p)), "{s:?} in {p:?}");
            }
        }
    }
}
