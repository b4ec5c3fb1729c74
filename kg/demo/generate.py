"""Generate the demo hospital (演示医院): ``python -m kg.demo.generate`` rewrites the CSVs next to it.

A fictional tertiary hospital: about seventy devices, every data-template item of each device as a
raw data asset (labels, categories and personal-information flags come from the ontology's data
templates), and derived data products in lineage chains up to five steps long: utilisation
reports, a de-identified dose-registry submission, an anonymised training set, QC trend and
quality reports, and outbound packages to the national information centre, the provincial QC
centre, manufacturers, the internal research platform and a research partner abroad (whose
provisions in 2026 are recorded by :mod:`kg.demo.records`).

Deterministic: no randomness, no clock, no network. Every label is resolved through the ontology
and every content requirement is checked (:func:`check`) before a file is written.
``--check`` compares instead of writing and exits 1 when a file is out of date.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kg.ontology import Ontology, load_ontology

if TYPE_CHECKING:
    from kg.vocabulary import Category, Level, PersonalInfoCategory

HERE = Path(__file__).resolve().parent

DEVICE_HEADER = ("设备标识", "设备类型", "设备名称", "型号", "生产企业", "安装位置")
DESTINATION_HEADER = ("去向标识", "去向名称", "准入级别", "院外", "境外", "等保级别", "具备措施")
ASSET_HEADER = (
    "资产标识", "资产名称", "数据分类", "数据级别", "所属设备", "设备类型", "数据元素", "来源资产", "加工方式",
    "个人信息", "数据主体数量", "责任部门", "备注", "审批人", "审批日期", "审批依据", "提供去向", "上次复核",
)  # fmt: skip

# The annual review (R15): the demo is judged as of DEMO_TODAY (README: MEDGRADE_TODAY=2026-12-01).
# Every asset has a last-reviewed date: most in November 2026, the assets of DEMO_OVERDUE more than
# a year before DEMO_TODAY (due for review), and DEMO_AT_CUTOFF exactly a year before (still current).
DEMO_TODAY = "2026-12-01"
DEMO_OVERDUE = {
    "ct-01-protocols": "2025-10-15",
    "ct-03-dicom-net": "2025-11-03",
    "mr-02-protocols": "2025-11-20",
    "us-02-probes": "2025-09-08",
    "pump-onc-01-drug-lib": "2025-11-30",
    "endo-02-processor": "2025-06-18",
}
DEMO_AT_CUTOFF = {"robot-01-sbom": "2025-12-01"}

ID_RE = re.compile(r"^[A-Za-z0-9-]+$")
DATE_RE = re.compile(r"^2026-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
YES, NO = "是", "否"

# --------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------

# Fictional manufacturers, domestic and foreign.
HUAYING = "华影医疗科技股份有限公司"
XINUO = "西诺医疗系统有限公司（德国）"
KANGTUO = "康拓医疗设备有限公司"
RUISHENG = "瑞声医疗电子股份有限公司"
MEILAN = "美岚医疗器械有限公司（美国）"
WEIRUI = "维瑞放射治疗系统有限公司（美国）"
ANLAN = "安澜生命科技股份有限公司"
DEWEI = "德维医疗技术有限公司（德国）"
FEILAN = "菲澜医疗系统有限公司（荷兰）"
BEIKANG = "贝康医疗器械有限公司（德国）"
FEILANG = "费朗肾科医疗有限公司（德国）"
SHANHE = "山河医疗器械股份有限公司"
MAIWEI = "迈维心肺科技有限公司（瑞典）"
AOGUANG = "奥光医疗株式会社（日本）"
HUACHEN = "华辰内镜技术有限公司"
YUSHEN = "宇申诊断株式会社（日本）"
HENGJIAN = "恒检生物医学股份有限公司"
HUAXU = "华序基因科技股份有限公司"
LIKANG = "理康医疗仪器股份有限公司"
JINGWEI = "精微医疗机器人有限公司"
XINYUAN = "新源消毒设备股份有限公司"
MEIRUI = "美瑞心律医疗有限公司（美国）"


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    type_code: str  # equipment-type code in the ontology; written as its zh label
    short: str  # how the device is named in its assets' names
    name: str
    model: str
    maker: str
    location: str
    dept: str  # the clinical department that owns its clinical data


_D = Device
DEVICES: tuple[Device, ...] = (
    _D("ct-01", "EQ001", "CT-01", "256排宽体能谱 CT（1号 CT）", "启衡 CT 960", HUAYING, "影像科 CT1室", "影像科"),
    _D("ct-02", "EQ001", "CT-02", "128层螺旋 CT（2号 CT）", "启衡 CT 780", HUAYING, "影像科 CT2室", "影像科"),
    _D("ct-03", "EQ001", "CT-03", "64排螺旋 CT（急诊 CT）", "Vistara S64", XINUO, "急诊医学科 急诊影像室", "影像科"),
    _D("mr-01", "EQ002", "MR-01", "3.0T 超导磁共振（1号 MR）", "Magnova 3T", XINUO, "影像科 MR1室", "影像科"),
    _D("mr-02", "EQ002", "MR-02", "1.5T 超导磁共振（2号 MR）", "启磁 MR 560", HUAYING, "影像科 MR2室", "影像科"),
    _D("petct-01", "EQ003", "PET/CT-01", "数字化 PET/CT", "启元 PET/CT 780", HUAYING, "核医学科 PET/CT 室", "核医学科"),
    _D("dr-01", "EQ006", "DR-01", "双立柱数字化 X 射线摄影系统（1号 DR）", "康拓 DR-7600", KANGTUO, "影像科 DR1室",
       "影像科"),
    _D("dr-02", "EQ006", "DR-02", "悬吊式数字化 X 射线摄影系统（2号 DR）", "Lumix D9", XINUO, "影像科 DR2室", "影像科"),
    _D("dr-03", "EQ006", "移动 DR-03", "移动式数字化 X 射线摄影系统（床旁 DR）", "康拓 MDR-330", KANGTUO,
       "重症医学科 床旁摄影", "影像科"),
    _D("dsa-01", "EQ008", "DSA-01", "平板血管造影系统（1号 DSA）", "Angira F20", XINUO, "介入诊疗中心 DSA1室",
       "介入诊疗中心"),
    _D("dsa-02", "EQ008", "DSA-02", "杂交手术室血管造影系统（2号 DSA）", "启脉 DSA 860", HUAYING,
       "手术部 杂交手术室", "介入诊疗中心"),
    _D("us-01", "EQ011", "超声-01", "彩色多普勒超声诊断系统（1号机）", "瑞影 R90", RUISHENG, "超声医学科 1诊室",
       "超声医学科"),
    _D("us-02", "EQ011", "超声-02", "彩色多普勒超声诊断系统（2号机）", "瑞影 R70", RUISHENG, "超声医学科 2诊室",
       "超声医学科"),
    _D("us-03", "EQ011", "心超-03", "心脏彩色多普勒超声诊断系统", "EchoVia C8", MEILAN, "心血管内科 心脏超声室",
       "超声医学科"),
    _D("us-04", "EQ011", "产科超声-04", "妇产科彩色多普勒超声诊断系统", "EchoVia W6", MEILAN, "产科 产科超声室",
       "超声医学科"),
    _D("linac-01", "EQ013", "加速器-01", "医用电子直线加速器（1号加速器）", "Veritas TX", WEIRUI, "放疗科 加速器1室",
       "放疗科"),
    _D("linac-02", "EQ013", "加速器-02", "医用电子直线加速器（2号加速器）", "启疗 RT 600", HUAYING, "放疗科 加速器2室",
       "放疗科"),
    _D("vent-icu-01", "EQ018", "ICU 呼吸机-01", "有创呼吸机（ICU 1床）", "安澜 SV-800", ANLAN, "重症医学科 1床",
       "重症医学科"),
    _D("vent-icu-02", "EQ018", "ICU 呼吸机-02", "有创呼吸机（ICU 3床）", "安澜 SV-800", ANLAN, "重症医学科 3床",
       "重症医学科"),
    _D("vent-icu-03", "EQ018", "ICU 呼吸机-03", "有创呼吸机（ICU 5床）", "安澜 SV-800", ANLAN, "重症医学科 5床",
       "重症医学科"),
    _D("vent-icu-04", "EQ018", "ICU 呼吸机-04", "有创呼吸机（ICU 8床）", "安澜 SV-600", ANLAN, "重症医学科 8床",
       "重症医学科"),
    _D("vent-ricu-01", "EQ018", "RICU 呼吸机-01", "有创无创一体呼吸机（RICU 2床）", "Evion V600", DEWEI,
       "呼吸与危重症医学科 RICU 2床", "呼吸与危重症医学科"),
    _D("vent-ed-01", "EQ018", "急诊呼吸机-01", "急救转运呼吸机", "安澜 TV-300", ANLAN, "急诊医学科 抢救室",
       "急诊医学科"),
    _D("anes-or-01", "EQ019", "麻醉机-OR01", "麻醉工作站（1号手术间）", "Evion A7", DEWEI, "手术部 1号手术间",
       "麻醉科"),
    _D("anes-or-05", "EQ019", "麻醉机-OR05", "麻醉工作站（5号手术间）", "安澜 AX-700", ANLAN, "手术部 5号手术间",
       "麻醉科"),
    _D("anes-or-09", "EQ019", "麻醉机-OR09", "麻醉工作站（9号手术间）", "安澜 AX-700", ANLAN, "手术部 9号手术间",
       "麻醉科"),
    _D("mon-icu-01", "EQ020", "ICU 监护仪-01", "床旁病人监护仪（ICU 1床）", "安澜 BM-12", ANLAN, "重症医学科 1床",
       "重症医学科"),
    _D("mon-icu-02", "EQ020", "ICU 监护仪-02", "床旁病人监护仪（ICU 3床）", "安澜 BM-12", ANLAN, "重症医学科 3床",
       "重症医学科"),
    _D("mon-icu-03", "EQ020", "ICU 监护仪-03", "床旁病人监护仪（ICU 5床）", "安澜 BM-12", ANLAN, "重症医学科 5床",
       "重症医学科"),
    _D("mon-icu-04", "EQ020", "ICU 监护仪-04", "床旁病人监护仪（ICU 8床）", "安澜 BM-12", ANLAN, "重症医学科 8床",
       "重症医学科"),
    _D("mon-ccu-01", "EQ020", "CCU 监护仪-01", "床旁病人监护仪（CCU 1床）", "IntelliView 70", FEILAN,
       "心血管内科 CCU 1床", "心血管内科"),
    _D("mon-ccu-02", "EQ020", "CCU 监护仪-02", "床旁病人监护仪（CCU 2床）", "IntelliView 70", FEILAN,
       "心血管内科 CCU 2床", "心血管内科"),
    _D("mon-ed-01", "EQ020", "急诊监护仪-01", "急诊抢救监护仪", "安澜 BM-10", ANLAN, "急诊医学科 抢救室 2床",
       "急诊医学科"),
    _D("mon-or-01", "EQ020", "术中监护仪-OR01", "麻醉监护仪（1号手术间）", "IntelliView 90", FEILAN,
       "手术部 1号手术间", "麻醉科"),
    _D("cms-icu-01", "EQ021", "ICU 中央站", "中央监护系统（ICU）", "安澜 CMS-9", ANLAN, "重症医学科 护士站",
       "重症医学科"),
    _D("pump-icu-01", "EQ023", "ICU 输液泵-01", "智能输液泵（ICU 1床）", "Infusa P5", BEIKANG, "重症医学科 1床",
       "重症医学科"),
    _D("pump-icu-02", "EQ023", "ICU 输液泵-02", "智能输液泵（ICU 3床）", "Infusa P5", BEIKANG, "重症医学科 3床",
       "重症医学科"),
    _D("pump-icu-03", "EQ023", "ICU 输液泵-03", "智能输液泵（ICU 5床）", "Infusa P5", BEIKANG, "重症医学科 5床",
       "重症医学科"),
    _D("pump-onc-01", "EQ023", "肿瘤内科输液泵-01", "容量输液泵（肿瘤内科 12床）", "安澜 IP-300", ANLAN,
       "肿瘤内科 病区 12床", "肿瘤内科"),
    _D("pump-onc-02", "EQ023", "肿瘤内科输液泵-02", "容量输液泵（肿瘤内科 15床）", "安澜 IP-300", ANLAN,
       "肿瘤内科 病区 15床", "肿瘤内科"),
    _D("pump-ped-01", "EQ023", "儿科输液泵-01", "儿科智能输液泵", "Infusa P5", BEIKANG, "儿科 病区 6床", "儿科"),
    _D("pump-syr-icu-01", "EQ024", "ICU 注射泵-01", "单通道注射泵（ICU 5床）", "安澜 SP-200", ANLAN,
       "重症医学科 5床", "重症医学科"),
    _D("pump-syr-nicu-01", "EQ024", "NICU 注射泵-01", "微量注射泵（NICU 2床）", "Infusa S3", BEIKANG,
       "新生儿科 NICU 2床", "新生儿科"),
    _D("hd-01", "EQ025", "透析机-01", "血液透析机（1号机位）", "费朗 HD-5X", FEILANG, "血液净化中心 1号机位",
       "血液净化中心"),
    _D("hd-02", "EQ025", "透析机-02", "血液透析机（2号机位）", "费朗 HD-5X", FEILANG, "血液净化中心 2号机位",
       "血液净化中心"),
    _D("hd-03", "EQ025", "透析机-03", "血液透析机（3号机位）", "山河 SWS-6000", SHANHE, "血液净化中心 3号机位",
       "血液净化中心"),
    _D("crrt-icu-01", "EQ026", "CRRT-01", "连续性血液净化机", "费朗 CR-8", FEILANG, "重症医学科 血液净化单元",
       "重症医学科"),
    _D("ecmo-01", "EQ027", "ECMO-01", "体外膜肺氧合系统", "CardioVia E2", MAIWEI, "重症医学科 ECMO 单元",
       "重症医学科"),
    _D("ecg-01", "EQ029", "心电图机-01", "十二导联心电图机（心电图室）", "理康 ECG-1200", LIKANG,
       "功能检查科 心电图室", "功能检查科"),
    _D("ecg-02", "EQ029", "心电图机-02", "十二导联心电图机（健康管理中心）", "CardiFax 12", MEILAN,
       "健康管理中心 心电检查室", "功能检查科"),
    _D("endo-01", "EQ033", "内镜-01", "电子胃肠内镜系统（1号检查室）", "Optiva 290", AOGUANG,
       "消化内镜中心 1号检查室", "消化内镜中心"),
    _D("endo-02", "EQ033", "内镜-02", "电子胃肠内镜系统（2号检查室）", "华辰 HD-550", HUACHEN,
       "消化内镜中心 2号检查室", "消化内镜中心"),
    _D("chem-01", "EQ044", "生化-01", "全自动生化分析仪（1号）", "ChemPro 8000", YUSHEN, "检验科 生化免疫组", "检验科"),
    _D("chem-02", "EQ044", "生化-02", "全自动生化分析仪（2号）", "恒检 BS-2200", HENGJIAN, "检验科 生化免疫组",
       "检验科"),
    _D("seq-01", "EQ050", "测序仪-01", "高通量基因测序仪", "华序 SeqX 2000", HUAXU, "检验科 分子诊断实验室", "检验科"),
    _D("fetal-01", "EQ059", "胎监-01", "胎儿监护仪（胎心监护室）", "理康 F9", LIKANG, "产科 胎心监护室", "产科"),
    _D("fetal-02", "EQ059", "胎监-02", "胎儿监护仪（产房）", "理康 F9", LIKANG, "产科 产房 1室", "产科"),
    _D("incu-nicu-01", "EQ060", "NICU 培养箱-01", "婴儿培养箱（NICU 1床）", "Evion I-500", DEWEI, "新生儿科 NICU 1床",
       "新生儿科"),
    _D("incu-nicu-02", "EQ060", "NICU 培养箱-02", "婴儿培养箱（NICU 3床）", "Evion I-500", DEWEI, "新生儿科 NICU 3床",
       "新生儿科"),
    _D("defib-ed-01", "EQ022", "除颤仪-急诊01", "双相波除颤监护仪", "安澜 D6", ANLAN, "急诊医学科 抢救室",
       "急诊医学科"),
    _D("defib-aed-01", "EQ022", "AED-门诊01", "自动体外除颤器（门诊大厅）", "安澜 AED-C1", ANLAN, "门诊楼 一楼大厅",
       "急诊医学科"),
    _D("robot-01", "EQ035", "手术机器人-01", "腔镜手术机器人系统", "精微 MR-2000", JINGWEI, "手术部 12号手术间",
       "泌尿外科"),
    _D("steril-01", "EQ056", "灭菌器-01", "脉动真空压力蒸汽灭菌器（1号）", "新源 XG-1.2", XINYUAN,
       "消毒供应中心 灭菌区", "消毒供应中心"),
    _D("steril-02", "EQ056", "灭菌器-02", "脉动真空压力蒸汽灭菌器（2号）", "新源 XG-1.2", XINYUAN,
       "消毒供应中心 灭菌区", "消毒供应中心"),
    _D("pacer-fu-01", "EQ070", "起搏器随访", "植入式心脏起搏器（心内科植入患者远程随访）",
       "律动 DR-8 系列（程控仪 PG-300）", MEIRUI, "心血管内科 起搏器随访门诊", "心血管内科"),
    _D("mg-01", "EQ010", "乳腺机-01", "数字乳腺 X 射线摄影系统", "Mammira 3D", XINUO, "影像科 乳腺摄影室", "影像科"),
    _D("carm-or-01", "EQ009", "C 形臂-01", "移动式 C 形臂 X 射线机", "康拓 C-900", KANGTUO, "手术部 骨科手术间",
       "骨科"),
)  # fmt: skip

# Patients a device of each type sees in a month (for 数据主体数量); varied per asset below.
MONTHLY_PATIENTS: dict[str, int] = {
    "EQ001": 4000, "EQ002": 1100, "EQ003": 520, "EQ006": 3600, "EQ008": 200, "EQ009": 120, "EQ010": 900,
    "EQ011": 2200, "EQ013": 75, "EQ018": 12, "EQ019": 110, "EQ020": 20, "EQ021": 90, "EQ022": 10, "EQ023": 30,
    "EQ024": 25, "EQ025": 70, "EQ026": 8, "EQ027": 3, "EQ029": 3000, "EQ033": 650, "EQ035": 40, "EQ044": 18000,
    "EQ050": 160, "EQ056": 4500, "EQ059": 380, "EQ060": 8, "EQ070": 110,
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# Data items per device
# --------------------------------------------------------------------------------------------

# Period kinds: M one asset per month, Q per quarter, Y per year, S a current snapshot.
PERIODS: dict[str, tuple[tuple[str, str], ...]] = {
    "M": (("2026-09", "2026年9月"), ("2026-10", "2026年10月")),
    "Q": (("2026q3", "2026Q3"),),
    "Y": (("2026", "2026年度"),),
    "S": (("", ""),),
}
SUBJECT_FACTOR = {"M": 1.0, "Q": 2.4, "Y": 8.0, "S": 1.0}

ERR = "时间戳;错误代码;错误描述;子系统;严重级别;软件版本"
PM = "维护计划号;维护日期;维护项目;检查结果;更换部件;下次维护日期;服务商"
WO = "工单号;报修时间;故障现象;故障部件;维修措施;更换备件;停机时长（小时）;维修单位;完工时间"
WORKLOAD = "统计日期;检查人次;检查部位数;开机时长（小时）;实际使用时长（小时）;急诊检查数;平均预约等待天数"
METROLOGY = "证书编号;检定日期;有效期至;检定机构;检定项目;检定结论;设备出厂编号"
REMOTE = "会话编号;开始时间;结束时间;远程工程师账号;接入方式;操作内容摘要;涉及检查号"
DICOM_NET = "AE Title;IP 地址;端口;子网掩码;网关;PACS 目标节点;工作列表服务器"
CAL = "校准日期;校准项目;标准器编号;校准前偏差;校准后偏差;校准结论"
CONSTANCY = "检测日期;检测类型;检测项目;测量值;标准限值;检测机构;结论"
DICOM_IMG = "PatientName;PatientID;PatientBirthDate;PatientSex;AccessionNumber;StudyDate"
ALARMS = "报警时间;床号;住院号;报警类型;报警优先级;报警参数;报警阈值;实测值;持续时间（秒）"

# Template item (local name in the ontology) -> (id slug, name, period kind, data elements).
# The order here is the order of the rows. Category and personal information come from the ontology.
ITEMS: dict[str, tuple[str, str, str, str]] = {
    # CT
    "CTItemImages": ("dicom", "DICOM 影像", "M", DICOM_IMG + ";KVP;XRayTubeCurrent;SliceThickness;PixelData"),
    "CTItemDoseReport": ("dose-sr", "剂量结构化报告（RDSR）", "M",
                         "患者姓名;住院号;检查号;检查日期;检查部位;协议名称;CTDIvol;DLP;SSDE"),
    "CTItemWorkload": ("workload", "工作量统计", "M", WORKLOAD),
    "CTItemScanProtocols": ("protocols", "扫描协议库", "S",
                            "协议名称;检查部位;管电压（kV）;管电流调制;旋转时间;螺距;准直宽度;重建卷积核;层厚"),
    "CTItemTubeDetectorLog": ("tube-log", "球管与探测器日志", "Q",
                              "时间戳;球管序列号;球管累计曝光秒数;热容量（MHU）;阳极温度;打火次数;探测器温度;灯丝电流"),
    "CTItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "CTItemPhantomQC": ("phantom-qc", "水模质控检测结果", "Q",
                        "检测日期;水 CT 值;噪声;均匀性;高对比分辨力;低对比可探测能力;CTDIw 测量值;判定结果"),
    "CTItemRepairWorkOrders": ("work-orders", "维修工单", "Q", WO),
    "CTItemNetworkConfig": ("dicom-net", "DICOM 网络配置", "S", DICOM_NET),
    # MR
    "MRItemImages": ("dicom", "DICOM 影像", "M",
                     DICOM_IMG + ";PatientWeight;MagneticFieldStrength;SequenceName;PixelData"),
    "MRItemSARRecord": ("sar", "SAR 与 dB/dt 记录", "M",
                        "PatientID;PatientWeight;StudyDate;SequenceName;SAR;dBdt;线圈名称"),
    "MRItemWorkload": ("workload", "工作量统计", "M", WORKLOAD),
    "MRItemScanProtocols": ("protocols", "扫描序列与协议", "S",
                            "协议名称;序列名称;TR;TE;翻转角;层厚;视野（FOV）;矩阵;并行采集因子"),
    "MRItemHeliumTelemetry": ("helium", "液氦液位与冷头监测", "Q",
                              "时间戳;液氦液位（%）;液氦压力（psi）;冷头温度（K）;压缩机状态;水冷机温度;失超报警"),
    "MRItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "MRItemPhantomQC": ("phantom-qc", "体模质控结果", "Q",
                        "检测日期;中心频率;信噪比;图像均匀性;几何畸变;层厚精度;高对比分辨力;伪影评价"),
    "MRItemPreventiveMaintenance": ("pm", "预防性维护记录", "Y", PM),
    "MRItemRemoteService": ("remote-service", "远程服务会话记录", "Q", REMOTE),
    # PET/CT
    "PETCTItemImages": ("dicom", "DICOM 影像", "M",
                        DICOM_IMG + ";PatientWeight;Radiopharmaceutical;RadionuclideTotalDose;PixelData"),
    "PETCTItemCTDoseReport": ("ct-dose-sr", "CT 部分剂量结构化报告", "M",
                              "患者姓名;住院号;检查号;检查日期;检查部位;CTDIvol;DLP"),
    "PETCTItemRadiopharmaceuticalDose": ("rrdsr", "放射性药物剂量结构化报告", "M",
                                         "PatientID;PatientName;PatientWeight;检查日期;放射性药物;注射活度（MBq）;注射时间;有效剂量估计"),
    "PETCTItemWorkload": ("workload", "工作量统计", "M", WORKLOAD),
    "PETCTItemDailyQC": ("daily-qc", "每日质控扫描", "Q",
                         "质控日期;符合计数率;异常探测器单元数;能量分辨率;时间分辨率;质控结论"),
    "PETCTItemCalibration": ("calibration", "归一化与交叉校准记录", "Q",
                             "校准日期;校准类型;校准源活度;校准因子;SUV 交叉校准偏差;探测器归一化结果"),
    "PETCTItemDetectorTelemetry": ("detector", "探测器状态监测", "Q",
                                   "时间戳;探测器模块编号;模块温度;偏置电压;单事件计数率;冷却液流量"),
    "PETCTItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "PETCTItemAuditLog": ("audit-log", "安全审计日志", "Q",
                          "事件时间;事件类型;用户账号;源 IP;访问对象;PatientID;操作结果"),
    # DR
    "DRItemImages": ("dicom", "DICOM 影像", "M", DICOM_IMG + ";BodyPartExamined;ExposureIndex;PixelData"),
    "DRItemDoseReport": ("dose", "摄影剂量记录", "M",
                         "PatientID;PatientName;AccessionNumber;检查日期;摄影部位;管电压（kV）;mAs;剂量面积乘积（DAP）;曝光指数（EI）"),
    "DRItemWorkload": ("workload", "工作量统计", "M", WORKLOAD),
    "DRItemRejectAnalysis": ("reject", "废片分析记录", "Q", "检查号;摄影部位;废片原因;重拍次数;操作员工号;日期"),
    "DRItemOperatorLogins": ("logins", "操作员登录记录", "Q",
                             "登录时间;登出时间;操作员工号;操作员姓名;终端名称;登录结果"),
    "DRItemDetectorCalibration": ("detector-cal", "平板探测器校准记录", "Q",
                                  "校准日期;探测器序列号;增益校准结果;坏像素数;暗场偏移;校准单位"),
    "DRItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "DRItemConstancyTest": ("constancy", "验收与状态检测报告", "Y",
                            "检测日期;检测类型;管电压准确性;输出量重复性;半值层;探测器剂量指示;影像均匀性;检测机构;结论"),
    # DSA
    "DSAItemImages": ("dicom", "DICOM 影像", "M", DICOM_IMG + ";PositionerPrimaryAngle;FrameTime;PixelData"),
    "DSAItemDoseReport": ("dose-sr", "介入剂量结构化报告（RDSR）", "M",
                          "患者姓名;住院号;检查号;手术日期;术式;透视时间;参考点空气比释动能;剂量面积乘积（DAP）;峰值皮肤剂量估计"),
    "DSAItemConsumables": ("consumables", "介入耗材使用记录", "Q",
                           "住院号;患者姓名;手术日期;耗材名称;耗材 UDI;规格型号;数量;术式"),
    "DSAItemTubeLog": ("tube-log", "球管热容量与冷却系统日志", "Q",
                       "时间戳;球管序列号;阳极热容量（%）;管套温度;冷却液温度;冷却液流量;曝光次数"),
    "DSAItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "DSAItemRepairWorkOrders": ("work-orders", "维修工单", "Q", WO),
    "DSAItemAcceptanceTest": ("constancy", "验收与状态检测报告", "Y", CONSTANCY),
    "DSAItemNetworkConfig": ("dicom-net", "DICOM 网络配置", "S", DICOM_NET),
    # Ultrasound
    "USItemImages": ("dicom", "DICOM 影像与动态图", "M", DICOM_IMG + ";TransducerData;NumberOfFrames;PixelData"),
    "USItemMeasurements": ("meas-sr", "测量结构化报告", "M",
                           "PatientID;PatientName;检查日期;检查部位;测量项目;测量值;单位;超声所见"),
    "USItemWorklist": ("worklist", "检查工作列表", "M",
                       "PatientID;PatientName;PatientBirthDate;PatientSex;AccessionNumber;"
                       "ScheduledProcedureStepStartDate;RequestedProcedureDescription;申请科室"),
    "USItemWorkload": ("workload", "工作量统计", "M", WORKLOAD),
    "USItemTransducers": ("probes", "探头配置与状态", "S",
                          "探头型号;探头序列号;频率范围;阵元故障数;累计使用小时;最近检测日期"),
    "USItemPhantomQC": ("phantom-qc", "体模质控结果", "Q",
                        "检测日期;探头型号;最大探测深度;轴向分辨力;侧向分辨力;盲区;几何位置精度;判定"),
    "USItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "USItemPreventiveMaintenance": ("pm", "预防性维护记录", "Y", PM),
    # Linear accelerator
    "LinacItemRTPlan": ("rt-plan", "放疗计划", "M",
                        "PatientID;PatientName;RTPlanLabel;处方剂量;分次数;射束数;机架角;MU;靶区名称"),
    "LinacItemTreatmentRecord": ("tx-record", "治疗记录", "M",
                                 "PatientID;PatientName;治疗日期;分次序号;射野编号;实际出束 MU;治疗时长;摆位误差"),
    "LinacItemVerificationImages": ("verif-img", "验证影像（CBCT/EPID）", "M",
                                    "PatientID;PatientName;StudyDate;RTImageLabel;配准平移;配准旋转;PixelData"),
    "LinacItemTrajectoryLog": ("trajectory", "MLC 轨迹日志", "Q",
                               "治疗日期;患者 ID;计划 UID;射野编号;叶片位置偏差 RMS;最大叶片偏差;机架角偏差;MU 偏差"),
    "LinacItemWorkload": ("workload", "工作量统计", "M",
                          "统计日期;治疗人次;治疗野数;出束时长（小时）;开机时长（小时）;新收患者数"),
    "LinacItemDailyQA": ("daily-qa", "每日晨检结果", "Q",
                         "检测日期;光子输出偏差;电子输出偏差;激光灯对准;光野射野一致性;门联锁检查;结论"),
    "LinacItemDoseCalibration": ("dose-cal", "绝对剂量校准记录", "Y",
                                 "校准日期;射线能量;参考条件;电离室型号;校准因子;输出量偏差;依据规程"),
    "LinacItemInterlocks": ("interlocks", "联锁与故障日志", "Q", "时间戳;联锁代码;联锁描述;子系统;治疗中断;恢复时间"),
    # Ventilator
    "VentItemMeasurements": ("vent-params", "通气监测参数", "Q",
                             "住院号;时间戳;通气模式;潮气量（Vt）;呼吸频率;PEEP;气道峰压;FiO2;分钟通气量"),
    "VentItemWaveforms": ("waveforms", "压力、流量与容量波形", "Q",
                          "住院号;采样时间;采样频率;气道压力波形;流量波形;容量波形"),
    "VentItemAlarms": ("alarms", "报警日志", "Q", ALARMS),
    "VentItemUsageEpisodes": ("usage", "通气使用记录", "Q",
                              "住院号;床号;上机时间;撤机时间;通气时长（小时）;通气模式;使用科室"),
    "VentItemRunningStatus": ("run-status", "运行状态与累计运行时间", "Q",
                              "时间戳;设备序列号;运行状态;累计运行小时;涡轮运行小时;电池状态;软件版本"),
    "VentItemSelfTest": ("self-test", "使用前自检记录", "Q",
                         "自检时间;自检项目;泄漏量;顺应性;流量传感器检测;氧电池检测;结论"),
    "VentItemSensorCalibration": ("sensor-cal", "流量传感器与氧电池校准", "Q", CAL),
    "VentItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "VentItemPreventiveMaintenance": ("pm", "预防性维护记录", "Y", PM),
    # Anaesthesia machine
    "AnaesItemMeasurements": ("anes-params", "麻醉监测参数", "Q",
                              "住院号;时间戳;潮气量;呼吸频率;EtCO2;吸入氧浓度;呼气末七氟烷浓度;MAC 值;气道压"),
    "AnaesItemWaveforms": ("waveforms", "呼吸与气体波形", "Q",
                           "住院号;采样时间;采样频率;气道压力波形;CO2 波形;麻醉气体波形"),
    "AnaesItemAlarms": ("alarms", "报警记录", "Q", "报警时间;手术间;住院号;报警类型;报警优先级;报警参数;实测值"),
    "AnaesItemAgentConsumption": ("agent", "麻醉药剂与新鲜气体消耗", "Q",
                                  "日期;手术间;七氟烷消耗（ml）;地氟烷消耗（ml）;氧气流量;笑气流量;空气流量;新鲜气体总量"),
    "AnaesItemLeakTest": ("leak-test", "开机自检与泄漏测试", "Q",
                          "自检时间;系统泄漏量;顺应性;O2 传感器检测;挥发罐检测;结论"),
    "AnaesItemGasCalibration": ("gas-cal", "气体模块校准记录", "Q", CAL),
    "AnaesItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "AnaesItemPreventiveMaintenance": ("pm", "预防性维护记录", "Y", PM),
    # Patient monitor
    "MonitorItemVitalSigns": ("vitals", "生命体征参数", "Q",
                              "住院号;测量时间;心率;无创血压;有创血压;SpO2;呼吸频率;体温"),
    "MonitorItemWaveforms": ("waveforms", "实时波形", "Q",
                             "住院号;采样时间;ECG 导联;心电波形;SpO2 脉搏波;有创压波形;采样频率"),
    "MonitorItemAlarms": ("alarms", "生理报警记录", "Q", ALARMS),
    "MonitorItemADT": ("adt", "入院患者信息", "Q", "住院号;患者姓名;性别;出生日期;床号;入科时间;出科时间"),
    "MonitorItemTechnicalAlarms": ("tech-alarms", "技术报警与故障代码", "Q",
                                   "报警时间;报警代码;报警描述;模块;持续时间（秒）;处置结果"),
    "MonitorItemNetworkConfig": ("net-config", "网络配置", "S",
                                 "设备 IP;MAC 地址;VLAN;中央站地址;HL7 接口端口;无线 SSID"),
    "MonitorItemMetrology": ("metrology", "计量检定证书", "Y", METROLOGY),
    "MonitorItemPreventiveMaintenance": ("pm", "预防性维护记录", "Y", PM),
    # Infusion pump
    "InfPumpItemProgrammingOrders": ("orders", "输液程序下发", "Q",
                                     "医嘱号;住院号;药物名称;剂量;速率;下发时间;核对状态"),
    "InfPumpItemInfusionEvents": ("infusion", "输液过程记录", "Q",
                                  "住院号;药物名称;开始时间;结束时间;设定速率;输注总量;暂停次数;限值超越"),
    "InfPumpItemAlarms": ("alarms", "报警记录", "Q", "报警时间;床号;住院号;报警类型;报警优先级;通道号"),
    "InfPumpItemRunningStatus": ("run-status", "电池与运行状态", "Q",
                                 "时间戳;设备序列号;运行状态;电池电量;累计运行小时;软件版本"),
    "InfPumpItemDrugLibrary": ("drug-lib", "药物库", "S", "药物库版本;护理单元;药物名称;浓度;软限值;硬限值;默认速率"),
    "InfPumpItemFlowRateTest": ("flow-test", "流速准确性检测", "Y",
                                "检测日期;设定流速;实测流速;相对误差;阻塞报警压力;检测设备;结论"),
    "InfPumpItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "InfPumpItemRepairWorkOrders": ("work-orders", "维修工单", "Q", WO),
    "InfPumpItemWirelessCredentials": ("wifi-cred", "无线接入凭据", "S",
                                       "证书序列号;客户端证书;私钥;EAP 身份;证书有效期;SSID"),
    # Haemodialysis
    "HDItemSessionRecords": ("sessions", "治疗记录", "M",
                             "患者姓名;透析号;治疗日期;透析模式;治疗时长;超滤量;血流量;抗凝方式;Kt/V"),
    "HDItemVitalSigns": ("vitals", "治疗中生命体征", "M", "透析号;测量时间;收缩压;舒张压;心率;体温;静脉压;跨膜压"),
    "HDItemAlarms": ("alarms", "报警记录", "Q", "报警时间;机位号;透析号;报警类型;报警参数;实测值;处置结果"),
    "HDItemConsumables": ("consumables", "透析器与管路使用记录", "Q", "日期;机位号;透析器型号;管路型号;批号;数量"),
    "HDItemWaterQuality": ("water-qc", "透析用水与透析液质量检测", "Q",
                           "采样日期;采样点;细菌菌落数;内毒素;电导率;余氯;检测结论"),
    "HDItemDisinfection": ("disinfection", "机器消毒记录", "Q",
                           "消毒日期;消毒方式;消毒剂;温度;消毒时长（分钟）;残留检测结果"),
    "HDItemCalibration": ("cond-cal", "电导度与温度校准记录", "Y", CAL),
    "HDItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    # ECMO
    "ECMOItemRunRecords": ("runs", "治疗记录", "Q",
                           "住院号;患者姓名;上机时间;撤机时间;ECMO 模式;插管部位;适应证;并发症;转归"),
    "ECMOItemCircuitParameters": ("circuit", "运行参数", "Q",
                                  "住院号;时间戳;泵转速（rpm）;血流量（L/min）;膜前压;膜后压;气流量;FiO2;血温"),
    "ECMOItemAlarms": ("alarms", "报警记录", "Q", "报警时间;住院号;报警类型;报警优先级;报警参数;实测值"),
    "ECMOItemConsumables": ("consumables", "氧合器与管路套包使用记录", "Q",
                            "住院号;上机日期;氧合器型号;套包批号;UDI;更换原因"),
    "ECMOItemPrimingCheck": ("priming", "预充与使用前检查", "Q",
                             "检查日期;预充液;排气检查;管路完整性;泵头检查;检查结论"),
    "ECMOItemFlowCalibration": ("flow-cal", "流量传感器校准", "Y", CAL),
    "ECMOItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "ECMOItemPreventiveMaintenance": ("pm", "预防性维护记录", "Y", PM),
    # ECG
    "ECGItemWaveforms": ("waveforms", "十二导联心电波形", "M",
                         "PatientID;AccessionNumber;导联;采样频率;WaveformData;滤波设置"),
    "ECGItemMeasurements": ("meas", "自动测量与分析结果", "M",
                            "PatientID;检查时间;心率;PR 间期;QRS 时限;QT/QTc;电轴;自动诊断"),
    "ECGItemReport": ("report", "心电图报告", "M",
                      "PatientID;PatientName;检查号;检查时间;心电图诊断;报告医生;审核时间"),
    "ECGItemDemographics": ("demographics", "患者基本信息", "M",
                            "PatientID;PatientName;PatientBirthDate;PatientSex;AccessionNumber;申请科室"),
    "ECGItemWorkload": ("workload", "工作量统计", "M", WORKLOAD),
    "ECGItemSelfTest": ("self-test", "定标与自检记录", "Q", "自检时间;定标信号;走纸速度;导联脱落检测;结论"),
    "ECGItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "ECGItemMetrology": ("metrology", "计量检定证书", "Y", METROLOGY),
    # Endoscope
    "EndoItemImages": ("images", "内镜图像与视频", "M",
                       "PatientID;PatientName;检查号;检查日期;检查部位;图像帧;视频片段;镜体序列号"),
    "EndoItemReport": ("report", "内镜检查报告", "M",
                       "PatientID;PatientName;检查号;检查日期;内镜所见;内镜诊断;病理送检;报告医生"),
    "EndoItemScopeUsage": ("scope-usage", "内镜使用次数统计", "M",
                           "统计月份;镜体序列号;镜体型号;使用次数;累计使用次数;送修次数"),
    "EndoItemReprocessing": ("reprocess", "清洗消毒追溯记录", "M",
                             "镜体序列号;使用患者检查号;清洗开始时间;测漏结果;消毒剂浓度;浸泡时间;干燥时间"),
    "EndoItemProcessorConfig": ("processor", "图像处理器与光源配置", "S",
                                "处理器型号;软件版本;光源型号;色彩增强模式;白平衡设置"),
    "EndoItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "EndoItemRepairWorkOrders": ("work-orders", "维修工单", "Q", WO),
    # Clinical chemistry analyser
    "ChemItemResults": ("results", "检验结果", "M",
                        "条码号;住院号;患者姓名;检验项目;结果;单位;参考区间;异常标识;审核时间"),
    "ChemItemOrders": ("orders", "检验申请", "M", "条码号;门诊或住院号;申请科室;申请项目;采样时间;接收时间"),
    "ChemItemWorkload": ("workload", "检测工作量统计", "M",
                         "统计日期;样本数;检测项目数;急诊样本数;复检数;开机时长（小时）"),
    "ChemItemIQC": ("iqc", "室内质控结果", "M",
                    "质控日期;检测项目;质控品批号;水平;测定值;靶值;标准差;Westgard 规则判定"),
    "ChemItemEQA": ("eqa", "室间质评结果", "Y", "质评计划;质评批次;检测项目;本室结果;靶值;偏倚;评价结果"),
    "ChemItemCalibration": ("calibration", "定标记录", "Q", "定标日期;检测项目;试剂批号;定标品批号;定标因子;定标结果"),
    "ChemItemReagents": ("reagents", "试剂消耗记录", "Q", "日期;试剂名称;试剂批号;有效期;消耗测试数;剩余量"),
    "ChemItemFlags": ("flags", "仪器报警与故障代码", "Q", ERR),
    # Gene sequencer
    "SeqItemRawReads": ("fastq", "测序原始数据", "Q",
                        "样本编号;Run ID;Flowcell ID;Lane;读长;Reads 数;Q30 比例;FASTQ 文件路径"),
    "SeqItemAlignments": ("bam", "序列比对结果", "Q",
                          "样本编号;文件名;参考基因组版本;比对率;平均测序深度;覆盖度;重复率"),
    "SeqItemVariants": ("vcf", "变异检测结果", "Q",
                        "样本编号;染色体;位置;参考碱基;变异碱基;基因;HGVS 命名;变异频率;致病性分类"),
    "SeqItemReport": ("report", "基因检测报告", "Q",
                      "样本编号;患者姓名;送检科室;检测项目;致病变异;变异解读;报告日期;审核人"),
    "SeqItemSampleSheet": ("samplesheet", "样本表", "Q", "样本编号;患者姓名;住院号;Index 序列;检测项目;送检日期"),
    "SeqItemRunMetrics": ("run-metrics", "测序运行质量指标", "Q",
                          "Run ID;簇密度;通过过滤簇比例;Q30 比例;错误率;相位校正"),
    "SeqItemReagents": ("reagents", "试剂与芯片使用记录", "Q", "日期;试剂盒名称;试剂批号;芯片编号;有效期;使用 Run ID"),
    "SeqItemInstrumentLog": ("instrument-log", "仪器运行日志", "Q", "时间戳;Run ID;事件类型;事件描述;温度;软件版本"),
    "SeqItemRemoteService": ("remote-service", "远程服务会话记录", "Q", REMOTE),
    # Fetal monitor
    "FetalItemCTGTrace": ("ctg", "胎心率与宫缩曲线", "M",
                          "住院号;孕周;监护开始时间;胎心率曲线;宫缩压力曲线;胎动标记;采样频率"),
    "FetalItemReport": ("report", "胎心监护报告", "M", "住院号;姓名;孕周;监护时长;基线胎心率;变异;加速;减速;NST 结论"),
    "FetalItemMaternalDemographics": ("maternal", "孕妇基本信息", "M",
                                      "住院号;姓名;出生日期;孕次;产次;末次月经;预产期"),
    "FetalItemMaternalVitals": ("maternal-vitals", "孕产妇生命体征", "M",
                                "住院号;测量时间;母体心率;无创血压;SpO2;体温"),
    "FetalItemAlarms": ("alarms", "报警记录", "Q", "报警时间;床号;住院号;报警类型;胎心率;持续时间（秒）"),
    "FetalItemTransducerChecks": ("probe-check", "探头检测记录", "Q",
                                  "检测日期;探头类型;探头序列号;灵敏度;外观检查;结论"),
    "FetalItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "FetalItemMetrology": ("metrology", "计量检定证书", "Y", METROLOGY),
    # Infant incubator
    "IncubItemEnvironment": ("env", "患儿体温与箱内环境数据", "Q", "住院号;时间戳;肤温;箱温;相对湿度;氧浓度;控制模式"),
    "IncubItemAlarms": ("alarms", "报警记录", "Q", "报警时间;床号;住院号;报警类型;报警参数;实测值"),
    "IncubItemSettings": ("settings", "运行模式与设定值", "Q", "时间戳;控制模式;设定箱温;设定肤温;设定湿度;设定氧浓度"),
    "IncubItemDisinfection": ("disinfection", "清洁消毒记录", "Q", "消毒日期;消毒方式;消毒剂;消毒部位;检测结果"),
    "IncubItemPerformanceTest": ("perf-test", "性能检测报告", "Y", CONSTANCY),
    "IncubItemSensorCalibration": ("sensor-cal", "温湿度传感器校准", "Y", CAL),
    "IncubItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "IncubItemPreventiveMaintenance": ("pm", "预防性维护记录", "Y", PM),
    # Defibrillator
    "DefibItemECG": ("ecg", "除颤心电记录", "Q", "病例编号;住院号;事件时间;心律;ECG 波形;除颤能量;阻抗"),
    "DefibItemEventLog": ("events", "抢救事件记录", "Q",
                          "病例编号;住院号;事件开始时间;除颤次数;首次除颤时间;CPR 质量;转归"),
    "DefibItemSelfTest": ("self-test", "每日自检结果", "Q", "自检时间;自检类型;电池状态;电极片状态;能量输出检查;结论"),
    "DefibItemReadiness": ("readiness", "电池与电极片状态", "Q", "时间戳;电池电量;电池有效期;电极片有效期;待机状态"),
    "DefibItemEnergyTest": ("energy-test", "能量输出检测", "Y",
                            "检测日期;设定能量;实测能量;误差;充电时间;检测设备;结论"),
    "DefibItemDeployment": ("deployment", "AED 布点信息", "S",
                            "设备编号;布点位置;楼层;责任科室;电极片有效期;电池有效期;巡检周期"),
    "DefibItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    # Surgical robot
    "RobotItemVideo": ("video", "手术视频", "M", "住院号;手术日期;术式;视频文件;时长;分辨率;内镜镜头序列号"),
    "RobotItemProcedureLog": ("procedure-log", "手术过程日志", "Q",
                              "住院号;手术日期;术式;开机时间;对接时间;控制台时间;器械更换次数;中转开放手术"),
    "RobotItemSurgeonLogins": ("logins", "主刀医生登录记录", "Q", "登录时间;医生工号;医生姓名;控制台编号;登录结果"),
    "RobotItemInstrumentLife": ("instrument-life", "器械使用次数", "Q",
                                "器械型号;器械序列号;使用次数;剩余寿命;最近使用日期"),
    "RobotItemSystemConfig": ("sys-config", "软件版本与系统配置", "S",
                              "系统软件版本;固件版本;机械臂配置;影像处理器版本;网络模式"),
    "RobotItemSBOM": ("sbom", "软件物料清单与漏洞信息", "S",
                      "组件名称;组件版本;供应商;许可证;CVE 编号;CVSS 评分;修复状态"),
    "RobotItemRemoteService": ("remote-service", "远程服务会话记录", "Q", REMOTE),
    "RobotItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    # Steam sterilizer
    "SterilItemCycleRecords": ("cycles", "灭菌周期过程记录", "M",
                               "锅次号;程序名称;开始时间;灭菌温度;灭菌压力;维持时间;干燥时间;结果"),
    "SterilItemPackTraceability": ("pack-trace", "灭菌包追溯记录", "M",
                                   "灭菌包条码;包名称;灭菌锅次;灭菌日期;失效日期;使用科室;使用患者住院号"),
    "SterilItemBowieDick": ("bd-test", "B-D 测试结果", "Q", "测试日期;锅次号;测试包批号;变色均匀性;测试结论"),
    "SterilItemBiologicalIndicators": ("bi", "生物监测结果", "Q", "监测日期;锅次号;指示剂批号;培养时间;阳性对照;结果"),
    "SterilItemValidation": ("validation", "灭菌器验证报告", "Y",
                             "验证日期;验证类型;装载方式;温度均匀性;压力偏差;验证机构;结论"),
    "SterilItemMetrology": ("metrology", "压力表与安全阀检定证书", "Y", METROLOGY),
    "SterilItemErrorLog": ("error-log", "错误日志", "Q", ERR),
    "SterilItemPreventiveMaintenance": ("pm", "预防性维护记录", "Y", PM),
    # Implantable pacemaker (follow-up of the hospital's implanted patients)
    "PacerItemRemoteFollowUp": ("remote-fu", "远程随访传输数据", "Q",
                                "患者编号;传输时间;起搏比例;电池状态;导线阻抗;感知阈值;事件计数"),
    "PacerItemEpisodes": ("episodes", "心律失常事件记录", "Q", "患者编号;事件时间;事件类型;持续时间;心室率;治疗响应"),
    "PacerItemEGM": ("egm", "腔内心电图", "Q", "患者编号;记录时间;心房通道;心室通道;标记通道;采样频率"),
    "PacerItemBatteryLead": ("battery-lead", "电池与导线阻抗", "Q",
                             "患者编号;测量时间;电池电压;预计剩余寿命;心房导线阻抗;心室导线阻抗"),
    "PacerItemProgrammedParameters": ("programming", "程控参数", "Q",
                                      "患者编号;程控日期;起搏模式;低限频率;输出电压;脉宽;感知灵敏度"),
    "PacerItemImplantRegistration": ("implants", "植入登记信息", "Y",
                                     "患者姓名;住院号;植入日期;器械型号;器械序列号;导线型号;术者"),
    "PacerItemAdverseEvents": ("adverse-events", "不良事件报告", "Y",
                               "报告编号;患者姓名;住院号;植入日期;事件描述;事件后果;器械型号;器械序列号;报告日期"),
    "PacerItemRecalls": ("recalls", "召回与安全警示记录", "Y",
                         "召回编号;发布日期;涉及型号;涉及序列号范围;召回级别;处置措施"),
}  # fmt: skip

# Items of equipment types without a data template in the ontology:
# type code -> (slug, name, period, category label, personal-information labels, elements).
EXTRA_ITEMS: dict[str, tuple[tuple[str, str, str, str, tuple[str, ...], str], ...]] = {
    "EQ010": (
        ("dicom", "DICOM 影像", "M", "医学影像", ("个人健康生理信息", "个人标识符"),
         DICOM_IMG + ";ViewPosition;BreastImplantPresent;PixelData"),
        ("dose", "平均腺体剂量记录", "M", "患者剂量记录", ("个人健康生理信息", "个人标识符"),
         "PatientID;PatientName;检查日期;投照体位;压迫厚度;管电压（kV）;mAs;平均腺体剂量（AGD）"),
        ("constancy", "验收与状态检测报告", "Y", "验收与稳定性检测", (), CONSTANCY),
        ("error-log", "错误日志", "Q", "故障代码", (), ERR),
    ),
    "EQ009": (
        ("dose", "透视剂量记录", "Q", "患者剂量记录", ("个人健康生理信息", "个人标识符"),
         "住院号;手术日期;术式;透视时间;剂量面积乘积（DAP）;参考点空气比释动能"),
        ("error-log", "错误日志", "Q", "故障代码", (), ERR),
        ("pm", "预防性维护记录", "Y", "预防性维护", (), PM),
    ),
    "EQ021": (
        ("alarms", "中央站报警汇总记录", "Q", "报警记录", ("个人健康生理信息", "个人标识符"), ALARMS),
        ("net-config", "网络配置", "S", "网络配置", (), "服务器 IP;监护子网;VLAN;HL7 网关地址;NTP 服务器;接入床位数"),
        ("sys-log", "系统日志", "Q", "系统日志", (), "时间戳;事件类型;事件描述;进程;级别"),
    ),
    "EQ024": (
        ("alarms", "报警记录", "Q", "报警记录", ("个人标识符",), "报警时间;床号;住院号;报警类型;报警优先级"),
        ("error-log", "错误日志", "Q", "故障代码", (), ERR),
        ("pm", "预防性维护记录", "Y", "预防性维护", (), PM),
    ),
    "EQ026": (
        ("sessions", "治疗记录", "Q", "治疗计划与记录", ("个人健康生理信息", "个人标识符"),
         "住院号;治疗开始时间;治疗模式;置换液流量;血流量;超滤量;抗凝方式;滤器更换次数"),
        ("alarms", "报警记录", "Q", "报警记录", ("个人健康生理信息", "个人标识符"),
         "报警时间;住院号;报警类型;压力值;处置结果"),
        ("error-log", "错误日志", "Q", "故障代码", (), ERR),
        ("pm", "预防性维护记录", "Y", "预防性维护", (), PM),
    ),
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# Destinations
# --------------------------------------------------------------------------------------------

BASIC = ("完整性保护", "身份鉴别", "访问控制", "审计日志", "传输加密")
LEVEL3 = (*BASIC, "最小权限", "共享前去标识化", "对外提供审批", "存储加密", "等保三级及以上系统存储", "禁止出境")
LEVEL3_ABROAD = (*BASIC, "最小权限", "共享前去标识化", "对外提供审批", "存储加密")
LEVEL4 = (*LEVEL3, "双人审批", "仅提供去标识化或匿名化衍生数据", "数字水印")


@dataclass(frozen=True, slots=True)
class Destination:
    id: str
    name: str
    clearance: str  # level label
    external: bool
    cross_border: bool
    graded_protection: int | None
    measures: tuple[str, ...]  # measure labels


DESTINATIONS: tuple[Destination, ...] = (
    Destination("nhic", "国家医疗装备使用数据信息中心", "一般数据3级", True, False, 3, LEVEL3),
    Destination("prov-qc", "省医学装备质量控制中心", "一般数据3级", True, False, 3, LEVEL3),
    Destination("mfr-ct-svc", "华影医疗客户服务中心（远程运维平台）", "一般数据2级", True, False, 2, BASIC),
    Destination("mfr-vent-svc", "安澜生命科技售后服务中心", "一般数据2级", True, False, 2, BASIC),
    Destination("mfr-global", "西诺医疗全球远程服务平台（境外）", "一般数据2级", True, True, None, BASIC),
    # A foreign research partner cleared for 一般数据3级: the measures of the domestic level-3
    # destinations, except 禁止出境 (it is abroad) and 等保三级及以上系统存储 (graded protection is
    # a domestic scheme); what leaving the country needs is judged per provision (kg/demo/records.py).
    Destination("intl-research", "海外多中心影像研究联盟（境外）", "一般数据3级", True, True, None, LEVEL3_ABROAD),
    Destination("research", "医院临床科研大数据平台", "一般数据4级", False, False, 3, LEVEL4),
)

# --------------------------------------------------------------------------------------------
# Assets
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Asset:
    id: str
    name: str
    category: str
    level: str  # level label, or "" (derived products whose level comes from lineage)
    elements: tuple[str, ...]
    owner: str
    device: str = ""
    device_type: str = ""
    sources: tuple[str, ...] = ()
    activity: str = ""
    personal: bool = False
    subjects: int | None = None
    notes: str = ""
    approver: str = ""
    approved_on: str = ""
    approval_note: str = ""
    transfer_to: tuple[str, ...] = ()
    sensitive: bool = False  # carries sensitive personal information (not written; used by the checks)
    subjects_from: tuple[str, ...] = ()  # sources whose people the product is about (default: all)
    declared_subjects: int | None = None  # a product also drawn from data not in the inventory: its own count
    reviewed: str = ""  # last-reviewed date (see DEMO_TODAY)

    @property
    def raw(self) -> bool:
        return not self.sources

    @property
    def approved(self) -> bool:
        return bool(self.approver)

    def row(self) -> list[str]:
        return [
            self.id,
            self.name,
            self.category,
            self.level,
            self.device,
            self.device_type,
            ";".join(self.elements),
            ";".join(self.sources),
            self.activity,
            YES if self.personal else NO,
            "" if self.subjects is None else str(self.subjects),
            self.owner,
            self.notes,
            self.approver,
            self.approved_on,
            self.approval_note,
            ";".join(self.transfer_to),
            self.reviewed,
        ]


def last_reviewed(asset_id: str) -> str:
    """The demo's last-reviewed date of an asset (deterministic, see DEMO_TODAY)."""
    fixed = DEMO_OVERDUE.get(asset_id) or DEMO_AT_CUTOFF.get(asset_id)
    if fixed:
        return fixed
    return f"2026-11-{2 + zlib.crc32(asset_id.encode('utf-8')) % 26:02d}"


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


