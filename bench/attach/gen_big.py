#!/usr/bin/env python3
"""Writes a Go module whose program has PKGS x FUNCS distinct functions
(each builds a struct, JSON-encodes it and formats a string), so that its
binary is as large as big real services (code, pclntab, DWARF): about 1 MB
of binary per 1000 functions.

Usage: gen_big.py OUT_DIR PKGS FUNCS
"""
import os
import sys


def package_source(p: int, funcs: int) -> str:
    parts = [
        f"package p{p}\n\n",
        'import (\n\t"encoding/json"\n\t"fmt"\n\t"strings"\n)\n\n',
        "type T struct {\n\tA int\n\tB string\n\tC []float64\n\tM map[string]int\n}\n\n",
    ]
    for f in range(funcs):
        parts.append(
            f"func F{f}(x int, s string) (int, string) {{\n"
            f'\tt := &T{{A: x * {f + 1}, B: s + "{p}-{f}", C: make([]float64, x%7+1), '
            f'M: map[string]int{{"k{f}": x}}}}\n'
            f"\tfor i := range t.C {{\n\t\tt.C[i] = float64(i*{f + 3}) / 3.0\n\t}}\n"
            "\tb, _ := json.Marshal(t)\n"
            f"\tif len(b) > {f + 50} {{\n\t\ts = strings.ToUpper(s)\n\t}}\n"
            f'\treturn t.A + len(b), fmt.Sprint(s, t.M["k{f}"])\n}}\n\n'
        )
    names = ", ".join(f"F{f}" for f in range(funcs))
    parts.append(f"var All = []func(int, string) (int, string){{{names}}}\n")
    return "".join(parts)


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    out, pkgs, funcs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(os.path.join(out, "cmd"), exist_ok=True)
    with open(os.path.join(out, "go.mod"), "w") as f:
        f.write("module big\n\ngo 1.21\n")
    for p in range(pkgs):
        os.makedirs(os.path.join(out, f"p{p}"), exist_ok=True)
        with open(os.path.join(out, f"p{p}", "p.go"), "w") as f:
            f.write(package_source(p, funcs))
    imports = "\n".join(f'\t"big/p{p}"' for p in range(pkgs))
    loops = "".join(
        f'\tfor i, f := range p{p}.All {{\n\t\tn, _ := f(i, "x")\n\t\ttotal += n\n\t}}\n'
        for p in range(pkgs)
    )
    with open(os.path.join(out, "cmd", "main.go"), "w") as f:
        f.write(f'package main\n\nimport (\n\t"fmt"\n{imports}\n)\n\n'
                f"func main() {{\n\ttotal := 0\n{loops}\tfmt.Println(total)\n}}\n")


if __name__ == "__main__":
    main()
