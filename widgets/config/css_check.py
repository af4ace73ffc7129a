"""Syntax checking for an agent's custom CSS, with line and column numbers a person can act on.

The widget inlines the CSS in its shadow root as it is, where a browser silently drops what
it cannot parse; the customizer shows these problems as you type and saving refuses them.
Only syntax is checked (blocks, strings, comments, `name: value` declarations), never which
properties or selectors exist: browsers differ there and new ones keep coming.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

import tinycss2

MAX_REPORTED = 20
CLOSERS = {"{": "}", "(": ")", "[": "]"}
# At-rules whose block holds rules (the others' blocks hold declarations).
RULE_BLOCKS = {"media", "supports", "container", "layer", "document", "keyframes", "scope"}


class CssError(TypedDict):
    line: int
    column: int
    message: str


def _error(line: int, column: int, message: str) -> CssError:
    return {"line": line, "column": column, "message": message}


def _balance_errors(css: str) -> list[CssError]:
    """Unclosed or stray brackets, strings and comments, which tinycss2 forgives quietly."""
    errors: list[CssError] = []
    stack: list[tuple[str, int, int]] = []
    line, column, index = 1, 1, 0

    def advance(count: int) -> None:
        nonlocal line, column, index
        for char in css[index : index + count]:
            line, column = (line + 1, 1) if char == "\n" else (line, column + 1)
        index += count

    while index < len(css):
        char = css[index]
        if css.startswith("/*", index):
            end = css.find("*/", index + 2)
            if end < 0:
                return [*errors, _error(line, column, "This comment is never closed with */.")]
            advance(end + 2 - index)
        elif char in "\"'":
            start = (line, column)
            advance(1)
            while index < len(css) and css[index] not in (char, "\n"):
                advance(2 if css[index] == "\\" else 1)
            if index >= len(css) or css[index] == "\n":
                errors.append(_error(*start, "This string is never closed."))
            else:
                advance(1)
        elif char in CLOSERS:
            stack.append((char, line, column))
            advance(1)
        elif char in CLOSERS.values():
            if stack and CLOSERS[stack[-1][0]] == char:
                stack.pop()
            else:
                errors.append(_error(line, column, f"Unexpected '{char}' with nothing to close."))
            advance(1)
        else:
            advance(2 if char == "\\" else 1)
    errors.extend(
        _error(at_line, at_column, f"This '{opener}' is never closed with '{CLOSERS[opener]}'.")
        for opener, at_line, at_column in stack
    )
    return errors


def _declaration_errors(content: Iterable[Any] | None) -> list[CssError]:
    errors: list[CssError] = []
    for item in tinycss2.parse_declaration_list(
        content or [], skip_comments=True, skip_whitespace=True
    ):
        if item.type == "error":
            message = (
                "A property must be a name, e.g. color."
                if "<ident>" in item.message
                else "Expected 'property: value;' here (a colon is missing?)."
            )
            errors.append(_error(item.source_line, item.source_column, message))
        elif item.type == "declaration" and not [
            token for token in item.value if token.type not in ("whitespace", "comment")
        ]:
            errors.append(
                _error(item.source_line, item.source_column, f"'{item.name}' has no value.")
            )
    return errors


def _rule_errors(rules: Iterable[Any]) -> list[CssError]:
    errors: list[CssError] = []
    for rule in rules:
        if rule.type == "error":
            errors.append(
                _error(rule.source_line, rule.source_column, "Expected a selector and a {} block.")
            )
        elif rule.type == "qualified-rule":
            errors.extend(_declaration_errors(rule.content))
        elif rule.type == "at-rule" and rule.content is not None:
            if rule.lower_at_keyword in RULE_BLOCKS:
                errors.extend(
                    _rule_errors(
                        tinycss2.parse_rule_list(
                            rule.content, skip_comments=True, skip_whitespace=True
                        )
                    )
                )
            else:
                errors.extend(_declaration_errors(rule.content))
    return errors


def css_errors(css: str) -> list[CssError]:
    """The syntax errors in `css`, first ones first (at most MAX_REPORTED)."""
    if not css.strip():
        return []
    errors = _balance_errors(css)
    if not errors:
        rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
        errors = _rule_errors(rules)
    errors.sort(key=lambda error: (error["line"], error["column"]))
    return errors[:MAX_REPORTED]


def css_errors_text(errors: list[CssError]) -> str:
    """One sentence for a form or API error: the first problems with their positions."""
    shown = "; ".join(f"line {e['line']}, column {e['column']}: {e['message']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"The CSS has syntax errors: {shown}{more}"
