"""Advanced filter logic: parsing ``1 and (2 or not 3)`` (SL-4, SL-5).

The tree is what the compiler will turn into ``and_`` / ``or_`` / ``not_``; validation
uses ``check_logic`` for the SL-5 conditions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(?:(\d+)|(\()|(\))|([A-Za-z]+)|(\S))")


class LogicError(ValueError):
    """An expression that breaks SL-4 or SL-5; the message says what to change."""


@dataclass(frozen=True, slots=True)
class FilterRef:
    number: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: LogicNode


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[LogicNode, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[LogicNode, ...]


LogicNode = FilterRef | Not | And | Or


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            break
        number, opening, closing, word, other = match.groups()
        if other is not None:
            raise LogicError(f"unexpected {other!r}; use numbers, and, or, not and parentheses")
        if word is not None and word.casefold() not in ("and", "or", "not"):
            raise LogicError(f"unexpected word {word!r}; only and, or and not are keywords")
        tokens.append((number or opening or closing or word or "").casefold())
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expression(self) -> LogicNode:
        operands = [self.term()]
        joiner: str | None = None
        while self.peek() in ("and", "or"):
            word = self.take()
            if joiner is not None and word != joiner:
                raise LogicError(
                    "'and' and 'or' are mixed at one level; add parentheses, e.g. '1 and (2 or 3)'"
                )
            joiner = word
            operands.append(self.term())
        if joiner is None:
            return operands[0]
        return And(tuple(operands)) if joiner == "and" else Or(tuple(operands))

    def term(self) -> LogicNode:
        token = self.peek()
        if token is None:
            raise LogicError("the expression ends too early; a filter number is missing")
        if token == "not":
            self.take()
            return Not(self.term())
        if token == "(":
            self.take()
            inner = self.expression()
            if self.peek() != ")":
                raise LogicError("a '(' is not closed")
            self.take()
            return inner
        if token.isdigit():
            self.take()
            return FilterRef(int(token))
        raise LogicError(f"expected a filter number, 'not' or '(' but found {token!r}")


def parse_logic_expression(text: str) -> LogicNode:
    """The tree of ``text``; raises ``LogicError`` when it breaks SL-4."""
    tokens = _tokens(text)
    if not tokens:
        raise LogicError("the filter logic is empty; write e.g. '1 and 2' or use all/any")
    parser = _Parser(tokens)
    tree = parser.expression()
    if parser.peek() is not None:
        raise LogicError(f"unexpected {parser.peek()!r} after a complete expression")
    return tree


def referenced(node: LogicNode) -> set[int]:
    """Filter numbers the expression uses."""
    match node:
        case FilterRef(number):
            return {number}
        case Not(operand):
            return referenced(operand)
        case And(operands) | Or(operands):
            return set().union(*(referenced(o) for o in operands))
    raise TypeError(node)  # pragma: no cover


def check_logic(text: str, filter_count: int) -> list[str]:
    """Every SL-5 problem of ``text`` over ``filter_count`` filters (empty when valid)."""
    try:
        tree = parse_logic_expression(text)
    except LogicError as error:
        return [str(error)]
    problems: list[str] = []
    used = referenced(tree)
    outside = sorted(n for n in used if not 1 <= n <= filter_count)
    if outside:
        problems.append(
            f"filter {', '.join(map(str, outside))} does not exist; there "
            f"{'is' if filter_count == 1 else 'are'} {filter_count} filter"
            f"{'' if filter_count == 1 else 's'}"
        )
    unused = [n for n in range(1, filter_count + 1) if n not in used]
    if unused:
        problems.append(
            f"filter {', '.join(map(str, unused))} is not used in the logic; "
            "reference every filter or delete the unused ones"
        )
    return problems