def _jitter(key: str, base: float, spread: float = 0.15) -> int:
    """``base`` varied by up to ±``spread``, the same for the same ``key`` on every run."""
    step = zlib.crc32(key.encode("utf-8")) % 1001 / 1000  # 0.000 .. 1.000
    return max(1, round(base * (1 - spread + 2 * spread * step)))


def _owner(o: Ontology, device: Device, category: Category, personal: bool, sensitive: bool) -> str:
    top = o.category_path(category)[0].notation
    if top == "C07":
        return "信息中心"
    if top == "C06":
        return "医学工程处"  # adverse-event monitoring
    if sensitive:
        return device.dept
    if top in ("C01", "C05", "C11") or (top == "C02" and not personal):
        return "医学工程处"
    if top == "C04" and device.dept not in ("检验科", "消毒供应中心", "血液净化中心", "消化内镜中心"):
        return "医学工程处"
    return device.dept


def _subjects(device: Device, asset_id: str, category: Category, period: str) -> int:
    label = category.label_zh
    if label in ("操作人员身份", "人员资质"):
        return _jitter(asset_id, 30, 0.4)  # staff, not patients
    if label in ("远程服务记录", "不良事件报告"):
        return _jitter(asset_id, 12, 0.5)
    if device.type_code == "EQ070":
        return _jitter(asset_id, 1250, 0.05)  # the followed-up population
    return _jitter(asset_id, MONTHLY_PATIENTS[device.type_code] * SUBJECT_FACTOR[period])


