#!/usr/bin/env python3
"""Whole-process import figures: Coffer against keepassxc-cli on the same generated data.

Writes N logins (default 100,000) as a Bitwarden CSV and as the same entries in KeePass 2 XML,
then times, each --runs times, interleaved:
  - `coffer import FILE.csv --yes` into a fresh profile whose agent is already unlocked,
  - `coffer import FILE.xml --yes` likewise,
  - `keepassxc-cli import FILE.xml NEW.kdbx` (keepassxc-cli 2.7 imports XML only; it writes an
    encrypted database, as Coffer writes its sealed store).
The agent's unlock is not part of Coffer's figure; keepassxc-cli's one key derivation (held to
0.1 s with -t 100) is part of its.

    scripts/import-figures.py --coffer .build-release/release/coffer --rows 100000 --runs 3
"""

import argparse
import csv
import os
import statistics
import subprocess
import tempfile
import time
from xml.sax.saxutils import escape

PASSWORD = "correct horse battery staple 42"


def write_data(folder: str, rows: int) -> tuple[str, str]:
    csv_path = os.path.join(folder, "logins.csv")
    xml_path = os.path.join(folder, "logins.xml")
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["folder", "favorite", "type", "name", "notes", "fields", "reprompt", "login_uri",
                         "login_username", "login_password", "login_totp"])
        for index in range(rows):
            writer.writerow([f"Group {index % 50}", "", "login", f"Site {index}", f"note {index}", "", "0",
                             f"https://site{index}.example.com/login", f"user{index}@example.com",
                             f"pw-{index:08d}-Xy!", ""])
    with open(xml_path, "w") as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<KeePassFile><Meta><Generator>figures</Generator>'
                     "</Meta><Root><Group><UUID>AAAAAAAAAAAAAAAAAAAAAA==</UUID><Name>Root</Name>\n")
        for group in range(50):
            handle.write(f"<Group><Name>Group {group}</Name>\n")
            for index in range(group, rows, 50):
                fields = {"Title": f"Site {index}", "UserName": f"user{index}@example.com",
                          "Password": f"pw-{index:08d}-Xy!", "URL": f"https://site{index}.example.com/login",
                          "Notes": f"note {index}"}
                handle.write("<Entry>" + "".join(
                    f"<String><Key>{key}</Key><Value>{escape(value)}</Value></String>"
                    for key, value in fields.items()) + "</Entry>\n")
            handle.write("</Group>\n")
        handle.write("</Group></Root></KeePassFile>\n")
    return csv_path, xml_path


def timed(command: list[str], env: dict[str, str], stdin: str = "") -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, input=stdin.encode(), capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr.decode()[-2000:]}")
    return elapsed


def coffer_import(coffer: str, path: str, memory_mib: int) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, COFFER_HOME=home)
        run = lambda arguments, stdin="": subprocess.run(  # noqa: E731
            [coffer] + arguments, env=env, input=stdin.encode(), capture_output=True, check=True)
        run(["init", "--password-stdin", "--kdf-memory-mib", str(memory_mib)], PASSWORD + "\n")
        run(["unlock", "--password-stdin"], PASSWORD + "\n")
        try:
            return timed([coffer, "import", path, "--yes"], env)
        finally:
            subprocess.run([coffer, "lock"], env=env, capture_output=True)


def keepassxc_import(path: str, folder: str) -> float:
    target = os.path.join(folder, "keepassxc.kdbx")
    if os.path.exists(target):
        os.remove(target)
    # keepassxc-cli asks for the new password twice; -t 100 keeps its key derivation at 0.1 s (its
    # default aims at one second), so the figure is about importing.
    return timed(["keepassxc-cli", "import", "-t", "100", "-p", path, target], dict(os.environ),
                 f"{PASSWORD}\n{PASSWORD}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coffer", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kdf-memory-mib", type=int, default=64)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv_path, xml_path = write_data(folder, arguments.rows)
        figures: dict[str, list[float]] = {"coffer csv": [], "coffer xml": [], "keepassxc-cli xml": []}
        for _ in range(arguments.runs):
            figures["coffer csv"].append(coffer_import(arguments.coffer, csv_path, arguments.kdf_memory_mib))
            figures["coffer xml"].append(coffer_import(arguments.coffer, xml_path, arguments.kdf_memory_mib))
            figures["keepassxc-cli xml"].append(keepassxc_import(xml_path, folder))
        print(f"{arguments.rows} rows, {arguments.runs} runs, median (min–max) seconds:")
        for name, values in figures.items():
            print(f"  {name:20} {statistics.median(values):7.2f} ({min(values):.2f}–{max(values):.2f})")


if __name__ == "__main__":
    main()
