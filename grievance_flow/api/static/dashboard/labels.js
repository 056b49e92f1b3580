// Chinese labels for the API's values; the English value stays in the title tooltip.

export const STAGES = {
  report: "受理",
  classify: "分类派单",
  accept: "签收",
  handle: "办理",
  recheck: "核查回访",
  closed: "办结归档",
};

export const EVENTS = {
  reported: "受理",
  suggested: "智能推荐",
  dispatched: "派单",
  rejected: "退件",
  merged: "并单",
  accepted: "签收",
  returned: "退回",
  arbitrated: "仲裁派单",
  progress: "办理进展",
  extension_requested: "申请延期",
  extension_decided: "延期审批",
  whistled: "吹哨",
  reported_in: "报到",
  completed: "办结反馈",
  rechecked: "核查回访",
  reopened: "重办",
  sla_warning: "黄灯预警",
  sla_overdue: "红灯超期",
  chased: "催办",
  escalated: "提级",
  supervised: "督办",
  withdrawn: "撤回",
  closed: "办结归档",
};

export const ROLES = {
  hotline: "热线",
  dispatcher: "指挥中心",
  unit: "承办单位",
  verifier: "回访核查",
  auditor: "督查",
  admin: "管理员",
  system: "系统",
};

export const TRENDS = { up: "↑ 上升", down: "↓ 下降", flat: "→ 持平", new: "新出现" };

/** The KPI table's columns: field, label, and whether a rate under 80 % is bad. */
export const KPI_COLUMNS = [
  { field: "name", label: "单位", kind: "text" },
  { field: "cases", label: "受理量", kind: "count" },
  { field: "accepted_on_time_rate", label: "及时签收率", kind: "rate", line: true },
  { field: "completed_on_time_rate", label: "按时办结率", kind: "rate", line: true },
  { field: "return_rate", label: "退单率", kind: "rate", line: false },
  { field: "reopen_rate", label: "重办率", kind: "rate", line: false },
  { field: "satisfaction_rate", label: "满意率", kind: "rate", line: true },
  { field: "resolution_rate", label: "解决率", kind: "rate", line: true },
  { field: "overdue", label: "超期", kind: "count" },
  { field: "escalations", label: "提级", kind: "count" },
];

/** The pass line (达标线) of the rates where more is better. */
export const PASS_LINE = 0.8;
