# Writes credit-data-complete.csv once from the R package modeldata (MIT licence; Debian: r-cran-modeldata):
# the credit_data set, 4,454 loan applicants of a Spanish bank (Status good/bad, 13 attributes).
# Run: Rscript docs/data/credit-data-complete.R   (from the repository root)
data(credit_data, package = "modeldata")
out <- credit_data
for (col in names(out)) {
  if (is.factor(out[[col]])) out[[col]] <- as.character(out[[col]])
}
# missing values are written as empty fields; Consort's loader treats them as the data's problem, so
# rows with any missing value are dropped here and the count printed
complete <- out[complete.cases(out), ]
cat("rows", nrow(out), "complete", nrow(complete), "\n")
write.csv(complete, "docs/data/credit-data-complete.csv", row.names = FALSE, quote = FALSE)
