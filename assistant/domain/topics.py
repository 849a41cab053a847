"""The topic catalogue of this policy field: what district offices compare across cities.

Each topic has a retrieval query and signature terms. A city "specifies" a topic only when one of its
retrieved clauses contains a signature term, so a nearby but unrelated clause never fills a cell. The
signatures were checked by hand against every document of the bundled corpus (tests/answering/test_compare.py)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    key: str
    label: str
    description: str
    query: str
    signature: tuple[str, ...]  # a governing clause contains at least one
    triggers: tuple[str, ...]  # words in a user's question that point at this topic


TOPICS: tuple[Topic, ...] = (
    Topic("founding", "组建与审批", "成立教育集团由谁申请、报哪个部门审批或备案、需提交哪些材料",
          "教育集团成立 组建集团 提出集团成立申请 审批 报备",
          ("集团成立申请", "成立教育集团", "组建集团", "审批", "教育集团成立"),
          ("成立", "组建", "审批", "申请成立")),
    Topic("admission", "成员校纳新", "吸纳新成员校的方式、申请和批复程序",
          "教育集团吸纳新成员 纳新申请 合作办学协议",
          ("纳新", "吸纳新成员"), ("纳新", "吸纳", "加入", "新成员", "吸收")),
    Topic("exit", "退出与终止", "成员校退出、合作终止、集团取消的条件、程序和退出后的要求",
          "成员校退出教育集团 合作终止 退出机制",
          ("退出", "合作终止", "予以取消"), ("退出", "终止", "离开", "独立出去", "取消")),
    Topic("term", "合作期限", "合作时限、期满延长和期满前的报备",
          "集团化办学合作时限 合作期满 延长时间",
          ("合作时限", "合作期满", "延长时间"), ("期限", "时限", "几年", "多久", "期满", "延长", "续")),
    Topic("scale", "规模控制", "每所优质学校或集团可带的学校数量、扩张节奏",
          "控制集团化办学规模 适度规模 集团规模",
          ("集团化办学规模", "集团规模", "适度规模"), ("规模", "多少所", "几所", "上限", "数量")),
    Topic("charter", "章程与制度", "集团章程、管理制度、发展规划等制度文件及其备案",
          "集团章程 管理制度 发展规划 备案",
          ("章程",), ("章程", "制度", "规划")),
    Topic("governance", "管理体制与模式", "集团类型、法人与治理结构、理事会和总校长",
          "教育集团管理体制 治理结构 法人 理事会 总校长 集团模式",
          ("管理体制", "治理结构", "法人", "理事会", "总校长", "一长多校"),
          ("体制", "模式", "类型", "法人", "理事会", "总校长", "治理")),
    Topic("teachers", "教师交流轮岗", "干部教师跨校任职、交流轮岗、走教的要求和激励",
          "教师交流轮岗 干部教师到成员校任职 走教 双向交流",
          ("轮岗", "走教", "双向交流", "跨校任职", "到成员校任职", "到集团成员校任职"),
          ("轮岗", "交流", "走教", "老师", "教师", "干部")),
    Topic("funding", "经费保障", "专项经费、奖补、协议费用和资金投入",
          "集团化办学经费保障 专项奖补经费 协议费用 资金投入",
          ("经费", "奖补", "协议费用", "资金投入"), ("经费", "费用", "资金", "钱", "拨款", "奖补")),
    Topic("evaluation", "考核评价", "对集团的考核、督导、评估方式和结果运用",
          "集团化办学考核评价 督导评估 绩效考核",
          ("考核", "督导", "评估", "评价"), ("考核", "评价", "督导", "评估")),
    Topic("enrollment", "招生", "集团招生计划、范围和对口直升等招生政策",
          "教育集团招生 招生计划 招生范围 对口直升",
          ("招生",), ("招生", "入学", "直升")),
    Topic("branding", "校名与品牌", "成员校挂牌、更名，以及品牌、标识的使用",
          "成员校校名 更名 品牌冠名 文化标识",
          ("校名", "更名", "冠名", "品牌标识"), ("校名", "更名", "改名", "品牌", "冠名", "牌子", "标识")),
    Topic("curriculum", "课程与教研", "课程共建共享、联合教研、集体备课和质量检测",
          "课程共建共享 联合教研 集体备课 质量检测",
          ("课程", "教研", "备课"), ("课程", "教研", "备课", "教学")),
    Topic("students", "学生培养", "学生交流、联合培养和学生活动",
          "学生培养 学生交流 联合培养 学生活动",
          ("学生交流", "学生培养", "联合培养", "贯通式培养", "学生活动"), ("学生",)),
    Topic("targets", "发展目标与覆盖率", "到某年的集团数量、覆盖率等目标",
          "集团化办学覆盖率 到年底 建成教育集团数量 目标",
          ("覆盖率", "至少建立", "不少于", "覆盖全市", "全覆盖"), ("目标", "覆盖率", "覆盖", "建成", "多少个")),
)

BY_KEY = {t.key: t for t in TOPICS}
BY_LABEL = {t.label: t for t in TOPICS}


def find_topic(text: str) -> Topic | None:
    """A catalogue topic named by key or label, or the one whose trigger words the text uses most."""
    text = text.strip()
    if text in BY_KEY:
        return BY_KEY[text]
    if text in BY_LABEL:
        return BY_LABEL[text]
    scores = sorted(((sum(len(w) for w in t.triggers if w in text), i) for i, t in enumerate(TOPICS)), reverse=True)
    (best, i), (second, _) = scores[0], scores[1]
    # a question that points at two topics equally is answered by evidence, not by one topic's signature
    return TOPICS[i] if best > 0 and best > second else None
