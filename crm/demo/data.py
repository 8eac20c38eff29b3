"""Demo reference data for the 将乐县 (Fujian, 三明市) investment-attraction CRM.

Constants only, plus two tiny helpers at the bottom. Chinese text is data. The model is the
将乐 article in shared/seeds (即时初审, 集体决策, 23 steps, 乡贤座谈会 at 春节/清明/五一, 云洽谈,
chains 精细化工/轻合金/特色农林/森林康养, 富远铝业, 富硒香菇, 水木海清, 久策气体 …); 长兴, 衡东,
南通 and 椒江 practices appear in the wording. Companies, people and agencies are invented.

Demo accounts (all usernames ASCII and stable; the app chooses the demo password):

    admin                              系统管理员 (县招商服务中心)
    leader1 … leader5                  招商引资工作领导小组: 县委书记, 县长, 常务副县长, 两名副县长
    viewer1, viewer2                   县委督查室 / 县政府督查室 (read only)
    screener_<dept>                    one 初审联络员 per member unit: fagai ziran shengtai gongxin
                                       keji yingji shuiwu shangwu linye
    tl_<unit>, officer_<unit><n>       team lead and officers of the units that own leads:
                                       zsc (县招商服务中心; tl_zsc is also a leadership-group
                                       member), lhj (轻合金), jxhg (精细化工), xny (新能源),
                                       szjj (数字经济), nlky (农林康养), kfq (将乐经济开发区),
                                       jsh (积善工业园区), gy (古镛镇), gt (高唐镇)
"""
from __future__ import annotations

import datetime as _dt

COUNTY_NAME = "将乐县"
COUNTY_FULL_NAME = "福建省三明市将乐县"
COUNTY_REGION_CODE = "350428"  # GB/T 2260 code of 将乐县, used in USCCs of local companies

# ---------------------------------------------------------------------------------------------
# Units. kind: town | department | investment_group | park
# 将乐县 has 8 towns and 5 townships (光明 and 南口 became 镇 in recent years).
# ---------------------------------------------------------------------------------------------
UNITS: list[dict] = [
    # 乡镇
    {"name": "古镛镇", "kind": "town"},
    {"name": "水南镇", "kind": "town"},
    {"name": "万安镇", "kind": "town"},
    {"name": "高唐镇", "kind": "town"},
    {"name": "白莲镇", "kind": "town"},
    {"name": "黄潭镇", "kind": "town"},
    {"name": "光明镇", "kind": "town"},
    {"name": "南口镇", "kind": "town"},
    {"name": "万全乡", "kind": "town"},
    {"name": "安仁乡", "kind": "town"},
    {"name": "大源乡", "kind": "town"},
    {"name": "余坊乡", "kind": "town"},
    {"name": "漠源乡", "kind": "town"},
    # 即时初审成员单位 (see SCREENING_UNITS) and the two offices the county leaders sit in
    {"name": "县发改局", "kind": "department"},
    {"name": "县自然资源局", "kind": "department"},
    {"name": "三明市将乐生态环境局", "kind": "department"},
    {"name": "县工信局", "kind": "department"},
    {"name": "县科技局", "kind": "department"},
    {"name": "县应急管理局", "kind": "department"},
    {"name": "县税务局", "kind": "department"},
    {"name": "县商务局", "kind": "department"},
    {"name": "县林业局", "kind": "department"},
    {"name": "县委办公室", "kind": "department"},
    {"name": "县政府办公室", "kind": "department"},
    # 招商组 (产业链招商 working teams; 县招商服务中心 hosts the leadership group's office)
    {"name": "县招商服务中心", "kind": "investment_group"},
    {"name": "轻合金产业招商组", "kind": "investment_group"},
    {"name": "精细化工产业招商组", "kind": "investment_group"},
    {"name": "新能源产业招商组", "kind": "investment_group"},
    {"name": "数字经济产业招商组", "kind": "investment_group"},
    {"name": "农林康养产业招商组", "kind": "investment_group"},
    # 园区 (福建将乐经济开发区: 北郊工业园 and 积善工业园)
    {"name": "将乐经济开发区", "kind": "park"},
    {"name": "积善工业园区", "kind": "park"},
    {"name": "北郊工业园区", "kind": "park"},
]

# The departments that give an opinion in the three-day instant pre-screening (即时初审).
# 县委办公室 / 县政府办公室 are departments too but are NOT member units.
SCREENING_UNITS: list[str] = [
    "县发改局", "县自然资源局", "三明市将乐生态环境局", "县工信局", "县科技局",
    "县应急管理局", "县税务局", "县商务局", "县林业局",
]

# ---------------------------------------------------------------------------------------------
# Demo users. roles: officer, team_lead, screener, leader, admin, viewer
# ---------------------------------------------------------------------------------------------
DEMO_USERS: list[dict] = [
    {"username": "admin", "full_name": "周敏", "unit": "县招商服务中心", "roles": ["admin"]},
    # 招商引资工作领导小组 (组长: 县委书记、县长; 常务副组长: 常务副县长)
    {"username": "leader1", "full_name": "刘振华", "unit": "县委办公室", "roles": ["leader"]},
    {"username": "leader2", "full_name": "吴宏伟", "unit": "县政府办公室", "roles": ["leader"]},
    {"username": "leader3", "full_name": "张立群", "unit": "县政府办公室", "roles": ["leader"]},
    {"username": "leader4", "full_name": "林海涛", "unit": "县政府办公室", "roles": ["leader"]},
    {"username": "leader5", "full_name": "罗慧敏", "unit": "县政府办公室", "roles": ["leader"]},
    # 督查
    {"username": "viewer1", "full_name": "谢文静", "unit": "县委办公室", "roles": ["viewer"]},
    {"username": "viewer2", "full_name": "郑凯", "unit": "县政府办公室", "roles": ["viewer"]},
    # 即时初审成员单位联络员
    {"username": "screener_fagai", "full_name": "黄志勇", "unit": "县发改局", "roles": ["screener"]},
    {"username": "screener_ziran", "full_name": "李春燕", "unit": "县自然资源局", "roles": ["screener"]},
    {"username": "screener_shengtai", "full_name": "曾宪斌", "unit": "三明市将乐生态环境局",
     "roles": ["screener"]},
    {"username": "screener_gongxin", "full_name": "范晓东", "unit": "县工信局", "roles": ["screener"]},
    {"username": "screener_keji", "full_name": "胡丽萍", "unit": "县科技局", "roles": ["screener"]},
    {"username": "screener_yingji", "full_name": "钟伟", "unit": "县应急管理局", "roles": ["screener"]},
    {"username": "screener_shuiwu", "full_name": "邱雪梅", "unit": "县税务局", "roles": ["screener"]},
    {"username": "screener_shangwu", "full_name": "严俊杰", "unit": "县商务局", "roles": ["screener"]},
    {"username": "screener_linye", "full_name": "廖国庆", "unit": "县林业局", "roles": ["screener"]},
    # 招商组
    {"username": "tl_zsc", "full_name": "魏明亮", "unit": "县招商服务中心",
     "roles": ["team_lead", "leader"]},
    {"username": "officer_zsc1", "full_name": "杨帆", "unit": "县招商服务中心", "roles": ["officer"]},
    {"username": "officer_zsc2", "full_name": "何佳琪", "unit": "县招商服务中心", "roles": ["officer"]},
    {"username": "tl_lhj", "full_name": "肖建军", "unit": "轻合金产业招商组", "roles": ["team_lead"]},
    {"username": "officer_lhj1", "full_name": "雷鹏", "unit": "轻合金产业招商组", "roles": ["officer"]},
    {"username": "tl_jxhg", "full_name": "温志华", "unit": "精细化工产业招商组", "roles": ["team_lead"]},
    {"username": "officer_jxhg1", "full_name": "蔡婷", "unit": "精细化工产业招商组", "roles": ["officer"]},
    {"username": "tl_xny", "full_name": "黎辉", "unit": "新能源产业招商组", "roles": ["team_lead"]},
    {"username": "officer_xny1", "full_name": "彭宇航", "unit": "新能源产业招商组", "roles": ["officer"]},
    {"username": "tl_szjj", "full_name": "孙晓峰", "unit": "数字经济产业招商组", "roles": ["team_lead"]},
    {"username": "officer_szjj1", "full_name": "卢欣怡", "unit": "数字经济产业招商组",
     "roles": ["officer"]},
    {"username": "tl_nlky", "full_name": "邓福生", "unit": "农林康养产业招商组", "roles": ["team_lead"]},
    {"username": "officer_nlky1", "full_name": "饶丽君", "unit": "农林康养产业招商组",
     "roles": ["officer"]},
    # 园区、乡镇招商小分队
    {"username": "tl_kfq", "full_name": "江涛", "unit": "将乐经济开发区", "roles": ["team_lead"]},
    {"username": "officer_kfq1", "full_name": "朱一鸣", "unit": "将乐经济开发区", "roles": ["officer"]},
    {"username": "officer_kfq2", "full_name": "宋雨晴", "unit": "将乐经济开发区", "roles": ["officer"]},
    {"username": "tl_jsh", "full_name": "丁振宇", "unit": "积善工业园区", "roles": ["team_lead"]},
    {"username": "officer_jsh1", "full_name": "柯慧", "unit": "积善工业园区", "roles": ["officer"]},
    {"username": "tl_gy", "full_name": "余水生", "unit": "古镛镇", "roles": ["team_lead"]},
    {"username": "officer_gy1", "full_name": "傅晨", "unit": "古镛镇", "roles": ["officer"]},
    {"username": "tl_gt", "full_name": "上官文华", "unit": "高唐镇", "roles": ["team_lead"]},
    {"username": "officer_gt1", "full_name": "阮志杰", "unit": "高唐镇", "roles": ["officer"]},
]

# Job titles for display (optional; DEMO_USERS keeps its fixed shape).
USER_TITLES: dict[str, str] = {
    "admin": "招商服务中心系统管理员",
    "leader1": "县委书记、领导小组组长",
    "leader2": "县长、领导小组组长",
    "leader3": "县委常委、常务副县长、领导小组常务副组长",
    "leader4": "副县长（分管工业和招商）",
    "leader5": "副县长（分管农业农村和文旅）",
    "viewer1": "县委督查室",
    "viewer2": "县政府督查室",
    "tl_zsc": "县工信局局长、招商服务中心负责人",
    "tl_lhj": "轻合金产业招商组组长",
    "tl_jxhg": "精细化工产业招商组组长",
    "tl_xny": "新能源产业招商组组长",
    "tl_szjj": "数字经济产业招商组组长",
    "tl_nlky": "农林康养产业招商组组长",
    "tl_kfq": "开发区管委会副主任",
    "tl_jsh": "积善工业园区服务中心主任",
    "tl_gy": "古镛镇副镇长",
    "tl_gt": "高唐镇副镇长",
}

# How leaders are named in activity summaries ("{leader}会见并座谈").
LEADER_TITLES: list[str] = ["县委书记", "县长", "常务副县长", "分管副县长", "县委常委"]

