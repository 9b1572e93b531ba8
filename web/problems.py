"""An import's refusal as a page shows it: each problem by file, row and column, in Vietnamese.
The imports word their problems in English for the CLI; the problems a secretary or an office
meets on a form or an upload are told here in Vietnamese (`_WORDS`, the first that matches), and
any other is shown as the import words it."""

import re

from models.errors import InputError, Problem

# (the import's wording, as a pattern; the page's) — codes and dates in the message carried over.
_WORDS = [
    (r"^(?:'[^']*' )?is not a date \(.*\)$", "không phải là ngày (viết dd/mm/yyyy)"),
    (r"^(\d\d/\d\d/\d{4}) is in the future$", "ngày {0} chưa tới"),
    (
        r"^(\d\d/\d\d/\d{4}) is before the plan was issued \((\d\d/\d\d/\d{4})\)$",
        "ngày {0} trước ngày ban hành kế hoạch ({1})",
    ),
    (r"^unknown unit '(.*)'$", "không có đơn vị '{0}'"),
    (r"^unknown member '(.*)'$", "không có đảng viên '{0}'"),
    (r"^'(.*)' is outside your unit (.*)$", "'{0}' nằm ngoài đơn vị của bạn ({1})"),
    (r"^'(.*)' is outside campaign (.*)$", "'{0}' không thuộc đợt {1}"),
    (r"^'(.*)' is not a member of '(.*?)'(.*)$", "'{0}' không phải đảng viên của '{1}'{2}"),
    (r"^'(.*)' needs a member$", "cần ghi đảng viên"),
    (r"^name the activity held$", "ghi tên hoạt động đã tổ chức"),
    (
        r"^is empty \(give the unit, or the member whose unit it is\)$",
        "còn trống (ghi đơn vị, hoặc đảng viên)",
    ),
    (r"^missing column '(.*)' \((.*)\)$", "thiếu cột '{1}'"),
    (r"^column '(.*)' appears twice$", "cột '{0}' bị lặp"),
    (r"^the file is empty$", "tệp không có dữ liệu"),
    (
        r"^is not UTF-8 text",
        "tệp không phải văn bản UTF-8: lưu lại dạng CSV UTF-8 (trong Excel: CSV UTF-8)",
    ),
    (r"^is not an XLSX file", "không phải tệp Excel (.xlsx)"),
    (r"^is not a CSV file", "không phải tệp CSV"),
    (r"^duplicate code '(.*)' \(row (\d+)\)$", "mã '{0}' trùng với dòng {1}"),
    (
        r"^'(.*)' is not valid on (\d\d/\d\d/\d{4}): the (.*) is '(.*)'$",
        "'{0}' không hợp lệ ngày {1}: trạng thái hiện tại là '{3}'",
    ),
]


def problem_words(message: str) -> str:
    """An import's problem in Vietnamese, when it is one the console's users meet."""
    for pattern, words in _WORDS:
        if found := re.match(pattern, message):
            return words.format(*found.groups())
    return message


def problem_line(problem: Problem, *, with_file: bool = True) -> str:
    """'Tệp facts.csv, dòng 3, cột Đơn vị: …' (without the file for a form's entries)."""
    where = []
    if with_file and problem.file:
        where.append(f"tệp {problem.file}")
    if problem.row is not None:
        where.append(f"dòng {problem.row}")
    if problem.column:
        where.append(f"cột {problem.column}")
    text = ", ".join(where)
    text = text[:1].upper() + text[1:]
    message = problem_words(problem.message)
    return f"{text}: {message}" if text else message


def problem_lines(refused: InputError, *, with_file: bool = True) -> list[str]:
    """Every problem shown of a refusal (the first InputError.SHOWN), then how many more."""
    shown = refused.problems[: InputError.SHOWN]
    lines = [problem_line(p, with_file=with_file) for p in shown]
    if (more := refused.total - len(shown)) > 0:
        lines.append(f"… và {more:,} lỗi khác".replace(",", "."))
    return lines
