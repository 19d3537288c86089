"""Netlist text -> logical lines and tokens (comments, ``+`` continuations, ``.include``).

Follows ngspice: the first line of the top file is the title; ``*`` starts a comment
line; ``;`` starts an inline comment anywhere, ``$`` and ``//`` when at the start of the
line or after whitespace (not inside ``.control`` blocks, where ``$`` marks a variable);
a line starting with ``+`` continues the previous card (comment and blank lines between
are skipped); ``.include`` splices a file in, relative to the including file; ``.end``
stops reading (in an included file it is skipped, as ngspice does).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from neurosim.errors import NetlistError
from neurosim.netlist.write import META_PREFIX


@dataclass(frozen=True)
class Line:
    """One logical line: ``text`` (case kept, comments removed), where it starts, and
    its ``kind``: ``"card"``, ``"meta"`` (a ``*@neurosim`` comment) or ``"control"``
    (a line of a ``.control`` ... ``.endc`` block, both ends included)."""

    text: str
    file: str
    number: int
    kind: str = "card"

    @cached_property
    def word(self) -> str:
        """The first word, lower case (the element name or the dot card)."""
        return first_word(self.text)

    def error(self, message: str) -> NetlistError:
        """A :class:`NetlistError` pointing at this line."""
        return NetlistError(message, file=self.file, line=self.number)


_INLINE_COMMENT = re.compile(r"(?:^|(?<=\s))(?:\$|//)")


def read_text(path: Path, origin: Line | None = None) -> str:
    """The UTF-8 text of ``path``; a :class:`NetlistError` (at ``origin``) if unreadable."""

    def fail(why: str, line: int | None = None) -> NetlistError:
        if origin is None:
            return NetlistError(f"cannot read netlist: {why}", file=str(path), line=line)
        return origin.error(f"cannot include {str(path)!r}: {why}")

    if not os.path.isfile(path):
        raise fail("not a regular file" if os.path.exists(path) else "no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        line = data.count(b"\n", 0, exc.start) + 1
        raise fail(f"not UTF-8 text (byte 0x{byte:02x})", line) from None


def first_word(text: str) -> str:
    """The first whitespace-separated word of ``text``, lower case."""
    words = text.split(None, 1)
    return words[0].lower() if words else ""


def _strip_comment(text: str, control: bool) -> str:
    cut = text.find(";")
    if cut < 0:
        cut = len(text)
    if not control:
        match = _INLINE_COMMENT.search(text, 0, cut)
        if match:
            cut = match.start()
    return text[:cut].strip()


def _is_meta(text: str) -> bool:
    return text[:1] == "*" and first_word(text) == META_PREFIX


def _join_lines(physical: list[str], file: str, first: int, top: bool) -> list[Line]:
    """Physical lines (numbered from ``first``) -> logical lines up to ``.end``.

    ``.end`` stops the top file; in an included file (``top`` false) it is skipped."""
    out: list[list] = []  # [text, number, kind] so continuations can extend text
    last_card: list | None = None
    control_start: int | None = None
    for number, raw in enumerate(physical, first):
        raw = raw.rstrip("\r")
        if "\x00" in raw:
            raise NetlistError("binary data (NUL byte): not a text netlist", file=file, line=number)
        text = raw.strip()
        if _is_meta(text):
            out.append([text, number, "meta"])
            continue
        if not text or text[0] == "*":
            continue
        text = _strip_comment(text, control_start is not None)
        if not text:
            continue
        if text[0] == "+":
            if last_card is None:
                raise NetlistError(
                    "'+' continuation line with no line to continue", file=file, line=number
                )
            last_card[0] = f"{last_card[0]} {text[1:].strip()}".rstrip()
            continue
        word = first_word(text)
        if word == ".end":
            if top:
                break
            continue
        if word == ".control":
            if control_start is not None:
                raise NetlistError("'.control' inside a .control block", file=file, line=number)
            control_start = number
        kind = "control" if control_start is not None else "card"
        if word == ".endc":
            if control_start is None:
                raise NetlistError("'.endc' without '.control'", file=file, line=number)
            control_start = None
        last_card = [text, number, kind]
        out.append(last_card)
    if control_start is not None:
        raise NetlistError("unclosed .control block (no .endc)", file=file, line=control_start)
    return [Line(text, file, number, kind) for text, number, kind in out]


def read_lines(
    text: str, file: str, base_dir: Path, *, title: bool = True, stack: tuple[str, ...] = ()
) -> tuple[str, list[Line]]:
    """Split ``text`` into ``(title, logical lines)``, expanding ``.include`` recursively.

    ``stack`` holds the real paths of the files being included (to detect cycles).
    Without ``title`` (an included file) the first line is an ordinary line and the
    returned title is ``""``.
    """
    physical = text.split("\n")
    head = ""
    if title:
        head = physical.pop(0).rstrip("\r")
        if "\x00" in head:
            raise NetlistError("binary data (NUL byte): not a text netlist", file=file, line=1)
    lines: list[Line] = []
    for line in _join_lines(physical, file, 2 if title else 1, title):
        lines.extend(_expanded(line, base_dir, stack))
    return head, lines


def _expanded(line: Line, base_dir: Path, stack: tuple[str, ...]) -> list[Line]:
    """``line`` itself, or the lines an ``.include`` or ``.lib FILE SECTION`` card
    splices in (paths relative to ``base_dir``)."""
    if line.kind == "card" and line.word in (".include", ".inc"):
        return _include(line, base_dir, stack)
    if line.kind == "card" and line.word == ".lib" and len(line.text.split()) == 3:
        return _library(line, base_dir, stack)
    return [line]


def _library(line: Line, base_dir: Path, stack: tuple[str, ...]) -> list[Line]:
    """``.lib FILE SECTION``: the lines of FILE between ``.lib SECTION`` and ``.endl``
    (calls inside that section expanded in turn, relative to FILE)."""
    _, name, section = line.text.split()
    name, section = _unquote(name), section.lower()
    path = Path(name) if os.path.isabs(name) else base_dir / name
    key = f"{os.path.realpath(path)}#{section}"
    if key in stack:
        raise line.error(f".lib cycle: section {section!r} of {str(path)!r} is already being read")
    text = read_text(path, line)
    raw = list(_join_lines(text.split("\n"), str(path), 1, False))

    def opens(card: Line) -> bool:
        words = [w.lower() for w in card.text.split()]
        return card.kind == "card" and words == [".lib", section]

    start = next((k for k, card in enumerate(raw) if opens(card)), None)
    if start is None:
        raise line.error(f".lib: no section {section!r} in {str(path)!r}")
    selected: list[Line] = []
    for card in raw[start + 1 :]:
        if card.kind == "card" and card.word == ".endl":
            break
        selected.extend(_expanded(card, path.parent, (*stack, key)))
    else:
        raise line.error(f".lib: section {section!r} of {str(path)!r} has no .endl")
    return selected


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        return name[1:-1].strip()
    return name


def _include(line: Line, base_dir: Path, stack: tuple[str, ...]) -> list[Line]:
    parts = line.text.split(None, 1)
    name = _unquote(parts[1].strip()) if len(parts) > 1 else ""
    if not name:
        raise line.error(f"{parts[0].lower()} needs a file name")
    path = Path(name) if os.path.isabs(name) else base_dir / name
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError) as exc:
        raise line.error(f"cannot include {name!r}: {exc}") from None
    if real in stack:
        raise line.error(f"include cycle: {str(path)!r} is already being read")
    text = read_text(path, line)
    return read_lines(text, str(path), path.parent, title=False, stack=(*stack, real))[1]


_SEPARATORS = re.compile(r"[\s,]*")
_SIMPLE_TOKEN = re.compile(r"[()=]|[^\s{}()=,'\"]+")


def _closing_brace(text: str, start: int, line: Line) -> int:
    depth = 0
    for pos in range(start, len(text)):
        if text[pos] == "{":
            depth += 1
        elif text[pos] == "}":
            depth -= 1
            if depth == 0:
                return pos
    raise line.error(f"unbalanced '{{' in {text[start:]!r}")


def tokenize(text: str, line: Line) -> list[str]:
    """Split a card into words, ``(``, ``)``, ``=`` and ``{...}`` groups.

    Commas separate like spaces; ``'expr'`` becomes ``{expr}`` (ngspice treats single
    quotes as braces); ``"..."`` stays one token with its quotes.
    """
    tokens: list[str] = []
    pos, end = 0, len(text)
    while True:
        pos = _SEPARATORS.match(text, pos).end()
        if pos >= end:
            return tokens
        match = _SIMPLE_TOKEN.match(text, pos)
        if match:
            tokens.append(match.group())
            pos = match.end()
            continue
        char = text[pos]
        if char == "{":
            close = _closing_brace(text, pos, line)
            tokens.append(text[pos : close + 1])
        elif char in "'\"":
            close = text.find(char, pos + 1)
            if close < 0:
                raise line.error(f"unclosed quote {char} in {text[pos:]!r}")
            inner = text[pos + 1 : close]
            tokens.append(f"{{{inner}}}" if char == "'" else text[pos : close + 1])
        else:
            raise line.error(f"unbalanced {char!r} in {text!r}")
        pos = close + 1


_ASSIGN = re.compile(r"([a-z_][a-z0-9_]*)\s*=(?!=)", re.IGNORECASE)


def split_assignments(text: str, line: Line) -> tuple[str, list[tuple[str, str]]]:
    """Split ``"head a=1 b = {2*a} c=max(a, 2)"`` into the head and ``(name, value text)``.

    An assignment starts at a name followed by ``=`` outside parentheses, braces and
    quotes; its value runs up to the next assignment.
    """
    marks: list[tuple[str, int, int]] = []
    depth, quote, pos = 0, "", 0
    while pos < len(text):
        char = text[pos]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
            if depth < 0:
                raise line.error(f"unbalanced {char!r} in {text!r}")
        elif depth == 0 and (pos == 0 or text[pos - 1].isspace() or text[pos - 1] == ","):
            match = _ASSIGN.match(text, pos)
            if match:
                marks.append((match.group(1).lower(), pos, match.end()))
                pos = match.end()
                continue
        pos += 1
    if quote or depth:
        raise line.error(f"unbalanced {'quote' if quote else 'parenthesis or brace'} in {text!r}")
    bounds = [start for _, start, _ in marks[1:]] + [len(text)]
    pairs = [
        (name, text[value : bounds[k]].strip().rstrip(",").strip())
        for k, (name, _, value) in enumerate(marks)
    ]
    for name, value in pairs:
        if not value:
            raise line.error(f"missing value for {name!r}")
    return (text[: marks[0][1]] if marks else text).strip(), pairs


def split_options(tokens: list[str], line: Line) -> tuple[list[str], dict[str, str]]:
    """Split card tokens into positional words and ``key=value`` options (value: a word
    or ``{...}``)."""
    words: list[str] = []
    options: dict[str, str] = {}
    pos = 0
    while pos < len(tokens):
        if pos + 1 < len(tokens) and tokens[pos + 1] == "=":
            if (
                pos + 2 >= len(tokens)
                or tokens[pos + 2] in ("(", ")", "=")
                or tokens[pos] in options
            ):
                raise line.error(f"{line.word}: bad option {' '.join(tokens[pos : pos + 3])!r}")
            options[tokens[pos]] = tokens[pos + 2]
            pos += 3
        elif tokens[pos][0] in '()="':
            raise line.error(f"{line.word}: unexpected {tokens[pos]!r}")
        else:
            words.append(tokens[pos])
            pos += 1
    return words, options