# ---------------------------------------------------------------------------------------------
# Industry chains, nodes in pipeline order (upstream → midstream → downstream).
# Node names are unique across chains.
# ---------------------------------------------------------------------------------------------
CHAINS: list[dict] = [
    {"code": "light_alloy", "name": "轻合金", "nodes": [
        {"name": "再生铝熔炼", "tier": "upstream"},
        {"name": "铝合金锭", "tier": "upstream"},
        {"name": "铝棒铸造", "tier": "midstream"},
        {"name": "型材挤压", "tier": "midstream"},
        {"name": "表面处理", "tier": "midstream"},
        {"name": "铝制品精深加工", "tier": "downstream"},
        {"name": "轻合金零部件制造", "tier": "downstream"},
    ]},
    {"code": "fine_chemical", "name": "精细化工", "nodes": [
        {"name": "氟化工原料", "tier": "upstream"},
        {"name": "工业气体", "tier": "upstream"},
        {"name": "有机硅", "tier": "midstream"},
        {"name": "钛白粉精深加工", "tier": "midstream"},
        {"name": "食品添加剂", "tier": "midstream"},
        {"name": "可降解材料", "tier": "downstream"},
        {"name": "电子化学品", "tier": "downstream"},
        {"name": "涂料与助剂", "tier": "downstream"},
    ]},
    {"code": "agri_forestry", "name": "特色农林", "nodes": [
        {"name": "良种繁育", "tier": "upstream"},
        {"name": "毛竹培育", "tier": "upstream"},
        {"name": "富硒香菇种植", "tier": "upstream"},
        {"name": "竹木加工", "tier": "midstream"},
        {"name": "林产化工", "tier": "midstream"},
        {"name": "食用菌精深加工", "tier": "midstream"},
        {"name": "冷链物流与保供", "tier": "downstream"},
        {"name": "农产品品牌营销", "tier": "downstream"},
    ]},
    {"code": "forest_wellness", "name": "森林康养", "nodes": [
        {"name": "景区开发运营", "tier": "upstream"},
        {"name": "森林康养基地", "tier": "midstream"},
        {"name": "文旅民宿", "tier": "midstream"},
        {"name": "研学旅行", "tier": "midstream"},
        {"name": "康养医疗", "tier": "downstream"},
        {"name": "户外运动", "tier": "downstream"},
        {"name": "文创旅游商品", "tier": "downstream"},
    ]},
    {"code": "new_energy", "name": "新能源", "nodes": [
        {"name": "锂电材料", "tier": "upstream"},
        {"name": "电芯制造", "tier": "midstream"},
        {"name": "光伏组件", "tier": "midstream"},
        {"name": "储能系统集成", "tier": "downstream"},
        {"name": "分布式光伏", "tier": "downstream"},
        {"name": "生物质能源", "tier": "downstream"},
        {"name": "动力电池回收", "tier": "downstream"},
    ]},
    {"code": "high_end_equipment", "name": "高端装备", "nodes": [
        {"name": "精密铸锻件", "tier": "upstream"},
        {"name": "液压与传动部件", "tier": "midstream"},
        {"name": "数控机床", "tier": "midstream"},
        {"name": "智能农林机械", "tier": "downstream"},
        {"name": "环保装备", "tier": "downstream"},
        {"name": "工业机器人集成", "tier": "downstream"},
    ]},
    {"code": "digital_economy", "name": "数字经济", "nodes": [
        {"name": "电子元器件", "tier": "upstream"},
        {"name": "磁性材料与变压器", "tier": "upstream"},
        {"name": "智能终端制造", "tier": "midstream"},
        {"name": "软件和信息服务", "tier": "downstream"},
        {"name": "数据中心", "tier": "downstream"},
        {"name": "电商直播", "tier": "downstream"},
    ]},
    {"code": "biomedicine", "name": "生物医药", "nodes": [
        {"name": "中药材种植", "tier": "upstream"},
        {"name": "生物提取", "tier": "midstream"},
        {"name": "医药中间体", "tier": "midstream"},
        {"name": "保健食品", "tier": "downstream"},
        {"name": "医疗器械", "tier": "downstream"},
    ]},
]

# Per node: project-name templates and the industry words used in company names.
# A template is (text, lo, hi): "{n}" is replaced by a round number in [lo, hi] that grows with
# the planned investment; (text, 0, 0) has no number. "{site}" is a local place name.
NODE_PROFILES: dict[str, dict] = {
    # 轻合金 ("从铝熔炼到产品制造")
    "再生铝熔炼": {"projects": [("年产{n}万吨再生铝项目", 3, 30), ("年产{n}万吨再生铝精深加工项目", 2, 20),
                            ("废铝回收熔炼及保级利用项目", 0, 0)],
              "words": ["再生资源", "铝业", "金属材料", "再生金属"]},
    "铝合金锭": {"projects": [("年产{n}万吨铝合金锭项目", 3, 20), ("年产{n}万吨压铸铝合金项目", 2, 15)],
             "words": ["铝业", "合金材料", "金属科技"]},
    "铝棒铸造": {"projects": [("年产{n}万吨铝棒项目", 3, 20), ("年产{n}万吨高性能铝合金圆铸锭项目", 2, 12)],
             "words": ["铝业", "铝材", "有色金属"]},
    "型材挤压": {"projects": [("年产{n}万吨新型铝合金型材项目", 2, 15), ("新型铝材产业园项目", 0, 0),
                          ("年产{n}万吨工业铝型材挤压项目", 1, 10)],
             "words": ["铝材", "铝型材", "铝业", "新材料"]},
    "表面处理": {"projects": [("铝型材表面处理及喷涂生产线项目", 0, 0), ("年处理{n}万吨铝型材阳极氧化项目", 1, 6)],
             "words": ["表面处理", "涂装科技", "铝材科技"]},
    "铝制品精深加工": {"projects": [("年产{n}万套系统门窗项目", 5, 50),
                             ("年产{n}万吨新型铝合金材料及制品生产项目", 2, 10),
                             ("铝合金建筑模板生产项目", 0, 0), ("年产{n}万件铝合金压铸件项目", 50, 500)],
                "words": ["铝制品", "门窗", "建材", "金属制品"]},
    "轻合金零部件制造": {"projects": [("年产{n}万件汽车轻量化铝合金零部件项目", 20, 300),
                              ("新能源汽车铝合金电池托盘项目", 0, 0), ("年产{n}万套铝合金轮毂项目", 10, 100)],
                 "words": ["汽车零部件", "精密制造", "轻量化科技", "机械"]},
    # 精细化工
    "氟化工原料": {"projects": [("年产{n}万吨无水氟化氢项目", 1, 6), ("萤石精深加工项目", 0, 0),
                           ("年产{n}万吨氟化盐项目", 1, 5)],
              "words": ["氟化工", "化工", "氟材料"]},
    "工业气体": {"projects": [("年产{n}万吨工业气体项目", 1, 10), ("电子特种气体生产项目", 0, 0),
                          ("空分装置及工业气体充装项目", 0, 0)],
             "words": ["气体", "工业气体", "特种气体"]},
    "有机硅": {"projects": [("年产{n}万吨有机硅生产线项目", 1, 10), ("年产{n}万吨硅橡胶及硅油项目", 1, 5)],
            "words": ["有机硅", "硅材料", "化工"]},
    "钛白粉精深加工": {"projects": [("年产{n}万吨钛白粉精细化加工项目", 1, 6), ("钛白粉后处理技改项目", 0, 0)],
                "words": ["钛业", "化工", "新材料"]},
    "食品添加剂": {"projects": [("年产{n}吨食品添加剂酒石酸项目", 2000, 10000),
                           ("年产{n}吨天然色素提取项目", 500, 3000),
                           ("年产{n}吨复配食品添加剂项目", 1000, 8000)],
              "words": ["生物科技", "食品配料", "化学"]},
    "可降解材料": {"projects": [("年产{n}万吨可降解环保产品项目", 1, 10), ("年产{n}万吨PBAT可降解材料项目", 2, 10),
                           ("竹基可降解餐具项目", 0, 0)],
              "words": ["环保材料", "新材料", "生物材料"]},
    "电子化学品": {"projects": [("年产{n}吨电子级湿化学品项目", 5000, 50000), ("半导体用高纯试剂项目", 0, 0)],
              "words": ["电子材料", "化学", "半导体材料"]},
    "涂料与助剂": {"projects": [("年产{n}万吨水性涂料项目", 1, 10), ("年产{n}吨塑料助剂项目", 2000, 20000)],
              "words": ["涂料", "化工", "助剂"]},
    # 特色农林
    "良种繁育": {"projects": [("良种繁育中心建设项目", 0, 0), ("林木良种繁育基地项目", 0, 0),
                          ("优质种苗组培中心项目", 0, 0)],
             "words": ["种业", "农业科技", "林业科技"]},
    "毛竹培育": {"projects": [("毛竹林丰产培育及竹笋加工项目", 0, 0), ("竹林碳汇开发项目", 0, 0),
                          ("{site}竹产业示范基地项目", 0, 0)],
             "words": ["竹业", "林业发展", "生态科技"]},
    "富硒香菇种植": {"projects": [("富硒香菇三产融合项目", 0, 0), ("年产{n}万棒富硒香菇标准化生产项目", 100, 1000),
                            ("{site}富硒食用菌工厂化生产项目", 0, 0)],
               "words": ["食用菌", "农业发展", "生态农业", "富硒农业"]},
    "竹木加工": {"projects": [("年产{n}万立方米竹木复合板材项目", 2, 20), ("年产{n}万套竹制家居用品项目", 10, 200),
                          ("竹缠绕复合材料生产项目", 0, 0)],
             "words": ["竹业", "木业", "竹木制品", "家居"]},
    "林产化工": {"projects": [("年产{n}万吨松香深加工项目", 1, 5), ("年产{n}万吨活性炭项目", 1, 5),
                          ("年产{n}吨竹醋液及竹炭制品项目", 1000, 5000)],
             "words": ["林产化工", "林化", "炭业"]},
    "食用菌精深加工": {"projects": [("血灵芝加工项目", 0, 0), ("年产{n}吨香菇酱及休闲食品项目", 1000, 10000),
                             ("灵芝孢子粉精深加工项目", 0, 0)],
                "words": ["食品", "生物科技", "食用菌"]},
    "冷链物流与保供": {"projects": [("农产品保供基地建设项目", 0, 0), ("{site}冷链物流中心项目", 0, 0),
                             ("年吞吐{n}万吨农产品冷链仓储项目", 2, 20)],
                "words": ["冷链物流", "供应链", "农产品"]},
    "农产品品牌营销": {"projects": [("将乐擂茶产业化项目", 0, 0), ("农特产品展销中心项目", 0, 0),
                             ("年产{n}吨擂茶及茶饮品项目", 200, 2000)],
                "words": ["农业发展", "食品", "茶业"]},
    # 森林康养
    "景区开发运营": {"projects": [("{site}景区提升改造项目", 0, 0), ("{site}生态旅游开发项目", 0, 0),
                            ("金溪水上旅游项目", 0, 0)],
               "words": ["文旅发展", "旅游开发", "文化旅游"]},
    "森林康养基地": {"projects": [("{site}森林康养基地项目", 0, 0), ("森林康养小镇项目", 0, 0)],
               "words": ["康养产业", "健康产业", "生态旅游"]},
    "文旅民宿": {"projects": [("{site}精品民宿集群项目", 0, 0), ("古城文旅街区项目", 0, 0)],
             "words": ["文旅", "酒店管理", "旅游发展"]},
    "研学旅行": {"projects": [("杨时理学文化研学基地项目", 0, 0), ("{site}自然教育研学营地项目", 0, 0)],
             "words": ["研学教育", "文化传播", "教育科技"]},
    "康养医疗": {"projects": [("中医药康养中心项目", 0, 0), ("{site}候鸟式康养社区项目", 0, 0)],
             "words": ["健康管理", "医疗投资", "养老服务"]},
    "户外运动": {"projects": [("{site}户外运动营地项目", 0, 0), ("龙栖山漂流及户外拓展项目", 0, 0),
                          ("山地自行车赛道及营地项目", 0, 0)],
             "words": ["体育发展", "户外运动", "文体"]},
    "文创旅游商品": {"projects": [("龙池砚文化创意产业园项目", 0, 0), ("擂茶文创工坊项目", 0, 0)],
               "words": ["文化创意", "工艺品", "文化传媒"]},
    # 新能源
    "锂电材料": {"projects": [("年产{n}万吨锂电池正极材料项目", 1, 10), ("年产{n}万吨电解液项目", 1, 10),
                          ("年产{n}万吨锂电负极材料项目", 1, 5)],
             "words": ["锂电材料", "新能源材料", "电池材料"]},
    "电芯制造": {"projects": [("年产{n}GWh锂离子电池项目", 1, 10), ("年产{n}GWh钠离子电池项目", 1, 5)],
             "words": ["新能源科技", "电池", "储能科技"]},
    "光伏组件": {"projects": [("年产{n}GW光伏组件项目", 1, 5), ("光伏支架及边框生产项目", 0, 0)],
             "words": ["光伏科技", "光电", "新能源"]},
    "储能系统集成": {"projects": [("年产{n}GWh储能系统集成项目", 1, 5), ("{n}MWh独立储能电站项目", 50, 400)],
               "words": ["储能科技", "能源科技", "电力"]},
    "分布式光伏": {"projects": [("{n}MW分布式光伏项目", 5, 100), ("工业园区屋顶分布式光伏项目", 0, 0),
                           ("{n}MW农光互补光伏电站项目", 20, 100)],
              "words": ["新能源", "光伏电力", "能源"]},
    "生物质能源": {"projects": [("{n}MW林业剩余物生物质发电项目", 10, 40), ("年产{n}万吨生物质成型燃料项目", 2, 10)],
              "words": ["生物质能源", "能源", "绿色能源"]},
    "动力电池回收": {"projects": [("年处理{n}万吨废旧锂电池综合回收利用项目", 1, 10)],
               "words": ["资源循环", "再生资源", "环保科技"]},
    # 高端装备
    "精密铸锻件": {"projects": [("年产{n}万吨精密铸件项目", 1, 8), ("年产{n}万件精密锻件项目", 10, 200)],
              "words": ["铸造", "锻造", "精密机械"]},
    "液压与传动部件": {"projects": [("年产{n}万套液压元件项目", 5, 60), ("年产{n}万台减速机项目", 1, 20)],
                "words": ["液压", "传动科技", "机械"]},
    "数控机床": {"projects": [("年产{n}台数控机床项目", 200, 2000), ("高端数控装备生产基地项目", 0, 0)],
             "words": ["数控机床", "智能装备", "机床"]},
    "智能农林机械": {"projects": [("年产{n}台林业机械项目", 500, 5000), ("年产{n}台智能农机装备项目", 500, 5000),
                            ("竹材加工成套装备项目", 0, 0)],
               "words": ["农机", "林业机械", "机械制造"]},
    "环保装备": {"projects": [("年产{n}台套环保设备项目", 100, 2000), ("工业废气处理装备制造项目", 0, 0)],
             "words": ["环保设备", "环境科技", "环保装备"]},
    "工业机器人集成": {"projects": [("工业机器人及智能产线集成项目", 0, 0), ("年产{n}套智能制造装备项目", 50, 500)],
                "words": ["智能装备", "机器人", "自动化"]},
    # 数字经济
    "电子元器件": {"projects": [("高精密电子元器件生产建设项目", 0, 0), ("年产{n}亿只片式电容项目", 10, 100),
                           ("年产{n}万平方米柔性线路板项目", 50, 500)],
              "words": ["电子", "电子科技", "精密电子"]},
    "磁性材料与变压器": {"projects": [("高频电子变压器生产项目", 0, 0), ("年产{n}万只高频电子变压器项目", 500, 5000),
                              ("年产{n}吨软磁材料项目", 1000, 10000)],
                 "words": ["电子", "磁电科技", "电器"]},
    "智能终端制造": {"projects": [("年产{n}万台智能终端项目", 10, 200), ("智能家居产品生产基地项目", 0, 0)],
               "words": ["智能科技", "电子", "智能设备"]},
    "软件和信息服务": {"projects": [("软件外包与数据标注基地项目", 0, 0), ("智慧林业大数据平台项目", 0, 0)],
                "words": ["信息技术", "软件", "数字科技", "网络科技"]},
    "数据中心": {"projects": [("{n}个标准机柜绿色数据中心项目", 500, 3000), ("算力中心建设项目", 0, 0)],
             "words": ["数据科技", "云计算", "信息技术"]},
    "电商直播": {"projects": [("农特产品直播电商基地项目", 0, 0), ("电商产业园运营项目", 0, 0)],
             "words": ["电子商务", "网络科技", "供应链管理"]},
    # 生物医药
    "中药材种植": {"projects": [("黄精种植及初加工项目", 0, 0), ("林下中药材种植基地项目", 0, 0),
                           ("年产{n}吨中药饮片加工项目", 500, 3000)],
              "words": ["中药材", "药业", "生物科技"]},
    "生物提取": {"projects": [("年产{n}吨植物提取物项目", 100, 2000), ("竹叶黄酮提取项目", 0, 0)],
             "words": ["生物科技", "生物工程", "天然产物"]},
    "医药中间体": {"projects": [("年产{n}吨医药中间体项目", 200, 3000)],
              "words": ["医药化工", "药业", "制药"]},
    "保健食品": {"projects": [("灵芝保健食品生产项目", 0, 0), ("年产{n}吨功能性食品项目", 500, 5000)],
             "words": ["健康科技", "生物科技", "食品"]},
    "医疗器械": {"projects": [("年产{n}万件医用敷料项目", 1000, 10000), ("一次性医疗器械生产项目", 0, 0)],
             "words": ["医疗器械", "医疗科技", "卫生材料"]},
}