@dataclass(frozen=True, slots=True)
class _ItemDef:
    slug: str
    title: str
    period: str
    elements: str
    category: Category
    pi: tuple[PersonalInfoCategory, ...]
    data_format: str | None


def _item_defs(o: Ontology, device: Device) -> list[_ItemDef]:
    etype = o.equipment_types.find(device.type_code)
    template = next((t for t in o.templates if t.equipment_type == etype.iri), None)
    if template is None:
        return [
            _ItemDef(
                slug,
                title,
                period,
                elements,
                o.categories.find(cat),
                tuple(o.personal_information.find(p) for p in pis),
                None,
            )
            for slug, title, period, cat, pis, elements in EXTRA_ITEMS[device.type_code]
        ]
    order = {name: i for i, name in enumerate(ITEMS)}
    missing = [i.local_name for i in template.items if i.local_name not in order]
    _require(not missing, f"template items without an entry in ITEMS: {missing}")
    out = []
    for item in sorted(template.items, key=lambda i: order[i.local_name]):
        slug, title, period, elements = ITEMS[item.local_name]
        _require(item.category is not None and item.category in o.categories, f"{item.local_name}: no category")
        category = o.categories.by_iri[item.category]  # type: ignore[index]
        pi = tuple(o.personal_information.by_iri[p] for p in item.personal_information)
        out.append(_ItemDef(slug, title, period, elements, category, pi, item.data_format))
    return out


