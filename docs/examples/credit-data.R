#!/usr/bin/env Rscript
# Writes credit-data.csv, the fixture of the new-user scenario in docs/DATA.md: modeldata's credit_data
# (Max Kuhn, MIT licence; Debian package r-cran-modeldata), 4454 loans, Status good/bad, about 9% of
# rows with a missing Income, Assets or Debt and a few with a missing Home, Marital or Job. A missing
# value is written as an empty field, as a bank's export would leave it; nothing else is changed.
#   apt-get install r-cran-modeldata && Rscript docs/examples/credit-data.R docs/examples/credit-data.csv
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "credit-data.csv"
data("credit_data", package = "modeldata")
write.csv(credit_data, out, row.names = FALSE, na = "", quote = FALSE)
