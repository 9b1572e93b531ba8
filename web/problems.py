"""An import's refusal as a page shows it: each problem by file, row and column, in Vietnamese
framing (the problem's own words stay as the import words them, as the CLI prints them)."""

from models.errors import InputError, Problem


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
    return f"{text}: {problem.message}" if text else problem.message


def problem_lines(refused: InputError, *, with_file: bool = True) -> list[str]:
    """Every problem shown of a refusal (the first InputError.SHOWN), then how many more."""
    shown = refused.problems[: InputError.SHOWN]
    lines = [problem_line(p, with_file=with_file) for p in shown]
    if (more := refused.total - len(shown)) > 0:
        lines.append(f"… và {more:,} lỗi khác".replace(",", "."))
    return lines
