"""Tests of the case harness itself: the .test parser, and the runner on
deliberately wrong cases and misbehaving plugins, so that a broken harness
cannot silently pass every case."""

from __future__ import annotations

import dataclasses
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import case_runner
from case_file import (
    Case,
    CaseFileError,
    SourceFile,
    normalise_output,
    parse_cases,
    sort_output,
)
from case_runner import (
    MYPY_INI,
    MypyEnv,
    MypyEnvs,
    source_fingerprint,
    modules_rechecked,
    run_case,
    run_mypy,
    write_case,
)

TEST_FILE = Path("sample.test")


def parse(text: str) -> list[Case]:
    return parse_cases(textwrap.dedent(text).lstrip("\n"), TEST_FILE)


def one(text: str) -> Case:
    cases = parse(text)
    assert len(cases) == 1
    return cases[0]


# --------------------------------------------------------------------------
# Parser


def test_sections_names_and_line_numbers() -> None:
    cases = parse(
        """
        -- a comment before the first case
        [case first]
        from fearless import Owned
        def f(x: Owned) -> None: ...  # E: bad  [ownership-marker]

        [file helper.py]
        x: int = ""  # E: wrong  [assignment]
        [file pkg/__init__.py]
        [file pkg/mod.pyi]
        y: int
        [out]
        main:1: note: from out

        -- between cases
        [case second-skip]
        pass
        [case third-xfail]
        pass
        """
    )
    assert [c.name for c in cases] == ["first", "second", "third"]
    first, second, third = cases
    assert (first.line, second.line, third.line) == (2, 15, 17)
    assert [f.path for f in first.files] == ["main.py", "helper.py", "pkg/__init__.py", "pkg/mod.pyi"]
    assert first.main.first_line == 3
    assert first.files[1].first_line == 7
    assert first.modules == ["main", "helper", "pkg", "pkg.mod"]
    assert first.main.text.endswith("...  # E: bad  [ownership-marker]\n")  # trailing blanks dropped
    assert first.expected_output() == [
        "main:1: note: from out",
        "main:2: error: bad  [ownership-marker]",
        "helper.py:1: error: wrong  [assignment]",
    ]
    assert (second.skip, second.xfail, third.skip, third.xfail) == (True, False, False, True)
    assert first.id == "sample.test::first"


def test_several_expectations_on_one_line_keep_their_order() -> None:
    case = one(
        """
        [case c]
        x = 1
        f(x)  # N: second note # E: the error  [code]  # N: third "quoted # thing"
        """
    )
    assert case.expected_output() == [
        "main:2: note: second note",
        "main:2: error: the error  [code]",
        'main:2: note: third "quoted # thing"',
    ]


def test_out_lines_merge_with_inline_and_sort_by_file_and_line() -> None:
    case = one(
        """
        [case c]
        a  # E: inline on 1
        b
        c  # W: inline on 3
        [out]
        main.py:2: error: from out on 2
        main:1: note: from out on 1
        """
    )
    assert case.expected_output() == [
        "main:1: error: inline on 1",
        "main:1: note: from out on 1",
        "main:2: error: from out on 2",
        "main:3: warning: inline on 3",
    ]


def test_flags_line() -> None:
    case = one(
        """
        [case c]
        # flags: --disable-error-code use-after-move --warn-unused-ignores
        pass
        """
    )
    assert case.flags == ["--disable-error-code", "use-after-move", "--warn-unused-ignores"]
    assert case.main.text.startswith("# flags:")  # still line 1 of main.py


def test_comment_lines_and_bracket_escape_keep_line_numbers() -> None:
    case = one(
        """
        [case c]
        x = 1
        -- a comment inside the code is a blank line
        [[x]  # E: on line 3
        """
    )
    assert case.main.text == "x = 1\n\n[x]  # E: on line 3\n"
    assert case.expected_output() == ["main:3: error: on line 3"]


