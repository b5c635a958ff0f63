#!/usr/bin/env python3
"""Prints each failed test of a `dotnet test` console log (verbosity normal) with its error message and the top of
its stack trace, after the run's own output, so the end of a CI log names what failed and why.

Usage: failed-tests.py LOG
A failed test's block in the log reads:
  Failed Some.Test.Name [12 ms]
  Error Message:
   ...
  Stack Trace:
     at ...
and ends at the next test's "Passed"/"Failed"/"Skipped" line or at a blank line after the stack trace.
"""
import re
import sys

MAX_MESSAGE_LINES = 30
MAX_STACK_LINES = 12

# A theory's case names its arguments: "Failed Ns.Class.Test(setting: "a b", value: 1) [107 ms]".
START = re.compile(r"^\s+Failed (.+?) \[[^\]]*\]\s*$")
NEXT_TEST = re.compile(r"^\s+(Passed|Failed|Skipped) .+? \[[^\]]*\]\s*$|^(Test Run|Total tests:|\[xUnit\.net)")


def failures(lines):
    i = 0
    while i < len(lines):
        m = START.match(lines[i])
        if not m:
            i += 1
            continue
        name, message, stack, section = m.group(1), [], [], None
        i += 1
        while i < len(lines) and not NEXT_TEST.match(lines[i]):
            text = lines[i].rstrip("\n")
            stripped = text.strip()
            if stripped == "Error Message:":
                section = message
            elif stripped == "Stack Trace:":
                section = stack
            elif stripped in ("Standard Output Messages:", "Standard Error Messages:"):
                section = None
            elif section is stack and not (stripped.startswith("at ") or stripped.startswith("---")):
                # The host's log lines printed after the trace are not part of it.
                section = None
            elif section is not None and stripped:
                section.append(text)
            i += 1
        yield name, message, stack


def main():
    with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
        lines = log.readlines()
    found = list(failures(lines))
    if not found:
        return
    print(f"== {len(found)} failed test(s), again, with why")
    for name, message, stack in found:
        print(f"FAILED {name}")
        for line in message[:MAX_MESSAGE_LINES]:
            print(f"  {line.strip()}")
        if len(message) > MAX_MESSAGE_LINES:
            print(f"  ... ({len(message) - MAX_MESSAGE_LINES} more message lines)")
        for line in stack[:MAX_STACK_LINES]:
            print(f"    {line.strip()}")
        print()


if __name__ == "__main__":
    main()