# Place names that fill "{site}" in project names, by chain.
SITES: dict[str, list[str]] = {
    "forest_wellness": ["玉华洞", "龙栖山", "天阶山", "常口村", "金溪", "将乐古城", "万全乡", "余坊乡",
                        "大源乡", "白莲镇"],
    "agri_forestry": ["万全乡", "光明镇", "漠源乡", "余坊乡", "大源乡", "安仁乡", "南口镇", "白莲镇",
                      "黄潭镇", "万安镇", "高唐镇"],
}

# ---------------------------------------------------------------------------------------------
# Lead sources (named channels). kind: hometown chamber advisor intermediary client online event
# ---------------------------------------------------------------------------------------------
SOURCES: list[dict] = [
    {"name": "乡贤 廖建华（上海）", "kind": "hometown"},
    {"name": "乡贤 肖永明（深圳）", "kind": "hometown"},
    {"name": "乡贤 余志强（厦门）", "kind": "hometown"},
    {"name": "乡贤 杨文彬（福州）", "kind": "hometown"},
    {"name": "乡贤 黄秀英（杭州）", "kind": "hometown"},
    {"name": "乡贤 邓国平（苏州）", "kind": "hometown"},
    {"name": "上海将乐商会", "kind": "chamber"},
    {"name": "深圳将乐商会", "kind": "chamber"},
    {"name": "厦门将乐商会", "kind": "chamber"},
    {"name": "福州将乐商会", "kind": "chamber"},
    {"name": "浙江三明商会", "kind": "chamber"},
    {"name": "广东三明商会", "kind": "chamber"},
    {"name": "招商顾问 王振宇（深圳）", "kind": "advisor"},
    {"name": "招商顾问 林志诚（厦门）", "kind": "advisor"},
    {"name": "招商顾问 赵启明（北京）", "kind": "advisor"},
    {"name": "上海鼎程产业招商咨询有限公司", "kind": "intermediary"},
    {"name": "深圳市汇创投资咨询有限公司", "kind": "intermediary"},
    {"name": "厦门闽投招商服务有限公司", "kind": "intermediary"},
    {"name": "北京中科华信产业规划研究院", "kind": "intermediary"},
    {"name": "客商自主来访", "kind": "client"},
    {"name": "以商招商（已落地企业推荐）", "kind": "client"},
    {"name": "企业上门洽谈", "kind": "client"},
    {"name": "云洽谈（视频连线）", "kind": "online"},
    {"name": "线上招商推介会（直播）", "kind": "online"},
    {"name": "春节乡贤招商座谈会", "kind": "event"},
    {"name": "清明乡贤恳谈会", "kind": "event"},
    {"name": "五一乡贤专场座谈会", "kind": "event"},
    {"name": "中国·海峡项目成果交易会（6·18）", "kind": "event"},
    {"name": "中国国际投资贸易洽谈会（9·8）", "kind": "event"},
    {"name": "数字中国建设峰会", "kind": "event"},
    {"name": "将乐县（深圳）产业招商推介会", "kind": "event"},
]

# Where a named source's leads mostly come from (origin_region).
SOURCE_REGIONS: dict[str, str] = {
    "乡贤 廖建华（上海）": "上海", "乡贤 肖永明（深圳）": "深圳", "乡贤 余志强（厦门）": "厦门",
    "乡贤 杨文彬（福州）": "福州", "乡贤 黄秀英（杭州）": "浙江", "乡贤 邓国平（苏州）": "江苏",
    "上海将乐商会": "上海", "深圳将乐商会": "深圳", "厦门将乐商会": "厦门", "福州将乐商会": "福州",
    "浙江三明商会": "浙江", "广东三明商会": "广东",
    "招商顾问 王振宇（深圳）": "深圳", "招商顾问 林志诚（厦门）": "厦门", "招商顾问 赵启明（北京）": "北京",
    "上海鼎程产业招商咨询有限公司": "上海", "深圳市汇创投资咨询有限公司": "深圳",
    "厦门闽投招商服务有限公司": "厦门", "北京中科华信产业规划研究院": "北京",
    "中国·海峡项目成果交易会（6·18）": "福州", "中国国际投资贸易洽谈会（9·8）": "厦门",
    "将乐县（深圳）产业招商推介会": "深圳",
}

# When each recurring event source takes place: (month, day), or "spring_festival"
# (乡贤 are home from 初三 on; see SPRING_FESTIVAL).
EVENT_DATES: dict[str, object] = {
    "春节乡贤招商座谈会": "spring_festival",
    "清明乡贤恳谈会": (4, 5),
    "五一乡贤专场座谈会": (5, 2),
    "中国·海峡项目成果交易会（6·18）": (6, 18),
    "中国国际投资贸易洽谈会（9·8）": (9, 8),
    "数字中国建设峰会": (4, 28),
    "将乐县（深圳）产业招商推介会": (11, 16),
}

SPRING_FESTIVAL: dict[int, _dt.date] = {
    2020: _dt.date(2020, 1, 25), 2021: _dt.date(2021, 2, 12), 2022: _dt.date(2022, 2, 1),
    2023: _dt.date(2023, 1, 22), 2024: _dt.date(2024, 2, 10), 2025: _dt.date(2025, 1, 29),
    2026: _dt.date(2026, 2, 17), 2027: _dt.date(2027, 2, 6), 2028: _dt.date(2028, 1, 26),
    2029: _dt.date(2029, 2, 13), 2030: _dt.date(2030, 2, 3),
}

# ---------------------------------------------------------------------------------------------
# Where investors come from, weighted as a county in north-west Fujian sees them.
# ---------------------------------------------------------------------------------------------
ORIGIN_REGIONS: list[tuple[str, int]] = [
    ("厦门", 13), ("福州", 12), ("上海", 11), ("浙江", 10), ("深圳", 6), ("广东", 7), ("泉州", 7),
    ("江苏", 6), ("三明", 5), ("将乐", 5), ("莆田", 3), ("北京", 3), ("江西", 3), ("山东", 2),
    ("香港", 2), ("台湾", 2),
]

