"""The console's views that need no database: the progress tree and the words it uses."""

from campaign.console_views import progress_tree
from campaign.console_words import ladder_step, obligation_name, window_name
from models.views import Target, Targets, UnitStatus


def _unit(code: str, kind: str, parent: str | None, done: int = 0, eligible: int = 0) -> UnitStatus:
    target = Target.of(done, eligible)
    targets = Targets(
        members_self_assessed=target, leaders_self_assessed=target, branches_with_sessions=target
    )
    return UnitStatus(
        code=code, name=code, kind=kind, parent=parent, targets=targets, obligations=[]
    )


UNITS = [
    _unit("TOWN", "district", None, 2, 5),
    _unit("G1", "grassroots", "TOWN", 2, 3),
    _unit("B1", "branch", "G1", 2, 2),
    _unit("B2", "branch", "G1", 0, 1),
    _unit("G2", "grassroots", "TOWN", 0, 2),
]


def test_the_tree_nests_every_unit_under_its_parent() -> None:
    tree = progress_tree(UNITS)
    assert [c.code for c in tree.children] == ["G1", "G2"]
    assert [b.code for b in tree.children[0].children] == ["B1", "B2"]
    assert tree.children[0].children[0].targets.members_self_assessed.percent == 100.0
    assert all(node.branches_hidden == 0 for node in (tree, *tree.children))


def test_a_wide_tree_stops_at_the_grassroots_counting_their_branches() -> None:
    tree = progress_tree(UNITS, wide=True)
    g1, g2 = tree.children
    assert (g1.children, g1.branches_hidden) == ([], 2)
    assert (g2.children, g2.branches_hidden) == ([], 0)
    assert g1.targets.members_self_assessed.done == 2  # its figures still count its branches


def test_duties_quarters_and_ladder_steps_are_named_in_vietnamese() -> None:
    assert window_name("2023-Q2") == "quý II/2023"
    assert obligation_name("hold_session", "2023-Q4") == "Tổ chức sinh hoạt chuyên đề (quý IV/2023)"
    assert ladder_step("overdue", 0) == "Đôn đốc (quá hạn)"
    assert ladder_step("escalated", 1) == "Mức 1: báo cáo cấp trên trực tiếp"
    assert ladder_step("escalated", 2) == "Mức 2: báo cáo cấp ủy chủ trì"
    assert ladder_step("met", 0) == ""
