"""A deterministic generator of realistic contract-v1 cases for `xinfang demo`.

    python -m dispatcher.demo.sample dispatcher/demo/data/sample-cases.jsonl

Everything is drawn from one seeded `random.Random`, so the same (count, seed) always gives the
same cases. Petitioners are invented: names, phones, ID numbers and addresses only have the
right shape. About 22 % of the cases carry no category but a telling keyword of exactly one
category (the rules classify them from text) and about 3 % are deliberately vague (triage).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from chinese_calendar import is_workday

SCHEMA = "xinfang.case/v1"
CST = timezone(timedelta(hours=8))
MONTH_START = date(2026, 5, 1)
MONTH_DAYS = 31
MIN_CONTENT, MAX_CONTENT = 60, 600

# Chongqing's 38 districts and counties (GB/T 2260) with weights roughly following population.
DISTRICTS: tuple[tuple[str, str, int], ...] = (
    ("500101", "万州区", 6),
    ("500102", "涪陵区", 4),
    ("500103", "渝中区", 7),
    ("500104", "大渡口区", 3),
    ("500105", "江北区", 8),
    ("500106", "沙坪坝区", 8),
    ("500107", "九龙坡区", 9),
    ("500108", "南岸区", 8),
    ("500109", "北碚区", 5),
    ("500110", "綦江区", 3),
    ("500111", "大足区", 2),
    ("500112", "渝北区", 10),
    ("500113", "巴南区", 6),
    ("500114", "黔江区", 2),
    ("500115", "长寿区", 2),
    ("500116", "江津区", 4),
    ("500117", "合川区", 4),
    ("500118", "永川区", 4),
    ("500119", "南川区", 2),
    ("500120", "璧山区", 2),
    ("500151", "铜梁区", 2),
    ("500152", "潼南区", 2),
    ("500153", "荣昌区", 2),
    ("500154", "开州区", 3),
    ("500155", "梁平区", 2),
    ("500156", "武隆区", 1),
    ("500229", "城口县", 1),
    ("500230", "丰都县", 2),
    ("500231", "垫江县", 2),
    ("500233", "忠县", 2),
    ("500235", "云阳县", 2),
    ("500236", "奉节县", 2),
    ("500237", "巫山县", 1),
    ("500238", "巫溪县", 1),
    ("500240", "石柱土家族自治县", 1),
    ("500241", "秀山土家族苗族自治县", 1),
    ("500242", "酉阳土家族苗族自治县", 1),
    ("500243", "彭水苗族土家族自治县", 1),
)

CHANNEL_SHARES: dict[str, int] = {"online": 70, "phone": 15, "visit": 6, "letter": 5, "video": 4}

# channel -> (source, external_id prefix, weight)
SOURCES: dict[str, tuple[tuple[str, str, int], ...]] = {
    "online": (("cq-wsxf", "WS", 6), ("cq-wechat", "WX", 4)),
    "phone": (("cq-12345", "HL", 1),),
    "visit": (("cq-xfj-visit", "ZF", 1),),
    "letter": (("cq-xfj-letter", "XJ", 1),),
    "video": (("cq-video", "SP", 1),),
}

# Keys fixed by the shipped rules.
CATEGORIES: dict[str, int] = {
    "housing": 16,
    "labour": 12,
    "urban_management": 11,
    "environment": 9,
    "transport": 8,
    "public_security": 6,
    "market": 6,
    "civil_affairs": 6,
    "land": 5,
    "education": 5,
    "health": 5,
    "agriculture": 3,
    "emergency": 3,
    "commerce": 3,
    "culture_tourism": 2,
}

# The words rules classify uncategorised cases by.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "labour": ("欠薪", "工资", "社保"),
    "environment": ("噪音", "污染", "排污"),
    "housing": ("物业", "电梯", "房屋"),
    "education": ("学校", "教师"),
    "health": ("医院", "医疗"),
    "transport": ("公交", "道路", "出租车"),
    "public_security": ("诈骗", "治安"),
    "market": ("食品", "消费"),
    "civil_affairs": ("低保", "养老"),
    "land": ("征地", "拆迁"),
    "urban_management": ("占道", "垃圾", "路灯"),
}

Template = tuple[str, str]  # (title, fact), both str.format templates over the context

TEMPLATES: dict[str, tuple[Template, ...]] = {
    "housing": (
        (
            "{comm}小区加装电梯纠纷",
            "我们{comm}小区{n}栋共{floors}层，{households}户居民中大多数同意加装电梯，但一楼住户以"
            "采光受影响为由阻挠施工，社区协调{times}次未果，加装电梯工程已停工{days}天。",
        ),
        (
            "{comm}物业乱收费、服务差",
            "{comm}小区物业公司自{date}起将物业费上调至每平方米{fee}元，未经业主大会表决，小区"
            "电梯经常故障、绿化无人维护，业主多次反映没有结果。",
        ),
        (
            "新房房屋漏水无人维修",
            "我家位于{comm}小区{n}栋，交房不到{years}年，卫生间和外墙多处漏水，开发商和物业相互"
            "推诿，房屋维修资金申请迟迟不批，已造成损失约{amount}元。",
        ),
        (
            "购房多年无法办理不动产权证",
            "本人于{year}年在{d}{comm}项目购买商品房一套，房款{amount}元已全部付清，开发商至今未"
            "办理房屋产权证，同样情况的业主有{households}户。",
        ),
    ),
    "labour": (
        (
            "拖欠农民工工资",
            "我们{people}名工人在{d}{road}由{company}承建的工地务工，自{date}以来被拖欠工资共计"
            "{amount}元，包工头已失联，多次讨要欠薪未果，家里急需用钱。",
        ),
        (
            "单位未依法缴纳社保",
            "本人在{company}工作{years}年，公司一直未给我缴纳社保，{date}离职后要求补缴被拒绝，"
            "也未支付经济补偿{amount}元。",
        ),
        (
            "被无故辞退并扣发工资",
            "我于{date}被{company}以“业绩不达标”为由辞退，没有提前通知，公司扣发我{months}个月"
            "工资共{amount}元，劳动合同也不给我复印件。",
        ),
        (
            "加班费长期不发放",
            "{company}要求员工每天工作{hours}小时、每月只休{rest}天，从未支付加班费，工资条上也"
            "不体现，累计应得约{amount}元。",
        ),
    ),
    "environment": (
        (
            "夜间施工噪音扰民",
            "{d}{road}旁的在建项目连续{days}天在夜间十点后施工，打桩机和渣土车噪音很大，附近"
            "{comm}小区居民无法入睡，老人和孩子深受影响。",
        ),
        (
            "企业偷排污水污染河道",
            "{street}附近的一家化工企业经常在夜间通过暗管排污，河水发黑发臭，鱼虾大量死亡，"
            "周边{households}户村民的生活用水受到污染。",
        ),
        (
            "餐饮油烟扰民",
            "{comm}小区底商{shop}的油烟管道直接对着居民窗户排放，油烟和风机噪音严重影响{n}栋"
            "低层住户的正常生活，反映{times}次没有整改。",
        ),
        (
            "搅拌站粉尘污染严重",
            "{street}的混凝土搅拌站未采取任何降尘措施，粉尘污染严重，附近居民晾晒的衣物一天就"
            "落满灰尘，已有{people}位老人出现咳嗽症状。",
        ),
    ),
    "education": (
        (
            "学校违规收取费用",
            "{school}以“资料费”“托管费”名义向每名学生收取{price}元，涉及学生约{pupils}人，家长"
            "询问时学校不出具收据。",
        ),
        (
            "教师在校外有偿补课",
            "{school}一名数学教师在校外开设补习班并暗示学生参加，每人每学期{amount}元，不参加的"
            "学生在课堂上受到冷落，家长敢怒不敢言。",
        ),
        (
            "适龄儿童入学难",
            "我家孩子今年满六岁，户籍和住房都在{street}，但片区学校称学位已满，要求我们到{km}"
            "公里外的学校就读，每天接送十分困难。",
        ),
    ),
    "health": (
        (
            "医院过度检查收费",
            "我母亲于{date}在{hospital}住院{days}天，费用清单显示多项重复检查，总费用{amount}元，"
            "医保报销后自付仍超过一半，医院未作出合理解释。",
        ),
        (
            "医疗纠纷处理不公",
            "我父亲在{hospital}做手术后出现并发症，医院拒绝提供完整病历，医疗纠纷调解{times}次"
            "没有结果，希望卫生健康部门介入调查。",
        ),
        (
            "社区卫生服务中心服务差",
            "{street}社区卫生服务中心经常不到下班时间就停止挂号，医生态度生硬，医疗设备长期损坏"
            "不修，附近{people}多位老人看病只能跑到城区。",
        ),
    ),
    "transport": (
        (
            "学校周边交通拥堵",
            "{school}门口的{road}每天上下学高峰拥堵严重，接送车辆乱停乱放，缺少交警疏导，{date}"
            "还发生了一起剐蹭事故。",
        ),
        (
            "公交线路调整后出行不便",
            "{street}原有的{line}路公交于{date}被取消，附近{households}户居民最近的站点要步行"
            "{minutes}分钟，老年人出行非常不便。",
        ),
        (
            "出租车拒载绕路",
            "{date}晚上我在{d}{road}乘坐出租车，司机拒绝打表，开口要价{price}元，我不同意后被中途"
            "赶下车，车牌号我已经记下。",
        ),
        (
            "道路坑洼长期未修",
            "{d}{road}约{meters}米的道路路面破损严重，下雨就积水，已有多名电动车骑行者摔倒，反映"
            "{times}次仍未修复。",
        ),
    ),
    "public_security": (
        (
            "电信诈骗被骗钱款",
            "本人于{date}接到自称“客服”的电话，被诱导通过网络转账共计{amount}元，后发现被诈骗，"
            "已向{street}派出所报案，至今没有进展。",
        ),
        (
            "小区周边治安差",
            "{comm}小区周边近{months}个月多次发生电瓶车被盗和入室盗窃，治安状况堪忧，居民晚上"
            "不敢出门，请求增加夜间巡逻。",
        ),
        (
            "酒吧深夜聚集闹事",
            "{road}上的几家酒吧每晚都有人聚集酗酒、打架闹事，派出所出警后不久又恢复原样，附近"
            "{households}户居民的治安安全感很差。",
        ),
    ),
    "market": (
        (
            "熟食店食品安全问题",
            "我于{date}在{d}{shop}购买的熟食中吃出异物，家人食用后腹泻，花费药费{price}元，商家"
            "拒不赔偿，担心还有其他人受害。",
        ),
        (
            "预付卡消费商家跑路",
            "{d}{road}的{shop}健身房以优惠为名办理预付卡，我充值{amount}元后店铺于{date}突然关门，"
            "涉及消费者约{people}人。",
        ),
        (
            "超市销售过期食品",
            "{shop}超市货架上有多批过期食品仍在销售，我{date}买的牛奶已过期{days}天，店方只愿退款"
            "不愿赔偿，侵害消费者权益。",
        ),
    ),
    "civil_affairs": (
        (
            "低保申请被拒",
            "我家三口人，丈夫重病、孩子在读，家庭月收入不足{income}元，向{street}申请低保被以"
            "“名下有车辆”为由拒绝，但那辆车{year}年就已报废。",
        ),
        (
            "养老机构服务质量差",
            "我父亲住在{d}一家民办养老院，每月费用{price}元，但护理人员严重不足，老人长期卧床出现"
            "褥疮，养老院不承认责任。",
        ),
        (
            "高龄津贴未按时发放",
            "我母亲今年{age}岁，按规定应享受高龄津贴，但自{date}以来一直未到账，到{street}民政"
            "窗口询问{times}次都说在审核。",
        ),
    ),
    "land": (
        (
            "征地补偿标准过低",
            "{street}{village}村因项目建设被征地{area}亩，补偿标准每亩仅{price}元，远低于周边同类"
            "项目，且补偿款至今未足额发放。",
        ),
        (
            "违法强制拆迁",
            "我家位于{street}的住房在{date}被拆迁公司强行拆除，没有签订补偿协议，屋内物品也未清点，"
            "损失约{amount}元。",
        ),
        (
            "宅基地确权纠纷",
            "我家与邻居因宅基地边界发生纠纷，{street}国土所{years}年前的测量结果与这次确权结果不"
            "一致，请求重新测量并依法确权。",
        ),
    ),
    "agriculture": (
        (
            "耕地地力保护补贴未发放",
            "{village}村{households}户种粮农户{year}年度的耕地地力保护补贴至今未发放，村干部称资金"
            "未到账，请予核查。",
        ),
        (
            "购买假种子导致减产",
            "我于{date}在{d}一家农资店购买玉米种子{n}袋，出苗率不足一半，预计减产损失{amount}元，"
            "店主拒绝赔偿。",
        ),
        (
            "生猪养殖户疫病防治无人指导",
            "{village}村今年有{households}户养殖户的生猪出现疫病，乡镇畜牧站一直没有派人指导，"
            "已病死{n}头，损失{amount}元。",
        ),
    ),
    "urban_management": (
        (
            "商户占道经营",
            "{road}两侧商户长期占道经营，摊位摆到人行道上，行人只能走机动车道，城管来了收、走了又"
            "摆，已持续{months}个月。",
        ),
        (
            "垃圾清运不及时",
            "{comm}小区门口的垃圾站已{days}天没有清运，天气炎热，垃圾发臭、蚊蝇滋生，居民进出都"
            "要绕开走。",
        ),
        (
            "路灯损坏长期不亮",
            "{d}{road}约{meters}米范围内的路灯已损坏{months}个月，晚上一片漆黑，已有{times}名行人"
            "摔倒，存在安全隐患。",
        ),
        (
            "楼顶违章搭建",
            "{comm}小区{n}栋顶楼住户私自在楼顶违章搭建约{area}平方米的彩钢房，影响楼体安全，执法"
            "部门答复在处理但一直没有动静。",
        ),
    ),
    "emergency": (
        (
            "山体滑坡隐患",
            "{street}{village}村后山今年雨季出现裂缝，已有碎石滚落，山下住着{households}户村民，"
            "大家担心发生滑坡。",
        ),
        (
            "企业安全生产隐患",
            "{company}仓库内违规存放大量易燃物品，消防通道被堵，{people}名员工未经过安全培训，"
            "一旦发生火灾后果不堪设想。",
        ),
        (
            "消防通道被长期占用",
            "{comm}小区消防通道长期被私家车占用，{date}小区发生火情时消防车无法进入，险些酿成"
            "大祸。",
        ),
    ),
    "commerce": (
        (
            "网购商品退货难",
            "我于{date}在某电商平台购买的家电存在质量问题，申请退货被商家拒绝，平台客服{days}天不"
            "回复，涉及金额{price}元。",
        ),
        (
            "商业街招商承诺未兑现",
            "我在{d}{road}商业街租赁商铺，招商时承诺的免租期和人流配套都未兑现，每月租金{price}元，"
            "经营{months}个月亏损严重。",
        ),
        (
            "加油站加油数量不足",
            "{date}我在{road}一家加油站加油，显示加了{litres}升，但油箱容量明显对不上，怀疑加油机"
            "计量作弊。",
        ),
    ),
    "culture_tourism": (
        (
            "旅行社强制购物",
            "我们参加{shop}旅行社组织的{d}二日游，导游在行程中强制安排购物，不消费就被言语威胁，"
            "每人团费{price}元。",
        ),
        (
            "景区捆绑收费",
            "{d}某景区在门票之外另收观光车费{minutes}元，不乘坐就无法游览，属于变相捆绑收费。",
        ),
        (
            "网吧接纳未成年人",
            "{road}上的一家网吧经常接纳未成年人上网，有的孩子通宵不回家，家长举报{times}次没有"
            "效果。",
        ),
    ),
}

VAGUE: tuple[Template, ...] = (
    (
        "反映问题",
        "我之前反映过的事情到现在也没有人给我一个说法，前后跑了{times}趟，每次都让我回去等通知。",
    ),
    (
        "请求领导帮助",
        "我家里情况比较困难，有些事情想请政府帮忙解决，具体情况一两句说不清楚，希望有人联系我当面"
        "谈谈。",
    ),
    (
        "对处理结果不满意",
        "{date}反映的问题，相关部门给的答复我不认可，事情并没有真正解决，请求重新处理。",
    ),
    (
        "咨询办事流程",
        "想咨询一下我这种情况能不能办理，需要准备哪些材料，到哪个窗口办，已经问了{times}个地方"
        "都说不清。",
    ),
)

OPENINGS = (
    "本人是{d}{street}居民。",
    "我是{d}{street}{comm}小区的住户，",
    "我们是{d}{street}的群众，",
    "本人家住{d}{street}，",
    "",
)
DEMANDS = (
    "恳请相关部门尽快调查处理，并给予答复。",
    "希望有关部门依法依规处理，维护群众合法权益。",
    "请求上级部门督促落实，书面答复处理结果。",
    "希望领导高度重视，尽快解决。",
)
PRIOR = ("12345热线", "网上信访平台", "社区", "街道办事处", "村委会")
STREETS = (
    "龙山街道",
    "人和街道",
    "南坪街道",
    "杨家坪街道",
    "石桥铺街道",
    "观音桥街道",
    "解放碑街道",
    "天星桥街道",
    "李家沱街道",
    "鱼洞街道",
    "双桥街道",
    "新桥街道",
    "白市驿镇",
    "青木关镇",
    "龙兴镇",
    "木耳镇",
    "复兴街道",
    "兴隆镇",
    "太和镇",
    "高峰镇",
)
COMMUNITIES = (
    "阳光花园",
    "翠湖苑",
    "锦绣华庭",
    "滨江名居",
    "和谐家园",
    "金桥",
    "龙泉佳苑",
    "紫薇苑",
    "桂花园",
    "兴隆",
    "天宇华府",
    "碧水蓝湾",
    "山水雅居",
    "嘉陵新村",
    "长江一号",
)
ROADS = (
    "建设路",
    "人民路",
    "滨江路",
    "新华路",
    "学府大道",
    "兴业大道",
    "红旗路",
    "长江路",
    "科园路",
    "民生路",
    "龙华大道",
    "松石路",
)
COMPANIES = ("宏达", "鑫盛", "恒通", "金鼎", "华宇", "蜀川", "渝发", "长联", "广厦", "正泰")
SHOPS = ("老王", "好邻居", "味之源", "佳佳乐", "百味轩", "乐途", "优品", "德惠")
SCHOOLS = ("实验小学", "第二中学", "育才小学", "新城中学", "树人小学")
HOSPITALS = ("人民医院", "中医院", "第二人民医院", "妇幼保健院")
VILLAGES = ("石岗", "桃源", "青龙", "双河", "柏林", "金竹", "大坪", "水口")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁谭冉向"
GIVEN = (
    "伟",
    "芳",
    "秀英",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "建国",
    "小红",
    "德明",
    "玉兰",
    "志强",
    "春梅",
)
MEDIA = (
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("pdf", "application/pdf"),
    ("mp4", "video/mp4"),
)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class Place:
    region: str
    district_code: str
    district: str
    street: str


def generate(count: int = 600, seed: int = 2026) -> list[dict[str, Any]]:
    """`count` contract-v1 cases received in May 2026, in order of receipt."""
    rng = random.Random(seed)
    arrivals = sorted((_received_at(rng, channel), channel) for channel in _quota(rng, count))
    serials: dict[str, int] = {}
    seen: set[str] = set()
    return [_case(rng, channel, at, serials, seen) for at, channel in arrivals]


def _quota(rng: random.Random, count: int) -> list[str]:
    """Channels in exact proportion to CHANNEL_SHARES, shuffled."""
    total = sum(CHANNEL_SHARES.values())
    channels = [c for c, share in CHANNEL_SHARES.items() for _ in range(count * share // total)]
    channels += ["online"] * (count - len(channels))
    rng.shuffle(channels)
    return channels


def _received_at(rng: random.Random, channel: str) -> datetime:
    """Office-hour peaks; desks (visit, letter, video) only open on working days."""
    desk = channel in ("visit", "letter", "video")
    while True:
        day = MONTH_START + timedelta(days=rng.randrange(MONTH_DAYS))
        if not desk or is_workday(day):
            break
    hours = (list(range(9, 12)) + list(range(14, 18))) if desk else list(range(24))
    weights = [1] * len(hours) if desk else [_hour_weight(h, channel) for h in hours]
    hour = rng.choices(hours, weights)[0]
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=CST)
    return moment + timedelta(seconds=rng.randrange(3600))


def _hour_weight(hour: int, channel: str) -> int:
    if 9 <= hour <= 11 or 14 <= hour <= 17:
        return 10
    if hour in (8, 12, 13) or 18 <= hour <= 22:
        return 6 if channel == "online" else 4
    return 1


def _case(
    rng: random.Random, channel: str, at: datetime, serials: dict[str, int], seen: set[str]
) -> dict[str, Any]:
    source, external_id = _identity(rng, channel, at, serials)
    place = _place(rng)
    category, labelled = _category(rng)
    people = _people_count(rng)
    urgent = rng.random() < 0.05
    title, content = _text(rng, channel, place, (category, labelled), (people, urgent), seen)
    case: dict[str, Any] = {
        "schema": SCHEMA,
        "source": source,
        "external_id": external_id,
        "channel": channel,
        "received_at": at.isoformat(),
        "region": place.region,
    }
    if labelled:
        case["category"] = category
    case |= {"title": title, "content": content}
    case |= _optional(rng, source, external_id, place, people, urgent)
    return case


def _identity(
    rng: random.Random, channel: str, at: datetime, serials: dict[str, int]
) -> tuple[str, str]:
    options = SOURCES[channel]
    source, prefix, _ = rng.choices(options, [w for _, _, w in options])[0]
    serials[source] = serials.get(source, 0) + 1
    return source, f"{prefix}{at:%Y%m%d}{serials[source]:05d}"


def _place(rng: random.Random) -> Place:
    code, name, _ = rng.choices(DISTRICTS, [w for _, _, w in DISTRICTS])[0]
    town = rng.randint(1, 4)
    street = STREETS[(int(code[-3:]) * 4 + town) % len(STREETS)]
    draw = rng.random()
    if draw < 0.05:
        region = f"{code}{town:03d}{rng.randint(1, 3):03d}"
    elif draw < 0.20:
        region = f"{code}{town:03d}"
    else:
        region, street = code, rng.choice(STREETS)
    return Place(region, code, name, street)


def _category(rng: random.Random) -> tuple[str | None, bool]:
    """(category, labelled): 75 % labelled, 22 % to classify from keywords, 3 % vague."""
    draw = rng.random()
    if draw < 0.03:
        return None, False
    if draw < 0.25:
        keyed = [c for c in CATEGORIES if c in KEYWORDS]
        return rng.choices(keyed, [CATEGORIES[c] for c in keyed])[0], False
    return rng.choices(list(CATEGORIES), list(CATEGORIES.values()))[0], True


def _people_count(rng: random.Random) -> int:
    if rng.random() < 0.08:
        return rng.choice((2, 3, 5, 8, 12, 15, 23, 36, 58, 120))
    return 1


def _text(
    rng: random.Random,
    channel: str,
    place: Place,
    kind: tuple[str | None, bool],
    flags: tuple[int, bool],
    seen: set[str],
) -> tuple[str, str]:
    """A title and content that no earlier case has, fit for how the case is to be classified."""
    category, labelled = kind
    templates = TEMPLATES[category] if category else VAGUE
    for _ in range(200):
        title, fact = rng.choice(templates)
        ctx = _context(rng, place)
        content = _frame(rng, channel, fact.format(**ctx), ctx, flags)
        text = title.format(**ctx) + content
        telling = _telling(text)
        fits = labelled or telling == ({category} if category else set())
        if fits and content not in seen and MIN_CONTENT <= len(content) <= MAX_CONTENT:
            seen.add(content)
            return title.format(**ctx), content
    raise RuntimeError(f"no fitting text for category {category!r}")


def _telling(text: str) -> set[str]:
    """The categories whose keywords occur in the text."""
    return {c for c, words in KEYWORDS.items() if any(w in text for w in words)}


def _context(rng: random.Random, place: Place) -> dict[str, str]:
    numbers = {
        "n": rng.randint(1, 32),
        "floors": rng.choice((6, 7, 8, 9)),
        "households": rng.randint(8, 260),
        "times": rng.randint(2, 9),
        "days": rng.randint(3, 45),
        "years": rng.randint(1, 8),
        "months": rng.randint(2, 14),
        "hours": rng.randint(11, 14),
        "rest": rng.randint(1, 3),
        "people": rng.randint(6, 90),
        "pupils": rng.randint(80, 1500),
        "km": rng.randint(3, 15),
        "line": rng.randint(101, 899),
        "minutes": rng.randint(15, 50),
        "area": rng.randint(12, 480),
        "meters": rng.randrange(50, 1500, 10),
        "age": rng.randint(80, 101),
        "year": rng.randint(2015, 2024),
        "litres": rng.randint(30, 70),
        "amount": rng.randrange(1200, 480000, 100),
        "price": rng.randrange(60, 9000, 10),
        "income": rng.randrange(800, 2400, 50),
        "fee": f"{rng.randint(18, 58) / 10:.1f}",
    }
    when = MONTH_START - timedelta(days=rng.randint(3, 200))
    names = {
        "d": place.district,
        "street": place.street,
        "date": f"{when.month}月{when.day}日",
        "comm": rng.choice(COMMUNITIES),
        "road": rng.choice(ROADS),
        "company": f"重庆{rng.choice(COMPANIES)}建设工程有限公司",
        "shop": rng.choice(SHOPS),
        "school": place.district + rng.choice(SCHOOLS),
        "village": rng.choice(VILLAGES),
        "hospital": place.district + rng.choice(HOSPITALS),
    }
    return {k: str(v) for k, v in numbers.items()} | names


def _frame(
    rng: random.Random, channel: str, fact: str, ctx: dict[str, str], flags: tuple[int, bool]
) -> str:
    """The fact as the channel records it: a letter, a hotline summary, a visit note, ..."""
    people, urgent = flags
    opening = rng.choice(OPENINGS).format(**ctx)
    middle = fact
    if people > 1:
        middle += f"此事涉及{people}名群众，我们联名反映。"
    if rng.random() < 0.4:
        middle += f"此前已通过{rng.choice(PRIOR)}反映过{ctx['times']}次，问题一直没有解决。"
    if urgent:
        middle += "目前情况十分紧急，恳请立即处置！"
    demand = rng.choice(DEMANDS)
    frames = {
        "online": f"{opening}{middle}{demand}",
        "phone": f"来电人反映：{middle}来电人诉求：{demand}",
        "letter": f"尊敬的领导：\n您好！{opening}{middle}{demand}\n此致\n敬礼！",
        "visit": f"来访人称：{opening}{middle}{demand}已告知其依法逐级反映的有关规定。",
        "video": f"（视频接访）来访人反映：{middle}{demand}",
    }
    return frames[channel]


def _optional(
    rng: random.Random, source: str, external_id: str, place: Place, people: int, urgent: bool
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if rng.random() < 0.8:
        fields["petitioner"] = _petitioner(rng, place)
    if people > 1 or rng.random() < 0.5:
        fields["people_count"] = people
    if urgent or rng.random() < 0.4:
        fields["urgent"] = urgent
    if source in ("cq-wsxf", "cq-wechat") and rng.random() < 0.3:
        fields["attachments"] = _attachments(rng, source, external_id)
    extra = _extra(rng, source, external_id)
    if extra:
        fields["extra"] = extra
    return fields


def _petitioner(rng: random.Random, place: Place) -> dict[str, str]:
    """Invented identity in the right format; one in ten gives only name and phone."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    phone = f"138{rng.randrange(10**8):08d}"
    if rng.random() < 0.1:
        return {"name": name, "phone": phone}
    building, unit, floor = rng.randint(1, 30), rng.randint(1, 4), rng.randint(1, 33)
    address = (
        f"重庆市{place.district}{place.street}{rng.choice(COMMUNITIES)}{building}栋"
        f"{unit}单元{floor}-{rng.randint(1, 8)}号"
    )
    return {
        "name": name,
        "id_number": _id_number(rng, place.district_code),
        "phone": phone,
        "address": address,
    }


