"""The audit trail's words in Vietnamese, as the console's reviewers read them: what an event is
about, what happened, the states it moved between, and what a broken chain means. A code with
no word here is shown as it is (the exports always keep the codes)."""

import re

ENTITIES = {
    "campaign": "đợt sinh hoạt",
    "obligation": "nhiệm vụ",
    "assessment": "bản tự kiểm điểm",
    "screening": "sàng lọc",
    "commendation": "biểu dương",
    "member": "đảng viên",
    "unit": "đơn vị",
    "fact": "thông tin ghi nhận",
}

TRIGGERS = {
    "activate": "bắt đầu đợt",
    "enter_reporting": "chuyển sang báo cáo",
    "close": "kết thúc đợt",
    "remind": "nhắc hạn",
    "meet": "hoàn thành",
    "lapse": "quá hạn",
    "escalate": "báo cáo cấp trên",
    "meet_late": "hoàn thành muộn",
    "confirm_in_time": "xác nhận đúng hạn",
    "waive": "miễn",
    "reinstate": "khôi phục",
    "move": "chuyển theo đảng viên",
    "submit": "nộp",
    "accept": "thông qua",
    "send_back": "trả lại",
    "exclude": "không tính",
    "detect": "phát hiện",
    "educate": "giáo dục",
    "help": "giúp đỡ",
    "screen": "sàng lọc",
    "clear": "kết thúc theo dõi",
    "remove": "đưa ra khỏi Đảng",
    "approve": "duyệt",
    "reject": "không duyệt",
    "roster_add": "thêm vào danh sách",
    "roster_update": "sửa danh sách",
    "tree_add": "thêm đơn vị",
    "tree_update": "sửa đơn vị",
    "plan_registered": "đăng ký kế hoạch",
    "plan_changed": "sửa kế hoạch",
    "record": "ghi nhận",
}

STATES = {
    "absent": "chưa có",
    "registered": "đã đăng ký",
    "reporting": "đang báo cáo",
    "closed": "đã kết thúc",
    "open": "chưa đến hạn",
    "reminded": "đã nhắc",
    "met": "đã hoàn thành",
    "overdue": "quá hạn",
    "escalated": "đã báo cáo cấp trên",
    "met_late": "hoàn thành muộn",
    "waived": "được miễn",
    "pending": "chưa nộp",
    "submitted": "đã nộp",
    "returned": "bị trả lại",
    "accepted": "đã thông qua",
    "excluded": "không tính",
    "reviewing": "đang xem xét",
    "detected": "đã phát hiện",
    "educating": "đang giáo dục",
    "helping": "đang giúp đỡ",
    "screening": "đang sàng lọc",
    "cleared": "kết thúc theo dõi",
    "removed": "đưa ra khỏi Đảng",
    "nominated": "được đề nghị",
    "approved": "được duyệt",
    "rejected": "không được duyệt",
    "recorded": "đã ghi nhận",
}
# A member's standing, and a campaign's: the same code reads differently.
STATES_OF = {
    ("member", "active"): "đang sinh hoạt",
    ("member", "exempt"): "miễn sinh hoạt",
    ("member", "transferred_out"): "chuyển sinh hoạt tạm thời",
    ("member", "died"): "từ trần",
    ("member", "expelled"): "khai trừ, xóa tên",
    ("campaign", "active"): "đang diễn ra",
}


def state_word(entity: str, state: str) -> str:
    """A state of `entity` in Vietnamese (the code itself if it has no word)."""
    return STATES_OF.get((entity, state)) or STATES.get(state, state)


# AuditBroken's findings (states/audit_chain.py), told in Vietnamese; the first that matches.
_BROKEN = [
    (r"^event (\d+) was altered", "Sự kiện số {0} đã bị sửa: nội dung không khớp với mã băm."),
    (
        r"^event (\d+) is missing \(found (\d+) next\)",
        "Thiếu sự kiện số {0} (tiếp theo là số {1}).",
    ),
    (r"^event (\d+) does not follow", "Sự kiện số {0} không nối tiếp sự kiện liền trước."),
    (r"^the chain's head row is missing", "Mất dòng ghi đầu chuỗi."),
    (
        r"^the chain's head row records event (\d+) with hash",
        "Dòng ghi đầu chuỗi không khớp với mã băm của sự kiện số {0}.",
    ),
    (
        r"^the chain's head row records event (\d+), the trail goes on to event (\d+)",
        "Dòng ghi đầu chuỗi dừng ở sự kiện số {0} nhưng nhật ký còn đến sự kiện số {1}: có sự "
        "kiện được thêm lén hoặc đầu chuỗi bị đặt lại.",
    ),
    (
        r"^event (\d+) is missing: the chain's head records event (\d+)",
        "Thiếu sự kiện số {0}: đầu chuỗi ghi đến sự kiện số {1}.",
    ),
]


def broken_words(finding: str) -> str:
    """What a broken chain's finding means, in Vietnamese."""
    for pattern, words in _BROKEN:
        if found := re.match(pattern, finding):
            return words.format(*found.groups())
    return "Chuỗi nhật ký không còn nguyên vẹn."