# Per region: (prefix used in company names, city named in activity summaries, GB/T 2260 code
# of the registering district; None where companies carry no USCC).
REGION_CITIES: dict[str, list[tuple[str, str, str | None]]] = {
    "上海": [("上海", "上海", "310115"), ("上海", "上海", "310112"), ("上海", "上海", "310114"),
           ("上海", "上海", "310117"), ("上海", "上海", "310104")],
    "深圳": [("深圳市", "深圳", "440305"), ("深圳市", "深圳", "440306"), ("深圳市", "深圳", "440307"),
           ("深圳市", "深圳", "440309"), ("深圳市", "深圳", "440304")],
    "厦门": [("厦门", "厦门", "350206"), ("厦门", "厦门", "350211"), ("厦门", "厦门", "350205"),
           ("厦门", "厦门", "350213"), ("厦门", "厦门", "350203")],
    "福州": [("福州", "福州", "350104"), ("福州", "福州", "350105"), ("福州", "福州", "350111"),
           ("福建", "福州", "350102"), ("福清", "福清", "350181")],
    "泉州": [("泉州", "泉州", "350503"), ("晋江", "晋江", "350582"), ("石狮", "石狮", "350581"),
           ("南安", "南安", "350583"), ("福建", "泉州", "350503")],
    "三明": [("三明", "三明", "350404"), ("永安", "永安", "350481"), ("沙县", "沙县", "350405"),
           ("福建", "三明", "350404")],
    "将乐": [("将乐县", "将乐", "350428"), ("福建将乐", "将乐", "350428")],
    "莆田": [("莆田", "莆田", "350302"), ("莆田市", "莆田", "350303")],
    "浙江": [("浙江", "杭州", "330106"), ("杭州", "杭州", "330110"), ("宁波", "宁波", "330212"),
           ("温州", "温州", "330302"), ("湖州", "湖州", "330502"), ("长兴", "长兴", "330522"),
           ("台州", "台州", "331002")],
    "江苏": [("江苏", "南京", "320115"), ("苏州", "苏州", "320505"), ("无锡", "无锡", "320214"),
           ("常州", "常州", "320411"), ("南通", "南通", "320602")],
    "广东": [("广东", "广州", "440106"), ("广州", "广州", "440113"), ("佛山市", "佛山", "440606"),
           ("东莞市", "东莞", "441900"), ("珠海", "珠海", "440402")],
    "北京": [("北京", "北京", "110108"), ("北京", "北京", "110105"), ("北京", "北京", "110115")],
    "江西": [("江西", "南昌", "360111"), ("南昌", "南昌", "360121"), ("赣州", "赣州", "360702"),
           ("上饶", "上饶", "361102")],
    "山东": [("山东", "济南", "370112"), ("青岛", "青岛", "370212"), ("潍坊", "潍坊", "370702")],
    "香港": [("香港", "香港", None)],
    "台湾": [("台湾", "台北", None)],
}

# Brand syllables for invented company names (two or three characters).
BRAND_FIRST = "富鑫华恒金瑞宏鸿盛泰兴永隆天中新佳嘉昌荣达福宝晟源创联卓德亿海正安润骏凯锦利泓铭明瀚星博盈志晖远祥腾欣众信和"
BRAND_SECOND = "远晖源达泰盛诚通辉宇恒丰森越顺晨扬信鼎利航翔科华泽川力邦瑞峰昊澜杰益钧鑫茂朗程驰展"
# Combinations that read as famous brands are not used.
BRAND_BLACKLIST = ["中兴", "华润", "海正", "正泰", "天能", "恒大", "中华", "新华", "永辉", "安利", "和信",
                   "华泰", "中信", "宏达", "天恒", "明华", "新科", "海信", "华信", "众泰"]

# ---------------------------------------------------------------------------------------------
# Termination reasons (终止原因).
# ---------------------------------------------------------------------------------------------
LOST_REASONS: list[str] = [
    "企业投资计划调整，项目暂缓",
    "被周边县市抢先落地",
    "用地指标不足，无法满足项目用地需求",
    "环评不符合要求",
    "亩均税收达不到要求",
    "投资强度低于园区准入标准",
    "企业资金链紧张，融资未落实",
    "项目属限制类，不符合产业政策",
    "能耗指标无法保障",
    "企业最终选址省外",
    "电价、物流成本等核心条件未谈拢",
    "企业实际控制人变更，项目搁置",
    "安全风险评估未通过",
    "企业多次联系无回应，线索失效",
]

# For projects that had signed: 履约 failures (长兴: land taken back when a project does not start).
LOST_REASONS_AFTER_SIGNING: list[str] = [
    "签约后资金不到位，长期未开工",
    "企业经营状况恶化，双方解除投资协议",
    "未按投资协议约定时间开工，依法收回土地",
    "市场行情变化，企业主动终止投资协议",
]

# What the 一次性告知 of a returned case asks for.
from crm.screening.materials import COMMON_MATERIALS as MISSING_MATERIALS  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Activity summaries. Placeholders: {city} {company} {short} {project} {park} {chain} {node} {source}
# {leader} {event} {land} {round} {materials} {reason}
# ACTIVITY_SUMMARIES: from negotiation to signing (洽谈); LEAD_PHASE_SUMMARIES: first contacts;
# SERVICE_SUMMARIES: after signing (帮办代办、
# 协调解决问题); AFTERCARE_SUMMARIES: after production; MILESTONE_SUMMARIES: at a stage change, as (kind, template);
# CLOSING_SUMMARIES: when a case is returned, rejected or terminated, as (kind, template).
# ---------------------------------------------------------------------------------------------
ACTIVITY_SUMMARIES: dict[str, list[str]] = {
    "visit": [
        "赴{city}拜访{company}负责人，介绍{park}用地和配套政策",
        "赴{city}走访{short}总部，了解企业在{node}领域的扩产计划和投资意向",
        "陪同{leader}赴{city}考察{short}生产基地，洽谈{project}落地事宜",
        "赴{city}与{short}高管面谈，介绍将乐{chain}产业链配套和要素保障",
        "赴{city}回访{short}，沟通项目选址和厂房建设需求",
        "到{short}厂区走访，了解企业在{node}领域增资扩产的意向",
    ],
    "call": [
        "电话联系{short}负责人，跟进{project}投资意向",
        "电话沟通{short}可研报告编制进度，提醒同步准备初审材料",
        "电话了解{short}董事会对{project}的决策安排",
        "与{short}电话沟通用地、用电价格及税收优惠政策",
        "电话邀请{short}负责人来将乐实地考察",
    ],
    "meeting": [
        "{short}一行来将乐考察{park}，{leader}会见并座谈",
        "召开{project}洽谈会，商议用地、投资强度和亩均税收等事项",
        "与{short}就投资协议条款进行第{round}轮磋商",
        "组织县发改、自然资源等部门与{short}对接{project}前期手续",
        "陪同{short}考察{park}拟选地块，现场讲解标准地指标",
    ],
    "online": [
        "与{short}云洽谈，视频介绍{park}标准地和{chain}产业链配套",
        "通过视频连线与{short}沟通{project}建设方案",
        "线上向{short}推送将乐{chain}招商政策和{park}地块资料",
        "与{short}云洽谈，商议投资协议初稿",
    ],
    "event": [
        "在{event}上与{short}代表对接{project}",
        "邀请{short}参加{event}，推介将乐{chain}产业链招商项目",
        "{event}期间获悉{short}有意布局{node}，现场交换联系方式",
    ],
}

# While a lead is still at the "lead" stage (first contacts only).
LEAD_PHASE_SUMMARIES: dict[str, list[str]] = {
    "visit": [
        "赴{city}拜访{company}负责人，介绍{park}用地和配套政策",
        "赴{city}走访{short}总部，了解企业在{node}领域的扩产计划和投资意向",
        "到{short}厂区走访，了解企业在{node}领域增资扩产的意向",
    ],
    "call": [
        "电话联系{short}负责人，跟进投资意向",
        "电话邀请{short}负责人来将乐实地考察",
        "与{short}电话沟通用地、用电价格及税收优惠政策",
    ],
    "meeting": [
        "{short}一行来将乐考察{park}，{leader}会见并座谈",
        "与{short}负责人座谈，介绍将乐{chain}产业基础和招商政策",
    ],
    "online": [
        "与{short}云洽谈，视频介绍{park}标准地和{chain}产业链配套",
        "线上向{short}推送将乐{chain}招商政策和{park}地块资料",
    ],
    "event": [
        "在{event}上与{short}代表对接{project}",
        "邀请{short}参加{event}，推介将乐{chain}产业链招商项目",
        "{event}期间获悉{short}有意布局{node}，现场交换联系方式",
    ],
}

SERVICE_SUMMARIES: dict[str, list[str]] = {
    "visit": [
        "到{project}施工现场了解进度，协调解决施工用电问题",
        "到{short}项目现场帮办代办施工许可相关手续",
        "走访{short}，了解投产后用工需求和人才招聘计划",
        "到项目现场核查{project}形象进度和投资完成情况",
    ],
    "call": [
        "电话提醒{short}按投资协议节点推进项目建设",
        "电话对接{short}设备采购和进场时间",
        "电话协调县供电公司为{short}办理用电报装",
    ],
    "meeting": [
        "召开{project}推进会，协调{land}亩用地交地和场平工作",
        "协调县自然资源局、住建局为{project}办理规划及施工许可",
        "组织银企对接会，为{short}对接项目贷款",
        "召开{project}问题协调会，研究解决进场道路和供水管网配套",
    ],
    "online": [
        "与{short}总部视频会议，确认设备进场和调试计划",
        "线上帮办{short}能评、环评等审批事项",
    ],
    "event": [
        "组织{short}参加全县政银企对接会",
        "{project}列入全县重点项目观摩点位",
    ],
}

# After the project has gone into production (投产后服务, 上规培育).
AFTERCARE_SUMMARIES: dict[str, list[str]] = {
    "visit": [
        "走访{short}，了解生产经营情况和达产计划",
        "走访{short}，了解投产后用工需求和人才招聘计划",
    ],
    "call": [
        "电话了解{short}产值、税收等月度经营数据",
        "电话对接{short}上规入统相关材料",
    ],
    "meeting": [
        "召开{short}惠企政策兑现协调会",
        "组织银企对接会，为{short}对接流动资金贷款",
    ],
    "online": [
        "线上为{short}办理惠企政策申报",
    ],
    "event": [
        "组织{short}参加全县重点企业用工招聘会",
    ],
}

MILESTONE_SUMMARIES: dict[str, list[tuple[str, str]]] = {
    "screening": [("online", "{project}提交即时初审，各成员单位三日内反馈意见")],
    "admitted": [("meeting", "{project}经县招商引资工作领导小组集体决策同意落地")],
    "signed": [("event", "{project}签约仪式在将乐举行，{leader}出席"),
               ("meeting", "与{short}正式签订{project}投资协议")],
    "started": [("event", "{project}参加全县重点项目集中开工活动"),
                ("visit", "{project}开工建设，现场协调施工单位进场")],
    "completed": [("visit", "{project}主体工程竣工，协调办理竣工验收")],
    "producing": [("visit", "{project}建成投产，现场协调投产后用工和物流问题")],
    "above_scale": [("call", "{short}纳入规模以上企业统计，做好上规后跟踪服务")],
}
CLOUD_SIGNING_SUMMARY = ("online", "以云签约方式与{short}签订{project}投资协议")

# The first contact, by the kind of the lead's source, as (activity kind, template); {source} is
# the source's name (an event's with its year).
FIRST_CONTACT_SUMMARIES: dict[str, tuple[str, str]] = {
    "hometown": ("meeting", "经{source}引荐，与{short}负责人初步接触"),
    "chamber": ("meeting", "经{source}推荐，与{short}负责人初步接触，了解{node}投资意向"),
    "advisor": ("call", "{source}推送{short}投资意向信息，电话与企业初步联系"),
    "intermediary": ("call", "{source}推荐{short}{node}项目线索，电话与企业初步联系"),
    "client": ("meeting", "{short}负责人来将乐考察，初步了解投资环境和{park}情况"),
    "online": ("online", "通过{source}与{short}初次对接"),
    "event": ("event", "在{source}上与{short}代表初步接洽"),
}