def raw_level(o: Ontology, category: Category, pi: Sequence[PersonalInfoCategory]) -> Level:
    """The minimum level of a raw asset: its category's floor; personal data at least 一般数据3级;
    sensitive personal data (health content next to an identifier) at least 一般数据4级."""
    rank = category.floor.rank if category.floor else o.ordered_levels()[0].rank
    if pi:
        rank = max(rank, o.level("一般数据3级").rank)
    if any(p.sensitive for p in pi):
        rank = max(rank, o.level("一般数据4级").rank)
    return o.level(rank)


def raw_assets(o: Ontology) -> list[Asset]:
    out = []
    for device in DEVICES:
        type_label = o.equipment_types.find(device.type_code).label_zh
        for item in _item_defs(o, device):
            for suffix, period_zh in PERIODS[item.period]:
                asset_id = f"{device.id}-{item.slug}-{suffix}" if suffix else f"{device.id}-{item.slug}"
                if item.period == "M":
                    name = f"{device.short} {period_zh} {item.title}"
                else:
                    name = f"{device.short} {item.title} {period_zh}".strip()
                personal = bool(item.pi)
                sensitive = any(p.sensitive for p in item.pi)
                out.append(
                    Asset(
                        id=asset_id,
                        name=name,
                        category=item.category.label_zh,
                        level=raw_level(o, item.category, item.pi).label_zh,
                        elements=_split(item.elements),
                        owner=_owner(o, device, item.category, personal, sensitive),
                        device=device.id,
                        device_type=type_label,
                        personal=personal,
                        sensitive=sensitive,
                        subjects=_subjects(device, asset_id, item.category, item.period) if personal else None,
                        notes=f"数据格式：{item.data_format}" if item.data_format else "",
                    )
                )
    return out