def _id_number(rng: random.Random, region: str) -> str:
    """An 18-character resident ID (GB 11643) of a made-up person born in `region`."""
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    return body + check


def _attachments(rng: random.Random, source: str, external_id: str) -> list[dict[str, str]]:
    files = []
    for index in range(rng.randint(1, 3)):
        suffix, media_type = rng.choice(MEDIA)
        uri = f"s3://xinfang-attachments/{source}/{external_id}/{index + 1}.{suffix}"
        digest = hashlib.sha256(uri.encode()).hexdigest()
        files.append({"uri": uri, "sha256": digest, "media_type": media_type})
    return files


def _extra(rng: random.Random, source: str, external_id: str) -> dict[str, Any]:
    token = hashlib.sha256(f"{source}/{external_id}".encode()).hexdigest()
    if source == "cq-wechat":
        return {"wechat_openid_hash": token, "mini_program": "渝快办"}
    if source == "cq-wsxf" and rng.random() < 0.5:
        return {"client": rng.choice(("web", "app")), "real_name_verified": rng.random() < 0.7}
    if source == "cq-12345" and rng.random() < 0.6:
        return {
            "call_id": f"CALL{token[:16].upper()}",
            "agent_id": f"A{rng.randint(1, 400):04d}",
            "duration_s": rng.randint(60, 1500),
        }
    if source == "cq-video":
        return {"room_id": f"VR{token[:12]}", "reception_site": "重庆市信访办视频接访室"}
    return {}