CLOSING_SUMMARIES: dict[str, tuple[str, str]] = {
    "returned": ("online", "即时初审意见汇总，一次性告知{short}补充：{materials}"),
    "rejected": ("meeting", "经县招商引资工作领导小组集体研究，{project}不同意落地，已向{short}反馈"),
    "lost": ("call", "{short}反馈：{reason}，经研究终止跟进"),
}


# ---------------------------------------------------------------------------------------------
# Tiny helpers
# ---------------------------------------------------------------------------------------------
def spring_festival(year: int) -> _dt.date:
    """The Spring Festival of a year (an approximate 5 February outside the table)."""
    return SPRING_FESTIVAL.get(year, _dt.date(year, 2, 5))


def event_date(source_name: str, year: int) -> _dt.date | None:
    """When the recurring event source takes place in a year (None if it is not an event)."""
    when = EVENT_DATES.get(source_name)
    if when is None:
        return None
    if when == "spring_festival":
        return spring_festival(year) + _dt.timedelta(days=3)  # 初三起返乡乡贤座谈
    month, day = when
    return _dt.date(year, month, day)


# ---------------------------------------------------------------------------------------------
# Pre-screening (即时初审) demo data, used by crm.demo.screening.
# Member units judge investment scale, intensity, tech content and prospects, give an opinion on
# compliance within three working days, and list every missing material at once (一次性告知).
# ---------------------------------------------------------------------------------------------
SCREENING_DEFAULT_UNITS: list[str] = ["县发改局", "县自然资源局", "县工信局", "县科技局", "县税务局",
                                      "县商务局"]
# Extra member units by chain code (铝熔炼 and 化工 carry safety and environmental risks; 特色农林
# and 森林康养 use forest land).
SCREENING_CHAIN_UNITS: dict[str, list[str]] = {
    "fine_chemical": ["三明市将乐生态环境局", "县应急管理局"],
    "light_alloy": ["三明市将乐生态环境局", "县应急管理局"],
    "agri_forestry": ["县林业局"],
    "forest_wellness": ["县林业局"],
    "biomedicine": ["三明市将乐生态环境局"],
}
# 标准地 thresholds in 万元 (per 亩 where named so); None falls through to the wider row.
SCREENING_THRESHOLDS: list[dict] = [
    {"chain": None, "park": None, "min_total_investment_wan": 3000, "min_intensity_wan_per_mu": 200,
     "min_tax_per_mu_wan": 5, "min_output_per_mu_wan": 300, "min_tech_score": 30},
    {"chain": "light_alloy", "park": None, "min_intensity_wan_per_mu": 300, "min_tax_per_mu_wan": 10,
     "min_output_per_mu_wan": 500},
    {"chain": "fine_chemical", "park": None, "min_intensity_wan_per_mu": 350, "min_tax_per_mu_wan": 12,
     "min_output_per_mu_wan": 600, "min_tech_score": 40},
    {"chain": "new_energy", "park": None, "min_intensity_wan_per_mu": 300, "min_tax_per_mu_wan": 8},
    {"chain": "biomedicine", "park": None, "min_intensity_wan_per_mu": 300, "min_tax_per_mu_wan": 10,
     "min_tech_score": 50},
    {"chain": None, "park": "将乐经济开发区", "min_intensity_wan_per_mu": 250},
]

# How each member unit answers: late and missing shares (targets over closed cases) and pace (the
# typical share of the answer window used before answering; 税务 is quick, 自然资源 and 生态环境
# need site checks and answer last).
SCREENING_UNIT_PACE: dict[str, dict] = {
    "县税务局": {"late": 0.04, "missing": 0.02, "pace": 0.22},
    "县商务局": {"late": 0.08, "missing": 0.05, "pace": 0.32},
    "县发改局": {"late": 0.09, "missing": 0.06, "pace": 0.38},
    "县工信局": {"late": 0.10, "missing": 0.07, "pace": 0.40},
    "县科技局": {"late": 0.11, "missing": 0.08, "pace": 0.42},
    "县林业局": {"late": 0.12, "missing": 0.08, "pace": 0.48},
    "县应急管理局": {"late": 0.13, "missing": 0.09, "pace": 0.50},
    "县自然资源局": {"late": 0.20, "missing": 0.12, "pace": 0.62},
    "三明市将乐生态环境局": {"late": 0.21, "missing": 0.13, "pace": 0.66},
}
# How readily a unit attaches conditions (relative weights).
SCREENING_CONDITION_WEIGHT: dict[str, int] = {
    "县发改局": 3, "县自然资源局": 5, "三明市将乐生态环境局": 6, "县工信局": 3, "县科技局": 2,
    "县应急管理局": 5, "县税务局": 3, "县商务局": 1, "县林业局": 4,
}

SCREENING_CONDITIONS: dict[str, list[str]] = {
    "县发改局": [
        "项目开工前须完成企业投资项目备案手续",
        "固定资产投资强度不低于园区标准，分期建设的首期投资不低于总投资的50%",
        "项目须纳入县重点项目库管理，按月报送投资进度",
        "严格按照《产业结构调整指导目录》鼓励类内容建设，不得新增限制类产能",
        "项目须在签约后12个月内开工建设",
        "年综合能耗1000吨标准煤以上的，须在开工前取得节能审查意见",
        "投资协议须明确亩均投资、亩均税收等履约指标及违约责任",
        "建设内容不得擅自变更，变更须重新提交初审",
        "项目须按规定纳入固定资产投资统计，不得虚报投资额",
        "分期建设的，二期须在一期达产后方可启动",
    ],
    "县自然资源局": [
        "项目用地须纳入园区控规，开工前完成环评审批",
        "按“标准地”方式出让，须签订标准地履约监管协议",
        "容积率不低于1.2，建筑密度不低于40%",
        "行政办公及生活服务设施用地不得超过总用地面积的7%",
        "拟选地块须完成土地征收和林地报批后方可供地",
        "不得占用永久基本农田和生态保护红线",
        "须依法办理建设用地规划许可和建设工程规划许可",
        "首期供地不超过项目总用地的60%，达产后再安排后续用地",
        "开工前须完成地质灾害危险性评估",
        "用地规模按亩均投资标准核定，不得超出实际需要",
    ],
    "三明市将乐生态环境局": [
        "开工前须取得环境影响评价批复，严格落实“三同时”制度",
        "主要污染物排放总量指标须通过排污权交易取得",
        "生产废水须预处理达到园区污水处理厂接管标准后排放",
        "须配套建设VOCs收集处理设施，排放满足福建省地方标准",
        "投产前须依法申领排污许可证",
        "危险废物须委托有资质单位处置，并建立管理台账",
        "项目选址须避开金溪流域饮用水水源保护区",
        "须编制突发环境事件应急预案并报备案",
        "铝灰渣须按危险废物规范贮存、转移和处置",
        "须安装污染物在线监测设备并与生态环境部门联网",
    ],
    "县工信局": [
        "须开展节能评估，单位产品能耗达到行业先进值",
        "须承诺投产后两年内纳入规模以上工业企业统计",
        "优先采购本地产业链上下游配套产品，推动就地配套",
        "须建设数字化车间，同步推进智能化改造",
        "不得采用国家明令淘汰的落后工艺和设备",
        "用电负荷须提前与供电部门对接，配套建设专用变电设施",
        "达产后年产值不低于承诺值，纳入亩均效益综合评价",
        "投产后须按要求报送工业企业月度运行数据",
        "须符合相关行业规范条件",
        "建成后三年内须申报县级以上企业技术中心",
    ],
    "县科技局": [
        "须承诺投产后三年内申报国家高新技术企业",
        "研发投入占营业收入比例不低于3%",
        "须建设企业研发中心，配备专职研发人员不少于10人",
        "引进的核心技术须提供知识产权权属证明",
        "鼓励与省内高校、科研院所开展产学研合作",
        "投产后须申报科技型中小企业评价入库",
        "专利成果须在本地实施转化",
        "须建立研发费用辅助账，规范研发费用归集",
        "核心技术团队须在将乐常驻",
        "达产后须申报省级专精特新中小企业",
    ],
    "县税务局": [
        "须在将乐县注册独立法人企业，实现税收属地缴纳",
        "达产后亩均税收不低于园区标准",
        "投资协议须约定亩均税收未达标的违约责任",
        "须按规定办理税务登记并实行查账征收",
        "投产后须按季度报送纳税情况",
        "享受税收优惠须符合政策条件，不得另行承诺地方税收返还",
        "须建立健全财务核算制度",
        "项目公司须于注册后30日内完成税务登记",
        "设备购置须取得合规发票，以便核实固定资产投资",
        "关联交易须按独立交易原则定价",
    ],
    "县应急管理局": [
        "开工前须完成安全预评价，严格落实安全设施“三同时”",
        "涉及危险化学品的须依法取得安全生产许可",
        "铝熔炼和深井铸造工序须落实防爆、防泄漏和安全防护措施",
        "须编制生产安全事故应急预案并报备",
        "须配备专职安全生产管理人员",
        "涉及重点监管危险化工工艺的须实现自动化控制",
        "粉尘涉爆场所须落实防爆措施",
        "须建立安全风险分级管控和隐患排查治理双重预防机制",
        "须与周边敏感目标保持足够的安全防护距离",
        "设计阶段须开展危险与可操作性分析（HAZOP）",
    ],
    "县商务局": [
        "外资项目须按规定报送外商投资信息报告",
        "须按协议缴纳履约保证金",
        "须在签约后3个月内完成项目公司注册",
        "有出口业务的须办理对外贸易经营者备案",
        "投资协议须经合法性审查后方可签订",
        "须如实报送项目资金到位情况",
        "港澳台资项目须纳入外资统计",
        "项目资本金须在约定期限内足额到位",
        "同等条件下优先招用本地劳动力",
        "云签约项目须在一个月内完成线下履约对接",
    ],
    "县林业局": [
        "使用林地须依法办理林地使用审核审批手续",
        "不得占用国家级公益林和天然林",
        "林木采伐须依法申领林木采伐许可证",
        "须依法缴纳森林植被恢复费",
        "须落实森林防火责任，配备防火设施",
        "林下经济项目须按“不砍树”原则实施",
        "康养设施须避让生态保护红线，严格控制建筑规模",
        "须与村集体签订林地流转合同，明确期限和收益分配",
        "种苗须经检疫合格，严防林业有害生物传入",
        "涉及古树名木的须先制定保护方案",
    ],
}