def test_a_case_without_expectations_expects_no_output() -> None:
    assert one("[case c]\nx: int = ''\n").expected_output() == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("pass\n[case c]\n", "text before the first [case]"),
        ("[case c]\n[files x.py]\n", "unknown section [files]"),
        ("[case c]\n[case c]\n", "duplicate case name 'c'"),
        ("[case c]\n[file main.py]\n", "the case body is already main.py"),
        ("[case c]\n[file ../x.py]\n", "relative POSIX path"),
        ("[case c]\n[file x.py]\n[file x.py]\n", "given twice"),
        ("[case c]\n[out]\n[out]\n", "second [out]"),
        ("[case c]\n[out]\nmain: error: no line\n", "is not 'file:line"),
        ("[case c]\n[out]\nother.py:1: error: x\n", "names 'other.py'"),
        ("[case c]\npass\n# flags: --strict\n", "must be the first line"),
        ("[case bad name]\n", "bad case name"),
        ("[case c]\nx  #E: no space\n", "malformed expectation"),
        ("[case c]\nx  # E:no space\n", "malformed expectation"),
        ("[case c]\nx  # E: \n", "empty expectation message"),
        ("[case c]\n[file h.py]\nx  # N : spaced\n", "malformed expectation"),
        ("[out]\n", "before the first [case]"),
    ],
)
def test_malformed_files_are_rejected(text: str, message: str) -> None:
    with pytest.raises(CaseFileError) as info:
        parse_cases(text, TEST_FILE)
    assert message in str(info.value)


def test_normalise_output() -> None:
    stdout = (
        "helper.py:1: error: b\n"
        "main.py:3: error: second on 3  [x]\n"
        "main.py:1: note: first\n"
        "main.py:3: note: after it on 3   \n"
        "Found 2 errors in 2 files (checked 2 source files)\n"
    )
    assert normalise_output(stdout) == [
        "main:1: note: first",
        "main:3: error: second on 3  [x]",
        "main:3: note: after it on 3",
        "helper.py:1: error: b",
    ]
    assert normalise_output("Success: no issues found in 1 source file\n") == []
    assert normalise_output(
        "main.py:1: error: invalid syntax  [syntax]\n"
        "Found 1 error in 1 file (errors prevented further checking)\n"
    ) == ["main:1: error: invalid syntax  [syntax]"]


def test_sort_is_stable_within_a_line() -> None:
    lines = ["main:2: note: z", "main:1: note: b", "main:2: error: a", "pkg/m.py:1: note: c"]
    assert sort_output(lines) == [
        "main:1: note: b",
        "main:2: note: z",
        "main:2: error: a",
        "pkg/m.py:1: note: c",
    ]


def test_source_file_modules() -> None:
    assert SourceFile("pkg/sub/__init__.pyi", "", 1).module == "pkg.sub"
    assert SourceFile("pkg/py.typed", "", 1).module is None


def test_repository_test_files_parse() -> None:
    from test_cases import TEST_DATA

    for path in sorted(TEST_DATA.glob("*.test")):
        try:
            parse_cases(path.read_text(encoding="utf-8"), path)
        except CaseFileError as e:  # reported by test_cases.py as PARSE-ERROR
            pytest.fail(str(e), pytrace=False)


# --------------------------------------------------------------------------
# The runner must fail when it should (these run mypy)


def test_correct_case_passes_cold_and_warm(mypy_env: MypyEnv, tmp_path: Path) -> None:
    case = one(
        """
        [case c]
        from fearless import Owned
        from helper import g
        def f(x: Owned) -> None: ...  # E: "Owned" takes exactly one type argument, 0 given (put the type inside, e.g. "Owned[list[int]]")  [ownership-marker]
        reveal_type(g)  # N: Revealed type is "def (x: list[int])"
        [file helper.py]
        from fearless import Owned
        def g(x: Owned[list[int]]) -> None: ...
        y: int = ""  # E: Incompatible types in assignment (expression has type "str", variable has type "int")  [assignment]
        """
    )
    outcome = run_case(case, mypy_env, tmp_path)
    assert outcome.failure is None, outcome.failure
    assert set(outcome.runs) == {"cold", "warm"}


def test_unexpected_error_fails(mypy_env: MypyEnv, tmp_path: Path) -> None:
    case = one("[case noExpectations]\nx: int = ''\n")
    outcome = run_case(case, mypy_env, tmp_path)
    assert outcome.failure is not None
    assert "case noExpectations (sample.test:1), cold run" in outcome.failure
    assert (
        '+main:1: error: Incompatible types in assignment (expression has type "str",'
        ' variable has type "int")  [assignment]'
    ) in outcome.failure
    assert "warm" not in outcome.runs  # no warm run once cold failed


