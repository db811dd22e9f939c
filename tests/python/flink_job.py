"""Runs a freshlens Flink SQL script on PyFlink's local mini-cluster and prints its results.

Usage: python flink_job.py JOB.sql RESULTS_DIR

The script's SET lines become configuration; every other statement runs in order (the final
EXECUTE STATEMENT SET as one job). Then the JSON-lines part files under RESULTS_DIR's
rebuild_differences, rebuild_summary and (when written) profiles folders are printed as one JSON
document: {"differences": [...], "summary": [...], "profiles": [...]}.
"""

import json
import os
import re
import sys

from pyflink.table import EnvironmentSettings, TableEnvironment


def statements(text):
    lines = [l for l in text.splitlines() if not l.lstrip().startswith("--")]
    text = "\n".join(lines)
    out, current, in_set = [], [], False
    for line in text.splitlines():
        if re.match(r"\s*EXECUTE STATEMENT SET", line):
            in_set = True
        current.append(line)
        ended = line.rstrip().endswith(";")
        if in_set and re.match(r"\s*END;\s*$", line):
            in_set = False
        elif in_set or not ended:
            continue
        statement = "\n".join(current).strip()
        current = []
        if statement:
            out.append(statement.rstrip(";").strip() if not statement.endswith("END;") else statement.rstrip(";"))
    return out


def read_rows(folder):
    rows = []
    if not os.path.isdir(folder):
        return rows
    for root, _, files in os.walk(folder):
        for name in sorted(files):
            if name.startswith(".") or name.endswith(".crc"):
                continue
            with open(os.path.join(root, name), encoding="utf-8") as f:
                rows.extend(json.loads(l) for l in f if l.strip())
    return rows


def main():
    job, results = sys.argv[1], sys.argv[2]
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    config = env.get_config()
    config.set("parallelism.default", "2")
    for statement in statements(open(job, encoding="utf-8").read()):
        m = re.match(r"SET\s+'([^']+)'\s*=\s*'([^']*)'$", statement)
        if m:
            config.set(m.group(1), m.group(2))
            continue
        try:
            result = env.execute_sql(statement)
        except Exception as error:
            lines = [l for l in str(error).splitlines() if "Exception:" in l or "Encountered" in l or "line" in l]
            sys.exit("statement failed:\n%s\n%s" % (statement[:3000], "\n".join(lines[:6])))
        job_client = result.get_job_client()
        if job_client is not None:
            job_client.get_job_execution_result().result()
    print(json.dumps({
        "differences": read_rows(os.path.join(results, "rebuild_differences")),
        "summary": read_rows(os.path.join(results, "rebuild_summary")),
        "profiles": read_rows(os.path.join(results, "profiles")),
    }))


if __name__ == "__main__":
    main()
