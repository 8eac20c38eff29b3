"""The materials member units most often ask for (offered as ticks on the opinion form)."""

COMMON_MATERIALS: list[str] = [
    "项目可行性研究报告", "企业近三年审计报告", "项目用地需求说明及总平面布置图", "环境影响初步分析",
    "节能评估（能耗测算）材料", "安全生产条件分析", "产品工艺流程说明", "投资主体资信证明",
    "高新技术企业证书", "亩均税收承诺书", "营业执照及法人身份证明", "项目投资协议（草案）",
]