def _ids(devices: Iterable[str], slug: str, period: str = "") -> tuple[str, ...]:
    return tuple(f"{d}-{slug}-{period}" if period else f"{d}-{slug}" for d in devices)


def _of_type(code: str) -> tuple[str, ...]:
    return tuple(d.id for d in DEVICES if d.type_code == code)


# Approvers (fictional) of level-reducing derivations.
DSO = "王敏（数据安全官）"
HEAD_ME = "李建国（医学工程处处长）"
HEAD_IT = "陈晓燕（信息中心主任）"
ETHICS = "周立新（医学伦理委员会副主任委员）"

Approval = tuple[str, str, str]

UTIL_ELEMENTS = "统计月份;设备标识;设备型号;检查人次;开机时长（小时）;实际使用时长（小时）;设备使用率;单机日均检查量"
QC_TREND_ELEMENTS = "设备标识;检测项目;统计月份;检测次数;均值;极差;超限次数;趋势判定"


def derived_assets() -> list[Asset]:
    """The derived data products; personal flags and subject counts are filled in from the sources."""
    out: list[Asset] = []

    def add(
        id: str,
        name: str,
        category: str,
        level: str,
        sources: Iterable[str],
        activity: str,
        owner: str,
        elements: str,
        *,
        approval: Approval | None = None,
        to: tuple[str, ...] = (),
        notes: str = "",
        subjects_from: Iterable[str] = (),
        subjects: int | None = None,
    ) -> None:
        who, when, why = approval or ("", "", "")
        out.append(
            Asset(
                id=id,
                name=name,
                category=category,
                level=level,
                elements=_split(elements),
                owner=owner,
                sources=tuple(sources),
                activity=activity,
                notes=notes,
                approver=who,
                approved_on=when,
                approval_note=why,
                transfer_to=to,
                subjects_from=tuple(subjects_from),
                declared_subjects=subjects,
            )
        )

    cts, mrs, uss = _of_type("EQ001"), _of_type("EQ002"), _of_type("EQ011")
    vents, pumps, hds = _of_type("EQ018"), _of_type("EQ023"), _of_type("EQ025")
    icu_vents = tuple(v for v in vents if v.startswith("vent-icu-"))
    icu_monitors = tuple(m for m in _of_type("EQ020") if m.startswith("mon-icu-"))
    huaying_cts = tuple(d.id for d in DEVICES if d.type_code == "EQ001" and d.maker == HUAYING)

    # 1. Monthly utilisation per modality (aggregation of workload/usage, approved).
    util_approval = (
        HEAD_ME,
        "2026-11-05",
        "按 GB/T 43697 附录 I 对汇总统计数据定级：仅保留设备级工作量与开机时长，不含患者信息，最小统计单元 ≥ 10 例",
    )
    modalities = (
        ("ct", "CT", "EQ001", "workload"), ("mr", "MR", "EQ002", "workload"),
        ("petct", "PET/CT", "EQ003", "workload"), ("dr", "DR", "EQ006", "workload"),
        ("us", "超声", "EQ011", "workload"), ("linac", "直线加速器", "EQ013", "workload"),
        ("endo", "消化内镜", "EQ033", "scope-usage"), ("ecg", "心电图机", "EQ029", "workload"),
        ("chem", "生化分析仪", "EQ044", "workload"),
    )  # fmt: skip
    for i, (key, zh, code, slug) in enumerate(modalities):
        add(
            f"rpt-util-{key}-2026-10",
            f"{zh} 2026年10月设备使用效率月报",
            "汇总报表",
            "一般数据2级" if i % 2 == 0 else "",
            _ids(_of_type(code), slug, "2026-10"),
            "汇聚统计",
            "医学工程处",
            UTIL_ELEMENTS,
            approval=util_approval,
        )
    add(
        "rpt-util-vent-2026q3",
        "呼吸机使用效率与通气时长季报 2026Q3",
        "汇总报表",
        "",
        _ids(vents, "run-status", "2026q3") + _ids(vents, "usage", "2026q3"),
        "汇聚统计",
        "医学工程处",
        "统计季度;设备标识;使用科室;上机例次;通气总时长（小时）;累计运行小时;设备使用率",
        approval=(
            DSO,
            "2026-10-12",
            "按科室与月份汇总通气例次与时长，去除住院号、床号，最小统计单元 ≥ 10 例，符合 GB/T 37964 汇总统计要求",
        ),
    )
    add(
        "rpt-util-2026-10",
        "全院医用设备 2026年10月使用效率汇总报表",
        "汇总报表",
        "一般数据2级",
        [f"rpt-util-{m[0]}-2026-10" for m in modalities],
        "关联融合",
        "医学工程处",
        "统计月份;设备类型;设备台数;检查人次;开机时长（小时）;平均使用率;同比变化",
    )
    add(
        "pkg-nhic-util-2026-10",
        "设备使用效率数据包 2026年10月（报送国家医疗装备使用数据信息中心）",
        "汇总报表",
        "",
        ["rpt-util-2026-10"],
        "转换",
        "医学工程处",
        "机构代码;设备 UDI-DI;设备类型代码;统计月份;检查人次;开机时长（小时）;设备使用率;数据包校验值",
        to=("nhic",),
    )

    # 2. De-identified CT dose-registry submission to the national information centre.
    add(
        "dose-ct-extract-2026-10",
        "CT 患者剂量数据抽取 2026年10月",
        "患者剂量记录",
        "",
        _ids(cts, "dose-sr", "2026-10"),
        "原始提取",
        "影像科",
        "患者姓名;住院号;检查号;检查日期;检查部位;协议名称;CTDIvol;DLP;SSDE;设备标识",
        notes="从 RDSR 抽取剂量字段，仍含患者标识；级别由来源决定",
    )
    add(
        "dose-ct-deid-2026-10",
        "CT 患者剂量数据（去标识化）2026年10月",
        "患者剂量记录",
        "一般数据3级",
        ["dose-ct-extract-2026-10"],
        "去标识化",
        "医学工程处",
        "假名检查号;年龄组;性别;检查月份;检查部位;协议名称;CTDIvol;DLP;SSDE;设备型号",
        approval=(
            DSO,
            "2026-11-06",
            "按 GB/T 37964 去除直接标识符（姓名、住院号、检查号），年龄泛化为 5 岁组，检查日期泛化到月，k-匿名 k≥10",
        ),
    )
    add(
        "dose-ct-registry-2026-10",
        "CT 剂量登记上报格式数据 2026年10月",
        "患者剂量记录",
        "",
        ["dose-ct-deid-2026-10"],
        "转换",
        "医学工程处",
        "机构代码;设备 UDI-DI;检查部位编码;年龄组;性别;CTDIvol;DLP;SSDE;上报批次",
        notes="按国家剂量登记接口规范转换字段与编码",
    )
    add(
        "pkg-nhic-dose-ct-2026-10",
        "CT 剂量登记数据包 2026年10月（报送国家医疗装备使用数据信息中心）",
        "患者剂量记录",
        "一般数据3级",
        ["dose-ct-registry-2026-10"],
        "转换",
        "医学工程处",
        "机构代码;设备 UDI-DI;检查部位编码;年龄组;性别;CTDIvol;DLP;SSDE;上报批次;数据包签名",
        to=("nhic",),
    )
    add(
        "rpt-drl-ct-2026-10",
        "CT 诊断参考水平（DRL）统计 2026年10月",
        "质量评价指标",
        "",
        ["dose-ct-deid-2026-10"],
        "汇聚统计",
        "医学工程处",
        "检查部位;协议名称;检查例数;CTDIvol 中位数;CTDIvol P75;DLP 中位数;DLP P75;设备型号",
        approval=(
            HEAD_ME,
            "2026-11-08",
            "按检查部位与协议汇总 CTDIvol、DLP 的中位数和第 75 百分位数，每组 ≥ 10 例，不含个人信息",
        ),
    )
    add(
        "pkg-pqc-drl-ct-2026-10",
        "CT 诊断参考水平数据 2026年10月（报送省医学装备质量控制中心）",
        "质量评价指标",
        "一般数据2级",
        ["rpt-drl-ct-2026-10"],
        "转换",
        "医学工程处",
        "机构代码;检查部位编码;检查例数;CTDIvol P75;DLP P75;设备型号;统计月份",
        to=("prov-qc",),
    )

    # Pseudonymised DSA skin-dose follow-up data for the research platform.
    add(
        "dose-dsa-pseudo-2026-10",
        "介入手术患者皮肤剂量随访数据集（假名化）2026年10月",
        "患者剂量记录",
        "一般数据3级",
        _ids(_of_type("EQ008"), "dose-sr", "2026-10"),
        "假名化",
        "介入诊疗中心",
        "患者假名;年龄组;性别;手术日期;术式;透视时间;参考点空气比释动能;剂量面积乘积（DAP）;峰值皮肤剂量估计",
        approval=(
            ETHICS,
            "2026-11-10",
            "经伦理审查（科研项目 KY-2026-118）批准：患者标识替换为带密钥哈希假名，密钥由信息中心单独保管",
        ),
        to=("research",),
    )

    # Leaving the country (issue #20, kg/demo/records.py): two de-identified products for the
    # research partner abroad whose personal information is not health-related (patient
    # identifiers and basic data, staff identifiers; the ontology's data templates of US
    # worklists, DR reject analysis and DR operator logins name no health information).
    drs = _of_type("EQ006")
    add(
        "pkg-intl-imaging-workflow-2026",
        "影像检查预约与流程多中心研究数据集（去标识化）2026年1—10月（提供海外多中心影像研究联盟）",
        "关联患者的使用记录",
        "一般数据3级",
        _ids(uss, "worklist", "2026-09") + _ids(uss, "worklist", "2026-10") + _ids(drs, "reject", "2026q3"),
        "去标识化",
        "医学工程处",
        "研究假名;年龄组;性别;检查月份;检查类别;设备型号;预约至检查天数;检查时长（分钟）;废片原因;重拍次数",
        approval=(
            DSO,
            "2026-11-12",
            "按 GB/T 37964 删除姓名、出生日期、PatientID 与检查号，检查号替换为研究假名，年龄泛化为 5 岁组，"
            "日期泛化到月，k-匿名 k≥10；仍属个人信息，出境前订立个人信息出境标准合同并备案",
        ),
        to=("intl-research",),
        notes="含 2026年1—10月超声与 DR 检查患者（1—8月取自 RIS 归档，未单列入清单）；数据主体数量为去重患者数",
        subjects=163420,
    )
    add(
        "pkg-intl-dr-operators-2026q3",
        "DR 操作人员工作负荷研究数据（假名化）2026Q3（提供海外多中心影像研究联盟）",
        "操作人员身份",
        "一般数据3级",
        _ids(drs, "logins", "2026q3"),
        "假名化",
        "医学工程处",
        "操作员假名;终端名称;登录月份;班次;在岗时长（小时）;登录次数",
        approval=(
            DSO,
            "2026-11-18",
            "操作员工号与姓名替换为带密钥哈希假名，登录时间泛化到月与班次，密钥由信息中心保管",
        ),
        to=("intl-research",),
        notes="员工个人信息；本年向境外提供的个人信息累计已超过 10 万人，须订立标准合同（标准合同备案尚未覆盖本数据集）",
    )

    # 3. Anonymised training set for CT tube-failure prediction.
    add(
        "ml-tube-fused-2026q3",
        "CT 球管运行、故障与维修关联数据集 2026Q3",
        "设备运行数据",
        "",
        _ids(huaying_cts, "tube-log", "2026q3")
        + _ids(huaying_cts, "error-log", "2026q3")
        + _ids(huaying_cts, "work-orders", "2026q3")
        + _ids(huaying_cts, "dose-sr", "2026-09"),
        "关联融合",
        "医学工程处",
        "设备标识;日期;球管累计曝光秒数;热容量（MHU）;打火次数;错误代码;维修工单号;更换部件;检查号;管电流时间积（mAs）",
        notes="按设备与日期关联球管日志、错误日志、维修工单和检查级曝光负荷；含检查号，可关联到患者",
    )
    add(
        "ml-tube-anon-2026q3",
        "CT 球管运行与故障数据集（匿名化）2026Q3",
        "设备运行数据",
        "一般数据2级",
        ["ml-tube-fused-2026q3"],
        "匿名化",
        "医学工程处",
        "设备型号;相对日期;日曝光负荷（mAs）;球管累计曝光秒数;热容量（MHU）;打火次数;错误代码;是否发生球管故障",
        approval=(
            DSO,
            "2026-10-20",
            "按 GB/T 37964 匿名化：删除检查号及全部患者相关字段，曝光负荷汇总到设备日粒度，"
            "日期偏移处理；重标识风险评估 k≥10，无唯一记录",
        ),
    )
    add(
        "ml-tube-trainset-v1",
        "CT 球管故障预测模型训练集 v1",
        "模型训练数据集",
        "",
        ["ml-tube-anon-2026q3"],
        "转换",
        "医学工程处",
        "样本编号;设备型号;特征窗口（天）;日均曝光负荷;热容量趋势;打火频次;错误代码频次;"
        "距上次更换天数;标签（30 天内球管故障）",
    )
    add(
        "pkg-mfr-ct-ml-tube-v1",
        "CT 球管故障预测训练集数据包 v1（提供华影医疗客户服务中心）",
        "模型训练数据集",
        "一般数据2级",
        ["ml-tube-trainset-v1"],
        "转换",
        "医学工程处",
        "样本编号;设备型号;特征窗口（天）;日均曝光负荷;热容量趋势;打火频次;错误代码频次;标签;数据包签名",
        to=("mfr-ct-svc",),
    )
    add(
        "pkg-nhic-ml-tube-v1",
        "CT 球管故障预测训练集数据包 v1（报送国家医疗装备使用数据信息中心）",
        "模型训练数据集",
        "",
        ["ml-tube-trainset-v1"],
        "转换",
        "医学工程处",
        "机构代码;样本编号;设备型号;特征窗口（天）;日均曝光负荷;热容量趋势;打火频次;标签;数据包签名",
        to=("nhic",),
    )

    # 4. QC trend reports; 7. a combined quality report reached by two paths (5-step chain).
    add(
        "qc-ct-extract-2026q3",
        "CT 模体质控检测数据抽取 2026Q3",
        "模体检测",
        "",
        _ids(cts, "phantom-qc", "2026q3"),
        "原始提取",
        "医学工程处",
        "设备标识;检测日期;水 CT 值;噪声;均匀性;高对比分辨力;低对比可探测能力;CTDIw 测量值;判定结果",
    )
    add(
        "qc-ct-norm-2026q3",
        "CT 质控数据标准化（统一限值与判定规则）2026Q3",
        "模体检测",
        "一般数据2级",
        ["qc-ct-extract-2026q3"],
        "转换",
        "医学工程处",
        "设备标识;检测日期;检测项目;测量值;标准限值;偏差;标准化判定",
        notes="按 WS 519 统一检测项目名称与限值",
    )
    trend_approval = (
        HEAD_ME,
        "2026-10-15",
        "按设备与检测项目汇总月度均值、极差和超限次数，仅含设备级质控指标，不含个人信息",
    )
    add(
        "rpt-qc-trend-ct-2026q3",
        "CT 质控趋势分析报告 2026Q3",
        "质量评价指标",
        "",
        ["qc-ct-norm-2026q3"],
        "汇聚统计",
        "医学工程处",
        QC_TREND_ELEMENTS,
        approval=trend_approval,
    )
    add(
        "rpt-ct-fault-2026q3",
        "CT 故障与停机分析报告 2026Q3",
        "质量评价指标",
        "一般数据2级",
        _ids(cts, "error-log", "2026q3") + _ids(cts, "work-orders", "2026q3") + ("qc-ct-extract-2026q3",),
        "汇聚统计",
        "医学工程处",
        "设备标识;统计月份;故障次数;停机时长（小时）;平均修复时间;质控超限次数;故障前质控超限",
        approval=(HEAD_ME, "2026-10-15", "按设备汇总故障次数、停机时长与质控超限的对应关系，仅含设备级统计量"),
    )
    add(
        "rpt-ct-quality-2026q3",
        "CT 设备综合质量评价报告 2026Q3",
        "质量评价指标",
        "",
        ["rpt-qc-trend-ct-2026q3", "rpt-ct-fault-2026q3"],
        "关联融合",
        "医学工程处",
        "设备标识;设备型号;质控合格率;质控趋势判定;故障次数;开机率;平均修复时间;综合评分",
        notes="两条路径（质控趋势、故障分析）都来自 CT 模体质控检测数据",
    )
    add(
        "pkg-pqc-ct-quality-2026q3",
        "CT 设备质量评价数据包 2026Q3（报送省医学装备质量控制中心）",
        "质量评价指标",
        "一般数据2级",
        ["rpt-ct-quality-2026q3"],
        "转换",
        "医学工程处",
        "机构代码;设备 UDI-DI;质控合格率;故障次数;开机率;平均修复时间;综合评分",
        to=("prov-qc",),
    )
    add(
        "pkg-nhic-ct-quality-2026q3",
        "CT 设备质量评价数据包 2026Q3（报送国家医疗装备使用数据信息中心）",
        "质量评价指标",
        "",
        ["rpt-ct-quality-2026q3"],
        "转换",
        "医学工程处",
        "机构代码;设备 UDI-DI;质控合格率;故障次数;开机率;平均修复时间;综合评分;数据包签名",
        to=("nhic",),
    )
    add(
        "rpt-qc-trend-mr-2026q3",
        "MR 质控趋势分析报告 2026Q3",
        "质量评价指标",
        "一般数据2级",
        _ids(mrs, "phantom-qc", "2026q3"),
        "汇聚统计",
        "医学工程处",
        QC_TREND_ELEMENTS,
        approval=trend_approval,
    )
    add(
        "rpt-qc-trend-us-2026q3",
        "超声质控趋势分析报告 2026Q3",
        "质量评价指标",
        "",
        _ids(uss, "phantom-qc", "2026q3"),
        "汇聚统计",
        "医学工程处",
        QC_TREND_ELEMENTS,
        approval=trend_approval,
    )

    # 6. An UNAPPROVED de-identification: ICU ventilator alarms for the manufacturer.
    add(
        "vent-alarm-extract-2026q3",
        "ICU 呼吸机报警日志抽取 2026Q3",
        "报警记录",
        "",
        _ids(icu_vents, "alarms", "2026q3"),
        "原始提取",
        "重症医学科",
        ALARMS,
    )
    add(
        "vent-alarm-deid-2026q3",
        "ICU 呼吸机报警数据集（去标识化，拟提供厂家）2026Q3",
        "报警记录",
        "一般数据3级",
        ["vent-alarm-extract-2026q3"],
        "去标识化",
        "医学工程处",
        "假名病例号;报警时间（相对）;报警类型;报警优先级;报警参数;报警阈值;实测值;持续时间（秒）;设备序列号",
        notes="拟提供呼吸机生产企业用于报警算法改进；已删除住院号和床号，但审批流程未完成",
    )
    add(
        "pkg-mfr-vent-alarm-2026q3",
        "ICU 呼吸机报警数据包 2026Q3（提供安澜生命科技售后服务中心）",
        "报警记录",
        "",
        ["vent-alarm-deid-2026q3"],
        "转换",
        "医学工程处",
        "假名病例号;报警时间（相对）;报警类型;报警优先级;报警参数;实测值;设备序列号;数据包签名",
        to=("mfr-vent-svc",),
        notes="上游去标识化未经审批，提供前须补办审批",
    )

    # More aggregated, pseudonymised and outbound products.
    add(
        "rpt-alarm-icu-2026q3",
        "ICU 监护报警负荷分析报告 2026Q3",
        "汇总报表",
        "一般数据2级",
        _ids(icu_monitors, "alarms", "2026q3") + _ids(icu_monitors, "tech-alarms", "2026q3"),
        "汇聚统计",
        "重症医学科",
        "统计月份;床位;报警总数;高优先级报警数;技术报警数;每床日报警数;无效报警比例",
        approval=(DSO, "2026-10-18", "按床位与月份汇总报警次数，去除住院号，最小统计单元 ≥ 10 例"),
    )
    add(
        "rpt-infusion-2026q3",
        "输液泵安全使用指标报告 2026Q3",
        "质量评价指标",
        "",
        _ids(pumps, "alarms", "2026q3") + _ids(pumps, "infusion", "2026q3"),
        "汇聚统计",
        "医学工程处",
        "统计季度;护理单元;输注例次;药物库使用率;软限值超越次数;硬限值拦截次数;阻塞报警率",
        approval=(DSO, "2026-10-22", "按护理单元汇总输注与报警指标，不含住院号与药物医嘱明细，最小统计单元 ≥ 10 例"),
    )
    add(
        "pkg-pqc-infusion-2026q3",
        "输液泵安全使用指标数据包 2026Q3（报送省医学装备质量控制中心）",
        "质量评价指标",
        "一般数据2级",
        ["rpt-infusion-2026q3"],
        "转换",
        "医学工程处",
        "机构代码;护理单元类型;输注例次;药物库使用率;硬限值拦截次数;阻塞报警率",
        to=("prov-qc",),
    )
    add(
        "hd-pseudo-2026-10",
        "血液透析治疗数据（假名化）2026年10月",
        "治疗计划与记录",
        "",
        _ids(hds, "sessions", "2026-10") + _ids(hds, "vitals", "2026-10"),
        "假名化",
        "血液净化中心",
        "患者假名;治疗日期;透析模式;治疗时长;超滤量;血流量;Kt/V;透析中最低收缩压",
        approval=(DSO, "2026-11-07", "透析号替换为假名、删除姓名，假名对照表由血液净化中心加密单独保管"),
        subjects_from=_ids(hds, "sessions", "2026-10"),
    )
    add(
        "rpt-hd-quality-2026-10",
        "血液透析质量控制指标 2026年10月",
        "质量评价指标",
        "",
        ["hd-pseudo-2026-10", *_ids(hds, "water-qc", "2026q3")],
        "汇聚统计",
        "血液净化中心",
        "统计月份;机位号;治疗例次;Kt/V 达标率;透析中低血压发生率;透析用水合格率;内毒素合格率",
        approval=(HEAD_ME, "2026-11-09", "按机位与月份汇总 Kt/V 达标率、透析中低血压发生率和水质合格率，每组 ≥ 10 例"),
    )
    add(
        "pkg-pqc-hd-2026-10",
        "血液透析质控数据包 2026年10月（报送省医学装备质量控制中心）",
        "质量评价指标",
        "",
        ["rpt-hd-quality-2026-10"],
        "转换",
        "血液净化中心",
        "机构代码;统计月份;治疗例次;Kt/V 达标率;透析中低血压发生率;透析用水合格率",
        to=("prov-qc",),
    )
    add(
        "seq-vcf-pseudo-2026q3",
        "肿瘤基因变异研究数据集（假名化）2026Q3",
        "测量与检验结果",
        "一般数据4级",
        ["seq-01-vcf-2026q3", "seq-01-samplesheet-2026q3"],
        "假名化",
        "检验科",
        "研究假名;检测项目;染色体;位置;参考碱基;变异碱基;基因;HGVS 命名;致病性分类",
        approval=(ETHICS, "2026-10-25", "经伦理审查（KY-2026-093）批准：样本编号替换为研究假名，删除姓名与住院号"),
        to=("research",),
        notes="基因信息即使假名化仍属敏感个人信息，按一般数据4级管理",
        subjects_from=["seq-01-vcf-2026q3"],
    )
    add(
        "pacer-ae-deid-2026",
        "起搏器不良事件数据（去标识化）2026年度",
        "不良事件报告",
        "",
        ["pacer-fu-01-adverse-events-2026", "pacer-fu-01-implants-2026"],
        "去标识化",
        "医学工程处",
        "报告编号;年龄组;性别;植入月份;事件描述;事件后果;器械型号;器械序列号（哈希）",
        approval=(
            DSO,
            "2026-10-28",
            "删除姓名、住院号，植入日期泛化到月，器械序列号经带密钥哈希处理，按 GB/T 37964 评估重标识风险",
        ),
        subjects_from=["pacer-fu-01-adverse-events-2026"],
    )
    add(
        "pkg-nhic-pacer-ae-2026",
        "起搏器不良事件数据包 2026年度（报送国家医疗装备使用数据信息中心）",
        "不良事件报告",
        "一般数据3级",
        ["pacer-ae-deid-2026"],
        "转换",
        "医学工程处",
        "机构代码;报告编号;年龄组;性别;事件后果;器械型号;器械序列号（哈希）;数据包签名",
        to=("nhic",),
    )
    add(
        "rpt-cssd-qc-2026q3",
        "消毒供应中心灭菌质量监测报告 2026Q3",
        "质量评价指标",
        "",
        _ids(_of_type("EQ056"), "bi", "2026q3") + _ids(_of_type("EQ056"), "bd-test", "2026q3"),
        "汇聚统计",
        "消毒供应中心",
        "统计月份;灭菌器;锅次数;B-D 测试合格率;生物监测合格率;不合格锅次",
        approval=(HEAD_ME, "2026-10-16", "按灭菌器与月份汇总监测合格率，仅含设备级统计量"),
    )
    add(
        "pkg-global-mr-helium-2026q3",
        "MR-01 液氦遥测数据包 2026Q3（提供西诺医疗全球远程服务平台）",
        "传感器遥测",
        "一般数据2级",
        ["mr-01-helium-2026q3"],
        "原始提取",
        "医学工程处",
        "时间戳;液氦液位（%）;液氦压力（psi）;冷头温度（K）;压缩机状态;设备序列号",
        to=("mfr-global",),
        notes="仅设备遥测，不含个人信息；用于厂家境外远程监测",
    )
    add(
        "rdp-icu-fused-2026q3",
        "ICU 生命支持多源关联数据集 2026Q3",
        "测量与检验结果",
        "",
        _ids(icu_monitors, "vitals", "2026q3") + _ids(icu_vents, "vent-params", "2026q3") + ("ecmo-01-runs-2026q3",),
        "关联融合",
        "重症医学科",
        "住院号;时间戳;心率;有创血压;SpO2;通气模式;潮气量;PEEP;FiO2;ECMO 血流量",
        subjects_from=_ids(icu_monitors, "vitals", "2026q3"),
        notes="监护、呼吸机与 ECMO 数据按住院号和时间关联",
    )
    add(
        "rdp-icu-pseudo-2026q3",
        "ICU 生命支持研究数据集（假名化）2026Q3",
        "测量与检验结果",
        "一般数据4级",
        ["rdp-icu-fused-2026q3"],
        "假名化",
        "重症医学科",
        "患者假名;相对时间;心率;有创血压;SpO2;通气模式;潮气量;PEEP;FiO2;ECMO 血流量",
        approval=(
            ETHICS,
            "2026-10-30",
            "经伦理审查（KY-2026-105）批准：住院号替换为研究假名，时间改为相对时间，对照表由信息中心保管",
        ),
        to=("research",),
        notes="假名化后仍为临床测量数据，按分类最低级别定为一般数据4级",
    )
    return out


