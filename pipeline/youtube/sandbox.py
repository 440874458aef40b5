"""The Jinja environment metadata templates render in: sandboxed, and with budgets.

Jinja's sandbox keeps a template away from Python internals, but not from unbounded work:
two nested `range(100000)` loops, `lipsum(n=2000000)`, `"x" * 10**10` or a string doubled
in a loop run for minutes or exhaust memory. A template here renders one short text field
(a title is at most 100 characters, a description 5000 bytes), so it gets budgets far
above any real use and far below harm:

- loop steps (all loops of one field together) and calls (functions, macros, filters);
- the size of every value it builds (strings, lists, big numbers) and of its output;
- widths and counts (`"%999999999d"`, `"{:>999999999}"`, `"x"|center(10**9)`,
  `"x".ljust(10**9)`), which allocate before any size could be checked;
- wall-clock time, checked at every loop step, call and output chunk;
- `{% include %}`, `{% import %}` and `{% extends %}` are refused: there is no template
  folder to load from (Jinja would raise a TypeError), and fields stand alone.

Exceeding a budget raises `TemplateBudgetError` with a one-line reason.
"""

from __future__ import annotations

import contextvars
import functools
import operator
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

from pipeline.youtube.metadata import MAX_TEMPLATE_TEXT_CHARS

MAX_SOURCE_CHARS = MAX_TEMPLATE_TEXT_CHARS  # of one field's template text (the schema checks it first)
MAX_OUTPUT_CHARS = 20_000  # of one rendered field: 4x YouTube's largest (description, 5000 bytes)
MAX_VALUE_CHARS = 100_000  # of any string, list or mapping a template builds
MAX_INT_BITS = 4096  # of any whole number a template builds (about 1200 digits)
MAX_LOOP_STEPS = 100_000  # loop iterations of one field, all loops together
MAX_CALLS = 100_000  # function, macro and filter calls of one field
MAX_LIPSUM_PARAGRAPHS = 20
TIME_BUDGET_S = 5.0  # wall clock for one field; real templates take milliseconds

LOOP_FILTER = "wayfinder_loop_budget"
SIZE_FILTER = "wayfinder_size_budget"
FORBIDDEN_TAGS: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Extends: "extends",
}
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")


class TemplateBudgetError(Exception):
    """A template asked for more work than a metadata field may cost."""


class ForbiddenTagError(Exception):
    """A template uses a tag that loads other templates."""

    def __init__(self, tag: str, lineno: int | None) -> None:
        super().__init__(f"{{% {tag} %}} is not allowed in metadata templates: each field stands alone")
        self.tag = tag
        self.lineno = lineno


@dataclass
class Budget:
    """What one field's rendering has spent so far."""

    time_budget_s: float = TIME_BUDGET_S
    started_s: float = field(default_factory=time.monotonic)
    loop_steps: int = 0
    calls: int = 0

    def check_time(self) -> None:
        if time.monotonic() - self.started_s > self.time_budget_s:
            raise TemplateBudgetError(f"the template ran longer than {self.time_budget_s:g} s")

    def step(self) -> None:
        self.loop_steps += 1
        if self.loop_steps > MAX_LOOP_STEPS:
            raise TemplateBudgetError(f"the template's loops run more than {MAX_LOOP_STEPS:,} times")
        self.check_time()

    def call(self) -> None:
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise TemplateBudgetError(f"the template makes more than {MAX_CALLS:,} calls")
        self.check_time()


_BUDGET: contextvars.ContextVar[Budget] = contextvars.ContextVar("wayfinder_template_budget")


def _budget() -> Budget:
    try:
        return _BUDGET.get()
    except LookupError:  # rendered outside render_bounded: a fresh, full budget
        budget = Budget()
        _BUDGET.set(budget)
        return budget


def check_size(value: Any) -> Any:
    """`value` unchanged if it is within the size budget; else TemplateBudgetError."""
    if isinstance(value, (str, list, tuple, dict, set, frozenset)) and len(value) > MAX_VALUE_CHARS:
        raise TemplateBudgetError(f"the template builds a value of more than {MAX_VALUE_CHARS:,} characters or items")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise TemplateBudgetError(f"the template builds a number of more than {MAX_INT_BITS} bits")
    return value


def _check_width(number: Any) -> None:
    if isinstance(number, int) and not isinstance(number, bool) and abs(number) > MAX_VALUE_CHARS:
        raise TemplateBudgetError(f"the template asks for a width or count over {MAX_VALUE_CHARS:,}")


def _check_percent_format(text: str, args: Any) -> None:
    for match in _PERCENT_SPEC.finditer(text):
        for part in match.groups():
            if part and part != "*":
                _check_width(int(part))
    if "*" in text:  # a width taken from the arguments
        for arg in args if isinstance(args, tuple) else (args,):
            _check_width(arg)


def _check_brace_format(text: str, values: Iterable[Any]) -> None:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return  # str.format reports the malformed string itself
    for _, _, spec, _ in parsed:
        for digits in re.findall(r"\d+", spec or ""):
            _check_width(int(digits))
        if spec and "{" in spec:  # a nested width comes from the arguments
            for value in values:
                _check_width(value)


