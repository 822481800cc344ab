-- Work orders (工单): tickets, their equipment and technicians, the timeline, visits with
-- the school's signature, the fault taxonomy, SLA policies, settings, notifications and
-- proposed penalty events. SQLite flavour; postgres/0002 has the same meaning.

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Per-day counters give human ticket numbers (GD20261127-0042) unique across nodes.
CREATE TABLE number_counters (
    scope  TEXT PRIMARY KEY,
    last   BIGINT NOT NULL
);

CREATE TABLE fault_subcategories (
    code          TEXT PRIMARY KEY,
    system        TEXT NOT NULL,
    fault_type    TEXT NOT NULL,
    name_zh       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    typical_cause TEXT,
    active        BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE sla_policies (
    priority         TEXT PRIMARY KEY,
    respond_minutes  INTEGER NOT NULL,
    arrive_minutes   INTEGER NOT NULL,
    resolve_minutes  INTEGER NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE tickets (
    id                 INTEGER PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE,
    customer_id        BIGINT NOT NULL REFERENCES customers (id),
    system             TEXT NOT NULL,
    title              TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    source             TEXT NOT NULL,
    priority           TEXT NOT NULL,
    status             TEXT NOT NULL,
    reporter_name      TEXT,
    reporter_phone     TEXT,
    fault_type         TEXT,
    fault_subcategory  TEXT REFERENCES fault_subcategories (code),
    needs_site_survey  BOOLEAN NOT NULL DEFAULT FALSE,
    diagnosis          TEXT,
    plan               TEXT,
    parts_to_bring     TEXT,
    impact_scope       TEXT,
    root_cause         TEXT,
    cause_class        TEXT,
    responsibility     TEXT,
    prevention         TEXT,
    engineer_id        BIGINT REFERENCES users (id),
    diagnosed_by       BIGINT REFERENCES users (id),
    scheduled_at       TEXT,
    escalation_level   INTEGER NOT NULL DEFAULT 0,
    repeat_of          BIGINT REFERENCES tickets (id),
    resolution         TEXT,
    satisfaction       INTEGER,
    callback_attempts  INTEGER NOT NULL DEFAULT 0,
    respond_due        TEXT,
    arrive_due         TEXT,
    resolve_due        TEXT,
    responded_at       TEXT,
    arrived_at         TEXT,
    resolved_at        TEXT,
    closed_at          TEXT,
    paused_at          TEXT,
    respond_breached_at TEXT,
    arrive_breached_at  TEXT,
    resolve_breached_at TEXT,
    created_by         BIGINT REFERENCES users (id),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX tickets_status ON tickets (status, id);
CREATE INDEX tickets_customer ON tickets (customer_id, id);
CREATE INDEX tickets_scheduled ON tickets (scheduled_at);
CREATE INDEX tickets_engineer ON tickets (engineer_id, status);
CREATE INDEX tickets_resolve_due ON tickets (resolve_due);

CREATE TABLE ticket_equipment (
    ticket_id     BIGINT NOT NULL REFERENCES tickets (id),
    equipment_id  BIGINT NOT NULL REFERENCES equipment (id),
    PRIMARY KEY (ticket_id, equipment_id)
);
CREATE INDEX ticket_equipment_equipment ON ticket_equipment (equipment_id);

CREATE TABLE ticket_technicians (
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    user_id    BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (ticket_id, user_id)
);
CREATE INDEX ticket_technicians_user ON ticket_technicians (user_id);

-- The timeline: every action, comment, visit and field change; append-only.
CREATE TABLE ticket_events (
    id           INTEGER PRIMARY KEY,
    ticket_id    BIGINT NOT NULL REFERENCES tickets (id),
    at           TEXT NOT NULL,
    actor_id     BIGINT,
    actor_name   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT,
    note         TEXT,
    data_json    TEXT
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;
CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;

CREATE TABLE visits (
    id              INTEGER PRIMARY KEY,
    ticket_id       BIGINT NOT NULL REFERENCES tickets (id),
    departed_at     TEXT,
    arrived_at      TEXT NOT NULL,
    finished_at     TEXT NOT NULL,
    returned_at     TEXT,
    work_done       TEXT NOT NULL,
    result          TEXT NOT NULL,
    parts_used      TEXT,
    defective_parts TEXT,
    signer_name     TEXT,
    signed_at       TEXT,
    signature_png   BLOB,
    created_by      BIGINT REFERENCES users (id),
    created_at      TEXT NOT NULL
);
CREATE INDEX visits_ticket ON visits (ticket_id, id);

CREATE TABLE visit_technicians (
    visit_id  BIGINT NOT NULL REFERENCES visits (id),
    user_id   BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (visit_id, user_id)
);
CREATE INDEX visit_technicians_user ON visit_technicians (user_id);

CREATE TABLE visit_photos (
    id            INTEGER PRIMARY KEY,
    visit_id      BIGINT NOT NULL REFERENCES visits (id),
    content_type  TEXT NOT NULL,
    data          BLOB NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    at         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    ticket_id  BIGINT REFERENCES tickets (id),
    args_json  TEXT NOT NULL DEFAULT '{}',
    read_at    TEXT
);
CREATE INDEX notifications_user ON notifications (user_id, read_at, id);

-- Penalty / assessment events (§3.2.7–3.2.9): proposed by rules, confirmed or dismissed by the manager.
CREATE TABLE penalty_events (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL,
    user_id            BIGINT NOT NULL REFERENCES users (id),
    ticket_id          BIGINT REFERENCES tickets (id),
    related_ticket_id  BIGINT REFERENCES tickets (id),
    at                 TEXT NOT NULL,
    status             TEXT NOT NULL,
    reason             TEXT NOT NULL,
    reviewed_by        BIGINT REFERENCES users (id),
    reviewed_at        TEXT,
    review_note        TEXT
);
CREATE INDEX penalty_events_status ON penalty_events (status, id);
CREATE INDEX penalty_events_user ON penalty_events (user_id, status);

CREATE TABLE saved_filters (
    id       INTEGER PRIMARY KEY,
    user_id  BIGINT NOT NULL REFERENCES users (id),
    area     TEXT NOT NULL,
    name     TEXT NOT NULL,
    query    TEXT NOT NULL,
    UNIQUE (user_id, area, name)
);

-- The fault taxonomy (DOMAIN.md §3), editable later; and the default SLA tiers (§6.4).
INSERT INTO fault_subcategories (code, system, fault_type, name_zh, name_en, typical_cause, active) VALUES
    ('NET_SW_DOWN', 'network', 'hardware', '交换机死机/重启', 'Switch hangs or reboots', '电源模块坏, 过热 (弱电箱不通风), 雷击, 老化', TRUE),
    ('NET_PORT_DEAD', 'network', 'hardware', '某端口不通', 'A port is dead', '端口雷击损坏, 静电', TRUE),
    ('NET_AP_DEAD', 'network', 'hardware', 'AP 不亮/反复重启', 'AP dark or rebooting', 'PoE 供电不足, AP 硬件坏', TRUE),
    ('NET_OPTIC', 'network', 'hardware', '光模块坏/收光弱', 'Optical module failed / weak signal', '模块老化, 不匹配', TRUE),
    ('NET_CABLE_BREAK', 'network', 'cabling', '网线/光纤断', 'Cable or fibre cut', '施工挖断, 鼠咬, 挤压, 光纤弯折过度', TRUE),
    ('NET_RJ45', 'network', 'cabling', '水晶头/面板接触不良', 'Bad RJ45 plug or wall socket', '氧化, 松动, 压接不良 (施工遗留)', TRUE),
    ('NET_LOOP', 'network', 'cabling', '全楼层掉线, 灯狂闪', 'Whole floor offline (network loop)', '环路: 扩展器两个 LAN 口互连, 面板互插 → 广播风暴', TRUE),
    ('NET_DHCP_ROGUE', 'network', 'software', '整片终端拿错 IP', 'Terminals get wrong IPs (rogue DHCP)', '私接家用路由器 LAN/WAN 接反 → DHCP 抢答', TRUE),
    ('NET_IP_CONFLICT', 'network', 'software', 'IP 冲突', 'IP address conflict', '手工配置重复, 地址规划乱', TRUE),
    ('NET_CONFIG', 'network', 'software', 'VLAN/ACL/路由配置错误, 设备被恢复出厂', 'Wrong VLAN/ACL/routing, device reset', '误操作, 配置未备份', TRUE),
    ('NET_AUTH', 'network', 'software', '上网认证失败/账号到期', 'Internet login fails / account expired', '认证系统, 账号', TRUE),
    ('NET_ISP', 'network', 'other', '出口断网', 'Uplink down (carrier)', '运营商线路/欠费 (非本公司责任, 需协调)', TRUE),
    ('NET_POWER', 'network', 'other', '弱电箱断电', 'Network cabinet without power', '学校停电, 插座被拔', TRUE),
    ('ROOM_UPS_BATT', 'server_room', 'hardware', 'UPS 停电即关机/后备时间短', 'UPS shuts down on outage / short backup', '电池老化 (3–5 年), 鼓包', TRUE),
    ('ROOM_UPS_UNIT', 'server_room', 'hardware', 'UPS 告警/转旁路', 'UPS alarm / on bypass', '逆变器/风扇故障, 过载', TRUE),
    ('ROOM_AC', 'server_room', 'hardware', '空调不制冷/停电后不自启', 'Air-con not cooling / no auto-restart', '缺氟, 滤网堵, 家用空调无来电自启', TRUE),
    ('ROOM_SERVER_DISK', 'server_room', 'hardware', '服务器/存储硬盘告警, RAID 降级', 'Server or storage disk alarm, RAID degraded', '硬盘老化', TRUE),
    ('ROOM_POWER_LINE', 'server_room', 'cabling', '机柜 PDU/电源线接触不良, 跳闸', 'Rack PDU or power cord loose, breaker trips', '过载, 施工', TRUE),
    ('ROOM_OS', 'server_room', 'software', '服务器系统/服务异常, 时间不同步', 'Server OS or service fault, clock drift', NULL, TRUE),
    ('ROOM_ENV', 'server_room', 'other', '温度过高/湿度大/漏水/灰尘', 'Heat, humidity, leak or dust', '环境', TRUE),
    ('ROOM_OUTAGE', 'server_room', 'other', '学校长时间停电', 'Long power outage at school', NULL, TRUE),
    ('ROOM_LIGHTNING', 'server_room', 'other', '雷击', 'Lightning strike', NULL, TRUE),
    ('CCTV_CAM_DEAD', 'surveillance', 'hardware', '单路无图像, 灯不亮', 'One camera no picture, LED off', '摄像机坏, 适配器坏, 雷击', TRUE),
    ('CCTV_IR', 'surveillance', 'hardware', '夜间画面黑/模糊', 'Night picture dark or blurred', '红外灯坏, 供电不足衰减', TRUE),
    ('CCTV_NVR_DISK', 'surveillance', 'hardware', '录像丢失/保存天数不足', 'Recordings lost / too few days kept', '硬盘坏 (7×24 写入), 盘位松动', TRUE),
    ('CCTV_NVR_DOWN', 'surveillance', 'hardware', 'NVR 死机/反复重启', 'NVR hangs or reboots', '电源, 散热, 主板', TRUE),
    ('CCTV_POE_DIST', 'surveillance', 'cabling', '远端摄像机掉线/反复重启', 'Remote camera drops / reboots (PoE distance)', '网线超 80–100m, 线径细, PoE 功率不足', TRUE),
    ('CCTV_CABLE', 'surveillance', 'cabling', '画面中断/条纹', 'Picture breaks up or stripes', '线路被挖断/鼠咬, 接头氧化, 强弱电未分开干扰', TRUE),
    ('CCTV_FIBER', 'surveillance', 'cabling', '整片摄像机离线', 'A whole group of cameras offline', '光纤/收发器故障', TRUE),
    ('CCTV_CONFIG', 'surveillance', 'software', '录像计划未开, 覆盖关闭, 码流过高占满带宽, 时间错乱', 'Recording schedule, overwrite, bitrate or clock wrong', NULL, TRUE),
    ('CCTV_PLATFORM', 'surveillance', 'software', '平台/客户端看不到, 联网平台掉线', 'Platform or client cannot see cameras', '账号密码, 端口, 版本', TRUE),
    ('CCTV_LENS', 'surveillance', 'other', '画面模糊', 'Blurred picture (dirty or turned lens)', '镜头脏/蛛网/树枝遮挡/被人为转动', TRUE),
    ('CCTV_DAMAGE', 'surveillance', 'other', '人为破坏, 被盗', 'Vandalised or stolen', NULL, TRUE),
    ('BBT_LAMP', 'classroom', 'hardware', '投影不亮/亮度暗', 'Projector dark / lamp dim', '灯泡寿命到期', TRUE),
    ('BBT_PROJ_OVERHEAT', 'classroom', 'hardware', '投影自动关机', 'Projector switches itself off', '粉笔灰堵塞滤网/散热', TRUE),
    ('BBT_PROJ_COLOR', 'classroom', 'hardware', '偏色/色斑', 'Colour cast or spots', '光学老化, LCD 片老化', TRUE),
    ('BBT_TOUCH_HW', 'classroom', 'hardware', '白板/一体机触摸失灵/局部不灵', 'Board or panel touch fails', '红外框遮挡/损坏, 触摸模块坏', TRUE),
    ('BBT_PANEL', 'classroom', 'hardware', '一体机黑屏/有声无图/闪屏', 'Panel black, sound without picture, flicker', '背光/电源板/主板故障, 屏幕被砸', TRUE),
    ('BBT_PC', 'classroom', 'hardware', '电脑/OPS 不开机, 蓝屏, 硬盘坏, USB 口老化', 'PC/OPS will not boot, blue screen, disk or USB failure', NULL, TRUE),
    ('BBT_AUDIO', 'classroom', 'hardware', '无声/杂音/啸叫', 'No sound, noise or feedback', '功放老化, 麦克风/麦秆折断', TRUE),
    ('BBT_CTRL', 'classroom', 'hardware', '中控面板按键失灵, 幕布不升降', 'Control panel keys or screen motor fail', NULL, TRUE),
    ('BBT_SIGNAL', 'classroom', 'cabling', '无信号/偏色/闪烁', 'No signal, colour cast or flicker (HDMI/VGA)', 'HDMI/VGA 线或接口松动 (频繁插拔)', TRUE),
    ('BBT_POWER', 'classroom', 'cabling', '讲台插座/电源线', 'Lectern socket or power cord', '人为拔电源', TRUE),
    ('BBT_TOUCH_CAL', 'classroom', 'software', '触摸点偏移', 'Touch point offset (calibration)', '未校准/驱动问题 (→ 校准)', TRUE),
    ('BBT_OS', 'classroom', 'software', '系统卡顿, 病毒 (U 盘), 还原失效, 软件被误删, 白板软件授权过期', 'Slow system, virus, restore failed, software missing', NULL, TRUE),
    ('BBT_NET', 'classroom', 'software', '无法访问资源平台', 'Cannot reach the resource platform', '网络设置, 代理, DNS', TRUE),
    ('BBT_MISUSE', 'classroom', 'other', '操作不会/误操作 (切错信号源, 静音)', 'Not knowing how / wrong operation', '需培训 (manual §2.1)', TRUE),
    ('BBT_DAMAGE', 'classroom', 'other', '人为损坏', 'Damaged by users', NULL, TRUE),
    ('CLOUD_CLIENT_DEAD', 'cloud', 'hardware', '终端不开机', 'Thin client will not power on', '适配器坏, 终端主板坏', TRUE),
    ('CLOUD_HOST_HW', 'cloud', 'hardware', '服务器宕机/硬盘告警', 'Cloud host down / disk alarm', '内存/硬盘/电源', TRUE),
    ('CLOUD_NET', 'cloud', 'cabling', '部分终端连不上桌面', 'Some terminals cannot reach the desktop', '网线/交换机端口, 环路', TRUE),
    ('CLOUD_NO_IP', 'cloud', 'software', '虚拟机/终端取不到 IP', 'VM or terminal gets no IP', 'DHCP 未启动或交换机侧另开 DHCP', TRUE),
    ('CLOUD_AUTH', 'cloud', 'software', '提示"未授权"/"凭据不工作"/"密码过期"', '"Not licensed" / credentials / password expired', 'license 到期, 域/账户策略', TRUE),
    ('CLOUD_BLACK', 'cloud', 'software', '升级后黑屏', 'Black screen after upgrade', '终端固件/镜像版本不匹配', TRUE),
    ('CLOUD_SLOW', 'cloud', 'software', '桌面卡顿/视频卡', 'Desktop or video slow', '服务器资源不足, 带宽, 并发过多, 镜像臃肿', TRUE),
    ('CLOUD_IMAGE', 'cloud', 'software', '软件丢失/桌面被还原', 'Software lost / desktop restored', '还原策略, 镜像未更新保存', TRUE),
    ('CLOUD_POWER', 'cloud', 'other', '上课集中开机', 'Mass start-up at lesson time fails', '机房断电后服务器未自启, UPS 不足', TRUE),
    ('BC_AMP', 'broadcast', 'hardware', '全区无声', 'Whole zone silent (amplifier)', '功放保险烧/整流坏', TRUE),
    ('BC_SPEAKER', 'broadcast', 'hardware', '个别音箱/音柱无声', 'One speaker silent', '喇叭烧, 室外进水', TRUE),
    ('BC_TERMINAL', 'broadcast', 'hardware', 'IP 终端离线', 'IP terminal offline', '终端坏, 供电', TRUE),
    ('BC_LINE', 'broadcast', 'cabling', '某区无声/声小', 'A zone silent or quiet (line)', '定压线短路/断路, 接头松动, 线路被挖断', TRUE),
    ('BC_NOISE', 'broadcast', 'cabling', '背景噪音/交流声', 'Hum or background noise', '接地不良, 与强电同管', TRUE),
    ('BC_SCHEDULE', 'broadcast', 'software', '不打铃/打错铃', 'Bell does not ring / rings wrongly', '作息表未切换 (冬/夏季), 服务器时间漂移, 节假日设置', TRUE),
    ('BC_SERVER', 'broadcast', 'software', '广播软件服务停止, 终端未授权', 'Broadcast service stopped, terminal unlicensed', NULL, TRUE),
    ('BC_FEEDBACK', 'broadcast', 'other', '啸叫', 'Feedback howl', '话筒离音箱近/音量过大 (操作问题)', TRUE),
    ('BC_POWER', 'broadcast', 'other', '机柜断电', 'Cabinet without power', NULL, TRUE);

INSERT INTO sla_policies (priority, respond_minutes, arrive_minutes, resolve_minutes, updated_at) VALUES
    ('urgent', 30, 240, 1440, CURRENT_TIMESTAMP),
    ('high', 60, 480, 2880, CURRENT_TIMESTAMP),
    ('normal', 120, 2880, 4320, CURRENT_TIMESTAMP),
    ('low', 1440, 10080, 10080, CURRENT_TIMESTAMP);

INSERT INTO settings (key, value) VALUES ('repeat_window_days', '30');
