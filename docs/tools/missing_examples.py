#!/usr/bin/env python3
"""Lists public items whose rustdoc has no example (a ``` block).

Usage: python3 docs/tools/missing_examples.py CRATE... (names under crates/)
Exits 1 if any item lacks one. Items documented through #[doc = concat!(..)]
(the queue macro) are not seen and may be listed; check those by hand.
"""
import pathlib, re, sys
ITEM = re.compile(r"^\s*pub\s+(?:async\s+|const\s+|unsafe\s+)*(fn|struct|enum|trait|type|mod|static|const)\s+(\w+)")
for crate in sys.argv[1:]:
    for path in sorted(pathlib.Path(f"crates/{crate}/src").rglob("*.rs")):
        doc=[]; 
        for n,line in enumerate(path.read_text().splitlines(),1):
            st=line.strip()
            if st.startswith("///"): doc.append(st); continue
            if st.startswith("#[") : continue
            m=ITEM.match(line)
            if m and m.group(1)!="mod":
                text="\n".join(doc)
                if "```" not in text:
                    print(f"{path}:{n}: {m.group(1)} {m.group(2)}")
            doc=[]
