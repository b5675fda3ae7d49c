#!/usr/bin/env python3
"""Writes docs/cancellation.md from the `# Cancel safety` sections in the
crates' doc comments, so the table lists every documented async fn (and
every fn returning a future that documents its cancel safety) and cannot
drift from the source.

Usage: python3 docs/tools/cancel_safety.py [--check]
  --check: exit 1 if docs/cancellation.md is not up to date.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "cancellation.md"
CRATES = ["eddy-core", "eddy-time", "eddy-sync", "eddy-blocking", "eddy-io", "eddy"]

HEADER = """# Cancellation

In eddy, cancelling a future means dropping it: its destructors run at the
await point where it was suspended. asyncio delivers `CancelledError` into
the coroutine instead; the effect on resources is the same, but a drop
cannot be swallowed. The rule every eddy future keeps: dropping it at any
await point loses no notification, permit, item or byte that another waiter
was owed.

Every public async fn (and every fn returning a future) documents its
cancel safety in a `# Cancel safety` section of its rustdoc. This page is
generated from those sections by `python3 docs/tools/cancel_safety.py`;
the first sentence of each is shown, the rustdoc has the rest.
"""

ITEM = re.compile(r"^\s*pub(?:\([^)]*\))?\s+(?:const\s+)?(async\s+)?fn\s+(\w+)")
IMPL = re.compile(r"^\s*impl(?:<[^>]*>)?\s+(?:[\w:<>, ']+\s+for\s+)?([\w:]+)")
STRUCT = re.compile(r"^\s*pub\s+(?:struct|enum|trait)\s+(\w+)")
# Methods a macro adds to several types: `macro_rules! name` whose body has
# `impl $ty`, invoked as `name!(TypeA => .., TypeB => ..)`.
MACRO_DEF = re.compile(r"^\s*macro_rules!\s+(\w+)")
MACRO_IMPL = re.compile(r"^\s*impl\s+\$\w+")
MACRO_CALL = re.compile(r"(\w+)!\(\s*(.*?)\);", re.S)


def macro_types(src):
    """For each macro invoked in `src`, the types it was invoked for."""
    found = {}
    for path in sorted(src.rglob("*.rs")):
        for name, body in MACRO_CALL.findall(path.read_text()):
            types = re.findall(r"(?:^|,)\s*([A-Z]\w*)\s*=>", body, re.M)
            if types:
                found.setdefault(name, []).extend(types)
    return found


def first_sentence(lines):
    text = " ".join(l.strip() for l in lines if l.strip())
    # Intra-doc links mean nothing outside rustdoc: keep the code span only.
    text = re.sub(r"\[(`[^`]+`)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[(`[^`]+`)\]", r"\1", text)
    m = re.match(r"(.+?[.!])(\s|$)", text)
    return (m.group(1) if m else text).replace("|", "\\|")


def scan(path, crate, macros=None):
    rows = []
    impl_type = None
    macro = None
    doc = []
    literal = None  # a `# Cancel safety` section written in a #[doc = concat!(..)] string
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if "# Cancel safety\\n\\n" in line:
            literal = line.split("# Cancel safety\\n\\n", 1)[1]
            continue
        if literal is not None and stripped.startswith('"') and not ITEM.match(line):
            literal += stripped
            continue
        m = ITEM.match(line)
        if literal is not None and m:
            pieces = re.findall(r'"((?:[^"\\]|\\.)*)"', '"' + literal)
            text = "".join(pieces).split("\\n\\n")[0].replace("\\n", " ")
            rows.append((crate, f"Queue::{m.group(2)} (also LifoQueue, PriorityQueue)", "async fn" if m.group(1) else "fn", first_sentence([text])))
            literal = None
        if stripped.startswith("///"):
            doc.append(stripped[3:].removeprefix(" "))
            continue
        if stripped.startswith("#["):
            continue
        m = MACRO_DEF.match(line)
        if m:
            macro = m.group(1)
        if macro and MACRO_IMPL.match(line):
            # Invocations whose types are not spelled `Type =>` leave the
            # methods unowned, as before.
            impl_type = " / ".join((macros or {}).get(macro, [])) or None
        m = IMPL.match(line)
        if m and not line.startswith(" "):
            impl_type = m.group(1).split("::")[-1]
            macro = None
        m = ITEM.match(line)
        s = STRUCT.match(line)
        if doc and (m or s):
            if "# Cancel safety" in doc:
                i = doc.index("# Cancel safety") + 1
                section = []
                while i < len(doc) and not doc[i].startswith("#"):
                    section.append(doc[i])
                    i += 1
                if m:
                    owner = impl_type if line.startswith(" ") and impl_type else None
                    if owner:
                        name = " / ".join(f"{t}::{m.group(2)}" for t in owner.split(" / "))
                    else:
                        name = m.group(2)
                    kind = "async fn" if m.group(1) else "fn"
                else:
                    name, kind = s.group(1), "future type"
                rows.append((crate, name, kind, first_sentence(section)))
        if not stripped.startswith("///"):
            doc = []
    return rows


def render():
    out = [HEADER]
    for crate in CRATES:
        src = ROOT / "crates" / crate / "src"
        rows = []
        macros = macro_types(src)
        for path in sorted(src.rglob("*.rs")):
            rows.extend(scan(path, crate, macros))
        if not rows:
            continue
        out.append(f"\n## {crate}\n\n| item | kind | cancel safety |\n|---|---|---|\n")
        seen = set()
        for _, name, kind, text in sorted(rows, key=lambda r: r[1].lower()):
            if (name, text) in seen:
                continue
            seen.add((name, text))
            shown = " / ".join(f"`{n}`" for n in name.split(" / "))
            out.append(f"| {shown} | {kind} | {text} |\n")
    return "".join(out)


def main():
    text = render()
    if "--check" in sys.argv:
        if OUT.read_text() != text:
            print("docs/cancellation.md is stale: run python3 docs/tools/cancel_safety.py")
            sys.exit(1)
        return
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