# --------------------------------------------------------------------------------------------
# Lineage (the same rules the system applies, recomputed here to check the demo is consistent)
# --------------------------------------------------------------------------------------------


def topological_order(assets: dict[str, Asset]) -> list[str]:
    """Sources before dependants; raises on a cycle or an unknown source."""
    indegree = {a: 0 for a in assets}
    dependants: dict[str, list[str]] = {a: [] for a in assets}
    for a in assets.values():
        for s in a.sources:
            _require(s in assets, f"{a.id}: unknown source {s}")
            indegree[a.id] += 1
            dependants[s].append(a.id)
    ready = [a for a, n in indegree.items() if n == 0]
    order: list[str] = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for d in dependants[current]:
            indegree[d] -= 1
            if indegree[d] == 0:
                ready.append(d)
    _require(len(order) == len(assets), f"cycle among {sorted(set(assets) - set(order))}")
    return order


def fill_personal(o: Ontology, assets: dict[str, Asset], order: list[str]) -> None:
    """Personal flags flow downstream unless an approved PI-removing activity stops them; the number
    of people is the sum over the personal sources (or over ``subjects_from``)."""
    for aid in order:
        a = assets[aid]
        if a.raw:
            continue
        t = o.transformations.find(a.activity)
        removed = t.removes_personal_information and a.approved
        sources = [assets[s] for s in a.sources if assets[s].personal]
        a.personal = bool(sources) and not removed
        a.sensitive = a.personal and any(s.sensitive for s in sources)
        counted = [assets[s] for s in a.subjects_from] if a.subjects_from else sources
        total = sum(s.subjects or 0 for s in counted)
        _require(
            a.declared_subjects is None or a.declared_subjects >= total,
            f"{a.id}: declared subject count {a.declared_subjects} below its sources' {total}",
        )
        a.subjects = (total if a.declared_subjects is None else a.declared_subjects) if a.personal else None


