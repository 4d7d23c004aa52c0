"""Values describing one traced snippet as an author wrote it: its code and what it should print."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from looplens.limits import NO_OVERRIDES, LimitOverrides

if TYPE_CHECKING:
    from looplens.runtimes.runtime import RuntimeName, RuntimeSelector

Language = Literal["javascript", "python"]
#: How asyncio's timers pass in a traced run: "virtual" jumps to the next one, "real" waits.
Clock = Literal["virtual", "real"]

#: Fence language → (runtime language, default file extension).
FENCE_LANGUAGES: dict[str, tuple[Language, str]] = {
    "js": ("javascript", ".js"),
    "javascript": ("javascript", ".js"),
    "cjs": ("javascript", ".cjs"),
    "mjs": ("javascript", ".mjs"),
    "ts": ("javascript", ".ts"),
    "typescript": ("javascript", ".ts"),
    "py": ("python", ".py"),
    "python": ("python", ".py"),
}

#: File extension → runtime language, for snippets given as files.
FILE_LANGUAGES: dict[str, Language] = {
    ".js": "javascript",
    ".cjs": "javascript",
    ".mjs": "javascript",
    ".ts": "javascript",
    ".py": "python",
}


#: An expected line that stands for any number of printed lines, even none (with a queue: any
#: number of lines from that queue).
ELLIPSIS = "..."

#: A turn stated relative to the line before (the nearest expected line above that is not `...`;
#: above the first one, the main script, in turn 0): its turn, the one after it, or any later one.
RelativeTurn = Literal["same turn", "next turn", "later turn"]
RELATIVE_TURNS: tuple[RelativeTurn, ...] = ("same turn", "next turn", "later turn")


@dataclass(frozen=True, slots=True)
class ExpectedLine:
    text: str
    #: None when the author did not state a queue for this line.
    queue: str | None = None
    #: The loop turn it must have run in: a number (`turn 2`), or relative to the line before;
    #: None when the author did not state one.
    turn: int | RelativeTurn | None = None

    @property
    def claims(self) -> str:
        """The queue and the turn as the author writes them after the text ("" for neither)."""
        turn = f"turn {self.turn}" if isinstance(self.turn, int) else self.turn
        return "  ".join(claim for claim in (self.queue, turn) if claim)


@dataclass(frozen=True, slots=True)
class Expectation:
    lines: tuple[ExpectedLine, ...]
    #: 1-based line of the expectation fence in its page.
    fence_line: int
    #: Which streams the expectation covers: both by default, or only one of them.
    streams: tuple[str, ...] = ("stdout", "stderr")
    #: The runtimes it is for (`for="node@20"`); empty: every runtime that no other expectation
    #: of the snippet names.
    runtimes: tuple[RuntimeSelector, ...] = ()
    #: The exit code on those runtimes (`exit=1` on the {.expect} fence); None: the snippet's.
    exit_code: int | None = None

    def names(self, runtime: RuntimeName) -> bool:
        return any(selector.matches(runtime) for selector in self.runtimes)


@dataclass(frozen=True, slots=True)
class Snippet:
    """A traced fence, found in a page (or a snippet file collected on its own)."""

    id: str
    language: Language
    #: The name the code runs under: decides CommonJS / ES module / TypeScript and shows as title.
    filename: str
    source: str
    #: Where it was written, for messages: a path relative to the project ("docs/a/b.md").
    page: str
    #: 1-based line of the opening fence in the page.
    line: int
    expectation: Expectation | None = None
    #: The snippets/ file the code was included from, if any.
    include: str | None = None
    #: "virtual": asyncio's timers jump instead of waiting (Python); "real": they wait.
    clock: Clock = "virtual"
    #: The exit code the author expects; anything else fails the build.
    exit_code: int = 0
    #: Limits this fence sets for itself; the rest are the site's.
    limits: LimitOverrides = NO_OVERRIDES
    #: What the fence opens in the sandbox (allow="worker,net"): see limits.PERMISSIONS.
    allow: tuple[str, ...] = ()
    #: The output holds figures measured on the build machine, so it differs from build to build;
    #: the page says so, and the reproducibility check leaves such a block out.
    measured: bool = False
    #: Shown as a question first (`.predict`): the reader orders the printed lines, then reveals.
    predict: bool = False
    #: The author marked the output order as not fixed (.nondeterministic): each ordering it can
    #: print is declared, and the page shows which ones the build's runs printed, how often.
    nondeterministic: bool = False
    #: Every declared output, one per {.expect} fence: one for a fixed order, several for a
    #: nondeterministic snippet (`expectation` is the first of them).
    orderings: tuple[Expectation, ...] = ()
    #: How many times to run it (fence option runs=N); None: the site's setting.
    runs: int | None = None
    #: The smallest margin (ms) by which a clock may decide an order this page shows as fixed
    #: (fence option min_margin_ms=25); None: the site's setting (see looplens.margins).
    min_margin_ms: float | None = None
    #: The runtimes it runs on (fence option runtimes="node@22+"); empty: all the site's.
    runtimes: tuple[RuntimeSelector, ...] = ()

    def on_runtime(self, runtime: RuntimeName) -> Snippet:
        """The snippet as one runtime is judged: with the expected outputs that name that
        runtime, or, where none does, those that name none."""
        declared = self.declared_orderings
        named = tuple(expectation for expectation in declared if expectation.names(runtime))
        chosen = named or tuple(expectation for expectation in declared if not expectation.runtimes)
        exit_codes = {e.exit_code for e in chosen if e.exit_code is not None}
        exit_code = exit_codes.pop() if len(exit_codes) == 1 else self.exit_code
        if chosen == declared and exit_code == self.exit_code:
            return self
        expectation = chosen[0] if chosen else None
        return replace(self, orderings=chosen, expectation=expectation, exit_code=exit_code)

    @property
    def declares_runtime_differences(self) -> bool:
        """Whether some expected output is for some runtimes only."""
        return any(expectation.runtimes for expectation in self.declared_orderings)

    @property
    def declared_orderings(self) -> tuple[Expectation, ...]:
        """The outputs the author accepts: any one of them is right."""
        if self.orderings:
            return self.orderings
        return (self.expectation,) if self.expectation is not None else ()

    @property
    def where(self) -> str:
        """The prefix of every message about this snippet: `docs/x.md:12: snippet 'id'`."""
        return f"{self.page}:{self.line}: snippet '{self.id}'"