def test_missing_error_fails(mypy_env: MypyEnv, tmp_path: Path) -> None:
    case = one("[case c]\nx: int = 1  # E: nothing wrong here\n")
    failure = run_case(case, mypy_env, tmp_path).failure
    assert failure is not None and "-main:1: error: nothing wrong here" in failure


def test_wrong_message_or_code_fails(mypy_env: MypyEnv, tmp_path: Path) -> None:
    case = one(
        """
        [case c]
        from fearless import Owned
        def f(x: Owned) -> None: ...  # E: "Owned" takes exactly one type argument, 0 given (put the type inside, e.g. "Owned[list[int]]")  [misc]
        """
    )
    failure = run_case(case, mypy_env, tmp_path).failure
    assert failure is not None and "[misc]" in failure and "[ownership-marker]" in failure


def test_error_in_wrong_file_fails(mypy_env: MypyEnv, tmp_path: Path) -> None:
    case = one(
        """
        [case c]
        import helper  # E: Incompatible types in assignment (expression has type "str", variable has type "int")  [assignment]
        [file helper.py]
        x: int = ""
        """
    )
    assert run_case(case, mypy_env, tmp_path).failure is not None


def _plugin_env(tmp_path: Path, source: str, fork_server: bool = True) -> MypyEnv:
    """An environment whose mypy.ini loads an extra (misbehaving) plugin after
    ours.  The base cache is not used: the plugin list is part of the cache key."""
    plugin = tmp_path / "extra_plugin.py"
    plugin.write_text(textwrap.dedent(source), encoding="utf-8")
    config = MYPY_INI.replace("plugins = mypy_ownership", f"plugins = mypy_ownership, {plugin}")
    return MypyEnv(fearless_path=_fearless_path(tmp_path), config=config, fork_server=fork_server)


def _fearless_path(tmp_path: Path) -> Path | None:
    from case_runner import fearless_search_path

    return fearless_search_path(tmp_path / "site")


CRASHING_PLUGIN = """
    from mypy.plugin import Plugin

    def boom(ctx):
        raise RuntimeError("plugin bug")

    class P(Plugin):
        def get_function_hook(self, fullname):
            return boom if fullname == "main.crash" else None

    def plugin(version):
        return P
"""


def test_crash_fails_even_without_expectations(tmp_path: Path) -> None:
    env = _plugin_env(tmp_path, CRASHING_PLUGIN)
    case = one("[case crashes]\ndef crash() -> None: ...\ncrash()\n")
    outcome = run_case(case, env, tmp_path / "run")
    assert outcome.failure is not None
    assert "mypy crashed" in outcome.failure
    assert "RuntimeError: plugin bug" in outcome.failure


def test_plugin_that_cannot_load_fails(tmp_path: Path) -> None:
    env = _plugin_env(tmp_path, "raise ImportError('broken plugin')\n")
    outcome = run_case(one("[case c]\npass\n"), env, tmp_path / "run")
    assert outcome.failure is not None
    assert "Error importing plugin" in outcome.failure and "broken plugin" in outcome.failure


def test_stray_print_fails(tmp_path: Path) -> None:
    env = _plugin_env(
        tmp_path,
        """
        from mypy.plugin import Plugin

        class P(Plugin):
            def get_function_hook(self, fullname):
                if fullname == "main.f":
                    print("debugging output")
                return None

        def plugin(version):
            return P
        """,
    )
    case = one("[case c]\ndef f() -> None: ...\nf()\n")
    failure = run_case(case, env, tmp_path / "run").failure
    assert failure is not None and "printed outside mypy's output" in failure
    assert "debugging output" in failure