def levels(o: Ontology, assets: dict[str, Asset], order: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """(inherited rank, effective rank) per asset: R7/R8 with caps of approved level-reducing activities;
    an asset without an assessed level counts its category's floor as its own level."""
    inherited: dict[str, int] = {}
    effective: dict[str, int] = {}
    for aid in order:
        a = assets[aid]
        t = o.transformations.find(a.activity) if a.activity else None
        best = 0
        for s in a.sources:
            passed = effective[s]
            if t is not None and t.level_reducing and t.cap is not None and a.approved:
                passed = min(passed, t.cap.rank)
            best = max(best, passed)
        inherited[aid] = best
        if a.level:
            own = o.level(a.level).rank
        else:  # no assessment: the category's floor
            floor = o.categories.find(a.category).floor
            own = floor.rank if floor else 0
        effective[aid] = max(best, own)
    return inherited, effective


def chain_depth(assets: dict[str, Asset], order: list[str]) -> dict[str, int]:
    """Derivation steps on the longest path from a raw asset."""
    depth: dict[str, int] = {}
    for aid in order:
        srcs = assets[aid].sources
        depth[aid] = 1 + max(depth[s] for s in srcs) if srcs else 0
    return depth


def upstream(assets: dict[str, Asset], aid: str) -> set[str]:
    seen: set[str] = set()
    stack = list(assets[aid].sources)
    while stack:
        s = stack.pop()
        if s not in seen:
            seen.add(s)
            stack.extend(assets[s].sources)
    return seen


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def check(o: Ontology, assets: list[Asset]) -> dict[str, object]:
    """Assert every content requirement of the demo; return a summary."""
    by_id = {a.id: a for a in assets}
    _require(len(by_id) == len(assets), "duplicate asset ids")
    devices = {d.id: d for d in DEVICES}
    _require(len(devices) == len(DEVICES), "duplicate device ids")
    destinations = {d.id: d for d in DESTINATIONS}
    _require(len(destinations) == len(DESTINATIONS), "duplicate destination ids")
    for key in (*by_id, *devices, *destinations):
        _require(bool(ID_RE.match(key)), f"id not URL-safe: {key}")
    _require(not set(by_id) & set(devices), "asset and device ids overlap")

    # Devices: >= 40 of >= 15 types, every type resolves.
    types = {o.equipment_types.find(d.type_code).iri for d in DEVICES}
    _require(len(DEVICES) >= 40 and len(types) >= 15, f"{len(DEVICES)} devices of {len(types)} types")
    for d in DEVICES:
        _require(all((d.name, d.model, d.maker, d.location)), f"device {d.id}: empty field")

    # Destinations: the required four kinds, resolvable levels and measures covering what a
    # transfer at their clearance needs.
    for dest in DESTINATIONS:
        clearance = o.level(dest.clearance)
        have = {o.measures.find(m).iri for m in dest.measures}
        need = {m.iri for m in o.measures_for(clearance) if m.required_for_transfer}
        _require(need <= have, f"destination {dest.id} lacks {sorted(need - have)}")
    nhic = destinations["nhic"]
    _require(nhic.name == "国家医疗装备使用数据信息中心" and nhic.clearance == "一般数据3级", "nhic")
    _require(nhic.external and not nhic.cross_border and nhic.graded_protection == 3, "nhic flags")
    _require(
        any(d.clearance == "一般数据2级" and d.graded_protection == 2 and "服务中心" in d.name for d in DESTINATIONS),
        "a manufacturer's service centre",
    )
    _require(any("质量控制中心" in d.name and d.clearance == "一般数据3级" for d in DESTINATIONS), "provincial QC")
    _require(any(not d.external and d.clearance == "一般数据4级" for d in DESTINATIONS), "internal research platform")

    order = topological_order(by_id)  # no cycles, every source exists
    inherited, effective = levels(o, by_id, order)
    depth = chain_depth(by_id, order)
    raw = [a for a in assets if a.raw]
    derived = [a for a in assets if not a.raw]
    _require(len(raw) >= 300, f"only {len(raw)} raw assets")
    _require(len(derived) >= 30, f"only {len(derived)} derived assets")
    _require(max(depth.values()) == 5, f"longest chain {max(depth.values())}, want 5")

    threshold = o.policy.important_data_threshold
    for a in assets:
        category = o.categories.find(a.category)
        _require(bool(a.name) and bool(a.owner), f"{a.id}: name and owner")
        if a.level:
            level = o.level(a.level)
            _require(level.label_zh == a.level, f"{a.id}: level label {a.level}")
            floor = category.floor.rank if category.floor else 0
            _require(level.rank >= floor, f"{a.id}: {a.level} below the floor of {a.category}")
            if a.personal:
                _require(level.rank >= o.level("一般数据3级").rank, f"{a.id}: personal data below 一般数据3级")
        _require(a.personal == (a.subjects is not None), f"{a.id}: subject count iff personal")
        _require(a.subjects is None or 0 < a.subjects < threshold, f"{a.id}: subject count {a.subjects}")
        for dest_id in a.transfer_to:
            _require(dest_id in destinations, f"{a.id}: unknown destination {dest_id}")
        if a.raw:
            _require(a.device in devices, f"{a.id}: unknown device {a.device}")
            etype = o.equipment_types.find(a.device_type)
            _require(etype.label_zh == a.device_type, f"{a.id}: type label")
            _require(etype.iri == o.equipment_types.find(devices[a.device].type_code).iri, f"{a.id}: device type")
            _require(3 <= len(a.elements) <= 10, f"{a.id}: {len(a.elements)} elements")
            _require(bool(a.level) and not a.activity and not a.approver and not a.transfer_to, f"{a.id}: raw")
            if a.sensitive:
                _require(o.level(a.level).rank >= o.level("一般数据4级").rank, f"{a.id}: sensitive below 4")
        else:
            _require(not a.device and not a.device_type, f"{a.id}: derived products name no device")
            _require(bool(a.elements), f"{a.id}: no elements")
            _require(set(a.subjects_from) <= set(a.sources), f"{a.id}: subjects_from outside its sources")
            t = o.transformations.find(a.activity)
            _require(t.label_zh == a.activity, f"{a.id}: activity label")
            if a.approver:
                _require(t.level_reducing, f"{a.id}: approval on a non-reducing activity")
                _require(bool(DATE_RE.match(a.approved_on)) and bool(a.approval_note), f"{a.id}: approval fields")
            else:
                _require(not a.approved_on and not a.approval_note, f"{a.id}: partial approval")
            # An explicit level never claims less than lineage gives, except where an unapproved
            # reduction is being claimed (the demo's deliberate violation).
            if a.level and not (t.level_reducing and not a.approved):
                _require(o.level(a.level).rank >= inherited[a.id], f"{a.id}: assessed below inherited")

    empty = [a for a in derived if not a.level]
    _require(0.35 <= len(empty) / len(derived) <= 0.65, f"{len(empty)} of {len(derived)} derived levels empty")

    def approved(label: str) -> list[Asset]:
        return [a for a in derived if a.activity == label and a.approved]

    # 1. utilisation reports: approved aggregation of workload/usage assets, per modality.
    util = [a for a in approved("汇聚统计") if a.id.startswith("rpt-util-")]
    _require(len(util) >= 5, "utilisation reports per modality")
    for a in util:
        _require(all(by_id[s].category in ("工作量统计", "运行状态", "关联患者的使用记录") for s in a.sources), a.id)
    # 2. dose registry: raw dose SR -> extract -> approved de-id -> transform -> package to nhic.
    pkg = by_id["pkg-nhic-dose-ct-2026-10"]
    reg = by_id[pkg.sources[0]]
    deid = by_id[reg.sources[0]]
    ext = by_id[deid.sources[0]]
    _require("nhic" in pkg.transfer_to and reg.activity == "转换", "dose package")
    _require(deid.activity == "去标识化" and deid.approved and ext.activity == "原始提取", "dose de-identification")
    _require(all(by_id[s].raw and by_id[s].category == "患者剂量记录" for s in ext.sources), "dose sources")
    # 3. anonymised training set from tube logs, error logs and work orders.
    train = by_id["ml-tube-trainset-v1"]
    anon = by_id[train.sources[0]]
    fused = by_id[anon.sources[0]]
    _require(train.category == "模型训练数据集" and anon.activity == "匿名化" and anon.approved, "training set")
    fused_cats = {by_id[s].category for s in fused.sources}
    _require(fused.activity == "关联融合" and {"传感器遥测", "故障代码", "维修工单"} <= fused_cats, "fusion")
    # 4. a QC trend report over QC results.
    trend = by_id["rpt-qc-trend-ct-2026q3"]
    _require(trend.activity == "汇聚统计" and trend.approved, "QC trend")
    _require(any(by_id[s].raw and by_id[s].category == "模体检测" for s in upstream(by_id, trend.id)), "QC sources")
    # 5. at least three outbound packages to nhic.
    to_nhic = [a.id for a in assets if "nhic" in a.transfer_to]
    _require(len(to_nhic) >= 3, "packages to nhic")
    # 6. an unapproved de-identification with a package downstream to a manufacturer's service centre.
    unapproved = [a.id for a in derived if a.activity == "去标识化" and not a.approved]
    _require(bool(unapproved), "an unapproved de-identification")
    _require(
        any(
            set(unapproved) & upstream(by_id, a.id) and any(d.startswith("mfr-") for d in a.transfer_to)
            for a in derived
        ),
        "a package downstream of the unapproved de-identification",
    )
    # 7. a product reached by two paths from the same raw asset.
    two_path = [
        a.id
        for a in derived
        if any(
            r in upstream(by_id, s1) and r in upstream(by_id, s2) and by_id[r].raw
            for i, s1 in enumerate(a.sources)
            for s2 in a.sources[i + 1 :]
            for r in upstream(by_id, s1)
        )
    ]
    _require("rpt-ct-quality-2026q3" in two_path, "two-path product")
    # 8. a derived asset with no level whose patient-identifying source makes lineage give 一般数据4级.
    rank4 = o.level("一般数据4级").rank
    lineage4 = [a.id for a in empty if inherited[a.id] == rank4 and any(by_id[s].sensitive for s in a.sources)]
    _require(bool(lineage4), "an empty-level derived asset inheriting 一般数据4级")
    # 9. leaving the country (kg/demo/records.py): a research partner abroad cleared for 一般数据3级
    # and a product for it with non-sensitive personal information of at least as many people as
    # the lower bound of the standard-contract rule (XB-pi-100k in the ontology).
    abroad = {d.id for d in DESTINATIONS if d.cross_border and d.clearance == "一般数据3级"}
    _require(bool(abroad), "a research partner abroad cleared for 一般数据3级")
    bound = next((r.subjects_at_least for r in o.cross_border.rules if r.notation == "XB-pi-100k"), None)
    _require(bound is not None, "the ontology has no rule XB-pi-100k")
    to_abroad = [
        a.id
        for a in derived
        if set(a.transfer_to) & abroad and a.personal and not a.sensitive and (a.subjects or 0) >= (bound or 0)
    ]
    _require(bool(to_abroad), f"a product abroad with personal information of {bound} people or more")

    # Outbound: only derived products leave; each fits its destination's clearance, except the
    # package downstream of the unapproved de-identification (the violation the demo shows).
    over = []
    for a in assets:
        for dest_id in a.transfer_to:
            _require(not a.raw, f"{a.id}: raw data is not provided outside")
            if effective[a.id] > o.level(destinations[dest_id].clearance).rank:
                over.append(a.id)
    _require(bool(over) and all(set(unapproved) & upstream(by_id, x) for x in over), f"over clearance: {over}")

    return {
        "devices": len(DEVICES),
        "types": len(types),
        "destinations": len(DESTINATIONS),
        "raw": len(raw),
        "derived": len(derived),
        "derived_without_level": len(empty),
        "longest_chain": max(depth.values()),
        "approved_reductions": [a.id for a in derived if a.approved],
        "unapproved_deidentification": unapproved,
        "two_path": two_path,
        "lineage_level_4": lineage4,
        "to_nhic": to_nhic,
        "outbound": [a.id for a in assets if a.transfer_to],
        "over_clearance": over,
        "standard_contract_abroad": to_abroad,
    }


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def build(o: Ontology | None = None) -> tuple[dict[str, str], dict[str, object]]:
    """The three CSV files' text by file name, and the check summary."""
    o = o or load_ontology()
    assets = raw_assets(o) + derived_assets()
    by_id = {a.id: a for a in assets}
    fill_personal(o, by_id, topological_order(by_id))
    for a in assets:
        a.reviewed = last_reviewed(a.id)
    _require(set(DEMO_OVERDUE) | set(DEMO_AT_CUTOFF) <= set(by_id), "a demo review names an unknown asset")
    summary = check(o, assets)
    device_rows = [
        [d.id, o.equipment_types.find(d.type_code).label_zh, d.name, d.model, d.maker, d.location] for d in DEVICES
    ]
    destination_rows = [
        [
            d.id,
            d.name,
            o.level(d.clearance).label_zh,
            YES if d.external else NO,
            YES if d.cross_border else NO,
            "" if d.graded_protection is None else str(d.graded_protection),
            ";".join(o.measures.find(m).label_zh for m in d.measures),
        ]
        for d in DESTINATIONS
    ]
    files = {
        "devices.csv": _csv(DEVICE_HEADER, device_rows),
        "destinations.csv": _csv(DESTINATION_HEADER, destination_rows),
        "assets.csv": _csv(ASSET_HEADER, [a.row() for a in assets]),
    }
    return files, summary


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kg.demo.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write to (default: next to this file)")
    parser.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing")
    args = parser.parse_args(argv)
    files, summary = build()
    stale = []
    for name, text in files.items():
        path = args.out / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="") as f:
                f.write(text)
    print(
        f"{summary['devices']} devices of {summary['types']} types, {summary['destinations']} destinations, "
        f"{summary['raw']} raw + {summary['derived']} derived assets "
        f"({summary['derived_without_level']} derived without a level), longest chain {summary['longest_chain']}"
    )
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
