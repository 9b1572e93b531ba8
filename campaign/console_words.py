"""The console's words: how a party office names a duty's state, a self-assessment's, a member's
standing, a unit's level, a step of the ladder and a quarter, in Vietnamese. The duties' own
names are the notices' (`campaign.notices.OBLIGATION_NAMES`)."""

from campaign.notices import OBLIGATION_NAMES
from models.members import MemberStatus
from models.obligations import ObligationKind
from models.units import UnitKind
from states.assessment import AssessmentState
from states.campaign import CampaignState
from states.obligation import ObligationState

OBLIGATION_STATE_NAMES = {
    ObligationState.open: "Chưa đến hạn",
    ObligationState.reminded: "Đã nhắc nhở",
    ObligationState.met: "Đã hoàn thành",
    ObligationState.met_late: "Hoàn thành muộn",
    ObligationState.overdue: "Quá hạn",
    ObligationState.escalated: "Quá hạn, đã báo cáo cấp trên",
    ObligationState.waived: "Được miễn",
}

ASSESSMENT_STATE_NAMES = {
    AssessmentState.pending: "Chưa nộp",
    AssessmentState.submitted: "Đã nộp, chờ chi bộ nhận xét",
    AssessmentState.returned: "Trả lại để hoàn chỉnh",
    AssessmentState.accepted: "Chi bộ đã thông qua",
    AssessmentState.excluded: "Không thuộc diện",
}

MEMBER_STATUS_NAMES = {
    MemberStatus.active: "Đang sinh hoạt",
    MemberStatus.exempt: "Miễn sinh hoạt",
    MemberStatus.transferred_out: "Chuyển sinh hoạt tạm thời",
    MemberStatus.died: "Từ trần",
    MemberStatus.expelled: "Khai trừ, xóa tên",
}

UNIT_KIND_NAMES = {
    UnitKind.central: "Ban Chấp hành Trung ương",
    UnitKind.province: "Tỉnh ủy",
    UnitKind.district: "Huyện, thị, thành ủy",
    UnitKind.grassroots: "Tổ chức cơ sở đảng",
    UnitKind.branch: "Chi bộ",
}

CAMPAIGN_STATE_NAMES = {
    CampaignState.registered: "Đã đăng ký kế hoạch",
    CampaignState.active: "Đang triển khai",
    CampaignState.reporting: "Đang báo cáo kết quả",
    CampaignState.closed: "Đã kết thúc",
}

_QUARTERS = {"Q1": "I", "Q2": "II", "Q3": "III", "Q4": "IV"}


def obligation_name(kind: str, window: str | None = None) -> str:
    """A duty as a notice names it, with its quarter when it has one."""
    name = OBLIGATION_NAMES[ObligationKind(kind)]
    return f"{name} ({window_name(window)})" if window else name


def window_name(window: str) -> str:
    """'2023-Q2' → 'quý II/2023'; a window of another shape as it is."""
    year, _, quarter = window.partition("-")
    return f"quý {_QUARTERS[quarter]}/{year}" if quarter in _QUARTERS else window


def obligation_state_name(state: str) -> str:
    """A duty's state in Vietnamese (an unknown state as it is)."""
    return OBLIGATION_STATE_NAMES.get(state, state)  # type: ignore[call-overload]


def ladder_step(state: str, level: int) -> str:
    """Where a duty stands on the escalation ladder, as the office says it ('' off it)."""
    if state == ObligationState.reminded:
        return "Nhắc nhở"
    if state == ObligationState.overdue:
        return "Đôn đốc (quá hạn)"
    if state == ObligationState.escalated:
        above = "cấp trên trực tiếp" if level <= 1 else "cấp ủy chủ trì"
        return f"Mức {level}: báo cáo {above}"
    return ""