def follow_ups(cases: Sequence[dict[str, Any]], seed: int = 2026) -> list[dict[str, Any]]:
    """Petitions that come back: the same petitioner again on another channel days later
    (a repeat, which joins the earlier case), and neighbours co-signing a collective
    petition on the same matter (which joins as more parties). Deterministic for a seed."""
    rng = random.Random(seed + 1)
    known = [c for c in cases if (c.get("petitioner") or {}).get("id_number") and "category" in c]
    picked = rng.sample(known, 12)
    extra = [_again(rng, case, number) for number, case in enumerate(picked[:8], start=1)]
    extra += [_co_signed(rng, case, number) for number, case in enumerate(picked[8:], start=1)]
    return sorted(extra, key=lambda case: case["received_at"])


def _again(rng: random.Random, case: dict[str, Any], number: int) -> dict[str, Any]:
    at = datetime.fromisoformat(case["received_at"]) + timedelta(days=rng.randint(3, 20))
    channel = rng.choice(
        [c for c in ("online", "phone", "visit", "letter") if c != case["channel"]]
    )
    source = SOURCES[channel][0][0]
    return {
        **case,
        "source": source,
        "external_id": f"RP{at:%Y%m%d}{number:05d}",
        "channel": channel,
        "received_at": at.isoformat(),
        "title": f"再次反映：{case['title']}",
        "content": case["content"] + "至今未解决，再次反映。",
        "petitioner": {
            "name": case["petitioner"]["name"],
            "id_number": case["petitioner"]["id_number"],
        },
    }