# Short comments: "ok" for an approval, "concern" with conditions or materials asked.
SCREENING_COMMENTS: dict[str, dict[str, list[str]]] = {
    "县发改局": {
        "ok": ["符合国家产业政策，属鼓励类项目", "投资强度达到园区标准", "项目符合县产业发展规划",
               "投资规模较大，建议纳入县重点项目", "产业政策符合，原则同意"],
        "concern": ["投资强度接近下限，须在协议中锁定", "建设内容较笼统，请细化分期投资计划",
                    "可研深度不足，需补充后研判", "能耗较高，须落实节能审查"],
    },
    "县自然资源局": {
        "ok": ["拟选地块符合国土空间规划", "园区有可供储备用地", "用地规模与投资规模匹配",
               "符合控规用地性质，原则同意"],
        "concern": ["拟选地块尚未完成征收，供地时间需协调", "用地需求偏大，建议压缩至合理规模",
                    "需补充总平面布置图核定用地", "地块涉及少量林地，需先行报批"],
    },
    "三明市将乐生态环境局": {
        "ok": ["项目选址符合园区规划环评要求", "排放可控，原则同意", "不涉及环境敏感区",
               "园区污水处理能力满足需要"],
        "concern": ["须核实主要污染物总量来源", "工艺涉及VOCs排放，需补充治理方案",
                    "需补充环境影响初步分析后研判", "铝灰渣处置去向需明确"],
    },
    "县工信局": {
        "ok": ["属我县重点产业链补链项目", "能耗水平符合要求", "产业链配套关系明确，原则同意",
               "达产后有望纳入规上企业"],
        "concern": ["单位产品能耗需进一步测算", "与现有企业存在同质化竞争，请说明差异",
                    "需补充工艺流程说明", "产值预测偏乐观，建议核实"],
    },
    "县科技局": {
        "ok": ["企业具备一定研发能力", "拥有自主知识产权", "技术水平较高，原则同意",
               "属高新技术企业，符合科技招商方向"],
        "concern": ["研发投入偏低", "核心技术来源需说明", "请补充高新技术企业证书",
                    "技术含量一般，建议加强产学研合作"],
    },
    "县税务局": {
        "ok": ["亩均税收达到园区标准", "纳税信用良好", "无欠税记录，原则同意", "税收预测合理"],
        "concern": ["亩均税收预测偏低，需企业书面承诺", "请补充近三年审计报告核实经营状况",
                    "税收测算依据不足", "母公司存在关联交易较多，需关注税源落地"],
    },
    "县应急管理局": {
        "ok": ["不涉及重点监管危险化工工艺", "安全风险可控，原则同意", "安全防护距离满足要求"],
        "concern": ["涉及熔炼工序，需补充安全生产条件分析", "涉及危险化学品，需严格落实安全许可",
                    "粉尘涉爆风险需重点关注"],
    },
    "县商务局": {
        "ok": ["投资主体资信良好", "外资来源清楚，原则同意", "企业履约能力较强", "投资主体实力较强"],
        "concern": ["投资主体注册时间较短，需核实资信", "请补充投资主体资信证明",
                    "协议条款需进一步完善", "资金来源需说明"],
    },
    "县林业局": {
        "ok": ["不涉及生态公益林", "林地使用手续可依法办理", "属林下经济发展方向，原则同意"],
        "concern": ["拟用地涉及商品林，须先办理使用林地审批", "需核实是否涉及林木采伐",
                    "康养设施规模需控制，避免大规模改变林地用途"],
    },
}

# Why a unit says no (the reason is the comment).
SCREENING_REJECT_REASONS: dict[str, list[str]] = {
    "县发改局": ["项目属于《产业结构调整指导目录》限制类", "固定资产投资强度低于园区准入标准"],
    "县自然资源局": ["拟选地块不符合国土空间规划，涉及永久基本农田", "用地规模明显超出实际需要，亩均投资不达标"],
    "三明市将乐生态环境局": ["项目位于金溪流域饮用水水源保护区上游，污染物排放无法满足要求",
                            "园区无剩余主要污染物排放总量指标"],
    "县工信局": ["单位产品能耗高于行业准入值，不符合能耗双控要求", "主要工艺装备属淘汰类"],
    "县科技局": ["技术来源不清，核心技术无自主知识产权"],
    "县税务局": ["亩均税收承诺低于园区标准，建议调整用地规模", "投资主体存在欠税记录"],
    "县应急管理局": ["涉及重点监管危险化工工艺，拟选园区不具备承接条件", "与周边居民区安全防护距离不足"],
    "县商务局": ["投资主体资信不明，注册资本与投资规模严重不符"],
    "县林业局": ["拟用地涉及国家级公益林，不得改变林地用途"],
}

# Which units ask for which of the common materials (crm.screening.materials), most likely first.
SCREENING_MATERIAL_ASKERS: dict[str, list[str]] = {
    "项目可行性研究报告": ["县发改局", "县工信局"],
    "企业近三年审计报告": ["县税务局", "县商务局", "县发改局"],
    "项目用地需求说明及总平面布置图": ["县自然资源局", "县发改局"],
    "环境影响初步分析": ["三明市将乐生态环境局", "县自然资源局"],
    "节能评估（能耗测算）材料": ["县工信局", "县发改局"],
    "安全生产条件分析": ["县应急管理局", "县工信局"],
    "产品工艺流程说明": ["县工信局", "三明市将乐生态环境局", "县应急管理局"],
    "投资主体资信证明": ["县商务局", "县发改局", "县税务局"],
    "高新技术企业证书": ["县科技局"],
    "亩均税收承诺书": ["县税务局", "县自然资源局"],
    "营业执照及法人身份证明": ["县商务局", "县税务局"],
    "项目投资协议（草案）": ["县商务局", "县发改局"],
}

# What the officer writes when sending a lead to pre-screening (round 1, and a resubmission).
SCREENING_NOTES: list[str] = [
    "企业已提交项目计划书，请各成员单位三日内反馈意见",
    "项目已完成实地考察，企业投资意向明确",
    "企业拟近期签约，请各单位抓紧研判",
    "县领导已带队洽谈，请重点研判用地和能耗",
    "项目拟选址{park}，请各单位提出意见",
]
SCREENING_RESUBMIT_NOTES: list[str] = [
    "企业已按一次性告知书补齐材料，申请再次初审",
    "已补充相关材料，请各成员单位再次研判",
    "补充材料已上传，提请第{round}轮初审",
]


# ---------------------------------------------------------------------------------------------
# Collective decision (集体决策) of the 招商引资工作领导小组 (crm.demo.decisions).
# ---------------------------------------------------------------------------------------------
# The members in seating order; the first chairs. Titles come from USER_TITLES.
DECISION_GROUP: list[str] = ["leader1", "leader2", "leader3", "leader4", "leader5", "tl_zsc"]
DECISION_SECRETARIAT = "县招商服务中心"  # its team leads keep the agenda (with the admins)
DECISION_MEETING_TITLE = "县招商引资工作领导小组{year}年第{n}次会议"
DECISION_LOCATIONS: list[tuple[str, int]] = [
    ("县行政服务中心三楼会议室", 6), ("县委大院第一会议室", 2), ("县政府四楼常务会议室", 2)]

# Why a member votes against, by what the project's figures or chain call for.
DECISION_REJECT_REASONS: dict[str, list[str]] = {
    "tax": ["亩均税收承诺低于园区标准", "亩均税收承诺偏低，财政贡献有限"],
    "intensity": ["用地规模过大，投资强度不足", "固定资产投资强度低于园区准入标准，建议压缩用地"],
    "energy": ["项目属于高耗能行业，不符合能耗双控要求", "单位产品能耗偏高，县域能耗指标难以保障"],
    "environment": ["环保风险较高，园区尚无配套污水处理能力", "主要污染物排放总量指标不足"],
    "safety": ["涉及危险化学品，拟选园区安全防护距离不足"],
    "forest": ["拟用地涉及生态公益林，林地审批难度大"],
    "general": ["企业资信情况有待进一步核实", "项目与园区主导产业关联度不高",
                "投资主体实力与项目规模不匹配", "产品市场前景不明朗，同质化竞争严重"],
}
DECISION_ABSTAIN_REASONS: list[str] = [
    "对企业实际投资能力仍有疑虑，建议加强跟踪", "建议进一步论证项目用地选址",
    "环保措施有待细化",
]
DECISION_RECUSAL_REASONS: list[str] = [
    "本人亲属在该企业任职，申请回避", "本人配偶持有该企业股份，申请回避",
    "本人曾在该企业母公司任职，申请回避",
]
# An approval with a word said, by chain (some of the time).
DECISION_APPROVE_REASONS: dict[str, list[str]] = {
    "light_alloy": ["符合轻合金产业链延链方向", "可与县内铝型材企业形成上下游配套"],
    "fine_chemical": ["符合精细化工产业链补链方向，安全环保措施到位"],
    "new_energy": ["符合新能源产业发展方向"],
    "high_end_equipment": ["有利于补齐高端装备产业链短板"],
    "digital_economy": ["符合数字经济发展方向，能耗低、带动强"],
    "biomedicine": ["科技含量高，符合生物医药产业培育方向"],
    "agri_forestry": ["有利于带动富硒香菇、毛竹等特色农林产业增收"],
    "forest_wellness": ["契合森林康养和全域旅游发展定位"],
    None: ["项目投资强度和亩均效益均达到园区标准", "企业实力较强，项目带动就业明显"],
}
# Conditions the chair attaches to an admission.
DECISION_CONDITIONS: list[str] = [
    "须在签约后6个月内开工，亩均税收不低于10万元",
    "须先取得环评批复方可开工",
    "须在签约后3个月内完成公司注册并按期缴纳土地出让金",
    "分期供地，一期达产且亩均税收达标后再供二期用地",
    "须签订亩均税收对赌协议，未达标按协议退还奖补资金",
    "须在签约后12个月内竣工投产",
    "须先完成节能审查方可开工",
]
DECISION_CHAIN_CONDITIONS: dict[str, list[str]] = {
    "fine_chemical": ["须先取得环评批复和安全条件审查意见方可开工", "须配套建设污水预处理设施"],
    "light_alloy": ["须先完成节能审查方可开工", "熔炼工序须采用天然气等清洁能源"],
    "agri_forestry": ["不得占用永久基本农田和生态公益林"],
    "forest_wellness": ["须编制生态保护方案，不得破坏林相"],
}


# ---------------------------------------------------------------------------------------------
# Chain map and 招商作战表 (crm.demo.chains). 差什么引什么、弱什么补什么、强什么增什么.
# ---------------------------------------------------------------------------------------------
CHAIN_DESCRIPTIONS: dict[str, str] = {
    "light_alloy": "从铝熔炼到产品制造：以富远铝业为龙头，再生铝熔炼、铝棒铸造、型材挤压已成规模，"
                   "补齐表面处理，向系统门窗、汽车轻量化零部件延伸。",
    "fine_chemical": "依托氟化工原料和工业气体基础，发展有机硅、钛白粉精深加工和食品添加剂，"
                     "补上电子化学品和涂料助剂短板。",
    "agri_forestry": "富硒香菇、毛竹、林产化工三大特色，打通良种繁育—种植培育—精深加工—冷链保供—品牌营销全链条。",
    "forest_wellness": "以玉华洞、龙栖山、天阶山为依托，景区运营带动森林康养、民宿、研学，延伸康养医疗和户外运动。",
    "new_energy": "分布式光伏和林业生物质发电起步，招引锂电材料、电芯和储能系统集成，布局动力电池回收。",
    "high_end_equipment": "立足轻合金配套，做强精密铸锻件和智能农林机械，补齐液压传动和数控机床环节。",
    "digital_economy": "高频电子变压器、高精密电子元器件起步，发展智能终端制造，培育电商直播和绿色数据中心。",
    "biomedicine": "依托林下中药材和竹叶、灵芝等生物资源，发展生物提取和保健食品，补医药中间体和医疗器械。",
}

