#!/usr/bin/env python3
"""The size rule (STYLE.md "Sizes"): no function body over MAX_FUNC lines, no class or struct
over MAX_CLASS lines. Run by scripts/check_sizes.sh; see its header for what is scanned.

Usage: check_sizes.py [--max-func N] [--max-class N] FILE...
Prints FILE:LINE: error: ... for each offender (LINE is the line of its opening brace) and
exits 1 if there is one, 0 if none.

How it scans, and its limits:
- Comments, string and character literals (raw strings included) are blanked first, so braces
  inside them do not count. Preprocessor lines are blanked too (a brace in a macro is not code
  structure); a function split across #if branches may therefore miscount.
- Each '{' is classed by the code just before it:
    ')' then optional qualifiers (const, noexcept, override, final, mutable, -> T is NOT
    recognised): a function, lambda or constructor -- unless the word before the matching '('
    is if/for/while/switch/catch, which makes it a block;
    ']': a lambda without parameters (a function);
    a statement that opens with class/struct/union (after template<...>), not enum: a class.
  Everything else (namespaces, initialisers, enums, control blocks) only nests.
- A size is the count of lines from the opening brace's line to the closing brace's line,
  both included. Nested lambdas count inside their function and on their own.
- A function whose return type follows '->' is not recognised, nor is a class declared by a
  macro.
"""
import re
import sys

CONTROL = {"if", "for", "while", "switch", "catch", "return", "sizeof", "decltype", "alignof", "noexcept"}
QUALIFIERS = {"const", "noexcept", "override", "final", "mutable", "volatile", "&", "&&"}


def blank(text):
    """Text with comments, literals and preprocessor lines replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            # Preprocessor line, with its continuations.
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                out.append(" ")
                i += 1
            continue
        if c == "\n":
            out.append(c)
            line_start = True
            i += 1
            continue
        if not c.isspace():
            line_start = False
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                out.append(" ")
                i += 1
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        m = re.match(r'(?:u8|u|U|L)?R"([^()\\\s]{0,16})\(', text[i:i + 24])
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find(")" + m.group(1) + '"', i + m.end())
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        if c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):  # 1'000'000 is a number
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + (c if j - 1 > i else ""))
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def matching_open(code, close):
    """Index of the '(' that matches the ')' at `close`, or -1."""
    depth = 0
    for k in range(close, -1, -1):
        if code[k] == ")":
            depth += 1
        elif code[k] == "(":
            depth -= 1
            if depth == 0:
                return k
    return -1


def classify(code, brace, stmt_start):
    """'function', 'class' or None for the '{' at index `brace`."""
    k = brace - 1
    while True:  # skip trailing qualifiers
        while k >= 0 and code[k].isspace():
            k -= 1
        m = re.search(r"(\w+|&&|&)$", code[max(0, k - 20):k + 1])
        if m and m.group(1) in QUALIFIERS:
            k -= len(m.group(1))
            continue
        break
    if k >= 0 and code[k] == ")":
        o = matching_open(code, k)
        word = re.search(r"(\w+)\s*$", code[max(0, o - 40):o]) if o > 0 else None
        if word and word.group(1) in CONTROL:
            return None, ""
        return "function", word.group(1) if word else "lambda"
    if k >= 0 and code[k] == "]":
        return "function", "lambda"
    stmt = code[stmt_start:brace]
    stmt = re.sub(r"^\s*template\s*<[^{;]*?>\s*", "", stmt)
    m = re.match(r"\s*(?:class|struct|union)\b\s*(?:alignas\s*\([^)]*\)\s*)?(\w*)", stmt)
    if m and not re.search(r"\benum\b", stmt):
        return "class", m.group(1) or "(anonymous)"
    return None, ""


def scan(path, max_func, max_class):
    with open(path, encoding="utf-8", errors="replace") as f:
        code = blank(f.read())
    problems = []
    stack = []  # (kind, name, line, index)
    stmt_start = 0
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c == "{":
            kind, name = classify(code, i, stmt_start)
            stack.append((kind, name, line))
            stmt_start = i + 1
        elif c == "}":
            if stack:
                kind, name, open_line = stack.pop()
                size = line - open_line + 1
                if kind == "function" and size > max_func:
                    problems.append(f"{path}:{open_line}: error: function '{name}' is {size} lines "
                                    f"(at most {max_func})")
                elif kind == "class" and size > max_class:
                    problems.append(f"{path}:{open_line}: error: class '{name}' is {size} lines "
                                    f"(at most {max_class})")
            stmt_start = i + 1
        elif c == ";":
            stmt_start = i + 1
    return problems


def main(argv):
    max_func, max_class, files = 60, 250, []
    it = iter(argv)
    for a in it:
        if a == "--max-func":
            max_func = int(next(it))
        elif a == "--max-class":
            max_class = int(next(it))
        else:
            files.append(a)
    problems = []
    for f in files:
        problems += scan(f, max_func, max_class)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
