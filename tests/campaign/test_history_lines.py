"""The roster's dated changes said in the console's Vietnamese words (`campaign.history_lines`)."""

import pytest

from campaign.history_lines import member_change_text, unit_change_text


@pytest.mark.parametrize(
    ("field", "old", "new", "said"),
    [
        ("unit", "B2", "B1", "Chuyển sinh hoạt: B2 → B1"),
        ("status", "active", "exempt", "Tình trạng: đang sinh hoạt → miễn sinh hoạt"),
        ("status", "active", "died", "Tình trạng: đang sinh hoạt → từ trần"),
        ("leader", "no", "yes", "Lãnh đạo, quản lý: không → có"),
        ("joined", "", "B1", "Bắt đầu sinh hoạt tại B1"),
    ],
)
def test_a_member_s_change_in_words(field: str, old: str, new: str, said: str) -> None:
    assert member_change_text(field, old, new) == said


@pytest.mark.parametrize(
    ("field", "old", "new", "said"),
    [
        ("parent", "G1", "G2", "Chuyển trực thuộc: G1 → G2"),
        ("name", "Chi bộ khu phố 1", "Chi bộ Một", "Đổi tên: Chi bộ khu phố 1 → Chi bộ Một"),
        ("kind", "branch", "grassroots", "Loại đơn vị: Chi bộ → Tổ chức cơ sở đảng"),
        ("status", "active", "dissolved", "Tình trạng: đang hoạt động → giải thể"),
        ("merged_into", "", "B1", "Sáp nhập vào B1"),
        ("merged_into", "B1", "", "Sáp nhập vào: B1 → —"),
    ],
)
def test_a_unit_s_change_in_words(field: str, old: str, new: str, said: str) -> None:
    assert unit_change_text(field, old, new) == said