# Per node: (intent, note). intent: fill 补链 | extend 延链 | strengthen 强链.
NODE_PLANS: dict[str, tuple[str, str]] = {
    # 轻合金
    "再生铝熔炼": ("strengthen", "富远铝业等企业熔炼产能居三明前列，引进保级利用技术龙头，做大再生铝规模"),
    "铝合金锭": ("strengthen", "已有合金锭企业两家，压铸铝合金品种少，引进高端牌号企业"),
    "铝棒铸造": ("strengthen", "铝棒基本满足本地挤压需求，高性能圆铸锭仍靠外购"),
    "型材挤压": ("strengthen", "新型铝材产业园建成投产，工业型材占比低，引进工业型材挤压企业"),
    "表面处理": ("fill", "县内没有阳极氧化和喷涂企业，型材需运往外地处理，补链首要环节"),
    "铝制品精深加工": ("extend", "向系统门窗、建筑模板和压铸件延伸，就地消化本地型材"),
    "轻合金零部件制造": ("extend", "延伸至汽车轻量化和新能源电池托盘，提高铝材附加值"),
    # 精细化工
    "氟化工原料": ("strengthen", "萤石资源和无水氟化氢产能为基础，做大氟化盐等基础原料"),
    "工业气体": ("strengthen", "久策气体一期投产，二期及电子特种气体待引进"),
    "有机硅": ("extend", "从硅材料向硅橡胶、硅油等下游产品延伸"),
    "钛白粉精深加工": ("strengthen", "钛白粉后处理能力不足，引进精细化加工和包膜技术企业"),
    "食品添加剂": ("extend", "以天然色素、酒石酸为方向，延伸到复配添加剂"),
    "可降解材料": ("extend", "结合竹资源发展竹基可降解制品，延伸PBAT改性和制品"),
    "电子化学品": ("fill", "园区尚无电子级湿化学品企业，氟化工原料可就地转化为电子级产品"),
    "涂料与助剂": ("fill", "仅有小型涂料企业，弱项补强，配套本地铝材喷涂和家具企业"),
    # 特色农林
    "良种繁育": ("fill", "闽台良种繁育中心刚起步，香菇菌种和林木良种仍靠外调"),
    "毛竹培育": ("strengthen", "毛竹林面积大、丰产林比例低，引进经营主体提升林分质量"),
    "富硒香菇种植": ("strengthen", "富硒香菇三产融合项目投产，扩大标准化、工厂化种植规模"),
    "竹木加工": ("strengthen", "竹木加工企业多而小，引进竹缠绕、重组竹等高附加值龙头"),
    "林产化工": ("strengthen", "松香、活性炭有基础，引进深加工企业提高精细化程度"),
    "食用菌精深加工": ("extend", "由鲜菇销售向香菇酱、灵芝孢子粉等精深加工延伸"),
    "冷链物流与保供": ("fill", "民天保供基地落地，产地预冷和冷链仓储能力仍缺"),
    "农产品品牌营销": ("extend", "擂茶、富硒香菇品牌小而散，引进品牌运营和渠道企业"),
    # 森林康养
    "景区开发运营": ("strengthen", "玉华洞、龙栖山景区提升，引进专业化运营企业"),
    "森林康养基地": ("strengthen", "已有康养基地试点，引进品牌运营商做大床位规模"),
    "文旅民宿": ("strengthen", "古城和常口村民宿起步，引进精品民宿品牌集群化发展"),
    "研学旅行": ("extend", "依托杨时理学文化和自然保护区，延伸研学营地"),
    "康养医疗": ("extend", "康养缺少医疗支撑，引进中医药康养和候鸟式康养运营商"),
    "户外运动": ("extend", "金溪漂流、山地赛事有基础，延伸户外营地和赛事运营"),
    "文创旅游商品": ("extend", "龙池砚、擂茶文创开发不足，延伸旅游商品设计生产"),
    # 新能源
    "锂电材料": ("fill", "仅有一家小型负极材料企业，弱项补强，为电芯项目配套"),
    "电芯制造": ("extend", "从材料向电芯制造延伸，形成材料—电芯—储能链条"),
    "光伏组件": ("fill", "组件产能薄弱，补齐组件和边框支架环节，配套铝型材"),
    "储能系统集成": ("extend", "依托分布式光伏向储能系统集成和独立储能电站延伸"),
    "分布式光伏": ("strengthen", "园区屋顶光伏已开发一批，扩大农光互补规模"),
    "生物质能源": ("strengthen", "林业剩余物丰富，做大生物质发电和成型燃料"),
    "动力电池回收": ("extend", "链条末端空白，延伸退役电池梯次利用和再生，与再生铝回收协同"),
    # 高端装备
    "精密铸锻件": ("strengthen", "依托本地铝材发展轻合金精密铸件，引进高端铸锻龙头"),
    "液压与传动部件": ("fill", "本地仅一家减速机小厂，补强液压与传动核心部件"),
    "数控机床": ("fill", "县内无整机企业，引进数控机床整机和关键功能部件企业"),
    "智能农林机械": ("strengthen", "竹木加工和林业机械有市场，做强智能农林机械"),
    "环保装备": ("extend", "结合化工园区治理需求，延伸工业废气、污水处理装备"),
    "工业机器人集成": ("extend", "服务本地铝材、竹木企业智能化改造，延伸机器人集成"),
    # 数字经济
    "电子元器件": ("strengthen", "高精密电子元器件项目投产，引进上下游配套企业"),
    "磁性材料与变压器": ("strengthen", "高频电子变压器形成集聚，向上游软磁材料强链"),
    "智能终端制造": ("extend", "依托元器件和变压器延伸至智能终端整机制造"),
    "软件和信息服务": ("fill", "软件企业少、规模小，补齐数据标注和行业软件服务"),
    "数据中心": ("extend", "气候凉爽、绿电充足，延伸布局绿色数据中心和算力中心"),
    "电商直播": ("strengthen", "农特产品直播电商已有基地，做大电商主体和供应链"),
    # 生物医药
    "中药材种植": ("strengthen", "黄精、多花黄精林下种植初具规模，扩大基地"),
    "生物提取": ("strengthen", "竹叶黄酮、灵芝提取有企业，引进规模化提取龙头"),
    "医药中间体": ("fill", "化工园区具备条件但尚无医药中间体企业，补链引进"),
    "保健食品": ("extend", "从灵芝、富硒原料延伸到保健食品和功能食品"),
    "医疗器械": ("fill", "仅有一家医用敷料小厂，补强一次性医疗器械和卫生材料"),
}

# Nodes the demo leaves without local firms: "gap" nodes also keep no live or landed leads,
# "in_progress" nodes keep live leads but nothing landed (crm.chains.queries coverage).
UNCOVERED_NODES: dict[str, str] = {
    "电子化学品": "gap", "数控机床": "gap", "动力电池回收": "gap",
    "表面处理": "in_progress", "康养医疗": "in_progress", "医药中间体": "in_progress",
}

# Firms already in 将乐 per node: (name, annual output 万元, note or None). 富远铝业, 久策气体,
# 水木海清, 鑫晖源, 民天保供, 闽台良种 and 富硒香菇 come from the 将乐 article; the rest are invented.
LOCAL_ENTERPRISES: dict[str, list[tuple[str, float, str | None]]] = {
    "再生铝熔炼": [("福建省将乐县富远铝业有限公司", 128600, "龙头企业，富远新型铝材产业园一期投产"),
               ("将乐县鑫盛再生资源有限公司", 23800, None), ("福建将乐鸿泰金属材料有限公司", 16400, None)],
    "铝合金锭": [("将乐县晟达合金材料有限公司", 31500, "规上企业"), ("福建瑞丰铝业有限公司", 18700, None)],
    "铝棒铸造": [("福建将乐金晖铝材有限公司", 26400, "规上企业"), ("将乐县恒源有色金属有限公司", 15200, None)],
    "型材挤压": [("福建富远新型铝材有限公司", 62300, "总投资15亿元的新型铝材产业园"),
             ("将乐县嘉盛铝型材有限公司", 12800, None), ("福建省将乐县鸿远铝业有限公司", 9600, None)],
    "铝制品精深加工": [("将乐县德瑞门窗有限公司", 5800, None), ("福建泓盛金属制品有限公司", 7400, None),
                ("将乐县佳源建材有限公司", 3900, None)],
    "轻合金零部件制造": [("将乐县鑫晖源机械制造有限公司", 16500, "招商引进，轻合金机械制造"),
                 ("福建晟通汽车零部件有限公司", 8300, None)],
    "氟化工原料": [("福建将乐永晟氟化工有限公司", 45200, "规上企业"), ("将乐县明源萤石矿业有限公司", 8900, None)],
    "工业气体": [("久策气体（将乐）有限公司", 13000, "总投资5亿元，一期投资1.3亿元已投产"),
             ("将乐县瑞通工业气体有限公司", 2600, None)],
    "有机硅": [("福建将乐鑫源硅材料有限公司", 21800, None)],
    "钛白粉精深加工": [("福建省将乐县金泰钛业有限公司", 38600, "规上企业"), ("将乐县博通化工有限公司", 11200, None)],
    "食品添加剂": [("福建水木海清生物科技有限公司", 9200, "天然食品添加剂生产线"),
              ("将乐县昌盛食品配料有限公司", 3100, None)],
    "可降解材料": [("福建将乐佳润环保材料有限公司", 6700, None)],
    "涂料与助剂": [("将乐县锦泰涂料有限公司", 1800, None)],
    "良种繁育": [("将乐县闽台良种繁育中心有限公司", 1800, "云签约落户"), ("福建将乐嘉禾种业有限公司", 1200, None)],
    "毛竹培育": [("将乐县龙栖竹业有限公司", 3500, None), ("将乐县万全毛竹专业合作社", 760, None)],
    "富硒香菇种植": [("将乐县富硒香菇产业发展有限公司", 4600, "富硒香菇三产融合项目"),
               ("将乐县光明香菇专业合作社", 980, None), ("将乐县漠源食用菌专业合作社", 650, None)],
    "竹木加工": [("福建将乐永兴竹木制品有限公司", 14200, "规上企业"), ("将乐县鑫森木业有限公司", 8800, None),
             ("福建省将乐县恒晨家居有限公司", 5300, None)],
    "林产化工": [("将乐县瑞森林化有限公司", 11600, "规上企业"), ("福建将乐盛源炭业有限公司", 4200, None)],
    "食用菌精深加工": [("将乐县灵华生物科技有限公司", 2300, "血灵芝加工")],
    "冷链物流与保供": [("民天（将乐）食品保供有限公司", 5200, "保供基地项目，云签约落户")],
    "农产品品牌营销": [("将乐县擂茶文化发展有限公司", 1500, None), ("将乐县古镛农特产品有限公司", 900, None)],
    "景区开发运营": [("将乐县玉华旅游开发有限公司", 3200, None), ("将乐县龙栖山生态旅游有限公司", 1100, None)],
    "森林康养基地": [("将乐县天阶山康养产业有限公司", 800, None)],
    "文旅民宿": [("将乐县常口山居文旅有限公司", 420, None), ("将乐县古城酒店管理有限公司", 1300, None)],
    "研学旅行": [("将乐县杨时文化研学有限公司", 380, None)],
    "户外运动": [("将乐县金溪户外运动发展有限公司", 600, None)],
    "文创旅游商品": [("将乐县龙池砚文化创意有限公司", 350, None)],
    "锂电材料": [("福建将乐鑫瑞新能源材料有限公司", 4800, "负极材料中试线")],
    "电芯制造": [("福建将乐盈科储能科技有限公司", 12600, None)],
    "光伏组件": [("将乐县晨阳光电有限公司", 2900, None)],
    "储能系统集成": [("将乐县泓源能源科技有限公司", 3400, None)],
    "分布式光伏": [("将乐县绿能光伏电力有限公司", 2100, None), ("福建将乐润达新能源有限公司", 1600, None)],
    "生物质能源": [("将乐县森源生物质能源有限公司", 9800, "林业剩余物生物质发电")],
    "精密铸锻件": [("福建将乐宏晟精密铸造有限公司", 11300, "规上企业"), ("将乐县锦程锻造有限公司", 4700, None)],
    "液压与传动部件": [("将乐县德泰传动机械有限公司", 1900, None)],
    "智能农林机械": [("福建将乐永盛林业机械有限公司", 7600, None), ("将乐县博远农机装备有限公司", 3200, None)],
    "环保装备": [("将乐县清源环保设备有限公司", 2800, None)],
    "工业机器人集成": [("将乐县卓越智能装备有限公司", 2400, None)],
    "电子元器件": [("福建将乐泰晟精密电子有限公司", 18900, "高精密电子元器件生产建设项目")],
    "磁性材料与变压器": [("将乐县鑫晖磁电科技有限公司", 14300, "高频电子变压器"),
                 ("福建将乐嘉通电子有限公司", 6200, None)],
    "智能终端制造": [("将乐县智诚电子科技有限公司", 3600, None)],
    "软件和信息服务": [("将乐县数智信息技术有限公司", 600, None)],
    "数据中心": [("将乐县云川数据科技有限公司", 1200, None)],
    "电商直播": [("将乐县金溪电子商务有限公司", 2700, "农特产品直播电商基地运营"),
             ("将乐县古镛网络科技有限公司", 800, None)],
    "中药材种植": [("将乐县福源黄精种植专业合作社", 540, None), ("福建将乐瑞草药业有限公司", 2300, None)],
    "生物提取": [("福建将乐竹叶青生物工程有限公司", 5600, "竹叶黄酮提取"),
             ("将乐县灵源生物科技有限公司", 1900, None)],
    "保健食品": [("将乐县康晟健康科技有限公司", 1400, None)],
    "医疗器械": [("将乐县佳康卫生材料有限公司", 1100, "医用敷料")],
}