def _co_signed(rng: random.Random, case: dict[str, Any], number: int) -> dict[str, Any]:
    at = datetime.fromisoformat(case["received_at"]) + timedelta(hours=rng.randint(2, 72))
    code = case["region"][:6]
    neighbour = _petitioner(rng, Place(case["region"], code, "", ""))
    return {
        **case,
        "external_id": f"JT{at:%Y%m%d}{number:05d}",
        "received_at": at.isoformat(),
        "title": f"{case['title']}（联名）",
        "content": case["content"] + "我们多户联名反映。",
        "petitioner": {k: neighbour[k] for k in ("name", "id_number", "phone") if k in neighbour},
        "people_count": rng.randint(3, 8),
    }


def write_jsonl(cases: Sequence[dict[str, Any]], out: Path) -> None:
    """One JSON object per line, UTF-8, Chinese as is."""
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        for case in cases:
            handle.write(json.dumps(case, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dispatcher.demo.sample", description="Write the demo sample of cases."
    )
    parser.add_argument("out", type=Path, help="the JSON-lines file to write")
    parser.add_argument("--count", type=int, default=600, help="number of cases (600)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
    args = parser.parse_args(argv)
    cases = generate(args.count, args.seed)
    write_jsonl(cases + follow_ups(cases, args.seed), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