def _multiply(left: Any, right: Any) -> Any:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
            if len(sequence) * max(count, 0) > MAX_VALUE_CHARS:
                raise TemplateBudgetError(
                    f"the template builds a value of more than {MAX_VALUE_CHARS:,} characters or items")
    return left * right


def _power(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        if left.bit_length() * right > MAX_INT_BITS:
            raise TemplateBudgetError(f"the template builds a number of more than {MAX_INT_BITS} bits")
    return left**right


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        _check_percent_format(left, right)
    return left % right


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": _multiply, "**": _power, "%": _modulo, "+": operator.add, "//": operator.floordiv,
}


def bounded_lipsum(n: int = 5, html: bool = False, min: int = 20, max: int = 100) -> str:  # noqa: A002
    """Jinja's `lipsum`, with at most MAX_LIPSUM_PARAGRAPHS paragraphs of 100 words."""
    if n > MAX_LIPSUM_PARAGRAPHS or max > 100:
        raise TemplateBudgetError(
            f"lipsum is limited to {MAX_LIPSUM_PARAGRAPHS} paragraphs of at most 100 words")
    return generate_lorem_ipsum(n=n, html=html, min=min, max=max)


def _loop_budget(iterable: Any) -> Iterator[Any]:
    budget = _budget()
    for item in iterable:
        budget.step()
        yield item


# Filters whose number arguments say how much to allocate.
SIZED_FILTERS = frozenset({"center", "indent", "slice", "batch", "wordwrap", "truncate", "format"})


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _budget().call()
        if name in SIZED_FILTERS:
            for value in (*args, *kwargs.values()):
                _check_width(value)
        if name == "format" and args and isinstance(args[0], str):
            _check_percent_format(args[0], tuple(args[1:]))
        return check_size(function(*args, **kwargs))

    return wrapper


class _BudgetTransformer(NodeTransformer):
    """Counts every loop step, checks the size of every `~` result, refuses loading tags."""

    def generic_visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        for kind, tag in FORBIDDEN_TAGS.items():
            if isinstance(node, kind):
                raise ForbiddenTagError(tag, node.lineno)
        node = super().generic_visit(node, *args, **kwargs)
        if isinstance(node, nodes.For):
            node.iter = nodes.Filter(node.iter, LOOP_FILTER, [], [], None, None, lineno=node.lineno)
        elif isinstance(node, nodes.AssignBlock):  # {% set x %}...{% endset %}
            node.filter = nodes.Filter(node.filter, SIZE_FILTER, [], [], None, None, lineno=node.lineno)
        elif isinstance(node, nodes.Concat):
            return nodes.Filter(node, SIZE_FILTER, [], [], None, None, lineno=node.lineno)
        return node


class BoundedEnvironment(SandboxedEnvironment):
    """A SandboxedEnvironment that charges every call, operator and filter to the budget."""

    intercepted_binops = frozenset(_BINOPS)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _bounded_filter(name, function) for name, function in self.filters.items()}
        self.filters[LOOP_FILTER] = _loop_budget
        self.filters[SIZE_FILTER] = check_size
        self.globals["lipsum"] = bounded_lipsum

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        _budget().check_time()
        return check_size(_BINOPS[operator_name](left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _budget().call()
        for value in (*args, *kwargs.values()):
            check_size(value)
        if isinstance(getattr(__obj, "__self__", None), (str, list, tuple)):  # "x".ljust(10**9)
            for value in (*args, *kwargs.values()):
                _check_width(value)
        return check_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            values = [*args, *kwargs.values()]
            if value.__name__ == "format_map" and args and isinstance(args[0], Mapping):
                values = list(args[0].values())
            _check_brace_format(text, values)
            return check_size(wrapped(*args, **kwargs))

        return checked

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = _BudgetTransformer().visit(super()._parse(source, name, filename))
        tree.set_environment(self)
        return tree


ENVIRONMENT = BoundedEnvironment(
    undefined=StrictUndefined,
    autoescape=False,  # plain text for YouTube, not HTML
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_bounded(source: str, variables: Mapping[str, Any], *, time_budget_s: float = TIME_BUDGET_S) -> str:
    """Render one template field within the budgets. Raises TemplateBudgetError,
    ForbiddenTagError, or Jinja's own TemplateError for a broken template."""
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateBudgetError(f"the template is {len(source):,} characters; at most {MAX_SOURCE_CHARS:,} are allowed")
    budget = Budget(time_budget_s=time_budget_s)
    token = _BUDGET.set(budget)
    try:
        template = ENVIRONMENT.from_string(source)
        chunks: list[str] = []
        size_chars = 0
        for chunk in template.generate(dict(variables)):
            size_chars += len(chunk)
            if size_chars > MAX_OUTPUT_CHARS:
                raise TemplateBudgetError(f"the template renders more than {MAX_OUTPUT_CHARS:,} characters")
            budget.check_time()
            chunks.append(chunk)
        return "".join(chunks)
    except RecursionError:
        raise TemplateBudgetError("the template nests or recurses too deeply") from None
    except MemoryError:
        raise TemplateBudgetError("the template needs more memory than a metadata field may use") from None
    except OverflowError as exc:
        raise TemplateBudgetError(f"the template builds a number or range too large ({exc})") from None
    finally:
        _BUDGET.reset(token)