# Where target companies are today, by chain: (prefix in the company name, location, GB/T 2260
# code of the registering district). Industrial bases other counties also court.
TARGET_BASES: dict[str, list[tuple[str, str, str]]] = {
    "light_alloy": [("佛山市", "广东省佛山市", "440605"), ("佛山市", "广东省佛山市", "440606"),
                    ("广东", "广东省佛山市", "440605"), ("肇庆市", "广东省肇庆市", "441204"),
                    ("常州", "江苏省常州市", "320412"), ("江苏", "江苏省常州市", "320411"),
                    ("永康市", "浙江省永康市", "330784"), ("浙江", "浙江省永康市", "330784"),
                    ("南安市", "福建省南安市", "350583"), ("山东", "山东省邹平市", "371681"),
                    ("巩义市", "河南省巩义市", "410181"), ("上海", "上海市", "310112"),
                    ("南平", "福建省南平市", "350702")],
    "fine_chemical": [("衢州", "浙江省衢州市", "330803"), ("浙江", "浙江省绍兴市", "330604"),
                      ("绍兴", "浙江省绍兴市", "330604"), ("江苏", "江苏省泰兴市", "321283"),
                      ("常熟市", "江苏省常熟市", "320581"), ("连云港", "江苏省连云港市", "320724"),
                      ("淄博", "山东省淄博市", "370305"), ("山东", "山东省淄博市", "370305"),
                      ("上海", "上海市", "310116"), ("宁波", "浙江省宁波市", "330211"),
                      ("邵武市", "福建省邵武市", "350781"), ("福建", "福建省三明市", "350423"),
                      ("江西", "江西省九江市", "360402")],
    "agri_forestry": [("古田县", "福建省宁德市古田县", "350922"), ("福建", "福建省宁德市古田县", "350922"),
                      ("庆元县", "浙江省丽水市庆元县", "331126"), ("浙江", "浙江省湖州市安吉县", "330523"),
                      ("安吉", "浙江省湖州市安吉县", "330523"), ("建瓯市", "福建省建瓯市", "350783"),
                      ("随州", "湖北省随州市", "421303"), ("寿光市", "山东省寿光市", "370783"),
                      ("福州", "福建省福州市", "350104"), ("厦门", "福建省厦门市", "350206"),
                      ("上海", "上海市", "310113"), ("漳州", "福建省漳州市", "350602")],
    "forest_wellness": [("杭州", "浙江省杭州市", "330106"), ("德清", "浙江省湖州市德清县", "330521"),
                        ("上海", "上海市", "310104"), ("厦门", "福建省厦门市", "350203"),
                        ("福州", "福建省福州市", "350102"), ("北京", "北京市", "110105"),
                        ("深圳市", "广东省深圳市", "440304"), ("成都", "四川省成都市", "510104"),
                        ("婺源县", "江西省上饶市婺源县", "361130"), ("武夷山", "福建省武夷山市", "350782")],
    "new_energy": [("宁德", "福建省宁德市", "350902"), ("福建", "福建省宁德市", "350902"),
                   ("常州", "江苏省常州市", "320413"), ("溧阳市", "江苏省溧阳市", "320481"),
                   ("无锡", "江苏省无锡市", "320214"), ("深圳市", "广东省深圳市", "440306"),
                   ("惠州", "广东省惠州市", "441302"), ("宜春", "江西省宜春市", "360902"),
                   ("江西", "江西省宜春市", "360902"), ("赣州", "江西省赣州市", "360704"),
                   ("合肥", "安徽省合肥市", "340104"), ("湖北", "湖北省荆门市", "420804"),
                   ("长兴", "浙江省湖州市长兴县", "330522"), ("浙江", "浙江省湖州市长兴县", "330522")],
    "high_end_equipment": [("宁波", "浙江省宁波市", "330206"), ("台州", "浙江省台州市", "331002"),
                           ("温岭市", "浙江省温岭市", "331081"), ("常州", "江苏省常州市", "320412"),
                           ("昆山", "江苏省昆山市", "320583"), ("宜兴市", "江苏省宜兴市", "320282"),
                           ("江苏", "江苏省徐州市", "320312"), ("济南", "山东省济南市", "370112"),
                           ("长沙", "湖南省长沙市", "430111"), ("晋江", "福建省晋江市", "350582"),
                           ("佛山市", "广东省佛山市", "440606"), ("厦门", "福建省厦门市", "350211")],
    "digital_economy": [("深圳市", "广东省深圳市", "440305"), ("深圳市", "广东省深圳市", "440306"),
                        ("深圳市", "广东省深圳市", "440309"), ("东莞市", "广东省东莞市", "441900"),
                        ("广东", "广东省东莞市", "441900"), ("昆山", "江苏省昆山市", "320583"),
                        ("杭州", "浙江省杭州市", "330108"), ("厦门", "福建省厦门市", "350211"),
                        ("福州", "福建省福州市", "350102"), ("吉安", "江西省吉安市", "360802"),
                        ("上海", "上海市", "310115"), ("北京", "北京市", "110108")],
    "biomedicine": [("亳州", "安徽省亳州市", "341602"), ("安徽", "安徽省亳州市", "341602"),
                    ("杭州", "浙江省杭州市", "330108"), ("台州", "浙江省台州市", "331002"),
                    ("浙江", "浙江省台州市", "331002"), ("泰州", "江苏省泰州市", "321202"),
                    ("上海", "上海市", "310115"), ("苏州", "江苏省苏州市", "320506"),
                    ("长垣市", "河南省长垣市", "410783"), ("南昌", "江西省南昌市", "360124"),
                    ("江西", "江西省南昌市", "360124"), ("厦门", "福建省厦门市", "350211"),
                    ("广州", "广东省广州市", "440112")],
}

# The location of a lead's company, by the city of REGION_CITIES it was registered in.
CITY_LOCATIONS: dict[str, str] = {
    "上海": "上海市", "深圳": "广东省深圳市", "厦门": "福建省厦门市", "福州": "福建省福州市",
    "福清": "福建省福清市", "泉州": "福建省泉州市", "晋江": "福建省晋江市", "石狮": "福建省石狮市",
    "南安": "福建省南安市", "三明": "福建省三明市", "永安": "福建省永安市", "沙县": "福建省三明市沙县区",
    "将乐": "福建省三明市将乐县", "莆田": "福建省莆田市", "杭州": "浙江省杭州市", "宁波": "浙江省宁波市",
    "温州": "浙江省温州市", "湖州": "浙江省湖州市", "长兴": "浙江省湖州市长兴县", "台州": "浙江省台州市",
    "南京": "江苏省南京市", "苏州": "江苏省苏州市", "无锡": "江苏省无锡市", "常州": "江苏省常州市",
    "南通": "江苏省南通市", "广州": "广东省广州市", "佛山": "广东省佛山市", "东莞": "广东省东莞市",
    "珠海": "广东省珠海市", "北京": "北京市", "南昌": "江西省南昌市", "赣州": "江西省赣州市",
    "上饶": "江西省上饶市", "济南": "山东省济南市", "青岛": "山东省青岛市", "潍坊": "山东省潍坊市",
    "香港": "香港特别行政区", "台北": "台湾省台北市",
}

# The node a target's note pairs a node with (it has local firms): what a new firm there would
# supply, or draw on.
NODE_PARTNERS: dict[str, str] = {
    "再生铝熔炼": "铝棒铸造", "铝合金锭": "再生铝熔炼", "铝棒铸造": "再生铝熔炼", "型材挤压": "铝棒铸造",
    "表面处理": "型材挤压", "铝制品精深加工": "型材挤压", "轻合金零部件制造": "铝合金锭",
    "氟化工原料": "工业气体", "工业气体": "氟化工原料", "有机硅": "工业气体", "钛白粉精深加工": "涂料与助剂",
    "食品添加剂": "食用菌精深加工", "可降解材料": "竹木加工", "电子化学品": "氟化工原料",
    "涂料与助剂": "钛白粉精深加工",
    "良种繁育": "富硒香菇种植", "毛竹培育": "竹木加工", "富硒香菇种植": "食用菌精深加工", "竹木加工": "毛竹培育",
    "林产化工": "竹木加工", "食用菌精深加工": "富硒香菇种植", "冷链物流与保供": "富硒香菇种植",
    "农产品品牌营销": "食用菌精深加工",
    "景区开发运营": "文旅民宿", "森林康养基地": "景区开发运营", "文旅民宿": "景区开发运营",
    "研学旅行": "景区开发运营", "康养医疗": "森林康养基地", "户外运动": "景区开发运营",
    "文创旅游商品": "景区开发运营",
    "锂电材料": "电芯制造", "电芯制造": "锂电材料", "光伏组件": "分布式光伏", "储能系统集成": "分布式光伏",
    "分布式光伏": "储能系统集成", "生物质能源": "竹木加工", "动力电池回收": "电芯制造",
    "精密铸锻件": "铝合金锭", "液压与传动部件": "智能农林机械", "数控机床": "精密铸锻件",
    "智能农林机械": "竹木加工", "环保装备": "钛白粉精深加工", "工业机器人集成": "型材挤压",
    "电子元器件": "智能终端制造", "磁性材料与变压器": "电子元器件", "智能终端制造": "电子元器件",
    "软件和信息服务": "电商直播", "数据中心": "分布式光伏", "电商直播": "农产品品牌营销",
    "中药材种植": "生物提取", "生物提取": "中药材种植", "医药中间体": "氟化工原料", "保健食品": "生物提取",
    "医疗器械": "生物提取",
}

# Why a target is on the list, by reason. {node} {chain}; {partner}: the NODE_PARTNERS node;
# {local}: a local firm's short name (at the node, else at the partner node).
TARGET_NOTES: dict[str, list[str]] = {
    "fill": ["补齐{node}环节，配套本地{partner}企业", "县内尚无成规模的{node}企业，引进后可就近配套{partner}",
             "{chain}产业链{node}环节薄弱，企业有在闽西北布局意向", "填补{node}短板，减少本地企业外协加工和运输成本",
             "引进{node}企业，解决本地{partner}企业配套外购问题"],
    "extend": ["向{node}延伸，与本地{partner}环节形成上下游配套", "延伸{chain}产业链至{node}，提高产品附加值",
               "企业计划新建{node}生产基地，可与{local}形成上下游配套", "把{chain}产业链延伸到{node}，带动本地{partner}企业"],
    "strengthen": ["{node}环节已有{local}等企业，引进后做大产业规模", "引进{node}龙头企业，带动{local}等本地企业技改升级",
                   "企业在{node}领域技术领先，可补强本地产能和研发短板", "与{local}同行业，引进后形成{node}产业集群"],
}
TARGET_NOTE_EXTRAS: list[str] = [
    "企业有扩产计划", "行业排名靠前", "乡贤推荐，企业负责人为将乐籍", "已到三明周边考察选址",
    "企业正在寻找原料产地新建基地", "商会提供线索", "招商顾问推荐", "上市公司子公司", "专精特新“小巨人”企业",
    "在周边县市已有布局，可争取增资", "国家高新技术企业",
]
TARGET_DROP_REASONS: list[str] = [
    "企业暂无对外投资计划", "企业已选址周边县市", "企业经营困难，暂停接触", "项目能耗高，不符合准入要求",
]