def test_cold_only_behaviour_fails_on_the_warm_run(tmp_path: Path) -> None:
    # The plugin learns something while helper.py is analysed and uses it when
    # main calls helper.g: right on a cold cache, silent when helper comes
    # from the cache (the trap of reading unanalysed types).
    env = _plugin_env(
        tmp_path,
        """
        from mypy.plugin import Plugin

        SEEN = set()

        def analyze(ctx):
            SEEN.add("Marker")
            return ctx.api.named_type("helper.Tag", [])

        def call(ctx):
            if "Marker" in SEEN:
                ctx.api.fail("helper.g called", ctx.context)
            return ctx.default_return_type

        class P(Plugin):
            def get_type_analyze_hook(self, fullname):
                return analyze if fullname == "helper.Tag" else None
            def get_function_hook(self, fullname):
                return call if fullname == "helper.g" else None

        def plugin(version):
            return P
        """,
    )
    case = one(
        """
        [case coldOnly]
        from helper import g
        g(1)  # E: helper.g called  [misc]
        [file helper.py]
        class Tag: ...
        def g(x: int, y: "Tag | None" = None) -> None: ...
        """
    )
    outcome = run_case(case, env, tmp_path / "run")
    assert outcome.failure is not None
    assert "warm run" in outcome.failure
    assert "-main:2: error: helper.g called  [misc]" in outcome.failure


@pytest.mark.parametrize("fork_server", [True, False], ids=["fork", "spawn"])
def test_plugin_state_does_not_leak_between_runs(tmp_path: Path, fork_server: bool) -> None:
    # A plugin that counts the calls it saw in module state: every run must
    # start from zero, with a freshly imported plugin.
    env = _plugin_env(
        tmp_path,
        """
        from mypy.plugin import Plugin

        CALLS = []

        def call(ctx):
            CALLS.append(1)
            ctx.api.msg.note(f"call {len(CALLS)}", ctx.context)
            return ctx.default_return_type

        class P(Plugin):
            def get_function_hook(self, fullname):
                return call if fullname == "main.f" else None

        def plugin(version):
            return P
        """,
        fork_server=fork_server,
    )
    case = one("[case c]\ndef f() -> None: ...\nf()  # N: call 1\n")
    servers = []
    for i in range(3):
        outcome = run_case(case, env, tmp_path / f"run{i}")
        assert outcome.failure is None, outcome.failure
        servers.append(len(case_runner._servers))
    assert servers[0] == servers[-1]  # one fork server per environment, reused


@pytest.mark.parametrize("fork_server", [True, False], ids=["fork", "spawn"])
def test_hanging_run_times_out(tmp_path: Path, fork_server: bool) -> None:
    env = _plugin_env(
        tmp_path,
        """
        import time
        from mypy.plugin import Plugin

        def call(ctx):
            time.sleep(30)
            return ctx.default_return_type

        class P(Plugin):
            def get_function_hook(self, fullname):
                return call if fullname == "main.f" else None

        def plugin(version):
            return P
        """,
        fork_server=fork_server,
    )
    env = dataclasses.replace(env, timeout=1)
    case = one("[case c]\ndef f() -> None: ...\nf()\n")
    failure = run_case(case, env, tmp_path / "run").failure
    assert failure is not None and "timed out after 1s" in failure


def test_unstable_cache_key_fails_on_the_warm_run(tmp_path: Path) -> None:
    env = _plugin_env(
        tmp_path,
        """
        import random
        from mypy.plugin import Plugin

        class P(Plugin):
            def report_config_data(self, ctx):
                return random.random()

        def plugin(version):
            return P
        """,
    )
    case = one("[case c]\nimport helper\n[file helper.py]\nx = 1\n")
    failure = run_case(case, env, tmp_path / "run").failure
    assert failure is not None
    assert "should have been loaded from the cache but were checked again: " in failure
    assert "helper" in failure


def test_syntax_error_is_an_ordinary_expected_error(mypy_env: MypyEnv, tmp_path: Path) -> None:
    # mypy exits with status 2 on a blocking error; that is not a crash.
    case = one(
        "[case c]\nx = 1\n"
        "def f(:  # E: Expected a parameter or the end of the parameter list  [syntax]"
        " # E: Expected `)`, found newline  [syntax]\n"
        "    pass\n"
    )
    outcome = run_case(case, mypy_env, tmp_path)
    assert outcome.failure is None, outcome.failure


# --------------------------------------------------------------------------
# The base cache: really used, and invisible in the results

