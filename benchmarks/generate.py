"""Write a synthetic inventory of N assets with about 2N derivations (a DAG):
``python -m benchmarks.generate N [-o DIR] [--format csv|nt]``.

``csv`` (default) is medgrade's spreadsheet template: about 5 % of the assets are raw data from
devices (with an assessed level); every other asset derives from 1–3 earlier ones (2 on
average) through a transformation; a share of the reducing ones carry an approval.
``nt`` is the same shape as lean N-Triples (type, category, derivations, level of the raw
ones: about 4 triples per asset), the form a data centre bulk-loads; ``--assessed SHARE`` also
gives that share of the derived products a steward's level. Deterministic.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from pathlib import Path

ASSET_HEADER = [
    "资产标识",
    "资产名称",
    "数据分类",
    "数据级别",
    "所属设备",
    "设备类型",
    "数据元素",
    "来源资产",
    "加工方式",
    "个人信息",
    "数据主体数量",
    "责任部门",
    "备注",
    "审批人",
    "审批日期",
    "审批依据",
    "提供去向",
]
RAW = [
    ("患者剂量记录", "一般数据4级", "是"),
    ("医学影像", "一般数据4级", "是"),
    ("报警记录", "一般数据3级", "是"),
    ("传感器遥测", "一般数据2级", ""),
    ("维修工单", "一般数据2级", ""),
    ("模体检测", "一般数据2级", ""),
    ("运行状态", "一般数据2级", ""),
    ("网络配置", "一般数据3级", ""),
]
DEVICE_TYPES = ["CT", "MR", "DR", "呼吸机", "病人监护仪", "输液泵", "彩超", "全自动生化分析仪"]
DERIVED = ["汇总报表", "质量评价指标", "模型训练数据集", "设备使用数据"]
ACTIVITIES = ["原始提取", "转换", "关联融合", "汇聚统计", "去标识化", "假名化", "匿名化"]
REDUCING = {"汇聚统计", "去标识化", "假名化", "匿名化"}


def generate(n: int, out: Path, seed: int = 20261127) -> tuple[Path, Path]:
    rnd = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    devices = max(10, n // 500)
    dev_path, asset_path = out / "devices.csv", out / "assets.csv"
    with dev_path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["设备标识", "设备类型", "设备名称"])
        for d in range(devices):
            w.writerow([f"dev-{d}", DEVICE_TYPES[d % len(DEVICE_TYPES)], f"设备 {d}"])
    with asset_path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(ASSET_HEADER)
        for i in range(n):
            if i < 20 or rnd.random() < 0.05:
                cat, level, personal = RAW[i % len(RAW)]
                d = rnd.randrange(devices)
                w.writerow(
                    [
                        f"a{i}",
                        f"原始数据 {i}",
                        cat,
                        level,
                        f"dev-{d}",
                        "",
                        "",
                        "",
                        "",
                        personal,
                        str(rnd.randrange(100, 100000)) if personal else "",
                        "医学工程处",
                        "",
                        "",
                        "",
                        "",
                        "",
                    ]
                )
                continue
            k = rnd.choice((1, 2, 2, 3))
            sources = sorted({f"a{rnd.randrange(max(0, i - 5000), i)}" for _ in range(k)})
            activity = rnd.choice(ACTIVITIES) if len(sources) == 1 else rnd.choice(("关联融合", "汇聚统计"))
            approved = activity in REDUCING and rnd.random() < 0.6
            w.writerow(
                [
                    f"a{i}",
                    f"衍生产品 {i}",
                    rnd.choice(DERIVED),
                    "",
                    "",
                    "",
                    "",
                    ";".join(sources),
                    activity,
                    "",
                    "",
                    "信息中心",
                    "",
                    "王敏" if approved else "",
                    "2026-03-01" if approved else "",
                    "按规范审批" if approved else "",
                    "",
                ]
            )
    return dev_path, asset_path


def generate_nt(n: int, out: Path, seed: int = 20261127, assessed: float = 0.0) -> Path:
    """``assessed``: the share of derived products a steward also assessed (at General-2, as
    stewards often judge a report "internal"), drawn from a separate stream so the lineage is
    the same whatever the share."""
    rnd, steward = random.Random(seed), random.Random(seed + 1)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "inventory.nt"
    base, mg = "https://w3id.org/medgrade/id/asset/", "https://w3id.org/medgrade/def#"
    rdf_type, derived = (
        "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
        "<http://www.w3.org/ns/prov#wasDerivedFrom>",
    )
    raw = ["PatientDoseRecords", "MedicalImages", "AlarmRecords", "SensorTelemetry", "RepairWorkOrders"]
    levels = ["GeneralData4", "GeneralData4", "GeneralData3", "GeneralData2", "GeneralData2"]
    with path.open("w", encoding="utf-8") as f:
        w = f.write
        for i in range(n):
            a = f"<{base}a{i}>"
            w(f"{a} {rdf_type} <{mg}DataAsset> .\n")
            if i < 20 or rnd.random() < 0.05:
                k = i % len(raw)
                w(f"{a} <{mg}hasCategory> <{mg}{raw[k]}> .\n{a} <{mg}assessedLevel> <{mg}{levels[k]}> .\n")
                continue
            w(f"{a} <{mg}hasCategory> <{mg}AggregatedReports> .\n")
            if assessed and steward.random() < assessed:
                w(f"{a} <{mg}assessedLevel> <{mg}GeneralData2> .\n")
            for s in {rnd.randrange(max(0, i - 5000), i) for _ in range(rnd.choice((1, 2, 2, 3)))}:
                w(f"{a} {derived} <{base}a{s}> .\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of assets")
    parser.add_argument("-o", "--out", type=Path, default=Path("bench-data"), help="output folder")
    parser.add_argument("--format", choices=("csv", "nt"), default="csv")
    parser.add_argument("--assessed", type=float, default=0.0, help="nt: share of derived products with a level")
    args = parser.parse_args()
    t0 = time.perf_counter()
    if args.format == "csv":
        paths = generate(args.n, args.out)
    else:
        paths = (generate_nt(args.n, args.out, assessed=args.assessed),)
    print(f"wrote {args.n:,} assets to {', '.join(map(str, paths))} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
