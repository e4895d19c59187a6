"""Words of the bureau report and its figures in English and Chinese.

``translator("zh")`` returns a function from the English text to its Chinese; a text
with no entry is returned unchanged and remembered in ``.missing`` (the tests require
none).  Numbers with units are formatted by the caller.
"""

from __future__ import annotations

import re

__all__ = ["LANGS", "ZH", "Translator", "translator"]

LANGS = ("en", "zh")

ZH: dict[str, str] = {
    # page
    "U-turn lane study": "掉头车道研究报告",
    "Ordinary left-turn lane vs multi-car linked U-turn lane": "普通左转车道与多车联动式掉头车道比较",
    "Contents": "目录",
    "Summary": "摘要",
    "Site and scenario": "场地与情景",
    "Scheme comparison": "方案比较",
    "Scheme ladder": "方案阶梯分解",
    "Level of service": "服务水平",
    "Queues and spillback": "排队与溢出",
    "Safety": "安全",
    "Sensitivity": "敏感性分析",
    "Design recommendation": "设计建议",
    "Validation": "模型验证",
    "Provenance": "数据来源与可复现性",
    "Scenario": "情景",
    "Description": "说明",
    "field": "字段",
    "value": "数值",
    "basis": "依据",
    "note in the scenario file": "情景文件注释",
    "meaning": "含义",
    "Basis of the numbers": "数值依据统计",
    "fields": "个字段",
    "measured": "实测",
    "sourced": "文献/规范",
    "assumed": "假设",
    "unstated": "未注明",
    "default": "默认值（文件未给出）",
    "run setting": "仿真设置",
    "Every number the simulation used, and where it comes from. "
    "'default' means the scenario file left the field out and the package default was used.": "仿真所用的全部数值及其来源。“默认值”表示情景文件未给出该字段，采用程序默认值。",
    "scheme": "方案",
    "movement": "流向",
    "measure": "指标",
    "mean": "均值",
    "95% CI": "95%置信区间",
    "difference": "差值",
    "step": "分解步骤",
    "replications": "重复次数",
    "paired replications on common random numbers": "次配对重复仿真（公共随机数）",
    "Each cell: mean over replications with the 95% confidence interval of the mean.": "每格为各次重复的均值及均值的95%置信区间。",
    "Paired differences against the baseline (scheme - baseline), 95% CI.": "相对基准方案的配对差值（方案 - 基准），95%置信区间。",
    "baseline": "基准方案",
    "How much of the gain comes from the permission to U-turn in gaps and how much "
    "from the slots; each step is a paired difference with its 95% CI.": "收益中有多少来自允许利用间隙掉头、多少来自待转位；每一步为配对差值及其95%置信区间。",
    "permission": "允许间隙掉头",
    "slots (given permission)": "待转位（已允许间隙掉头）",
    "any phase (Liaocheng rule)": "任意相位（聊城规则）",
    "total": "合计",
    "slots without permission": "仅待转位（不允许间隙掉头）",
    "uturn": "掉头",
    "left": "左转",
    "through": "直行",
    "all": "全进口道",
    "whole approach": "全进口道",
    "ordinary": "普通左转车道",
    "ordinary_permitted": "普通车道+间隙掉头",
    "linked": "多车联动掉头（聊城）",
    "linked_sanya": "多车联动掉头（三亚）",
    "linked_zhengzhou": "多车联动掉头（郑州）",
    # measures
    "throughput, veh/h": "通过量，辆/小时",
    "mean control delay, s/veh": "平均控制延误，秒/辆",
    "95th pct control delay, s/veh": "第95百分位控制延误，秒/辆",
    "mean queue delay, s/veh": "平均排队延误，秒/辆",
    "95th pct queue, m": "第95百分位排队长度，米",
    "max queue, m": "最大排队长度，米",
    "mean queue, veh": "平均排队，辆",
    "95th pct queue, veh": "第95百分位排队，辆",
    "max queue, veh": "最大排队，辆",
    "time spilled back, share": "溢出时间比例",
    "vehicles arriving to a full lane, veh": "到达时车道已满的车辆数，辆",
    "unserved at end, veh": "仿真结束未放行车辆，辆",
    "U-turns per gap (outside green)": "每个间隙掉头车数（绿灯外）",
    "U-turns per platoon": "每队列掉头车数",
    "total delay, veh·h per hour": "总延误，车·小时/小时",
    "total person delay, person·h per hour": "总人员延误，人·小时/小时",
    "wait in through lane 1 to enter the bay, s/veh": "在直行1车道等待进入左转车道的时间，秒/辆",
    "time the through queue blocks the bay entrance, share": "直行排队堵塞左转车道入口的时间比例",
    "cycles with the bay entrance blocked, share": "左转车道入口被堵塞的周期比例",
    "time bay spillback blocks through lane 1, share": "左转排队溢出堵塞直行1车道的时间比例",
    "cycles with through lane 1 blocked by spillback, share": "直行1车道被溢出堵塞的周期比例",
    # LOS
    "Level of service from the mean control delay, graded at the mean and at the upper "
    "95% bound of the mean.": "服务水平由平均控制延误确定，分别按均值和均值的95%置信上限评级。",
    "HCM signalized": "HCM信号交叉口",
    "HCM two-way stop": "HCM双向停车控制",
    "at mean": "按均值",
    "at upper bound": "按置信上限",
    "control delay, s/veh": "控制延误，秒/辆",
    "Local grading table": "地方评级标准",
    "No local grading table was supplied (--grading FILE.csv); only the HCM tables are shown.": "未提供地方评级表（--grading FILE.csv），仅列出HCM评级。",
    "grade": "等级",
    # queue
    "storage": "存储长度",
    "Queue in the lane over time": "车道排队长度随时间变化",
    "time, min": "时间，分钟",
    "queue, m": "排队长度，米",
    "storage limit": "存储长度上限",
    "replication": "第",
    "measured period": "统计时段",
    "replication 0 of": "重复仿真 第0次，共",
    # safety
    "Safety measures are not computed in this version (no uturn_sim.measures.safety).": "本版本未计算安全指标（无 uturn_sim.measures.safety 模块）。",
    "Safety surrogates (post-encroachment time at the conflict area), U-turners.": "安全替代指标（冲突区后侵入时间PET），掉头车辆。",
    "No safety criterion was supplied to the design advisor.": "设计建议未设安全判据。",
    # sensitivity
    "One parameter at a time over its stated range; the bar spans the linked - ordinary "
    "difference in U-turn control delay between the ends of the range.": "逐一改变参数；条形表示在参数范围两端时“联动-普通”掉头控制延误差值的变化。",
    "parameter": "参数",
    "low": "下限",
    "high": "上限",
    "at low": "下限处",
    "at high": "上限处",
    "span": "变化幅度",
    "Sensitivity of the linked - ordinary difference, U-turn control delay": "“联动-普通”掉头控制延误差值的敏感性",
    "difference, s/veh": "差值，秒/辆",
    "rises with the parameter": "随参数增大",
    "falls with the parameter": "随参数减小",
    "levels per parameter": "每参数水平数",
    # design
    "The fewest slots meeting every criterion, judged on the upper 95% bound "
    "(not the mean): control delay grade, spillback share, no unserved vehicles.": "满足全部判据的最少待转位数，按95%置信上限（而非均值）判定：控制延误等级、溢出时间比例、无未放行车辆。",
    "criteria": "判据",
    "target grade": "目标等级",
    "spillback share at most": "溢出时间比例不超过",
    "U-turn demand, veh/h": "掉头需求，辆/小时",
    "left demand, veh/h": "左转需求，辆/小时",
    "(left demand)": "（左转需求）",
    "slots": "待转位数",
    "verdict": "判定",
    "pass": "通过",
    "fail": "不通过",
    "unclear": "统计上不明确",
    "chosen": "推荐",
    "status": "状态",
    "no design qualifies": "无满足条件的设计",
    "not statistically clear at the replication cap": "达到重复次数上限仍不明确",
    "U-turn delay, upper bound": "掉头延误置信上限",
    "spillback, upper bound": "溢出比例置信上限",
    "target": "目标",
    "Design advisor: cell = upper 95% bound of U-turn control delay, s/veh": "设计建议：格中数字为掉头控制延误95%置信上限，秒/辆",
    "Recommendation for the scenario's demand": "按本情景需求的建议",
    "slots with storage": "个待转位，存储长度",
    "no design within the slots and storage offered meets every criterion": "在所给待转位数与存储长度范围内，没有满足全部判据的设计",
    "reasons": "未通过原因",
    "uturn control delay": "掉头控制延误",
    "left control delay": "左转控制延误",
    "spillback share": "溢出时间比例",
    "unserved vehicles": "未放行车辆",
    "minimum PET, s": "最小PET，秒",
    "5th pct PET, s": "第5百分位PET，秒",
    "yes": "是",
    "no": "否",
    # validation
    "Simulated U-turn capacity against its closed form (light check, few replications).": "仿真掉头通行能力与解析公式对比（简要检验，重复次数较少）。",
    "case": "情形",
    "conflicting flow, veh/h": "冲突流量，辆/小时",
    "simulated, veh/h": "仿真值，辆/小时",
    "closed form, veh/h": "解析值，辆/小时",
    "relative error": "相对误差",
    "harders": "Harders公式（普通车道）",
    "linked_strict": "联动c_k公式（理想移动）",
    # comparison chart
    "Mean control delay by scheme (mean of replications, bars: 95% CI)": "各方案平均控制延误（各次重复均值，误差线：95%置信区间）",
    # provenance
    "package version": "程序版本",
    "command": "命令",
    "root seed": "根随机种子",
    "engine": "仿真引擎",
    "scenario SHA-256": "情景SHA-256",
    "created (UTC)": "生成时间（UTC）",
    "The fully resolved scenario actually run": "实际运行的完整情景",
    "Rerun with: uturn-sim report SCENARIO.yaml --seed SEED": "复现：uturn-sim report 情景.yaml --seed 种子",
    "Settings of this report": "本报告设置",
    "sensitivity levels": "敏感性水平数",
    "sensitivity replications": "敏感性重复次数",
    "design demands, veh/h": "设计需求，辆/小时",
    "Figure": "图",
    "Table": "表",
    "mean over replications": "各次重复均值",
}

_PET = re.compile(r"^U-turns with PET < ([0-9.]+) s, share$")
_CONFLICTS = re.compile(r"^conflicts \(PET < ([0-9.]+) s\) per hour$")


class Translator:
    """English text -> the report language (``__call__``); ``missing`` lists misses."""

    def __init__(self, lang: str):
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
        self.lang = lang
        self.missing: set[str] = set()

    def __call__(self, text: str) -> str:
        """``text`` in the report language."""
        if self.lang == "en":
            return text
        if text in ZH:
            return ZH[text]
        m = _PET.match(text)
        if m:
            return f"PET < {m.group(1)} 秒的掉头比例"
        m = _CONFLICTS.match(text)
        if m:
            return f"冲突数（PET < {m.group(1)} 秒），次/小时"
        self.missing.add(text)
        return text


def translator(lang: str) -> Translator:
    """A :class:`Translator` for ``lang`` (``en`` or ``zh``)."""
    return Translator(lang)