BASE_CACHE_CASES = """
[case markers]
from fearless import Borrowed, Owned, Send
import threading
def f(x: Owned) -> Send[Borrowed[int]]: return 1  # E: "Owned" takes exactly one type argument, 0 given (put the type inside, e.g. "Owned[list[int]]")  [ownership-marker]
reveal_type(f)  # N: Revealed type is "def (x: Any) -> int"
[case otherModule]
from helper import g
g([1])
g("x")  # E: Argument 1 to "g" has incompatible type "str"; expected "list[int]"  [arg-type]
[file helper.py]
from fearless import Owned
def g(x: Owned[list[int]]) -> None: ...
def h(x: Owned[int, str]) -> None: ...  # E: "Owned" takes exactly one type argument, 2 given  [ownership-marker]
"""


def test_base_cache_is_used(mypy_envs: MypyEnvs, tmp_path: Path) -> None:
    def check(attempt: Path) -> None:
        env = mypy_envs.get()
        if env.base_cache is None:
            pytest.skip("--no-base-cache")
        case = parse_cases(BASE_CACHE_CASES, TEST_FILE)[0]
        write_case(case, attempt / "case")
        shutil.copytree(env.base_cache, attempt / "cache")
        result = run_mypy(env, attempt / "case", case.modules, attempt / "cache", verbose=True)
        parsed, _ = modules_rechecked(result)
        # Only the case's own module is checked; builtins, fearless, threading
        # come from the base cache (a plugin or option mismatch would recheck them).
        assert parsed == {"main"}, result.log

    unless_sources_changed(check, tmp_path)


@pytest.mark.parametrize("index", [0, 1])
def test_base_cache_gives_the_same_results_as_a_truly_cold_run(
    mypy_envs: MypyEnvs, tmp_path: Path, index: int
) -> None:
    def check(attempt: Path) -> None:
        case = parse_cases(BASE_CACHE_CASES, TEST_FILE)[index]
        env = mypy_envs.get()
        truly_cold = MypyEnv(fearless_path=env.fearless_path)  # no base cache
        outputs = []
        for name, e in (("base", env), ("cold", truly_cold)):
            outcome = run_case(case, e, attempt / name)
            assert outcome.failure is None, outcome.failure
            outputs.append([normalise_output(r.stdout) for r in outcome.runs.values()])
        assert outputs[0] == outputs[1]

    unless_sources_changed(check, tmp_path)


def unless_sources_changed(check: Callable[[Path], None], tmp_path: Path) -> None:
    """Run ``check``; if it fails while the plugin or fearless is being edited,
    run it again (as test_cases.py does for cases)."""
    for attempt in range(1, 4):
        fingerprint = source_fingerprint()
        try:
            check(tmp_path / f"attempt{attempt}")
            return
        except AssertionError:
            if source_fingerprint() == fingerprint or attempt == 3:
                raise


# --------------------------------------------------------------------------
# Collection, and the environment the cases run in


def test_unparsable_file_becomes_one_failing_item(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import test_cases

    (tmp_path / "good.test").write_text("[case a]\npass\n[case b-skip]\npass\n")
    (tmp_path / "bad.test").write_text("[case a]\n[case a]\n")
    monkeypatch.setattr(test_cases, "TEST_DATA", tmp_path)
    params = list(test_cases._params())
    assert [p.id for p in params] == ["bad.test::PARSE-ERROR", "good.test::a", "good.test::b"]
    assert isinstance(params[0].values[0], CaseFileError)
    assert [m.name for m in params[2].marks] == ["skip"]


def test_installed_fearless_is_visible_to_mypy(tmp_path: Path) -> None:
    """Without the harness's help, mypy must find the current ``fearless``
    sources as installed, as a user's mypy would.  (The harness links them
    onto mypy's search path when it does not, so that the cases still run;
    this test says so loudly.)"""
    from case_runner import fearless_visibility_problem

    problem, _ = fearless_visibility_problem()
    assert problem is None, problem
    (tmp_path / "mypy.ini").write_text(MYPY_INI)
    (tmp_path / "m.py").write_text("import fearless\n")
    result = run_mypy(MypyEnv(fearless_path=None), tmp_path, ["m"], tmp_path / "cache")
    assert result.problem() is None, result.report()
    assert result.status == 0, "mypy cannot find the installed fearless:\n" + result.report()
