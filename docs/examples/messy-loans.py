#!/usr/bin/env python3
"""Writes a messy loan CSV, as a bank's export often is, for `consort demo --data` and `consort data profile`.

SYNTHETIC: no row describes a real person. About 9% of incomes are missing (empty) and a few are coded
99999999; a few incomes are forty times the usual; assets are sometimes NA; debt is sometimes empty; the
home category is sometimes empty or 'unknown', the job sometimes empty; four purposes occur in one row
each (boat, yacht, horse, art), so a split among banks leaves each at one bank only. The label Status
(bad/good) follows a logistic model of income, debt, age, home and job.

    python3 docs/examples/messy-loans.py messy-loans.csv [rows] [seed]
    ./consort demo --data messy-loans.csv --label Status --positive bad
"""
import math
import random
import sys


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "messy-loans.csv"
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 11)
    homes = ["rent", "own", "mortgage"]
    jobs = ["salaried", "self-employed", "unemployed", "retired"]
    purposes = ["car", "tv", "business", "education", "home"]
    rare = {17: "boat", 1042: "yacht", 2077: "horse", 3111: "art"}
    with open(out, "w") as f:
        f.write("id,age,income,assets,debt,home,job,purpose,Status\n")
        for r in range(rows):
            age = 21 + rng.randrange(50)
            income = round(math.exp(10.6 + 0.5 * rng.gauss(0, 1)))
            if r % 251 == 5:
                income *= 40  # a few very large incomes
            assets = round(max(0.0, income * (0.5 + rng.gauss(0, 1))))
            debt = round(max(0.0, income * (0.35 + 0.25 * rng.gauss(0, 1))))
            home = rng.choice(homes)
            job = jobs[min(len(jobs) - 1, int(abs(rng.gauss(0, 1)) * 1.5))]
            purpose = rare.get(r, rng.choice(purposes))
            logit = (-1.2 - 1.1 * (math.log(income) - 10.6) + 2.2 * (debt / income - 0.35) - 0.02 * (age - 45)
                     + (0.5 if home == "rent" else 0) + (1.3 if job == "unemployed" else 0))
            bad = rng.random() < 1 / (1 + math.exp(-logit))
            income_text = "" if rng.random() < 0.09 else "99999999" if r % 151 == 3 else str(income)
            assets_text = "NA" if rng.random() < 0.05 else str(assets)
            debt_text = "" if rng.random() < 0.04 else str(debt)
            h = rng.random()
            home_text = "" if h < 0.02 else "unknown" if h < 0.03 else home
            job_text = "" if rng.random() < 0.02 else job
            f.write(f"{100000 + r},{age},{income_text},{assets_text},{debt_text},{home_text},{job_text},{purpose},"
                    f"{'bad' if bad else 'good'}\n")


if __name__ == "__main__":
    main()
