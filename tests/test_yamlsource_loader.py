"""yamlsource's loader on the files a hostile or careless author writes: each
is one problem at its place, fast and in bounded memory, never a traceback;
ordinary anchors keep working."""

from __future__ import annotations

import tracemalloc

import pytest

from yamlsource import Mark, Problem, UnreadableError, load_text
from yamlsource.expansion import MAX_ALIASED_VALUES, MAX_DEPTH


def laughs(levels: int) -> str:
    """The billion-laughs document: each level lists the one before nine times."""
    lines = ["a: &a [" + ", ".join(["x"] * 9) + "]"]
    for before, name in zip("abcdefghi", "bcdefghij"[: levels - 1], strict=False):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{before}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def refused(text: str) -> Problem:
    with pytest.raises(UnreadableError) as raised:
        load_text(text, "f.yaml")
    [problem] = raised.value.problems
    return problem


def test_billion_laughs_is_refused_at_the_alias_past_the_budget():
    problem = refused(laughs(9))

    assert str(problem) == (
        "f.yaml:5:8: e[0]: alias *d copies 7381 values, bringing the values "
        "copied by aliases to 15670, over the limit of 10000; accepted: aliases "
        "that copy at most 10000 values in all (write the values out instead)"
    )


def test_billion_laughs_is_refused_in_bounded_memory():
    tracemalloc.start()
    try:
        with pytest.raises(UnreadableError):
            load_text(laughs(9))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 2 * 1024 * 1024


def test_aliases_may_copy_up_to_the_budget():
    # 100 values per copy (the list and 99 scalars), copied 100 times.
    items = ", ".join(["1"] * 99)
    copies = ", ".join(["*a"] * (MAX_ALIASED_VALUES // 100))
    doc = load_text(f"a: &a [{items}]\nb: [{copies}]\n")

    assert len(doc.data["b"]) == 100
    assert doc.data["b"][99] == [1] * 99


def test_one_more_copy_is_past_the_budget():
    items = ", ".join(["1"] * 99)
    copies = ", ".join(["*a"] * (MAX_ALIASED_VALUES // 100 + 1))
    problem = refused(f"a: &a [{items}]\nb: [{copies}]\n")

    assert (problem.line, problem.column, problem.path) == (2, 405, "b[100]")
    assert "bringing the values copied by aliases to 10100" in problem.message


def test_an_alias_inside_its_own_anchor_is_recursive():
    problem = refused("a: &a [*a]\n")

    assert str(problem) == (
        "f.yaml:1:8: a[0]: alias *a is inside the value of its own anchor &a, "
        "which would repeat forever; accepted: aliases to anchors whose value "
        "ends before the alias"
    )


def test_a_recursive_mapping_alias_names_its_key():
    problem = refused("top: &t\n  inner:\n    again: *t\n")

    assert (problem.line, problem.column, problem.path) == (3, 12, "top.inner.again")


@pytest.mark.parametrize(
    ("text", "column"),
    [
        pytest.param("[" * 100_000, MAX_DEPTH + 1, id="flow-lists"),
        pytest.param("{a: " * 1000 + "1" + "}" * 1000, 4 * MAX_DEPTH + 1, id="maps"),
    ],
)
def test_nesting_past_the_limit_is_refused_where_it_goes_too_deep(text, column):
    problem = refused(text)

    assert str(problem) == (
        f"f.yaml:1:{column}: (document): nesting deeper than 64 levels; "
        "accepted: at most 64 levels of nested lists and mappings"
    )


def test_nesting_at_the_limit_loads():
    doc = load_text("[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH)

    depth, value = 0, doc.data
    while isinstance(value, list):
        depth, value = depth + 1, value[0]
    assert (depth, value) == (MAX_DEPTH, 1)


def test_an_alias_that_nests_past_the_limit_is_refused_at_the_alias():
    half = MAX_DEPTH // 2 + 1
    text = f"a: &a {'[' * half}1{']' * half}\nb: {'[' * half}*a{']' * half}\n"

    problem = refused(text)

    assert (problem.line, problem.column, problem.path) == (2, half + 4, "(document)")
    assert problem.message.startswith(f"alias *a nests {2 * half + 1} levels deep;")


def test_shared_blocks_through_anchors_still_load():
    text = (
        "defaults: &d {stall_seconds: 300, hard_timeout_seconds: 3600}\n"
        "environments:\n"
        "  ci: {timeouts: *d}\n"
        "  prod: {timeouts: *d}\n"
        "name: &n runner\n"
        "service: *n\n"
    )

    doc = load_text(text)

    timeouts = {"stall_seconds": 300, "hard_timeout_seconds": 3600}
    assert doc.data["environments"] == {
        "ci": {"timeouts": timeouts},
        "prod": {"timeouts": timeouts},
    }
    assert doc.data["service"] == "runner"
    # A copied value stands where it was written: at its anchor.
    assert doc.mark(("environments", "prod", "timeouts")) == Mark(1, 11)


def test_an_undefined_alias_is_still_reported_by_the_parser():
    problem = refused("a: *nope\n")

    assert (problem.line, problem.column) == (1, 4)
    assert problem.message == "not YAML: found undefined alias 'nope'"


@pytest.mark.parametrize(
    ("text", "column", "tag"),
    [
        pytest.param("a: !vault x\n", 4, "!vault", id="custom"),
        pytest.param("a: !!python/name:os.system x\n", 4, "", id="python"),
    ],
)
def test_a_tag_without_a_constructor_is_unreadable_not_a_traceback(text, column, tag):
    problem = refused(text)

    assert (problem.line, problem.column) == (1, column)
    assert problem.message.startswith(
        "not loadable YAML: could not determine a constructor for the tag"
    )
    assert tag in problem.message
    assert problem.message.endswith("; expected plain YAML without tags")


@pytest.mark.parametrize(
    ("text", "path", "mark"),
    [
        pytest.param("a:\n  b:\n  c: 1\n", ("a", "b"), Mark(2, 3), id="block"),
        pytest.param("a: # later\n\nb: 1\n", ("a",), Mark(1, 1), id="comment"),
        pytest.param("{a: , b: 1}\n", ("a",), Mark(1, 2), id="flow"),
        pytest.param("a: ~\nb: 1\n", ("a",), Mark(1, 4), id="written-null"),
        pytest.param("a:\n  -\n  - 1\n", ("a", 0), Mark(2, 4), id="list-item"),
    ],
)
def test_a_value_left_out_stands_at_its_key(text, path, mark):
    doc = load_text(text)

    assert doc.mark(path) == mark
